import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Testing

@testable import Gateway

/// A certificate authority and a server certificate for 127.0.0.1, made with the openssl CLI once
/// per test process.
struct TestTLS: Sendable {
    let folder: String
    var caBundle: String { folder + "/ca.pem" }
    var certificate: String { folder + "/server.pem" }
    var key: String { folder + "/server.key" }

    private static let cache = Mutex()
    final class Mutex: @unchecked Sendable {
        let lock = NSLock()
        var value: TestTLS?
    }

    static func shared() throws -> TestTLS {
        cache.lock.lock()
        defer { cache.lock.unlock() }
        if let value = cache.value { return value }
        let folder = NSTemporaryDirectory() + "gateway-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n".write(toFile: folder + "/ext.cnf", atomically: true, encoding: .utf8)
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try run("/usr/bin/openssl", ["req", "-x509"] + curve + ["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=gateway test CA",
                                                                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], in: folder)
        try run("/usr/bin/openssl", ["req"] + curve + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"], in: folder)
        try run("/usr/bin/openssl", ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                                     "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf"], in: folder)
        let made = TestTLS(folder: folder)
        cache.value = made
        return made
    }

    static func run(_ program: String, _ arguments: [String], in folder: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestFailure("\(program) \(arguments.joined(separator: " ")) failed: \(text) (install openssl: scripts/setup.sh)")
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A one-shot signal between the test and the scripted upstream.
final class Gate: @unchecked Sendable {
    private let lock = NSLock()
    private var opened = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func open() {
        lock.lock()
        opened = true
        let pending = waiters
        waiters = []
        lock.unlock()
        for waiter in pending { waiter.resume() }
    }

    var isOpen: Bool {
        lock.lock()
        defer { lock.unlock() }
        return opened
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            lock.lock()
            if opened {
                lock.unlock()
                continuation.resume()
            } else {
                waiters.append(continuation)
                lock.unlock()
            }
        }
    }
}

/// What the scripted upstream received.
struct Received: Sendable {
    var method: String
    var path: String
    var headers: [String: String]
    var body: String
}

/// A scripted model API served over HTTPS on loopback with SwiftNIO.
final class ScriptedUpstream: @unchecked Sendable {
    /// One thing the upstream does in answer.
    enum Action: Sendable {
        case head(Int, [(String, String)])
        case body(String)
        case wait(Gate)
        case sleep(Duration)
        case mark(Gate)
        case end
        case drop
        case stall
    }

    typealias Script = @Sendable (Received, Int) async -> [Action]
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    let port: Int
    private let channel: any Channel
    private let task: Task<Void, Never>
    private let log: Log

    final class Log: @unchecked Sendable {
        let lock = NSLock()
        var requests: [Received] = []
        var inFlight = 0
        var maxInFlight = 0
        /// Streams the upstream has fully written.
        var finished = 0

        func arrive(_ received: Received) -> Int {
            lock.withLock {
                requests.append(received)
                inFlight += 1
                maxInFlight = max(maxInFlight, inFlight)
                return requests.count - 1
            }
        }
        func leave() { lock.withLock { inFlight -= 1 } }
        func finish() { lock.withLock { finished += 1 } }
    }

    var requests: [Received] { log.lock.lock(); defer { log.lock.unlock() }; return log.requests }
    var maxInFlight: Int { log.lock.lock(); defer { log.lock.unlock() }; return log.maxInFlight }
    var finished: Int { log.lock.lock(); defer { log.lock.unlock() }; return log.finished }

    private init(port: Int, channel: any Channel, task: Task<Void, Never>, log: Log) {
        self.port = port
        self.channel = channel
        self.task = task
        self.log = log
    }

    var baseURL: String { "https://127.0.0.1:\(port)" }

    static func start(_ script: @escaping Script) async throws -> ScriptedUpstream {
        let tls = try TestTLS.shared()
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(tls.certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: tls.key, format: .pem)))
        let context = try NIOSSLContext(configuration: configuration)
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        let log = Log()
        let task = Task { () async -> Void in
            _ = try? await server.executeThenClose { inbound in
                await withDiscardingTaskGroup { group in
                    do {
                        for try await connection in inbound {
                            group.addTask { await serve(connection, script: script, log: log) }
                        }
                    } catch {}
                }
            }
        }
        return ScriptedUpstream(port: server.channel.localAddress?.port ?? 0, channel: server.channel, task: task, log: log)
    }

    func stop() async {
        try? await channel.close()
        task.cancel()
        await task.value
    }

    private static func serve(_ connection: Connection, script: Script, log: Log) async {
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body: [UInt8] = []
            for try await part in inbound {
                switch part {
                case .head(let received): head = received; body = []
                case .body(let buffer): body += buffer.readableBytesView
                case .end:
                    guard let head else { return }
                    var headers: [String: String] = [:]
                    for field in head.headers { headers[field.name.lowercased()] = field.value }
                    let received = Received(method: head.method.rawValue, path: head.uri, headers: headers, body: String(decoding: body, as: UTF8.self))
                    let index = log.arrive(received)
                    defer { log.leave() }
                    for action in await script(received, index) {
                        switch action {
                        case .head(let status, let fields):
                            var headers = HTTPHeaders()
                            for (name, value) in fields { headers.add(name: name, value: value) }
                            try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers)))
                        case .body(let text):
                            try await outbound.write(.body(.byteBuffer(ByteBuffer(string: text))))
                        case .wait(let gate): await gate.wait()
                        case .sleep(let duration): try await Task.sleep(for: duration)
                        case .mark(let gate): gate.open()
                        case .end:
                            try await outbound.write(.end(nil))
                            log.finish()
                        case .drop:
                            try? await connection.channel.close()
                            return
                        case .stall:
                            try? await Task.sleep(for: .seconds(3600))
                            return
                        }
                    }
                }
            }
        }
    }

    /// A whole JSON answer.
    static func json(_ text: String, status: Int = 200, headers: [(String, String)] = []) -> [Action] {
        [.head(status, [("content-type", "application/json"), ("content-length", "\(text.utf8.count)")] + headers), .body(text), .end]
    }
}

