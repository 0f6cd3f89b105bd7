import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

@testable import Gateway

@Suite("Gateway: tokens and refusals")
struct IsolationTests {
    @Test("a wrong token and a missing token are refused and reported; nothing reaches the upstream")
    func wrongToken() async throws {
        let upstream = try await ScriptedUpstream.start(Answers.script(.openAIChat))
        let harness = try await Harness.start(try Harness.upstream(upstream, .openAIChat))
        let wrong = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat), token: "sk-guessed")
        let missing = try await curl(["-w", "%{http_code}", "--data", "{}", harness.base + "/v1/chat/completions"])
        let event = await harness.event(.isolation)
        await harness.stop()
        await upstream.stop()
        #expect(wrong.status == 401)
        #expect(wrong.body.contains("\"authentication_error\""))
        #expect(missing.output.hasSuffix("401"))
        #expect(upstream.requests.isEmpty)
        let isolation = try #require(event)
        #expect(isolation.attempted == "POST /v1/chat/completions")
        #expect(isolation.episode == nil)
    }

    @Test("an episode cannot speak as another: its valid token on another episode's listener is refused")
    func anotherEpisodesToken() async throws {
        let upstream = try await ScriptedUpstream.start(Answers.script(.openAIChat))
        let harness = try await Harness.start(try Harness.upstream(upstream, .openAIChat), episode: "ep-1", listenerEpisode: "ep-1")
        let other = try await harness.gateway.register(episode: "ep-2", agent: "agent-b", upstream: "up")
        let refused = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat), token: other)
        let own = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat))
        let event = await harness.event(.isolation)
        await harness.gateway.unregister(episode: "ep-1")
        let withdrawn = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat))
        await harness.stop()
        await upstream.stop()
        #expect(refused.status == 403)
        #expect(own.status == 200)
        #expect(withdrawn.status == 401)
        #expect(upstream.requests.count == 1)
        let isolation = try #require(event)
        #expect(isolation.episode == "ep-1")
        #expect(isolation.detail.contains("ep-2"))
    }

    @Test("CONNECT, a proxy request for another host, another path and another method are refused and reported")
    func otherHostsAndPaths() async throws {
        let upstream = try await ScriptedUpstream.start(Answers.script(.openAIChat))
        let harness = try await Harness.start(try Harness.upstream(upstream, .openAIChat), listenerEpisode: "ep-1")
        await harness.gateway.beginStep(episode: "ep-1", step: 5)
        // curl through the gateway as an HTTPS proxy: a CONNECT.
        let connect = try await curl(["-w", "%{http_connect}", "-p", "-x", harness.base, "https://example.com/"])
        // curl through the gateway as an HTTP proxy: an absolute-URI request.
        let proxied = try await curl(["-w", "%{http_code}", "-x", harness.base, "http://example.com/v1/chat/completions",
                                "-H", "Authorization: Bearer \(harness.token)", "--data", "{}"])
        let otherPath = try await curl(["-w", "%{http_code}", "--path-as-is", "-H", "Authorization: Bearer \(harness.token)", harness.base + "/../../etc/passwd"])
        let otherMethod = try await curl(["-w", "%{http_code}", "-H", "Authorization: Bearer \(harness.token)", harness.base + "/v1/chat/completions"])
        // Every refusal is reported before it is answered: what the runner takes after the step is whole.
        let taken = harness.gateway.takeEvents(episode: "ep-1")
        #expect(harness.gateway.takeEvents(episode: "ep-1").events.isEmpty, "taken once")
        for _ in 0..<2000 where harness.events.all.filter({ $0.kind == .isolation }).count < 4 { try await Task.sleep(for: .milliseconds(5)) }
        let events = harness.events.all.filter { $0.kind == .isolation }
        #expect(taken.events == events && taken.dropped == 0)
        await harness.stop()
        await upstream.stop()
        #expect(connect.output.contains("405"))
        #expect(proxied.output.hasSuffix("403"))
        #expect(proxied.output.contains("not a proxy"))
        #expect(otherPath.output.hasSuffix("404"))
        #expect(otherMethod.output.hasSuffix("405"))
        #expect(upstream.requests.isEmpty)
        #expect(events.count == 4)
        #expect(events.allSatisfy { $0.episode == "ep-1" && $0.step == 5 }, "on an episode's listener every attempt is that episode's")
        #expect(events.contains { $0.attempted.hasPrefix("CONNECT example.com:443") })
        #expect(events.contains { $0.detail.contains("example.com") && $0.attempted.hasPrefix("POST http://example.com") })
    }

    @Test("a request body over the limit is refused without being kept")
    func oversizedBody() async throws {
        let upstream = try await ScriptedUpstream.start(Answers.script(.openAIChat))
        let gateway = try Gateway(configuration: GatewayConfiguration(
            upstreams: [try Harness.upstream(upstream, .openAIChat)], mode: .live, environment: ["TEST_MODEL_KEY": "k"], maxRequestBytes: 1000))
        let token = try await gateway.register(episode: "ep-1", agent: "a", upstream: "up")
        let server = try await GatewayServer.serve(gateway)
        let result = try await curl(["-w", "%{http_code}", "-H", "Authorization: Bearer \(token)", "--data", String(repeating: "x", count: 5000),
                               "http://127.0.0.1:\(server.port)/v1/chat/completions"])
        await server.shutdown()
        await gateway.shutdown()
        await upstream.stop()
        #expect(result.output.hasSuffix("413"))
        #expect(upstream.requests.isEmpty)
    }
}
