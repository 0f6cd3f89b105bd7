import Agents
import DriftboxTestSupport
import Foundation
import Gateway
import Glibc
import Report
import Runner
import Testing

/// Upstream faults seen through the runner: the built-in model agent calls its model through the
/// run's gateway, which talks to the scripted upstream on the host's loopback; the upstream
/// misbehaves as scripted. Every fault ends as data (the transcript, the event log, the step's
/// outcome, the exchange records), never as a hang or a lost record. The agents' tuning settings
/// (`retries`, `first_byte_timeout`, `total_timeout`) shape the gateway's handling.
@Suite("Model gateway faults in runs", .serialized, .timeLimit(.minutes(20)))
struct ModelFaultRunTests {
    typealias Base = ModelAgentRunTests

    /// A scripted upstream in `folder/server`, and a one-episode suite of the model agent using it.
    static func setUp(_ folder: URL, script: [[String: Any]], stream: Bool, steps: Int = 1, settings: [String: String]) throws -> (ScriptedChatServer, URL) {
        let place = folder.appendingPathComponent("server")
        try FileManager.default.createDirectory(at: place, withIntermediateDirectories: true)
        let server = try ScriptedChatServer(script: try Base.json(script), in: place.path)
        let suite = try Base.suite(in: folder, baseURL: server.baseURL, wire: "openai", stream: stream, steps: steps, extra: settings)
        return (server, suite)
    }

    static func exchanges(_ ran: Base.Ran, step: Int) throws -> [Exchange] {
        let store = try ExchangeStore(root: ran.outcome.folder.appendingPathComponent("models").path)
        return try store.exchanges(episode: ran.episode, step: step).map { try store.exchange($0) }
    }

    @Test("a tuning setting out of range is refused by scenarios validate at its line in the suite")
    func tuningLocated() throws {
        let folder = try temporaryFolder("fault-tuning-line")
        defer { try? FileManager.default.removeItem(at: folder) }
        let suite = try Base.suite(in: folder, baseURL: "http://127.0.0.1:9/v1", wire: "openai", stream: false, steps: 1,
                                   extra: ["first_byte_timeout": "0.01"])
        let line = try #require(try String(contentsOf: suite, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0.contains("first_byte_timeout:") }) + 1
        let checked = try runHost([driftboxExecutable, "scenarios", "validate", suite.path], in: folder.path, allowFailure: true)
        #expect(checked.status != 0)
        #expect(checked.errors.contains("\(suite.path):\(line):"), "\(checked.errors)")
        #expect(checked.errors.contains("`first_byte_timeout: 0.01` is not a number of seconds from 0.1 to 3600"), "\(checked.errors)")
    }

    @Test("a 429 storm with Retry-After is waited out by the gateway's retries; the step ends with the answer, the retries in the transcript")
    func rateLimitStorm() async throws {
        let folder = try temporaryFolder("fault-429")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (server, suite) = try Self.setUp(folder, script: [["status": 429, "retry_after": 1, "times": 3], ["content": "Done after the storm."]],
                                             stream: false, settings: ["retries": "4"])
        defer { server.stop() }
        let ran = try await Base.run(suite, runs: folder.appendingPathComponent("runs"), id: "r")
        #expect(ran.outcome.episodesFailed == 0)
        #expect(ran.steps.map(\.outcome) == ["completed"])
        let entry = try #require(ran.transcript.first)
        #expect(entry.turn.message == "Done after the storm.")
        #expect(entry.turn.conversation?.ended == "answered" && entry.turn.conversation?.modelTurns == 1)
        let retries = (entry.modelEvents ?? []).filter { $0.kind == "retry" }
        #expect(retries.count == 3, "\(entry.modelEvents ?? [])")
        #expect(retries.allSatisfy { $0.detail.contains("answered 429") && $0.detail.contains("(Retry-After)") && $0.detail.contains("of 5") }, "\(retries)")
        #expect(server.requests.count == 4)
        let exchanges = try Self.exchanges(ran, step: 1)
        #expect(exchanges.count == 1 && entry.exchanges?.count == 1)
        #expect(exchanges.first?.attempts == 4 && exchanges.first?.response.status == 200 && exchanges.first?.error == nil)
        #expect(exchanges.first?.usage?.input == 100)
    }

