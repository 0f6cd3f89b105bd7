import Foundation
import Testing

@testable import Gateway

@Suite("Gateway: tokens, cost, totals and budgets")
struct AccountingTests {
    @Test("totals per step, episode, agent and run, with cost from the dated price table")
    func totals() async throws {
        let upstream = try await ScriptedUpstream.start(Answers.script(.openAIChat))
        let prices = try PriceTable(yaml: Answers.prices, source: "prices.yaml")
        let harness = try await Harness.start(try Harness.upstream(upstream, .openAIChat), prices: prices, episode: "ep-1", agent: "agent-a")
        let second = try await harness.gateway.register(episode: "ep-2", agent: "agent-b", upstream: "up")
        await harness.gateway.beginStep(episode: "ep-1", step: 1)
        _ = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat))
        _ = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat, stream: true))
        await harness.gateway.beginStep(episode: "ep-1", step: 2)
        _ = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat))
        let fromB = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat), token: second)
        #expect(fromB.status == 200, "\(fromB.body)")
        let step1 = await harness.gateway.totals(.step(episode: "ep-1", step: 1))
        let step2 = await harness.gateway.totals(.step(episode: "ep-1", step: 2))
        let episode = await harness.gateway.totals(.episode("ep-1"))
        let agentB = await harness.gateway.totals(.agent("agent-b"))
        let run = await harness.gateway.totals(.run)
        await harness.stop()
        await upstream.stop()
        // 600 uncached × $0.25 + 400 cached × $0.025 + 200 output × $2.00, per million.
        let one = (600 * 0.25 + 400 * 0.025 + 200 * 2.0) / 1_000_000
        #expect(step1.exchanges == 2)
        #expect(step1.usage == TokenUsage(input: 2000, output: 400, cached: 800))
        #expect(abs(step1.costUSD - 2 * one) < 1e-12)
        #expect(step2.exchanges == 1)
        #expect(episode.exchanges == 3)
        #expect(abs(episode.costUSD - 3 * one) < 1e-12)
        #expect(agentB.exchanges == 1)
        #expect(agentB.usage == TokenUsage(input: 1000, output: 200, cached: 400))
        #expect(run.exchanges == 4)
        #expect(abs(run.costUSD - 4 * one) < 1e-12)
        #expect(run.unpriced == 0)
    }

    @Test("Anthropic usage counts cache reads as cached input and prices them")
    func anthropicCost() async throws {
        let upstream = try await ScriptedUpstream.start(Answers.script(.anthropicMessages))
        let prices = try PriceTable(yaml: Answers.prices, source: "prices.yaml")
        let harness = try await Harness.start(try Harness.upstream(upstream, .anthropicMessages), prices: prices)
        _ = try await harness.post("/v1/messages", Answers.request(.anthropicMessages, stream: true), anthropic: true)
        let run = await harness.gateway.totals(.run)
        await harness.stop()
        await upstream.stop()
        #expect(run.usage == TokenUsage(input: 1000, output: 200, cached: 400))
        #expect(abs(run.costUSD - (600 * 1.0 + 400 * 0.10 + 200 * 5.0) / 1_000_000) < 1e-12)
    }

    @Test("an episode's budget, once spent, refuses its next exchange with a recorded reason; other episodes go on")
    func episodeBudget() async throws {
        let upstream = try await ScriptedUpstream.start(Answers.script(.openAIChat))
        let prices = try PriceTable(yaml: Answers.prices, source: "prices.yaml")
        let store = try temporaryStore()
        let harness = try await Harness.start(try Harness.upstream(upstream, .openAIChat), record: store, prices: prices,
                                              budget: Budget(episodeUSD: 0.0005))
        let other = try await harness.gateway.register(episode: "ep-2", agent: "agent-a", upstream: "up")
        await harness.gateway.beginStep(episode: "ep-1", step: 4)
        let first = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat))
        let refused = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat))
        let otherEpisode = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat), token: other)
        let event = await harness.event(.budget)
        let totals = await harness.gateway.totals(.episode("ep-1"))
        await harness.stop()
        await upstream.stop()
        #expect(first.status == 200)
        #expect(refused.status == 402)
        #expect(refused.body.contains("\"budget_exceeded\""))
        #expect(otherEpisode.status == 200)
        #expect(upstream.requests.count == 2)
        #expect(totals.refused == 1)
        #expect(totals.exchanges == 1)
        let reported = try #require(event)
        #expect(reported.episode == "ep-1")
        #expect(reported.step == 4)
        let hashes = try store.exchanges(episode: "ep-1", step: 4)
        #expect(hashes.count == 2)
        let record = try store.exchange(hashes[1])
        #expect(record.error?.contains("budget") == true)
        #expect(record.response.status == 402)
    }

    @Test("the run's budget stops every episode")
    func runBudget() async throws {
        let upstream = try await ScriptedUpstream.start(Answers.script(.openAIChat))
        let prices = try PriceTable(yaml: Answers.prices, source: "prices.yaml")
        let harness = try await Harness.start(try Harness.upstream(upstream, .openAIChat), prices: prices, budget: Budget(runUSD: 0.0001))
        let other = try await harness.gateway.register(episode: "ep-2", agent: "agent-a", upstream: "up")
        let first = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat))
        let refused = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat), token: other)
        await harness.stop()
        await upstream.stop()
        #expect(first.status == 200)
        #expect(refused.status == 402)
        #expect(refused.body.contains("run's budget"))
    }
}

