import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

@testable import Gateway

@Suite("Gateway: record, then replay with the upstream stopped")
struct ReplayTests {
    /// Records a plain and a streamed exchange of `modelProtocol` in `store`, episode ep-1 steps 1 and 2.
    func record(_ modelProtocol: ModelProtocol, into store: ExchangeStore) async throws -> (plain: String, streamed: String) {
        let upstream = try await ScriptedUpstream.start(Answers.script(modelProtocol))
        let harness = try await Harness.start(try Harness.upstream(upstream, modelProtocol), record: store)
        let anthropic = modelProtocol == .anthropicMessages
        await harness.gateway.beginStep(episode: "ep-1", step: 1)
        let plain = try await harness.post(modelProtocol.path, Answers.request(modelProtocol, extra: #""user":"u-1","#), anthropic: anthropic)
        await harness.gateway.beginStep(episode: "ep-1", step: 2)
        let streamed = try await harness.post(modelProtocol.path, Answers.request(modelProtocol, stream: true, extra: #""stream_options":{"include_usage":true},"#), anthropic: anthropic)
        try store.sync(episode: "ep-1", step: 1)
        try store.sync(episode: "ep-1", step: 2)
        await harness.stop()
        await upstream.stop()
        #expect(upstream.requests.count == 2)
        return (plain.body, streamed.body)
    }

    /// An upstream address where nothing listens any more.
    func deadUpstream(_ modelProtocol: ModelProtocol) async throws -> Upstream {
        let stopped = try await ScriptedUpstream.start { _, _ in [] }
        await stopped.stop()
        return try Harness.upstream(stopped, modelProtocol)
    }

    @Test("replay gives identical bytes, plain and streamed, matching across key order and volatile fields", arguments: ModelProtocol.allCases)
    func replayIdentical(_ modelProtocol: ModelProtocol) async throws {
        let store = try temporaryStore()
        let recorded = try await record(modelProtocol, into: store)
        #expect(try store.exchanges(episode: "ep-1").map(\.step) == [1, 2])

        let again = try temporaryStore()
        let harness = try await Harness.start(try await deadUpstream(modelProtocol), mode: .replay, record: again, replay: store)
        let anthropic = modelProtocol == .anthropicMessages
        await harness.gateway.beginStep(episode: "ep-1", step: 1)
        // Other volatile values, and the keys in another order, still match.
        let request = try reversedKeys(Answers.request(modelProtocol), adding: ["user": "someone-else", "metadata": ["user_id": "session-42"]])
        #expect(request.hasPrefix("{\"user\""))
        let plain = try await harness.post(modelProtocol.path, request, anthropic: anthropic)
        await harness.gateway.beginStep(episode: "ep-1", step: 2)
        let streamed = try await harness.post(modelProtocol.path, Answers.request(modelProtocol, stream: true), anthropic: anthropic)
        let totals = await harness.gateway.totals(.episode("ep-1"))
        await harness.stop()

        #expect(plain.status == 200)
        #expect(plain.body == recorded.plain)
        #expect(streamed.status == 200)
        #expect(streamed.body == recorded.streamed)
        #expect(streamed.contentType == "text/event-stream")
        #expect(totals.usage == TokenUsage(input: 2000, output: 400, cached: 800))
        // The replayed run records its exchanges too, marked as replayed.
        let hashes = try again.exchanges(episode: "ep-1", step: 2)
        #expect(hashes.count == 1)
        #expect(try again.exchange(hashes[0]).source == "replay")
    }

    @Test("curl through replay sees the recorded stream's framing byte for byte")
    func replayFramingWithCurl() async throws {
        let store = try temporaryStore()
        let recorded = try await record(.openAIChat, into: store)
        let harness = try await Harness.start(try await deadUpstream(.openAIChat), mode: .replay, replay: store)
        await harness.gateway.beginStep(episode: "ep-1", step: 2)
        let result = try await curl(["-N", "-H", "Authorization: Bearer \(harness.token)", "--data", Answers.request(.openAIChat, stream: true),
                               harness.base + "/v1/chat/completions"])
        await harness.stop()
        #expect(result.output == recorded.streamed)
        #expect(result.output == Answers.chatEvents.joined())
    }

    @Test("a changed prompt is a replay miss naming the episode, the step and the first differing field")
    func changedPrompt() async throws {
        let store = try temporaryStore()
        _ = try await record(.openAIChat, into: store)
        let harness = try await Harness.start(try await deadUpstream(.openAIChat), mode: .replay, replay: store)
        await harness.gateway.beginStep(episode: "ep-1", step: 7)
        let miss = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat, prompt: "Say goodbye"))
        let event = await harness.event(.replayMiss)
        await harness.stop()
        #expect(miss.status == 409)
        #expect(miss.body.contains("\"replay_miss\""))
        #expect(miss.body.contains("episode 'ep-1' step 7"))
        #expect(miss.body.contains("`messages[0].content`"))
        #expect(miss.body.contains("Say hello"))
        #expect(miss.body.contains("Say goodbye"))
        let reported = try #require(event)
        #expect(reported.episode == "ep-1")
        #expect(reported.step == 7)
        #expect(reported.detail.contains("messages[0].content"))
    }

    @Test("record-missing answers recorded requests from the recording and forwards the others")
    func recordMissing() async throws {
        let store = try temporaryStore()
        let recorded = try await record(.openAIChat, into: store)
        let upstream = try await ScriptedUpstream.start(Answers.script(.openAIChat))
        let harness = try await Harness.start(try Harness.upstream(upstream, .openAIChat), mode: .recordMissing, record: store, replay: store)
        await harness.gateway.beginStep(episode: "ep-1", step: 1)
        let known = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat))
        let unknown = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat, prompt: "Something new"))
        await harness.stop()
        await upstream.stop()
        #expect(known.body == recorded.plain)
        #expect(unknown.status == 200)
        #expect(upstream.requests.count == 1)
        #expect(upstream.requests.first?.body.contains("Something new") == true)
        // The new exchange joined the recording; the replayed one was not written twice.
        #expect(try store.exchanges(episode: "ep-1", step: 1).count == 2)
    }
}

/// `json`'s top-level keys in reverse order, with `adding` added, values in canonical form.
func reversedKeys(_ json: String, adding: [String: Any]) throws -> String {
    var object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    for (key, value) in adding { object[key] = value }
    let fields = object.keys.sorted(by: >).map { key in
        "\"\(key)\":" + String(decoding: try! JSONSerialization.data(withJSONObject: object[key]!, options: [.fragmentsAllowed, .sortedKeys]), as: UTF8.self)
    }
    return "{" + fields.joined(separator: ",") + "}"
}