    @Test("a 429 storm longer than the agent's retries gives the agent the last 429: the step and the episode fail with it, recorded")
    func rateLimitStormOutlasts() async throws {
        let folder = try temporaryFolder("fault-429-long")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (server, suite) = try Self.setUp(folder, script: [["status": 429, "retry_after": 1, "times": 5], ["content": "never reached"]],
                                             stream: false, steps: 2, settings: ["retries": "1"])
        defer { server.stop() }
        let ran = try await Base.run(suite, runs: folder.appendingPathComponent("runs"), id: "r")
        #expect(ran.outcome.episodesFailed == 1)
        #expect(ran.steps.map(\.outcome) == ["failed"])
        #expect(ran.steps.first?.failure?.contains("model request 1 failed (status 429)") == true, "\(ran.steps.first?.failure ?? "")")
        let end = try #require(ran.record.ends[ran.episode])
        #expect(end.status == .failed && end.reason?.hasPrefix("step 1: the agent failed: model request 1 failed (status 429)") == true, "\(end.reason ?? "")")
        #expect(server.requests.count == 2, "one retry, then the 429 is the agent's")
        let entry = try #require(ran.transcript.first)
        #expect((entry.modelEvents ?? []).filter { $0.kind == "retry" }.count == 1)
        #expect(entry.turn.conversation?.ended == "failed")
        let exchange = try #require(try Self.exchanges(ran, step: 1).first)
        #expect(exchange.attempts == 2 && exchange.response.status == 429 && exchange.source == "upstream")
        #expect(ran.record.manifest.agents.first?.settings["retries"] == "1", "the tuning is recorded with the agent")
    }

    @Test("a connection dropped mid-stream ends the streamed answer with an error event the agent records; the stream is not retried")
    func midStreamDisconnect() async throws {
        let folder = try temporaryFolder("fault-disconnect")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (server, suite) = try Self.setUp(folder, script: [["content": "an answer that is cut in the middle", "disconnect_mid_stream": true],
                                                              ["content": "Recovered."]],
                                             stream: true, settings: ["retries": "2"])
        defer { server.stop() }
        let ran = try await Base.run(suite, runs: folder.appendingPathComponent("runs"), id: "r")
        let entry = try #require(ran.transcript.first)
        let exchanges = try Self.exchanges(ran, step: 1)
        #expect(exchanges.count == 1 && entry.exchanges?.count == 1)
        // Events already passed on: never retried; the stream ends with the gateway's error event.
        #expect(server.requests.count == 1)
        #expect(ran.steps.map(\.outcome) == ["failed"])
        #expect(ran.steps.first?.failure?.contains("model request 1 failed") == true, "\(ran.steps.first?.failure ?? "")")
        #expect(ran.steps.first?.failure?.contains("mid-stream") == true, "\(ran.steps.first?.failure ?? "")")
        #expect((entry.modelEvents ?? []).contains { $0.kind == "upstream-error" && $0.detail.contains("mid-stream") }, "\(entry.modelEvents ?? [])")
        let exchange = try #require(exchanges.first)
        #expect(exchange.error?.contains("mid-stream") == true, "\(exchange.error ?? "")")
        #expect(exchange.response.events?.last?.hasPrefix("event: error\n") == true)
        #expect((exchange.response.events?.count ?? 0) >= 2, "the events before the drop are recorded")
        #expect(ran.record.ends[ran.episode]?.status == .failed)
    }

    @Test("a plain answer cut short after its head is retried: the next answer is the agent's, the attempts in the exchange and the retry in the transcript")
    func plainCutRetried() async throws {
        let folder = try temporaryFolder("fault-cut-retried")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (server, suite) = try Self.setUp(folder, script: [["content": "an answer that is cut in the middle", "disconnect_mid_stream": true],
                                                              ["content": "Recovered."]],
                                             stream: false, settings: ["retries": "2"])
        defer { server.stop() }
        let ran = try await Base.run(suite, runs: folder.appendingPathComponent("runs"), id: "r")
        #expect(server.requests.count == 2)
        #expect(ran.outcome.episodesFailed == 0)
        #expect(ran.steps.map(\.outcome) == ["completed"])
        let entry = try #require(ran.transcript.first)
        #expect(entry.turn.message == "Recovered.")
        let retries = (entry.modelEvents ?? []).filter { $0.kind == "retry" }
        #expect(retries.count == 1 && retries.first?.detail.contains("while sending its answer") == true, "\(entry.modelEvents ?? [])")
        #expect(!(entry.modelEvents ?? []).contains { $0.kind == "upstream-error" }, "\(entry.modelEvents ?? [])")
        let exchanges = try Self.exchanges(ran, step: 1)
        #expect(exchanges.count == 1 && entry.exchanges?.count == 1)
        let exchange = try #require(exchanges.first)
        #expect(exchange.attempts == 2 && exchange.response.status == 200 && exchange.error == nil)
        #expect(exchange.response.body?.contains("Recovered.") == true)
    }

