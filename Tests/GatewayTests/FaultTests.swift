import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

@testable import Gateway

@Suite("Gateway: a broken upstream never hangs the gateway")
struct FaultTests {
    @Test("a 429 storm with Retry-After is waited out, the wait honoured, the answer delivered")
    func retryAfterStorm() async throws {
        let upstream = try await ScriptedUpstream.start { _, index in
            index < 2 ? ScriptedUpstream.json(#"{"error":{"message":"slow down"}}"#, status: 429, headers: [("retry-after", "1")])
                : ScriptedUpstream.json(Answers.chatPlain)
        }
        let store = try temporaryStore()
        let harness = try await Harness.start(try Harness.upstream(upstream, .openAIChat, retry: RetryPolicy(maxAttempts: 4, seed: 1)), record: store)
        let answer = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat))
        let retries = harness.events.all.filter { $0.kind == .retry }
        await harness.stop()
        await upstream.stop()
        #expect(answer.status == 200)
        #expect(answer.body == Answers.chatPlain)
        #expect(upstream.requests.count == 3)
        #expect(retries.count == 2)
        #expect(retries.allSatisfy { $0.delay == .seconds(1) && $0.detail.contains("Retry-After") })
        let exchange = try store.exchange(try #require(try store.exchanges(episode: "ep-1", step: 0).first))
        #expect(exchange.attempts == 3)
    }

    @Test("a storm longer than the attempts gives the client the upstream's last 429, recorded")
    func endlessStorm() async throws {
        let upstream = try await ScriptedUpstream.start { _, _ in
            ScriptedUpstream.json(#"{"error":{"message":"rate limited"}}"#, status: 429, headers: [("retry-after", "0")])
        }
        let store = try temporaryStore()
        let harness = try await Harness.start(try Harness.upstream(upstream, .openAIChat, retry: RetryPolicy(maxAttempts: 3, seed: 1)), record: store)
        let answer = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat))
        await harness.stop()
        await upstream.stop()
        #expect(answer.status == 429)
        #expect(answer.body.contains("rate limited"))
        #expect(upstream.requests.count == 3)
        let exchange = try store.exchange(try #require(try store.exchanges(episode: "ep-1", step: 0).first))
        #expect(exchange.attempts == 3)
        #expect(exchange.response.status == 429)
    }