@Suite("Price table: data, dated, validated")
struct PriceTableTests {
    @Test("the dated entry in force on the exchange's day applies; model ids with a date suffix find their model")
    func datedEntries() throws {
        let table = try PriceTable(yaml: Answers.prices, source: "prices.yaml")
        #expect(table.entry(model: "gpt-5-mini", day: "2024-01-01")?.input == 100)
        #expect(table.entry(model: "gpt-5-mini", day: "2025-08-07")?.input == 0.25)
        #expect(table.entry(model: "gpt-5-mini-2025-08-07", day: "2026-01-01")?.cachedInput == 0.025)
        #expect(table.entry(model: "gpt-5", day: "2026-01-01") == nil)
        #expect(table.entry(model: "claude-haiku-4-5", day: "2025-01-01") == nil)
    }

    @Test("the bundled price table parses")
    func bundled() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/prices/models.yaml").path
        let table = try PriceTable.load(path: path)
        #expect(!table.models.isEmpty)
        #expect(table.entry(model: "gpt-5-mini", day: "2026-01-01") != nil)
    }

    @Test("hostile tables are refused with the file, model and entry at fault", arguments: [
        ("models: [", "not valid YAML"),
        ("prices: {}", "top-level `models:`"),
        ("models:\n  m:\n    - since: 2025-01-01\n      input: -1\n      output: 1\n", "'input' must be a number"),
        ("models:\n  m:\n    - since: 2025-01-01\n      input: 1\n      output: 1\n      bonus: 3\n", "unknown field 'bonus'"),
        ("models:\n  m:\n    - since: soon\n      input: 1\n      output: 1\n", "YYYY-MM-DD"),
        ("models:\n  m:\n    - since: 2025-01-01\n      input: 1\n", "needs 'input' and 'output'"),
        ("models:\n  m: []\n", "needs a list"),
    ])
    func hostile(_ yaml: String, _ expected: String) throws {
        let error = try #require(throws: GatewayError.self) { try PriceTable(yaml: yaml, source: "bad.yaml") }
        #expect(error.kind == .invalidPriceTable)
        #expect(error.message.hasPrefix("bad.yaml"))
        #expect(error.message.contains(expected))
    }
}

@Suite("Request normal form")
struct NormalisationTests {
    @Test("key order and volatile fields do not change the normal form; content does")
    func normalForm() throws {
        let a = NormalisedBody(Array(#"{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}],"user":"u1","stream_options":{"include_usage":true},"metadata":{"user_id":"s-1"},"prompt_cache_key":"c-9"}"#.utf8))
        let b = NormalisedBody(Array(#"{"messages":[{"content":"x","role":"user"}],"stream":true,"model":"m"}"#.utf8))
        let c = NormalisedBody(Array(#"{"messages":[{"content":"y","role":"user"}],"stream":true,"model":"m"}"#.utf8))
        #expect(a.text == b.text)
        #expect(a.text == #"{"messages":[{"content":"x","role":"user"}],"model":"m","stream":true}"#)
        #expect(a.streamed)
        #expect(a.text != c.text)
        let difference = try #require(NormalisedBody.firstDifference(recorded: b.json, sent: c.json))
        #expect(difference.path == "messages[0].content")
        #expect(difference.recorded == "\"x\"")
        #expect(difference.sent == "\"y\"")
    }

    @Test("a body that is not JSON is matched as its text")
    func notJSON() {
        let body = NormalisedBody(Array("not json {".utf8))
        #expect(body.text == "not json {")
        #expect(body.json == nil)
    }

    @Test("hostile episode names become safe folder names")
    func episodeFolders() {
        #expect(ExchangeStore.folderName(ofEpisode: "ep-1.a_b") == "ep-1.a_b")
        for hostile in ["../../etc", ".hidden", "a/b", "", "x\u{0}y"] {
            let name = ExchangeStore.folderName(ofEpisode: hostile)
            #expect(name.hasPrefix("x-"))
            #expect(!name.contains("/"))
        }
    }
}