    @Test("a plain answer cut short after its head on every attempt is the gateway's 502 once the agent's retries run out")
    func plainCutEveryTime() async throws {
        let folder = try temporaryFolder("fault-cut-always")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (server, suite) = try Self.setUp(folder, script: [["content": "an answer that is cut in the middle", "disconnect_mid_stream": true, "times": 3],
                                                              ["content": "never reached"]],
                                             stream: false, settings: ["retries": "2"])
        defer { server.stop() }
        let ran = try await Base.run(suite, runs: folder.appendingPathComponent("runs"), id: "r")
        #expect(server.requests.count == 3, "the first attempt and two retries")
        #expect(ran.steps.map(\.outcome) == ["failed"])
        let failure = ran.steps.first?.failure ?? ""
        #expect(failure.contains("model request 1 failed (status 502)") && failure.contains("while sending its answer"), "\(failure)")
        let entry = try #require(ran.transcript.first)
        #expect((entry.modelEvents ?? []).filter { $0.kind == "retry" }.count == 2, "\(entry.modelEvents ?? [])")
        #expect((entry.modelEvents ?? []).contains { $0.kind == "upstream-error" && $0.detail.contains("while sending its answer") },
                "\(entry.modelEvents ?? [])")
        let exchange = try #require(try Self.exchanges(ran, step: 1).first)
        #expect(exchange.response.status == 502 && exchange.response.body?.contains("upstream_error") == true && exchange.attempts == 3)
        #expect(exchange.error?.contains("while sending its answer") == true, "\(exchange.error ?? "")")
        #expect(ran.record.ends[ran.episode]?.status == .failed)
    }

    @Test("malformed JSON from the upstream reaches the agent as the gateway's 502: the step fails with it, the exchange records it")
    func malformedJSON() async throws {
        let folder = try temporaryFolder("fault-malformed")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (server, suite) = try Self.setUp(folder, script: [["malformed": true], ["content": "never reached"]], stream: false, settings: [:])
        defer { server.stop() }
        let ran = try await Base.run(suite, runs: folder.appendingPathComponent("runs"), id: "r")
        #expect(server.requests.count == 1, "a 2xx answer is not retried")
        #expect(ran.steps.map(\.outcome) == ["failed"])
        #expect(ran.steps.first?.failure?.contains("(status 502)") == true, "\(ran.steps.first?.failure ?? "")")
        let entry = try #require(ran.transcript.first)
        #expect((entry.modelEvents ?? []).contains { $0.kind == "upstream-error" }, "\(entry.modelEvents ?? [])")
        let exchange = try #require(try Self.exchanges(ran, step: 1).first)
        #expect(exchange.response.status == 502 && exchange.error?.contains("malformed JSON") == true, "\(exchange.error ?? "")")
        #expect(exchange.response.body?.contains("upstream_malformed") == true)
        #expect(exchange.usage == nil)
        #expect(ran.record.ends[ran.episode]?.status == .failed)
    }

    @Test("a stalled upstream, before its answer, mid-stream, or past the total limit, becomes a timeout in the transcript and the step's outcome",
          arguments: [("before", false), ("mid-stream", true), ("total", false)])
    func stalled(kind: String, stream: Bool) async throws {
        let folder = try temporaryFolder("fault-stall-\(kind)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var stall: [String: Any] = ["content": "late words arrive here", "stall_seconds": 60]
        if stream { stall["stall_after_events"] = 2 }
        // Short limits through the agent's settings; the upstream stalls far longer than either.
        let settings = kind == "total" ? ["first_byte_timeout": "50", "total_timeout": "1.5"] : ["first_byte_timeout": "1", "total_timeout": "50"]
        let (server, suite) = try Self.setUp(folder, script: [stall, ["content": "never reached"]], stream: stream, settings: settings)
        defer { server.stop() }
        let ran = try await Base.run(suite, runs: folder.appendingPathComponent("runs"), id: "r")
        #expect(server.requests.count == 1, "a timeout is not retried")
        #expect(ran.steps.map(\.outcome) == ["failed"])
        let failure = ran.steps.first?.failure ?? ""
        let expected = kind == "total" ? "total timeout of 1.5 seconds" : "first-byte timeout"
        #expect(failure.contains(expected), "\(failure)")
        #expect(failure.contains(stream ? "(status 200)" : "(status 504)"), "\(failure)")
        let entry = try #require(ran.transcript.first)
        #expect(entry.turn.conversation?.ended == "failed")
        #expect((entry.modelEvents ?? []).contains { $0.kind == "upstream-error" && $0.detail.contains(expected) }, "\(entry.modelEvents ?? [])")
        let exchange = try #require(try Self.exchanges(ran, step: 1).first)
        #expect(exchange.error?.contains(expected) == true, "\(exchange.error ?? "")")
        if stream {
            #expect(exchange.response.status == 200 && exchange.response.events?.count == 3, "two events, then the error event")
            #expect(exchange.response.events?.last?.contains("upstream_timeout") == true)
        } else {
            #expect(exchange.response.status == 504 && exchange.response.body?.contains("upstream_timeout") == true)
        }
        #expect(ran.record.ends[ran.episode]?.reason?.hasPrefix("step 1: the agent failed") == true)
    }

    @Test("a budget reached mid-episode stops it cleanly before the next step, the reason recorded; no request goes upstream after it")
    func budgetMidEpisode() async throws {
        let folder = try temporaryFolder("fault-budget")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (server, suite) = try Self.setUp(folder, script: [["content": "one"], ["content": "two"], ["content": "three"]], stream: true, steps: 3, settings: [:])
        defer { server.stop() }
        // 100 prompt tokens per answer at $300,000 per million: $30 an exchange.
        let prices = folder.appendingPathComponent("prices.yaml")
        try "models:\n  scripted-model:\n    - since: 2020-01-01\n      input: 300000\n      output: 0\n".write(to: prices, atomically: true, encoding: .utf8)
        let ran = try await Base.run(suite, runs: folder.appendingPathComponent("runs"), id: "r",
                                     models: ModelOptions(prices: prices.path, budget: Budget(episodeUSD: 50)))
        #expect(ran.steps.map(\.outcome) == ["completed", "completed"])
        #expect(ran.transcript.map(\.turn.message) == ["one", "two"])
        #expect(server.requests.count == 2)
        let end = try #require(ran.record.ends[ran.episode])
        #expect(end.status == .failed)
        #expect(end.reason == "step 3 not started: the episode's model budget of $50.0000 is spent ($60.0000)", "\(end.reason ?? "")")
        #expect(abs((try Self.exchanges(ran, step: 2).first?.costUSD ?? 0) - 30) < 1e-9)
        // run.json's totals, written at the run's end, count both exchanges.
        let totals = try #require(ran.record.manifest.modelTotals)
        #expect(totals.run == totals.agents["model"])
        #expect(totals.run.exchanges == 2 && totals.run.inputTokens == 200 && totals.run.outputTokens == 40 && totals.run.cachedTokens == 0)
        #expect(abs(totals.run.costUSD - 60) < 1e-9 && totals.run.unpriced == 0)
    }

    @Test("a budget crossed inside a step refuses the step's next request: run.json, report --json and the summary count it as refused, not as an exchange")
    func budgetRefusalCounted() async throws {
        let folder = try temporaryFolder("fault-budget-refused")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (server, suite) = try Self.setUp(folder, script: [["content": "", "bash": "true"], ["content": "", "bash": "true"], ["content": "never reached"]],
                                             stream: false, steps: 1, settings: [:])
        defer { server.stop() }
        // 100 prompt tokens per answer at $300,000 per million: $30 an exchange; the second crosses $50.
        let prices = folder.appendingPathComponent("prices.yaml")
        try "models:\n  scripted-model:\n    - since: 2020-01-01\n      input: 300000\n      output: 0\n".write(to: prices, atomically: true, encoding: .utf8)
        let ran = try await Base.run(suite, runs: folder.appendingPathComponent("runs"), id: "r",
                                     models: ModelOptions(prices: prices.path, budget: Budget(episodeUSD: 50)))
        #expect(server.requests.count == 2, "the third request is refused before it is sent")
        let end = try #require(ran.record.ends[ran.episode])
        #expect(end.status == .failed && end.reason?.contains("the model budget stopped the episode") == true, "\(end.reason ?? "")")
        let recorded = try Self.exchanges(ran, step: 1)
        #expect(recorded.map(\.source) == ["upstream", "upstream", "gateway"])
        #expect(recorded.last?.response.status == 402 && recorded.last?.attempts == 0)

        let expected = ModelTotals.Figures(exchanges: 2, inputTokens: 200, outputTokens: 40, cachedTokens: 0, costUSD: 60, unpriced: 0, refused: 1)
        let totals = try #require(ran.record.manifest.modelTotals)
        #expect(totals.agents == ["model": totals.run])
        #expect(totals.run.exchanges == expected.exchanges && totals.run.refused == expected.refused, "\(totals.run)")
        #expect(totals.run.inputTokens == 200 && abs(totals.run.costUSD - 60) < 1e-9, "\(totals.run)")
        let json = try runHost([driftboxExecutable, "report", ran.outcome.folder.path, "--json"], in: folder.path, allowFailure: true)
        #expect(json.status == 0, "\(json.errors)")
        let document = try JSONDecoder().decode(Export.SummaryDocument.self, from: Data(json.output.utf8))
        #expect(document.models == totals)
        let summary = try runHost([driftboxExecutable, "report", ran.outcome.folder.path], in: folder.path, allowFailure: true)
        #expect(summary.output.contains("agent 'model' (network: gateway): 2 exchange(s) in 1 episode(s), 1 request(s) refused before reaching the upstream; tokens 200 in"),
                "\(summary.output)")
    }

    @Test("kill -9 of the runner during a streamed exchange, then driftbox resume: the record is complete and consistent, check --deep is clean")
    func killDuringStreamThenResume() throws {
        let folder = try temporaryFolder("fault-kill")
        defer { try? FileManager.default.removeItem(at: folder) }
        // Step 2's first answer streams two events, then stalls: the runner is killed there.
        let (server, suite) = try Self.setUp(folder, script: [["content": "First."],
                                                             ["content": "a stalled stream of words", "stall_seconds": 600, "stall_after_events": 2],
                                                             ["content": "Second."]],
                                             stream: true, steps: 2, settings: [:])
        defer { server.stop() }
        let runs = folder.appendingPathComponent("runs"), run = runs.appendingPathComponent("k")
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DRIFTBOX_") }
        environment[Base.keyVariable] = "sk-kill-test"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: driftboxExecutable)
        process.arguments = ["run", suite.path, "--out", runs.path, "--run-id", "k", "--progress", "quiet", "--mode", "full"]
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Bounded only so a run that never sends its second request cannot hang the test; not asserted on.
        let deadline = ContinuousClock.now + .seconds(300)
        while process.isRunning, server.requests.count < 2, ContinuousClock.now < deadline { usleep(20_000) }
        try #require(process.isRunning && server.requests.count == 2, "the runner reached step 2's request")
        usleep(300_000)  // the two events on their way through the gateway; the stream stalls for 600 s either way
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let before = try RunRecord(folder: run)
        let episode = try #require(before.manifest.episodes.first).id
        #expect(before.steps(of: episode).count == 1 && before.ends[episode] == nil)

        func driftbox(_ arguments: [String]) throws -> HostRun {
            try runHost([driftboxExecutable] + arguments, in: folder.path, environment: environment, allowFailure: true)
        }
        let resumed = try driftbox(["resume", run.path, "--progress", "quiet"])
        #expect(resumed.status == 0, "\(resumed.errors)")
        #expect(server.requests.count == 3)
        #expect(try Base.json(server.requests[2]) == (try Base.json(server.requests[1])), "step 2 sends the same request again")
        let record = try RunRecord(folder: run)
        #expect(record.steps(of: episode).map(\.outcome) == ["completed", "completed"])
        #expect(record.ends[episode]?.status == .completed)
        let transcript = try EventLog.read(TranscriptEntry.self, from: record.store.transcriptPath(episode))
        #expect(transcript.map(\.step) == [1, 2])
        #expect(transcript.map(\.turn.message) == ["First.", "Second."])
        // Step 2's exchange list holds the resumed attempt only, and the transcript names it.
        let store = try ExchangeStore(root: run.appendingPathComponent("models").path)
        let second = try store.exchanges(episode: episode, step: 2)
        #expect(second.count == 1 && transcript[1].exchanges == second)
        #expect(try store.exchange(try #require(second.first)).response.events?.joined().contains("Second.") == true)
        let check = try driftbox(["check", run.path, "--deep"])
        #expect(check.status == 0, "\(check.output) \(check.errors)")

        // The totals in run.json, written at the resume's end, count the whole run from its
        // recording; `report --json` and the summary show the same figures.
        let totals = try #require(record.manifest.modelTotals)
        let expected = ModelTotals.Figures(exchanges: 2, inputTokens: 200, outputTokens: 40, cachedTokens: 0, costUSD: 0, unpriced: 2)
        #expect(totals.run == expected && totals.agents == ["model": expected], "\(totals)")
        let json = try driftbox(["report", run.path, "--json"])
        #expect(json.status == 0, "\(json.errors)")
        let document = try JSONDecoder().decode(Export.SummaryDocument.self, from: Data(json.output.utf8))
        #expect(document.models == totals)
        let summary = try driftbox(["report", run.path])
        #expect(summary.output.contains("agent 'model' (network: gateway): 2 exchange(s) in 1 episode(s); tokens 200 in (0 cached), 40 out; $0.0000 (2 exchange(s) without a price)"),
                "\(summary.output)")
    }
}
