import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

@testable import Gateway

@Suite("Gateway: protocols, plain and streamed, over real TLS")
struct ProtocolTests {
    @Test("each protocol, plain: the answer passes unchanged, the real key goes upstream, the token does not", arguments: ModelProtocol.allCases)
    func plain(_ modelProtocol: ModelProtocol) async throws {
        let upstream = try await ScriptedUpstream.start(Answers.script(modelProtocol))
        let store = try temporaryStore()
        let harness = try await Harness.start(try Harness.upstream(upstream, modelProtocol), record: store)
        await harness.gateway.beginStep(episode: "ep-1", step: 3)
        let answer = try await harness.post(modelProtocol.path, Answers.request(modelProtocol), anthropic: modelProtocol == .anthropicMessages)
        await harness.stop()
        await upstream.stop()

        #expect(answer.status == 200)
        #expect(answer.body == Answers.plain(modelProtocol))
        let received = try #require(upstream.requests.first)
        #expect(received.path == modelProtocol.path)
        let sentKey = modelProtocol == .anthropicMessages ? received.headers["x-api-key"] : received.headers["authorization"]
        #expect(sentKey == (modelProtocol == .anthropicMessages ? "sk-real-secret" : "Bearer sk-real-secret"))
        #expect(!received.headers.values.contains { $0.contains(harness.token) }, "the episode's token must not reach the upstream")
        if modelProtocol == .anthropicMessages { #expect(received.headers["anthropic-version"] == "2023-06-01") }

        let hashes = try store.exchanges(episode: "ep-1", step: 3)
        #expect(hashes.count == 1)
        let exchange = try store.exchange(try #require(hashes.first))
        #expect(exchange.contentHash == hashes.first)
        #expect(exchange.response.body == Answers.plain(modelProtocol))
        #expect(exchange.response.status == 200)
        #expect(exchange.usage == TokenUsage(input: 1000, output: 200, cached: 400))
        #expect(exchange.upstreamModel?.hasPrefix(modelProtocol == .anthropicMessages ? "claude-haiku-4-5" : "gpt-5-mini") == true)
        #expect(exchange.attempts == 1)
        #expect(exchange.source == "upstream")
        #expect(exchange.timings.firstByteMs != nil)
        // The file is plain JSON with snake-case keys, readable without driftbox.
        let raw = try String(contentsOfFile: store.root + "/exchanges/\(exchange.contentHash).json", encoding: .utf8)
        #expect(raw.contains("\"upstream_model\""))
        #expect(raw.contains("\"first_byte_ms\""))
    }

    @Test("each protocol, streamed: events reach the client before the upstream has finished", arguments: ModelProtocol.allCases)
    func streamedPassThrough(_ modelProtocol: ModelProtocol) async throws {
        let gate = Gate()
        let events = Answers.events(modelProtocol)
        let upstream = try await ScriptedUpstream.start { _, _ in
            [.head(200, [("content-type", "text/event-stream")]), .body(events[0]), .wait(gate)] + events.dropFirst().map { .body($0) } + [.end]
        }
        let store = try temporaryStore()
        let harness = try await Harness.start(try Harness.upstream(upstream, modelProtocol), record: store)
        let response = try await harness.client.execute(
            harness.request(modelProtocol.path, Answers.request(modelProtocol, stream: true), anthropic: modelProtocol == .anthropicMessages),
            timeout: .seconds(600))
        #expect(response.status.code == 200)
        #expect(response.headers.first(name: "content-type") == "text/event-stream")
        var received: [UInt8] = []
        var sawFirstBeforeFinish = false
        for try await chunk in response.body {
            received += chunk.readableBytesView
            if !gate.isOpen, String(decoding: received, as: UTF8.self) == events[0] {
                // The first event has arrived while the upstream is still held: nothing was buffered.
                sawFirstBeforeFinish = upstream.finished == 0
                gate.open()
            }
        }
        await harness.stop()
        await upstream.stop()
        #expect(sawFirstBeforeFinish)
        #expect(String(decoding: received, as: UTF8.self) == events.joined())

        let hash = try #require(try store.exchanges(episode: "ep-1", step: 0).first)
        let exchange = try store.exchange(hash)
        #expect(exchange.response.events == events, "every event is recorded with its framing")
        #expect(exchange.request.stream)
        #expect(exchange.usage == TokenUsage(input: 1000, output: 200, cached: 400))
    }

    @Test("curl sees the server-sent events byte for byte, framing included")
    func curlFraming() async throws {
        let upstream = try await ScriptedUpstream.start(Answers.script(.openAIChat))
        let harness = try await Harness.start(try Harness.upstream(upstream, .openAIChat))
        let result = try await curl(["-N", "-H", "Authorization: Bearer \(harness.token)", "-H", "Content-Type: application/json",
                               "--data", Answers.request(.openAIChat, stream: true), harness.base + "/v1/chat/completions"])
        await harness.stop()
        await upstream.stop()
        #expect(result.status == 0)
        #expect(result.output == Answers.chatEvents.joined())
    }

    @Test("a listening socket made elsewhere is served as given")
    func givenSocket() async throws {
        let upstream = try await ScriptedUpstream.start(Answers.script(.openAIChat))
        let gateway = try Gateway(configuration: GatewayConfiguration(
            upstreams: [try Harness.upstream(upstream, .openAIChat)], mode: .live, environment: ["TEST_MODEL_KEY": "sk-real-secret"]))
        let token = try await gateway.register(episode: "ep-1", agent: "a", upstream: "up")
        // Bind and listen by hand, as the launcher does inside the sandbox's namespace.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        #expect(bound == 0)
        #expect(listen(fd, 16) == 0)
        let server = try await GatewayServer.serve(gateway, listeningSocket: fd, episode: "ep-1")
        #expect(server.port > 0)
        let result = try await curl(["-H", "Authorization: Bearer \(token)", "--data", Answers.request(.openAIChat),
                               "http://127.0.0.1:\(server.port)/v1/chat/completions"])
        await server.shutdown()
        await gateway.shutdown()
        await upstream.stop()
        #expect(result.output == Answers.chatPlain)
    }
}