    @Test("5xx answers back off exponentially with seeded jitter")
    func backoff() async throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        let upstream = try await ScriptedUpstream.start { _, index in
            index < 3 ? ScriptedUpstream.json(#"{"error":"overloaded"}"#, status: 503) : ScriptedUpstream.json(Answers.chatPlain)
        }
        let policy = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(40), maxDelay: .milliseconds(100), seed: seed)
        let harness = try await Harness.start(try Harness.upstream(upstream, .openAIChat, retry: policy))
        let answer = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat))
        let delays = harness.events.all.filter { $0.kind == .retry }.compactMap(\.delay)
        await harness.stop()
        await upstream.stop()
        #expect(answer.status == 200, "seed \(seed)")
        #expect(delays.count == 3, "seed \(seed)")
        // Attempt k waits min(max, base·2^(k-1)) scaled into [50 %, 100 %].
        for (index, delay) in delays.enumerated() {
            let full = min(Duration.milliseconds(100), .milliseconds(40) * (1 << index))
            #expect(delay >= full / 2 && delay <= full, "retry \(index + 1) waited \(delay), seed \(seed)")
        }
        // Same seed, same jitter.
        var random = SeededRandom(state: seed)
        let expected = (0..<3).map { index in min(Duration.milliseconds(100), .milliseconds(40) * (1 << index)) * (0.5 + 0.5 * random.unit()) }
        #expect(delays == expected, "seed \(seed)")
    }

    @Test("a connection dropped mid-stream ends the client's stream with an error event, recorded")
    func midStreamDisconnect() async throws {
        let events = Answers.chatEvents
        let upstream = try await ScriptedUpstream.start { _, _ in
            [.head(200, [("content-type", "text/event-stream")]), .body(events[0]), .body(events[1]), .drop]
        }
        let store = try temporaryStore()
        let harness = try await Harness.start(try Harness.upstream(upstream, .openAIChat), record: store)
        let answer = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat, stream: true))
        let failure = await harness.event(.upstreamError)
        await harness.stop()
        await upstream.stop()
        #expect(answer.status == 200)
        #expect(answer.body.hasPrefix(events[0] + events[1]))
        #expect(answer.body.contains("event: error\ndata: "))
        #expect(answer.body.contains("mid-stream after 2 events"))
        #expect(upstream.requests.count == 1, "nothing is retried once events were passed on")
        let exchange = try store.exchange(try #require(try store.exchanges(episode: "ep-1", step: 0).first))
        #expect(exchange.error?.contains("mid-stream") == true)
        #expect(exchange.response.events?.count == 3)
        #expect(exchange.response.bytes == Array(answer.body.utf8))
        #expect(failure != nil)
    }

    /// A whole JSON answer whose head promises all of it, cut after its first half.
    static func cutAnswer(_ text: String) -> [ScriptedUpstream.Action] {
        [.head(200, [("content-type", "application/json"), ("content-length", "\(text.utf8.count)")]), .body(String(text.prefix(text.count / 2))), .drop]
    }

    @Test("a plain answer cut off after its head is retried like a connection failure; the good answer that follows is the client's")
    func plainCutThenGood() async throws {
        let upstream = try await ScriptedUpstream.start { _, index in
            index == 0 ? FaultTests.cutAnswer(Answers.chatPlain) : ScriptedUpstream.json(Answers.chatPlain)
        }
        let store = try temporaryStore()
        let harness = try await Harness.start(try Harness.upstream(upstream, .openAIChat, retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10), seed: 5)),
                                              record: store)
        let answer = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat))
        let retries = harness.events.all.filter { $0.kind == .retry }
        await harness.stop()
        await upstream.stop()
        #expect(answer.status == 200)
        #expect(answer.body == Answers.chatPlain)
        #expect(upstream.requests.count == 2)
        #expect(retries.count == 1 && retries.first?.detail.contains("while sending its answer") == true, "\(retries)")
        #expect(!harness.events.all.contains { $0.kind == .upstreamError })
        let hashes = try store.exchanges(episode: "ep-1", step: 0)
        #expect(hashes.count == 1)
        let exchange = try store.exchange(try #require(hashes.first))
        #expect(exchange.attempts == 2 && exchange.response.status == 200 && exchange.error == nil)
        #expect(exchange.response.body == Answers.chatPlain)
        #expect(exchange.usage?.input == 1000)
    }

    @Test("a plain answer cut off after its head every time is the client's 502 once the attempts run out, recorded")
    func plainCutEveryTime() async throws {
        let upstream = try await ScriptedUpstream.start { _, _ in FaultTests.cutAnswer(Answers.chatPlain) }
        let store = try temporaryStore()
        let harness = try await Harness.start(try Harness.upstream(upstream, .openAIChat, retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10), seed: 5)),
                                              record: store)
        let answer = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat))
        let failure = await harness.event(.upstreamError)
        let retries = harness.events.all.filter { $0.kind == .retry }
        await harness.stop()
        await upstream.stop()
        #expect(answer.status == 502)
        #expect(answer.body.contains("\"upstream_error\"") && answer.body.contains("while sending its answer"), "\(answer.body)")
        #expect(upstream.requests.count == 3)
        #expect(retries.count == 2)
        #expect(failure?.detail.contains("while sending its answer") == true)
        let exchange = try store.exchange(try #require(try store.exchanges(episode: "ep-1", step: 0).first))
        #expect(exchange.attempts == 3 && exchange.response.status == 502 && exchange.usage == nil)
        #expect(exchange.error?.contains("while sending its answer") == true, "\(exchange.error ?? "")")
        #expect(exchange.response.bytes == Array(answer.body.utf8))
    }

    @Test("malformed JSON from the upstream is an error the client receives as data, recorded")
    func malformedJSON() async throws {
        let upstream = try await ScriptedUpstream.start { _, _ in ScriptedUpstream.json(#"{"id": "chatcmpl-1", "choices": [ "#) }
        let store = try temporaryStore()
        let harness = try await Harness.start(try Harness.upstream(upstream, .openAIChat), record: store)
        let answer = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat))
        await harness.stop()
        await upstream.stop()
        #expect(answer.status == 502)
        #expect(answer.body.contains("\"upstream_malformed\""))
        let exchange = try store.exchange(try #require(try store.exchanges(episode: "ep-1", step: 0).first))
        #expect(exchange.response.status == 502)
        #expect(exchange.error?.contains("malformed JSON") == true)
        #expect(exchange.usage == nil)
    }

    @Test("a stalled upstream, before its answer or mid-stream, gives a timeout error; the gateway keeps serving")
    func stalled() async throws {
        let upstream = try await ScriptedUpstream.start { received, _ in
            if received.body.contains("stall-before") { return [.stall] }
            if received.body.contains("stall-during") {
                return [.head(200, [("content-type", "text/event-stream")]), .body(Answers.chatEvents[0]), .stall]
            }
            return ScriptedUpstream.json(Answers.chatPlain)
        }
        let timeouts = UpstreamTimeouts(connect: .seconds(5), firstByte: .milliseconds(300), total: .seconds(60))
        let store = try temporaryStore()
        let harness = try await Harness.start(try Harness.upstream(upstream, .openAIChat, timeouts: timeouts), record: store)
        let before = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat, prompt: "stall-before"))
        let during = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat, prompt: "stall-during", stream: true))
        let after = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat))
        await harness.stop()
        await upstream.stop()
        #expect(before.status == 504)
        #expect(before.body.contains("first-byte timeout"))
        #expect(during.status == 200)
        #expect(during.body.hasPrefix(Answers.chatEvents[0]))
        #expect(during.body.contains("event: error"))
        #expect(during.body.contains("upstream_timeout"))
        #expect(after.status == 200)
        #expect(try store.exchanges(episode: "ep-1", step: 0).count == 3)
    }

    @Test("the total timeout ends a stream that keeps trickling")
    func totalTimeout() async throws {
        let upstream = try await ScriptedUpstream.start { _, _ in
            var actions: [ScriptedUpstream.Action] = [.head(200, [("content-type", "text/event-stream")])]
            for _ in 0..<10_000 { actions += [.body(": keep-alive\n\n"), .sleep(.milliseconds(50))] }
            return actions + [.end]
        }
        // Long enough for the stream to start on a loaded machine, far shorter than the trickle (500 s).
        let timeouts = UpstreamTimeouts(connect: .seconds(5), firstByte: .seconds(5), total: .seconds(3))
        let harness = try await Harness.start(try Harness.upstream(upstream, .openAIChat, timeouts: timeouts))
        let answer = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat, stream: true))
        await harness.stop()
        await upstream.stop()
        #expect(answer.body.hasPrefix(": keep-alive\n\n"))
        #expect(answer.body.contains("total timeout"))
    }

    @Test("an unreachable upstream is retried, then its error is the client's answer")
    func unreachable() async throws {
        let stopped = try await ScriptedUpstream.start { _, _ in [] }
        await stopped.stop()
        let harness = try await Harness.start(try Harness.upstream(stopped, .openAIChat, retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(10), seed: 3)))
        let answer = try await harness.post("/v1/chat/completions", Answers.request(.openAIChat))
        let retries = harness.events.all.filter { $0.kind == .retry }
        await harness.stop()
        #expect(answer.status == 502 || answer.status == 504)
        #expect(answer.body.contains("upstream 'up'"))
        #expect(retries.count == 1)
    }

    @Test("the concurrency cap holds: never more exchanges at once than allowed")
    func concurrencyCap() async throws {
        let upstream = try await ScriptedUpstream.start { _, _ in
            [.sleep(.milliseconds(30))] + ScriptedUpstream.json(Answers.chatPlain)
        }
        let harness = try await Harness.start(try Harness.upstream(upstream, .openAIChat, maxConcurrent: 2))
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<8 { group.addTask { try await harness.post("/v1/chat/completions", Answers.request(.openAIChat)).status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        await harness.stop()
        await upstream.stop()
        #expect(statuses == Array(repeating: 200, count: 8))
        #expect(upstream.requests.count == 8)
        #expect(upstream.maxInFlight <= 2)
    }
}