/// Gateway, upstream and client set up for one test.
struct Harness: Sendable {
    let gateway: Gateway
    let server: GatewayServer
    let client: HTTPClient
    let token: String
    let events: EventLog

    var base: String { "http://127.0.0.1:\(server.port)" }

    final class EventLog: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [GatewayEvent] = []
        func append(_ event: GatewayEvent) { lock.lock(); items.append(event); lock.unlock() }
        var all: [GatewayEvent] { lock.lock(); defer { lock.unlock() }; return items }
    }

    static func upstream(_ scripted: ScriptedUpstream, _ modelProtocol: ModelProtocol, name: String = "up",
                         timeouts: UpstreamTimeouts = UpstreamTimeouts(connect: .seconds(5), firstByte: .seconds(20), total: .seconds(60)),
                         retry: RetryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(20), maxDelay: .milliseconds(200), seed: 7),
                         maxConcurrent: Int = 8) throws -> Upstream {
        Upstream(name: name, baseURL: scripted.baseURL + (modelProtocol == .anthropicMessages ? "" : "/v1"), modelProtocol: modelProtocol,
                 keyVariable: "TEST_MODEL_KEY", maxConcurrent: maxConcurrent, timeouts: timeouts, retry: retry, caBundlePath: try TestTLS.shared().caBundle)
    }

    static func start(_ upstream: Upstream, mode: ModelsMode = .record, record: ExchangeStore? = nil, replay: ExchangeStore? = nil,
                      prices: PriceTable? = nil, budget: Budget = Budget(), episode: String = "ep-1", agent: String = "agent-a",
                      listenerEpisode: String? = nil) async throws -> Harness {
        let gateway = try Gateway(configuration: GatewayConfiguration(
            upstreams: [upstream], mode: mode, recordStore: record, replayStore: replay, prices: prices, budget: budget,
            environment: ["TEST_MODEL_KEY": "sk-real-secret"]))
        let events = EventLog()
        let stream = gateway.events
        Task { for await event in stream { events.append(event) } }
        let token = try await gateway.register(episode: episode, agent: agent, upstream: upstream.name)
        let server = try await GatewayServer.serve(gateway, episode: listenerEpisode)
        let client = HTTPClient.shared
        return Harness(gateway: gateway, server: server, client: client, token: token, events: events)
    }

    func stop() async {
        await server.shutdown()
        await gateway.shutdown()
    }

    /// Posts and reads the whole answer.
    func post(_ path: String, _ body: String, token: String? = nil, anthropic: Bool = false) async throws -> (status: Int, body: String, contentType: String) {
        // Only a bound against a hang: the whole test suite runs beside these tests and may keep the
        // shared task pool busy for a long while; no test asserts on how long an exchange took.
        let response = try await client.execute(request(path, body, token: token, anthropic: anthropic), timeout: .seconds(600))
        var bytes: [UInt8] = []
        for try await chunk in response.body { bytes += chunk.readableBytesView }
        return (Int(response.status.code), String(decoding: bytes, as: UTF8.self), response.headers.first(name: "content-type") ?? "")
    }

    func request(_ path: String, _ body: String, token: String? = nil, anthropic: Bool = false) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: base + path)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        if anthropic {
            request.headers.add(name: "x-api-key", value: token ?? self.token)
            request.headers.add(name: "anthropic-version", value: "2023-06-01")
        } else {
            request.headers.add(name: "authorization", value: "Bearer \(token ?? self.token)")
        }
        request.body = .bytes(ByteBuffer(string: body))
        return request
    }

    /// Waits until an event of `kind` has been delivered (events are delivered asynchronously).
    func event(_ kind: GatewayEvent.Kind) async -> GatewayEvent? {
        for _ in 0..<2000 {
            if let found = events.all.first(where: { $0.kind == kind }) { return found }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }
}

/// A temporary folder for an exchange store.
func temporaryStore() throws -> ExchangeStore {
    try ExchangeStore(root: NSTemporaryDirectory() + "gateway-store-\(UUID().uuidString)")
}

/// Runs curl on a thread of its own (never on the cooperative pool, which serves the gateway) and
/// returns its exit status and standard output.
func curl(_ arguments: [String]) async throws -> (status: Int32, output: String) {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try blockingCurl(arguments) })
        }
    }
}

private func blockingCurl(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    process.arguments = ["-sS", "--max-time", "60"] + arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
