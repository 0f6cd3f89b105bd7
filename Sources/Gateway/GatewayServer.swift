import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Serves a ``Gateway`` over HTTP/1.1, on a listening socket it is given or on a loopback port.
///
/// Given a socket (``serve(_:listeningSocket:episode:)``), the server takes ownership of the
/// descriptor: the runner can create it inside a sandbox's network namespace, where it is the
/// only endpoint. A server made for one episode accepts only that episode's token.
public final class GatewayServer: Sendable {
    /// The port the server listens on.
    public let port: Int
    private let channel: any Channel
    private let task: Task<Void, Never>

    private init(port: Int, channel: any Channel, task: Task<Void, Never>) {
        self.port = port
        self.channel = channel
        self.task = task
    }

    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// Serves on an already bound and listening socket.
    /// - Parameters:
    ///   - gateway: the gateway.
    ///   - listeningSocket: a bound, listening stream socket; the server owns and closes it.
    ///   - episode: when set, only this episode's token is accepted.
    /// - Throws: ``GatewayError`` `.server` when the descriptor cannot be served.
    public static func serve(_ gateway: Gateway, listeningSocket: CInt, episode: String? = nil) async throws(GatewayError) -> GatewayServer {
        do {
            let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 256)
                .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(listeningSocket) { channel in configure(channel) }
            return start(gateway, server: server, episode: episode)
        } catch {
            throw GatewayError(.server, "cannot serve the listening socket \(listeningSocket): \(error); pass a bound, listening TCP socket")
        }
    }

    /// Serves on an address it binds itself (for tests and tools).
    /// - Parameters:
    ///   - gateway: the gateway.
    ///   - host: the address, loopback by default.
    ///   - port: the port, 0 for any free one (see ``port``).
    ///   - episode: when set, only this episode's token is accepted.
    /// - Throws: ``GatewayError`` `.server` when the address cannot be bound.
    public static func serve(_ gateway: Gateway, host: String = "127.0.0.1", port: Int = 0, episode: String? = nil) async throws(GatewayError) -> GatewayServer {
        do {
            let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port) { channel in configure(channel) }
            return start(gateway, server: server, episode: episode)
        } catch {
            throw GatewayError(.server, "cannot listen on \(host):\(port): \(error); choose a free port")
        }
    }

    private static func configure(_ channel: any Channel) -> EventLoopFuture<Connection> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
            return try Connection(wrappingChannelSynchronously: channel)
        }
    }

    private static func start(_ gateway: Gateway, server: NIOAsyncChannel<Connection, Never>, episode: String?) -> GatewayServer {
        let port = server.channel.localAddress?.port ?? 0
        let task = Task { () async -> Void in
            _ = try? await server.executeThenClose { inbound in
                await withDiscardingTaskGroup { group in
                    do {
                        for try await connection in inbound {
                            group.addTask { await serveConnection(connection, gateway: gateway, episode: episode) }
                        }
                    } catch {}
                }
            }
        }
        return GatewayServer(port: port, channel: server.channel, task: task)
    }

    /// Stops listening and ends every open connection.
    public func shutdown() async {
        try? await channel.close()
        task.cancel()
        await task.value
    }

    private static func serveConnection(_ connection: Connection, gateway: Gateway, episode: String?) async {
        let limit = gateway.configuration.maxRequestBytes
        try? await connection.executeThenClose { inbound, outbound in
            let writer = ChannelWriter(outbound: outbound)
            var head: HTTPRequestHead?
            var body: [UInt8] = []
            var tooLarge = false
            for try await part in inbound {
                switch part {
                case .head(let received):
                    head = received
                    body = []
                    tooLarge = false
                    if received.method == .CONNECT {
                        let request = IncomingRequest(method: "CONNECT", uri: received.uri, headers: [], body: [])
                        await gateway.handle(request, listenerEpisode: episode, writer: writer)
                        try? await outbound.write(.end(nil))
                        return
                    }
                case .body(let buffer):
                    if body.count + buffer.readableBytes > limit { tooLarge = true } else { body += buffer.readableBytesView }
                case .end:
                    guard let received = head else { return }
                    if tooLarge {
                        let message = Gateway.errorBody(type: "request_too_large", message: "the request body is larger than \(limit) bytes")
                        try await writer.head(status: 413, headers: [("content-type", "application/json"), ("content-length", "\(message.count)"), ("connection", "close")])
                        try await writer.body(message)
                        try await outbound.write(.end(nil))
                        return
                    }
                    let request = IncomingRequest(
                        method: received.method.rawValue, uri: received.uri,
                        headers: received.headers.map { ($0.name, $0.value) }, body: body)
                    await gateway.handle(request, listenerEpisode: episode, writer: writer)
                    try await outbound.write(.end(nil))
                    if !received.isKeepAlive { return }
                    head = nil
                    body = []
                }
            }
        }
    }
}

/// Writes one answer to a connection; every write is flushed, so streamed events leave at once.
struct ChannelWriter: ResponseWriter {
    let outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>

    func head(status: Int, headers: [(String, String)]) async throws {
        var fields = HTTPHeaders()
        for (name, value) in headers { fields.add(name: name, value: value) }
        try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: fields)))
    }

    func body(_ bytes: [UInt8]) async throws {
        try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes))))
    }
}
