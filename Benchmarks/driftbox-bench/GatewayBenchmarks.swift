import AsyncHTTPClient
import Foundation
import Gateway
import NIOCore
import NIOHTTP1
import NIOPosix

/// The latency the model gateway adds per exchange: the same 10 KB request sent straight to an
/// upstream and through the gateway (record mode, exchange written to its store), alternately.
enum GatewayBenchmarks {
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    static let plainAnswer = #"{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-5-mini","choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":2500,"completion_tokens":20}}"#
    static let streamEvents = [
        "data: {\"id\":\"c1\",\"model\":\"gpt-5-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hel\"}}]}\n\n",
        "data: {\"id\":\"c1\",\"model\":\"gpt-5-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}}]}\n\n",
        "data: {\"id\":\"c1\",\"model\":\"gpt-5-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":2500,\"completion_tokens\":20}}\n\n",
        "data: [DONE]\n\n",
    ]

    /// A loopback model API over plain HTTP that answers at once.
    static func startUpstream() async throws -> NIOAsyncChannel<Connection, Never> {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
    }

    static func serveUpstream(_ server: NIOAsyncChannel<Connection, Never>) async {
        _ = try? await server.executeThenClose { inbound in
            await withDiscardingTaskGroup { group in
                do {
                    for try await connection in inbound {
                        group.addTask {
                            _ = try? await connection.executeThenClose { requests, outbound in
                                var streamed = false
                                for try await part in requests {
                                    switch part {
                                    case .head: streamed = false
                                    case .body(let buffer): if buffer.readableBytesView.starts(with: Array(#"{"stream":true"#.utf8)) { streamed = true }
                                    case .end:
                                        var headers = HTTPHeaders()
                                        if streamed {
                                            headers.add(name: "content-type", value: "text/event-stream")
                                            try await outbound.write(.head(.init(version: .http1_1, status: .ok, headers: headers)))
                                            for event in streamEvents { try await outbound.write(.body(.byteBuffer(ByteBuffer(string: event)))) }
                                        } else {
                                            headers.add(name: "content-type", value: "application/json")
                                            headers.add(name: "content-length", value: "\(plainAnswer.utf8.count)")
                                            try await outbound.write(.head(.init(version: .http1_1, status: .ok, headers: headers)))
                                            try await outbound.write(.body(.byteBuffer(ByteBuffer(string: plainAnswer))))
                                        }
                                        try await outbound.write(.end(nil))
                                    }
                                }
                            }
                        }
                    }
                } catch {}
            }
        }
    }

    static func percentile(_ samples: [Double], _ p: Double) -> Double {
        let sorted = samples.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
    }

    static func run(iterations: Int) async throws -> [BenchRow] {
        let upstreamServer = try await startUpstream()
        let upstreamPort = upstreamServer.channel.localAddress?.port ?? 0
        let upstreamTask = Task { await serveUpstream(upstreamServer) }
        let storeFolder = NSTemporaryDirectory() + "driftbox-bench-gateway-\(UUID().uuidString)"
        let gateway = try Gateway(configuration: GatewayConfiguration(
            upstreams: [Upstream(name: "bench", baseURL: "http://127.0.0.1:\(upstreamPort)/v1", modelProtocol: .openAIChat, keyVariable: "BENCH_KEY")],
            mode: .record, recordStore: try ExchangeStore(root: storeFolder), environment: ["BENCH_KEY": "sk-bench"]))
        let token = try await gateway.register(episode: "bench", agent: "bench", upstream: "bench")
        let server = try await GatewayServer.serve(gateway)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)

        let filler = String(repeating: "x", count: 10_000)
        func body(stream: Bool, _ index: Int) -> String {
            // A different prompt each time, so every exchange is a new file in the store.
            #"{"stream":\#(stream),"model":"gpt-5-mini","messages":[{"role":"user","content":"\#(index) \#(filler)"}]}"#
        }
        func exchange(port: Int, stream: Bool, index: Int) async throws -> (total: Double, firstByte: Double) {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
            request.method = .POST
            request.headers.add(name: "authorization", value: "Bearer \(token)")
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body(stream: stream, index)))
            let start = DispatchTime.now().uptimeNanoseconds
            let response = try await client.execute(request, timeout: .seconds(30))
            var first: UInt64?
            for try await _ in response.body where first == nil { first = DispatchTime.now().uptimeNanoseconds }
            let end = DispatchTime.now().uptimeNanoseconds
            guard response.status == .ok else { throw GatewayError(.server, "benchmark exchange answered \(response.status)") }
            return (Double(end - start) / 1e9, Double((first ?? end) - start) / 1e9)
        }

        var rows: [BenchRow] = []
        for stream in [false, true] {
            // Warm both paths' connections.
            for index in 0..<5 {
                _ = try await exchange(port: upstreamPort, stream: stream, index: -index - 1)
                _ = try await exchange(port: server.port, stream: stream, index: -index - 1)
            }
            var direct: [Double] = [], through: [Double] = []
            var directFirst: [Double] = [], throughFirst: [Double] = []
            for index in 0..<max(iterations, 100) {
                let d = try await exchange(port: upstreamPort, stream: stream, index: index)
                let g = try await exchange(port: server.port, stream: stream, index: index)
                direct.append(d.total); directFirst.append(d.firstByte)
                through.append(g.total); throughFirst.append(g.firstByte)
            }
            let added = zip(through, direct).map { $0 - $1 }
            var note = "10 KB request; p99 \(formatSeconds(percentile(through, 0.99))) through the gateway, \(formatSeconds(percentile(direct, 0.99))) direct; "
            note += "added p50 \(formatSeconds(percentile(added, 0.5))), p99 \(formatSeconds(percentile(added, 0.99)))"
            if stream {
                note += "; first streamed byte p50 \(formatSeconds(median(throughFirst))) through, \(formatSeconds(median(directFirst))) direct"
            }
            note += "; record mode (exchange written, not fsynced)"
            rows.append(BenchRow(name: "gateway: \(stream ? "streamed (4 events)" : "plain") chat exchange", subjectMedian: median(through),
                                 referenceName: "direct to the upstream", referenceMedian: median(direct), iterations: max(iterations, 100), note: note))
        }
        try? await client.shutdown()
        await server.shutdown()
        await gateway.shutdown()
        try? await upstreamServer.channel.close()
        upstreamTask.cancel()
        await upstreamTask.value
        try? FileManager.default.removeItem(atPath: storeFolder)
        return rows
    }
}
