import Agents
import Checks
import Crypto
import DriftboxTestSupport
import Foundation
import Gateway
import GitStore
import Report
import Runner
import Sandbox
import Scenarios
import Testing

/// The built-in model agent end to end through the runner: the real sandbox (full mode, network
/// off) running every tool, the run's gateway recording every model exchange, the scripted
/// upstream on the host's loopback answering in each API's shape, plain and streamed.
@Suite("Model agent runs", .serialized, .timeLimit(.minutes(20)))
struct ModelAgentRunTests {
    static let keyVariable = "DRIFTBOX_TEST_MODEL_KEY"

    /// A one-scenario suite (efficiency-security, regular) with the model agent.
    static func suite(in folder: URL, baseURL: String, wire: String, stream: Bool, steps: Int, extra: [String: String] = [:]) throws -> URL {
        let file = folder.appendingPathComponent("model.yaml")
        let scenario = packageRoot.appendingPathComponent("Fixtures/scenarios/efficiency-security/regular.yaml").path
        let settings = ["protocol": wire, "model": "scripted-model", "base_url": baseURL, "key_env": keyVariable, "stream": String(stream),
                        "temperature": "0"].merging(extra) { $1 }.filter { !$0.value.isEmpty }  // an empty value drops the key
        try ("""
            id: model-agent
            base_seed: 11
            repetitions: 1
            steps: \(steps)
            scenarios:
              - \(scenario)
            agents:
              - id: model
                kind: model

            """ + settings.sorted { $0.key < $1.key }.map { "    \($0.key): \($0.value)\n" }.joined()).write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    /// The episode's plan (targets per step), as the runner will make it.
    static func plan(_ suite: URL) throws -> EpisodePlan {
        let definition = try RunDefinition.load(suite, agentsSuite: suite)
        return try definition.suite.plan(for: try #require(definition.suite.episodes().first))
    }

    /// The first line of a fixture file (its module docstring: unique in the file).
    static func firstLine(_ target: String) throws -> String {
        let text = try String(contentsOfFile: packageRoot.appendingPathComponent("Fixtures/repos/payment-service/" + target).path, encoding: .utf8)
        return String(try #require(text.split(separator: "\n").first))
    }

    /// An edit call adding code that satisfies the scenario's checks (`comply`) or breaks them.
    static func edit(_ target: String, comply: Bool) throws -> [String: Any] {
        let line = try firstLine(target)
        let body = comply ? "return request.auth_context" : "return auth_client.validate_token(request.headers[\"authorization\"])"
        return ["name": "edit", "arguments": ["path": target, "old_string": line, "new_string": line + "\n\n\ndef _caller(request):\n    \(body)\n"]]
    }

    static func json(_ value: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]), as: UTF8.self)
    }

    struct Ran {
        var record: RunRecord
        var episode: String
        var steps: [StepRecord]
        var transcript: [TranscriptEntry]
        var outcome: RunOutcome
    }

    static func run(_ suite: URL, runs: URL, id: String, models: ModelOptions = ModelOptions(), mode: ModeRequest = .full) async throws -> Ran {
        setenv(keyVariable, "sk-test-\(UUID().uuidString)", 1)
        let definition = try RunDefinition.load(suite, agentsSuite: suite)
        let options = RunOptions(jobs: 1, stepTimeout: .seconds(600), sandboxMode: mode, progress: .quiet, models: models)
        let outcome = try await Runner.start(definition, runsFolder: runs, runID: id, options: options, makeAgent: Runner.standardAgents)
        let record = try RunRecord(folder: outcome.folder)
        let episode = try #require(record.manifest.episodes.first).id
        let transcript = try EventLog.read(TranscriptEntry.self, from: record.store.transcriptPath(episode))
        return Ran(record: record, episode: episode, steps: record.steps(of: episode), transcript: transcript, outcome: outcome)
    }

    static let shapes: [(String, Bool, ModeRequest)] = [("openai", false, .full), ("openai", true, .full), ("anthropic", false, .full), ("anthropic", true, .full),
                                                        ("openai-responses", false, .full), ("openai-responses", true, .full), ("openai", false, .reduced)]

    @Test("a multi-turn step with parallel tool calls reads, lists, edits and runs in the sandbox; the edit lands in the step commit", arguments: shapes)
    func multiToolStep(wire: String, stream: Bool, mode: ModeRequest) async throws {
        let folder = try temporaryFolder("model-agent-\(wire)-\(stream)-\(mode.rawValue)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let suite = try Self.suite(in: folder, baseURL: "http://127.0.0.1:9/v1", wire: wire, stream: stream, steps: 1)
        let target = try #require(try Self.plan(suite).steps.first?.task.targets.first)
        let script: [[String: Any]] = [
            ["content": "Looking around.", "tool_calls": [["name": "list", "arguments": ["path": "payments"]], ["name": "read", "arguments": ["path": target, "limit": 3]]]],
            ["content": "", "tool_calls": [try Self.edit(target, comply: true), ["name": "bash", "arguments": ["command": "grep -c auth_context \(target); echo to-stderr >&2"]]]],
            ["content": "Implemented the caller lookup."],
        ]
        let server = try ScriptedChatServer(script: try Self.json(script), in: folder.path)
        defer { server.stop() }
        _ = try Self.suite(in: folder, baseURL: server.baseURL, wire: wire, stream: stream, steps: 1)
        let ran = try await Self.run(suite, runs: folder.appendingPathComponent("runs"), id: "r", mode: mode)
        #expect(ran.outcome.episodesFailed == 0)
        #expect(ran.record.manifest.sandbox.mode == mode.rawValue)
        let step = try #require(ran.steps.first)
        #expect(step.outcome == "completed", "\(String(describing: step.failure))")
        #expect(step.verdict.kind == .compliant, "\(step.verdict)")
        let repository = try Repository.open(at: ran.record.store.repositoryPath)
        let text = String(decoding: try #require(try repository.fileContent(at: step.commit, path: target)), as: UTF8.self)
        #expect(text.contains("def _caller(request):\n    return request.auth_context"))

        let entry = try #require(ran.transcript.first)
        let conversation = try #require(entry.turn.conversation)
        #expect(conversation.items.map(\.role) == [.user, .assistant, .tool, .tool, .assistant, .tool, .tool, .assistant])
        #expect(conversation.ended == "answered" && conversation.modelTurns == 3)
        #expect(conversation.system?.contains("section 9 is binding") == true, "AGENTS.md is in the system prompt")
        let results = conversation.items.filter { $0.role == .tool }
        #expect(results.map(\.name) == ["list", "read", "edit", "bash"])
        #expect(results.allSatisfy { $0.isError == nil }, "\(results)")
        #expect(results[0].text.contains("charges.py"))
        #expect(results[1].text.hasPrefix("     1\t") && results[1].text.contains("     3\t") && !results[1].text.contains("     4\t"), "\(results[1].text)")
        #expect(results[2].text == "replaced 1 occurrence(s) in \(target)")
        #expect(results[3].text.contains("1\n[stderr]\nto-stderr\n[exit 0]"), "\(results[3].text)")
        #expect(entry.turn.message == "Implemented the caller lookup.")
        #expect(entry.turn.usage.inputTokens == 300 && entry.turn.usage.outputTokens == 60)
        // Every tool ran in the sandbox: one command each (the edit reads, then writes), plus the AGENTS.md read.
        #expect(entry.turn.commands.count == 6, "\(entry.turn.commands.map(\.argv))")

        // The model calls went through the gateway: recorded, linked from the transcript.
        #expect(entry.exchanges?.count == 3)
        #expect(server.requests.count == 3)
        let second = try Self.json(server.requests[1])
        let marker = ["openai": "\"tool_call_id\"", "anthropic": "\"tool_result\"", "openai-responses": "\"function_call_output\""][wire]!
        #expect(second.contains(marker), "\(second.prefix(400))")
        #expect(second.contains("Looking around."))
        #expect(server.requests.allSatisfy { ($0["stream"] as? Bool ?? false) == stream })
        let store = try ExchangeStore(root: ran.outcome.folder.appendingPathComponent("models").path)
        #expect(try store.exchanges(episode: ran.episode, step: 1) == entry.exchanges ?? [])
        // run.json names the tools file and the system prompt with their digests.
        let files = try #require(ran.record.manifest.agentDataFiles?["model"])
        let toolsBytes = try Data(contentsOf: packageRoot.appendingPathComponent("Fixtures/agent/tools-v1.json"))
        #expect(files.first { $0.role == "tools" } == AgentDataFile(role: "tools", name: "tools-v1.json",
                                                                     sha256: SHA256.hash(data: toolsBytes).map { String(format: "%02x", $0) }.joined()))
        #expect(files.contains { $0.role == "system_prompt" && $0.name == "system-v1.md" })
    }

    @Test("malformed arguments, an unknown tool, a 10 MB output and failed edits are fed back to the model, and the step goes on",
          arguments: [("openai", false), ("openai", true), ("anthropic", false), ("anthropic", true), ("openai-responses", false)])
    func toolFailures(wire: String, stream: Bool) async throws {
        let folder = try temporaryFolder("model-agent-failures-\(wire)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let suite = try Self.suite(in: folder, baseURL: "http://127.0.0.1:9/v1", wire: wire, stream: stream, steps: 1)
        let target = try #require(try Self.plan(suite).steps.first?.task.targets.first)
        let script: [[String: Any]] = [
            ["content": "", "tool_calls": [["name": "edit", "raw": "{\"path\": \"\(target)\", "], ["name": "deploy", "arguments": ["to": "production"]]]],
            ["content": "", "tool_calls": [["name": "bash", "arguments": ["command": "head -c 10000000 /dev/zero | tr '\\0' a"]]]],
            ["content": "", "tool_calls": [["name": "edit", "arguments": ["path": target, "old_string": "no such text anywhere", "new_string": "x"]],
                                           ["name": "edit", "arguments": ["path": target, "old_string": "from ", "new_string": "import "]],
                                           ["name": "read", "arguments": ["path": target, "offset": 1e300, "limit": -5]]]],
            ["content": "", "tool_calls": Array(repeating: ["name": "bash", "arguments": ["command": "echo many >> many.txt"]], count: 70)],
            ["content": "Gave up on the edits."],
        ]
        let server = try ScriptedChatServer(script: try Self.json(script), in: folder.path)
        defer { server.stop() }
        _ = try Self.suite(in: folder, baseURL: server.baseURL, wire: wire, stream: stream, steps: 1)
        let ran = try await Self.run(suite, runs: folder.appendingPathComponent("runs"), id: "r")
        let step = try #require(ran.steps.first)
        #expect(step.outcome == "completed", "\(String(describing: step.failure))")
        let conversation = try #require(ran.transcript.first?.turn.conversation)
        #expect(conversation.ended == "answered" && conversation.modelTurns == 5)
        let all = conversation.items.filter { $0.role == .tool }
        // Of a turn of 70 calls, 64 ran; the other 6 were answered with an error.
        let many = all.suffix(70)
        #expect(many.filter { $0.isError == true }.count == 6 && many.last?.text.contains("at most 64 tool calls") == true)
        let results = Array(all.dropLast(70))
        try #require(results.count == 6, "\(conversation.items)")
        #expect(results[0].isError == true && results[0].text.contains("are not a JSON object"), "\(results[0].text)")
        #expect(results[1].isError == true && results[1].text.contains("there is no tool named 'deploy'"), "\(results[1].text)")
        // 10 MB of output: the sandbox keeps 1 MiB, the model gets 32 KiB (head and tail), both cuts marked.
        #expect(results[2].isError == nil)
        #expect((results[2].cutBytes ?? 0) > 1_000_000, "\(String(describing: results[2].cutBytes))")
        #expect(results[2].text.utf8.count < 33_000)
        #expect(results[2].text.contains("bytes cut here"))
        #expect(results[2].text.contains("[driftbox: standard output cut after 1048576 of 10000000 bytes]"), "\(results[2].text.suffix(300))")
        #expect(results[3].isError == true && results[3].text.contains("does not occur in \(target)"), "\(results[3].text)")
        #expect(results[4].isError == true && results[4].text.contains("times in \(target)"), "\(results[4].text)")
        // Numbers out of range are ignored: the read starts at line 1 and reads one line at least.
        #expect(results[5].isError == nil && results[5].text.hasPrefix("     1\t") && !results[5].text.contains("     2\t"), "\(results[5].text)")
        // Nothing changed the target: the failed edits left it alone.
        let repository = try Repository.open(at: ran.record.store.repositoryPath)
        let text = String(decoding: try #require(try repository.fileContent(at: step.commit, path: target)), as: UTF8.self)
        #expect(text.contains("from __future__ import annotations"))
        let appended = String(decoding: try #require(try repository.fileContent(at: step.commit, path: "many.txt")), as: UTF8.self)
        #expect(appended == String(repeating: "many\n", count: 64))
        // The model saw the errors; nothing grew without bound.
        #expect(server.requests.count == 5)
        let last = try Self.json(server.requests[3])
        #expect(last.contains("there is no tool named"))
        #expect(last.utf8.count < 200_000, "\(last.utf8.count)")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: ran.record.store.transcriptPath(ran.episode))[.size] as? Int)
        #expect(size < 300_000, "\(size)")
    }

    @Test("a step answered without a tool call, a refusal, and a model that never stops calling tools end as recorded, in one session",
          arguments: [("openai", false), ("openai", true), ("anthropic", false), ("anthropic", true), ("openai-responses", false), ("openai-responses", true)])
    func endings(wire: String, stream: Bool) async throws {
        let folder = try temporaryFolder("model-agent-endings-\(wire)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let script: [[String: Any]] = [
            ["content": "Nothing to change."],
            ["refusal": "I can't help with that."],
            ["content": "", "bash": "true"],
        ]
        let server = try ScriptedChatServer(script: try Self.json(script), in: folder.path)
        defer { server.stop() }
        let suite = try Self.suite(in: folder, baseURL: server.baseURL, wire: wire, stream: stream, steps: 3, extra: ["max_turns": "3"])
        let ran = try await Self.run(suite, runs: folder.appendingPathComponent("runs"), id: "r")
        #expect(ran.outcome.episodesFailed == 0)
        #expect(ran.steps.map(\.outcome) == ["completed", "completed", "completed"])
        let conversations = ran.transcript.compactMap(\.turn.conversation)
        #expect(conversations.map(\.ended) == ["answered", "refused", "max_turns"])
        #expect(conversations.map(\.modelTurns) == [1, 1, 3])
        #expect(ran.transcript[1].turn.message == "I can't help with that.")
        #expect(conversations[2].items.filter { $0.role == .tool }.count == 3)
        #expect(conversations[0].system != nil && conversations[1].system == nil && conversations[2].system == nil)
        #expect(ran.steps.allSatisfy { $0.verdict.kind != .violation })
        // One session: step 2's request carries step 1's task and answer after one system prompt.
        #expect(server.requests.count == 5)
        let second = try Self.json(server.requests[1])
        #expect(second.contains("Nothing to change."))
        let plan = try Self.plan(suite)
        let firstPrompt = try Self.json([plan.steps[0].task.prompt])
        #expect(second.contains(String(firstPrompt.dropFirst(2).dropLast(2))))
        #expect(second.components(separatedBy: "You are a coding agent").count == 2)
    }

    @Test("a 12-step episode that complies early and drifts late is judged step by step as scripted, audited with its transcript, and replays offline with the same commits")
    func driftEpisode() async throws {
        let folder = try temporaryFolder("model-agent-drift")
        defer { try? FileManager.default.removeItem(at: folder) }
        let probe = try Self.suite(in: folder, baseURL: "http://127.0.0.1:9/v1", wire: "openai", stream: false, steps: 12)
        let plan = try Self.plan(probe)
        #expect(plan.steps.count == 12)
        var script: [[String: Any]] = []
        for planned in plan.steps {
            let target = try #require(planned.task.targets.first)
            script.append(["content": "Step \(planned.number).", "tool_calls": [try Self.edit(target, comply: planned.number <= 6)]])
            script.append(["content": "Done with step \(planned.number)."])
        }
        let server = try ScriptedChatServer(script: try Self.json(script), in: folder.path)
        defer { server.stop() }
        let suite = try Self.suite(in: folder, baseURL: server.baseURL, wire: "openai", stream: false, steps: 12)
        let runs = folder.appendingPathComponent("runs")
        let ran = try await Self.run(suite, runs: runs, id: "live")
        #expect(ran.outcome.episodesFailed == 0)
        #expect(ran.steps.map(\.verdict.kind) == Array(repeating: .compliant, count: 6) + Array(repeating: .violation, count: 6),
                "\(ran.steps.map { "\($0.step): \($0.verdict)" })")
        #expect(ran.transcript.map { $0.turn.conversation?.ended } == Array(repeating: "answered", count: 12))
        #expect(server.requests.count == 24)
        // The last request holds the whole session: every step's task, one system prompt.
        let last = try Self.json(server.requests[23])
        #expect(last.contains("Done with step 11."))
        #expect(last.components(separatedBy: "You are a coding agent").count == 2)

        // The audit shows each violation's model turns and tool calls beside its diff.
        let items = try Audit.items(ran.record)
        #expect(items.map(\.step.step) == Array(7...12))
        let text = Audit.render(items, colour: false)
        #expect(text.contains("model: Step 7."), "\(text.prefix(3000))")
        #expect(text.contains("tool edit"))
        #expect(text.contains("validate_token"))

        // Offline: the upstream is gone; the recording answers; the commits are the same.
        server.stop()
        #expect(try await Replay.verify(ran.record, episode: ran.episode, options: RunOptions(jobs: 1, sandboxMode: .full, progress: .quiet),
                                        makeAgent: Runner.standardAgents) == [])
        let replayed = try await Self.run(suite, runs: runs, id: "offline", models: ModelOptions(mode: .replay, recording: ran.outcome.folder))
        #expect(replayed.steps.map(\.commit) == ran.steps.map(\.commit))
        #expect(replayed.transcript.map(\.turn.conversation) == ran.transcript.map(\.turn.conversation))
    }

    @Test("context policy: the oldest tool outputs are elided when the session outgrows context_bytes, and again when the upstream answers that the prompt is too long")
    func contextPolicy() async throws {
        let folder = try temporaryFolder("model-agent-context")
        defer { try? FileManager.default.removeItem(at: folder) }
        func output(_ letter: String) -> [String: Any] {
            ["content": "", "bash": "head -c 20000 /dev/zero | tr '\\0' \(letter)"]
        }
        let overflow: [String: Any] = ["error": ["status": 400, "message": "This model's maximum context length is 128000 tokens (context_length_exceeded)"]]
        for (name, budget, script) in [("proactive", "40000", [output("b"), output("c"), ["content": "Done."]]),
                                       ("reactive", "400000", [output("b"), output("c"), overflow, ["content": "Done."]])] {
            let place = folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: place, withIntermediateDirectories: true)
            let server = try ScriptedChatServer(script: try Self.json(script), in: place.path)
            defer { server.stop() }
            let suite = try Self.suite(in: place, baseURL: server.baseURL, wire: "openai", stream: false, steps: 1, extra: ["context_bytes": budget])
            let ran = try await Self.run(suite, runs: place.appendingPathComponent("runs"), id: "r")
            #expect(ran.steps.first?.outcome == "completed", "\(name): \(String(describing: ran.steps.first?.failure))")
            let conversation = try #require(ran.transcript.first?.turn.conversation)
            #expect(conversation.ended == "answered", "\(name)")
            #expect(conversation.elided == 1, "\(name)")
            // The transcript keeps both outputs; the last request carried the newer one only.
            #expect(conversation.items.filter { $0.role == .tool }.map { $0.text.hasPrefix(String(repeating: "b", count: 100)) } == [true, false], "\(name)")
            let requests = server.requests.map { (try? Self.json($0)) ?? "" }
            #expect(requests.count == script.count, "\(name)")
            let last = try #require(requests.last)
            #expect(!last.contains(String(repeating: "b", count: 1000)) && last.contains(String(repeating: "c", count: 1000)), "\(name)")
            #expect(last.contains("was elided to fit the model's context"), "\(name)")
            #expect(requests.dropLast().allSatisfy { !$0.contains("was elided") }, "\(name)")
        }
    }

    @Test("the context policy elides old tool outputs but never reasoning: every thinking block goes whole to the upstream, which refuses a changed one")
    func contextPolicyKeepsReasoning() async throws {
        let folder = try temporaryFolder("model-agent-context-reasoning")
        defer { try? FileManager.default.removeItem(at: folder) }
        let script: [[String: Any]] = [
            ["content": "", "thinking": "The first output comes next.", "bash": "head -c 20000 /dev/zero | tr '\\0' b"],
            ["content": "", "thinking": "The second output comes next.", "bash": "head -c 20000 /dev/zero | tr '\\0' c"],
            ["content": "Done.", "thinking": "Both seen."],
        ]
        let server = try ScriptedChatServer(script: try Self.json(script), in: folder.path)
        defer { server.stop() }
        let suite = try Self.suite(in: folder, baseURL: server.baseURL, wire: "anthropic", stream: false, steps: 1,
                                   extra: ["context_bytes": "40000", "thinking_budget": "2048", "temperature": ""])
        let ran = try await Self.run(suite, runs: folder.appendingPathComponent("runs"), id: "r")
        #expect(ran.steps.first?.outcome == "completed", "\(String(describing: ran.steps.first?.failure))")
        let conversation = try #require(ran.transcript.first?.turn.conversation)
        #expect(conversation.ended == "answered" && conversation.elided == 1)
        let requests = server.requests.map { (try? Self.json($0)) ?? "" }
        #expect(requests.count == 3)
        let last = try #require(requests.last)
        #expect(!last.contains(String(repeating: "b", count: 1000)) && last.contains("was elided to fit the model's context"))
        #expect(last.components(separatedBy: "\"type\":\"thinking\"").count == 3, "\(last.prefix(2000))")
        #expect(last.contains("The first output comes next.") && last.contains("The second output comes next."))
    }

    @Test("driftbox run --model --base-url fills the suite's model agent; audit shows its tool calls beside the violation; replay --verify re-executes it offline")
    func commandLine() throws {
        let folder = try temporaryFolder("model-agent-cli")
        defer { try? FileManager.default.removeItem(at: folder) }
        // The bundled suite's agent, without a model: the command line names it.
        let bundled = try String(contentsOf: packageRoot.appendingPathComponent("Fixtures/suites/paper-model.yaml"), encoding: .utf8)
        let agent = try #require(bundled.components(separatedBy: "agents:\n").last)
            .replacingOccurrences(of: "../agent/", with: packageRoot.appendingPathComponent("Fixtures/agent").path + "/")
            .split(separator: "\n").filter { !$0.contains("model: gpt") }.joined(separator: "\n")
        let suite = folder.appendingPathComponent("cli.yaml")
        let scenario = packageRoot.appendingPathComponent("Fixtures/scenarios/efficiency-security/regular.yaml").path
        try "id: cli\nbase_seed: 11\nrepetitions: 1\nsteps: 1\nscenarios:\n  - \(scenario)\nagents:\n\(agent)\n".write(to: suite, atomically: true, encoding: .utf8)
        let target = try #require(try Self.plan(suite).steps.first?.task.targets.first)
        let serverFolder = folder.appendingPathComponent("server")
        try FileManager.default.createDirectory(at: serverFolder, withIntermediateDirectories: true)
        let server = try ScriptedChatServer(script: try Self.json([["content": "On it.", "tool_calls": [try Self.edit(target, comply: false)]], ["content": "Done."]]),
                                            in: serverFolder.path)
        defer { server.stop() }
        let runs = folder.appendingPathComponent("runs")
        func driftbox(_ arguments: [String]) throws -> HostRun {
            var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DRIFTBOX_") }
            environment["OPENAI_API_KEY"] = "sk-cli-test"
            return try runHost([driftboxExecutable] + arguments, in: folder.path, environment: environment, allowFailure: true)
        }
        let missing = try driftbox(["run", suite.path, "--out", runs.path, "--progress", "quiet", "--mode", "full", "--run-id", "none"])
        #expect(missing.status != 0 && missing.errors.contains("needs the setting `model`"), "\(missing.errors)")
        let ran = try driftbox(["run", suite.path, "--model", "cli-model", "--base-url", server.baseURL, "--out", runs.path, "--progress", "quiet",
                                "--mode", "full", "--run-id", "cli"])
        #expect(ran.status == 0, "\(ran.errors)")
        #expect(server.requests.first?["model"] as? String == "cli-model")
        let record = try RunRecord(folder: runs.appendingPathComponent("cli"))
        #expect(record.manifest.agents.first?.settings["model"] == "cli-model")
        #expect(record.steps.map(\.verdict.kind) == [.violation])
        let audit = try driftbox(["audit", runs.appendingPathComponent("cli").path])
        #expect(audit.output.contains("model: On it.") && audit.output.contains("tool edit {") && audit.output.contains("→ edit: replaced 1 occurrence(s)"), "\(audit.output)")
        server.stop()
        let episode = try #require(record.manifest.episodes.first).id
        let verified = try driftbox(["replay", runs.appendingPathComponent("cli").path, episode, "--verify", "--mode", "full"])
        #expect(verified.status == 0 && verified.output.contains("verified: 1 step(s)"), "\(verified.output) \(verified.errors)")
    }

    @Test("a resumed episode continues the session exactly: the step run again sends the very request of the uninterrupted run, reasoning included",
          arguments: [("anthropic", false, false), ("anthropic", true, true), ("openai-responses", false, true)])
    func resumeContinuesTheSession(wire: String, stream: Bool, thinking: Bool) async throws {
        let folder = try temporaryFolder("model-agent-resume-\(wire)-\(stream)-\(thinking)")
        defer { try? FileManager.default.removeItem(at: folder) }
        // With thinking, step 1's two model turns reason; the scripted upstream refuses a later
        // request that does not carry that reasoning back unchanged.
        let reasoning: [String: Any] = thinking ? ["thinking": "Write one.txt first → then answer; \"quoted\" / ✓", "redacted_thinking": "UmVkYWN0ZWQ="] : [:]
        let script: [[String: Any]] = [["content": "", "bash": "echo one > one.txt"].merging(reasoning) { $1 },
                                       ["content": "First.", "thinking": thinking ? "Done." : nil].compactMapValues { $0 },
                                       ["content": "Second."], ["content": "Third."]]
        let server = try ScriptedChatServer(script: try Self.json(script), in: folder.path)
        defer { server.stop() }
        let extra = thinking && wire == "anthropic" ? ["thinking_budget": "2048", "temperature": ""] : [:]
        let suite = try Self.suite(in: folder, baseURL: server.baseURL, wire: wire, stream: stream, steps: 3, extra: extra)
        let runs = folder.appendingPathComponent("runs")
        let ran = try await Self.run(suite, runs: runs, id: "whole")
        #expect(ran.steps.count == 3 && server.requests.count == 4)
        #expect(ran.steps.allSatisfy { $0.outcome == "completed" }, "\(ran.steps.map(\.failure))")
        if thinking {
            let kept = try #require(ran.transcript.first?.turn.conversation).items.compactMap(\.reasoning).flatMap { $0 }
            #expect(kept.count == (wire == "anthropic" ? 3 : 2), "\(kept)")
            #expect(try Self.json(server.requests[3]).contains("UmVkYWN0ZWQ=") == (wire == "anthropic"))
        }
        // The log loses step 3 and the end, as after a crash between moving the ref and logging the step.
        let copy = runs.appendingPathComponent("cut")
        try FileManager.default.copyItem(at: ran.outcome.folder, to: copy)
        let log = copy.appendingPathComponent("events.jsonl")
        let kept = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").filter { line in
            let event = try! JSONDecoder().decode(RunEvent.self, from: Data(line.utf8))
            if event.end != nil { return false }
            if let seed = event.seed { return seed.step < 3 }
            if let step = event.step { return step.step < 3 }
            return true
        }
        try (kept.joined(separator: "\n") + "\n").write(to: log, atomically: true, encoding: .utf8)
        // A second copy whose transcript has one reasoning string changed: the resumed session
        // sends it changed, and the upstream refuses it, as the real APIs do.
        let altered = runs.appendingPathComponent("altered")
        if thinking { try FileManager.default.copyItem(at: copy, to: altered) }
        _ = try await Runner.resume(copy, options: RunOptions(jobs: 1, sandboxMode: .full, progress: .quiet), makeAgent: Runner.standardAgents)
        #expect(server.requests.count == 5)
        #expect(try Self.json(server.requests[4]) == (try Self.json(server.requests[3])))
        let resumed = try RunRecord(folder: copy)
        #expect(resumed.steps(of: ran.episode).map(\.commit) == ran.steps.map(\.commit))
        let transcript = try EventLog.read(TranscriptEntry.self, from: resumed.store.transcriptPath(ran.episode))
        #expect(transcript.last?.turn.conversation == ran.transcript.last?.turn.conversation)
        guard thinking else { return }
        let path = try RunRecord(folder: altered).store.transcriptPath(ran.episode)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let changed = text.replacingOccurrences(of: "Write one.txt first", with: "Write one.txt later")
        #expect(changed != text)
        try changed.write(toFile: path, atomically: true, encoding: .utf8)
        _ = try? await Runner.resume(altered, options: RunOptions(jobs: 1, sandboxMode: .full, progress: .quiet), makeAgent: Runner.standardAgents)
        #expect(server.requests.count == 6)
        let refused = try RunRecord(folder: altered).steps(of: ran.episode).last
        #expect(refused?.step == 3 && refused?.outcome == "failed", "\(String(describing: refused))")
        #expect(refused?.failure?.contains("status 400") == true && refused?.failure?.contains("unchanged") == true, "\(String(describing: refused?.failure))")
    }

    @Test("reasoning is carried between turns and steps, plain and streamed: thinking blocks with their signatures, reasoning items with their encrypted content, byte for byte",
          arguments: [("anthropic", false), ("anthropic", true), ("openai-responses", false), ("openai-responses", true)])
    func reasoningCarried(wire: String, stream: Bool) async throws {
        let folder = try temporaryFolder("model-agent-reasoning-\(wire)-\(stream)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let suite = try Self.suite(in: folder, baseURL: "http://127.0.0.1:9/v1", wire: wire, stream: stream, steps: 2)
        let target = try #require(try Self.plan(suite).steps.first?.task.targets.first)
        let thought = "The target → \(target); keep \"auth_context\" \\ not / validate_token ✓ 🙂"
        let script: [[String: Any]] = [
            ["content": "", "thinking": thought, "redacted_thinking": "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT+2==", "tool_calls": [try Self.edit(target, comply: true)]],
            ["content": "Implemented.", "thinking": "The edit landed."],
            ["content": "Nothing to do in step 2."],
        ]
        let server = try ScriptedChatServer(script: try Self.json(script), in: folder.path)
        defer { server.stop() }
        let extra = wire == "anthropic" ? ["thinking_budget": "2048", "temperature": "", "max_tokens": "8192"] : [:]
        _ = try Self.suite(in: folder, baseURL: server.baseURL, wire: wire, stream: stream, steps: 2, extra: extra)
        let ran = try await Self.run(suite, runs: folder.appendingPathComponent("runs"), id: "r")
        // The upstream refuses (400) any request that does not carry back what it served, so two
        // completed steps mean every later request carried it.
        #expect(ran.steps.map(\.outcome) == ["completed", "completed"], "\(ran.steps.map(\.failure))")
        #expect(ran.steps.first?.verdict.kind == .compliant)
        #expect(server.requests.count == 3)
        let conversation = try #require(ran.transcript.first?.turn.conversation)
        let first = try #require(conversation.items.first { $0.role == .assistant })
        let reasoning = try #require(first.reasoning)
        let requests = server.requests
        if wire == "anthropic" {
            #expect(requests.allSatisfy { ($0["thinking"] as? [String: Any])?["budget_tokens"] as? Int == 2048 && $0["temperature"] == nil })
            #expect(reasoning.map { $0["type"]?.string } == ["thinking", "redacted_thinking"])
            #expect(reasoning.first?["thinking"]?.string == thought)
            #expect((reasoning.first?["signature"]?.string?.count ?? 0) > 100)
            #expect(reasoning.last?["data"]?.string == "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT+2==")
            // Step 2's request: the assistant turns of step 1 start with their thinking, as the API wants.
            let messages = try #require(requests[2]["messages"] as? [[String: Any]])
            let assistant = messages.filter { $0["role"] as? String == "assistant" }.map { ($0["content"] as? [[String: Any]] ?? []).map { $0["type"] as? String ?? "" } }
            #expect(assistant == [["thinking", "redacted_thinking", "tool_use"], ["thinking", "text"]], "\(assistant)")
        } else {
            #expect(reasoning.count == 1 && reasoning.first?["type"]?.string == "reasoning")
            #expect(reasoning.first?["encrypted_content"]?.string?.hasPrefix("gAAAAB") == true)
            #expect(first.toolCalls?.first?.itemID == "fc_call_1_0")
            let input = try #require(requests[2]["input"] as? [[String: Any]])
            let kinds = input.map { ($0["type"] as? String ?? $0["role"] as? String ?? "") + (($0["id"] as? String).map { " " + $0 } ?? "") }
            #expect(kinds == ["user", "reasoning rs_1", "function_call fc_call_1_0", "function_call_output", "reasoning rs_2", "message msg_2", "user"], "\(kinds)")
        }
        // What the transcript keeps is what the next request carried: equal as JSON.
        let kept = try reasoning.map { try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode($0)) as? NSDictionary) }
        let sent = wire == "anthropic"
            ? (requests[1]["messages"] as? [[String: Any]] ?? []).flatMap { $0["content"] as? [[String: Any]] ?? [] }
            : requests[1]["input"] as? [[String: Any]] ?? []
        #expect(kept.allSatisfy { block in sent.contains { NSDictionary(dictionary: $0).isEqual(block) } }, "\(kept) \(sent)")
        // A conversation without reasoning keeps its old shape: no item ids, no reasoning keys.
        #expect(ran.transcript.last?.turn.conversation?.items.allSatisfy { $0.reasoning == nil && $0.itemID == nil } == true)
    }

    @Test("thinking_budget is refused, naming its line, off anthropic, below 1024, not below max_tokens, or with a temperature")
    func thinkingBudgetSetting() throws {
        let folder = try temporaryFolder("model-agent-thinking-budget")
        defer { try? FileManager.default.removeItem(at: folder) }
        for (wire, extra, message) in [("openai", ["thinking_budget": "2048"], "only the anthropic API takes it"),
                                       ("anthropic", ["thinking_budget": "100", "temperature": ""], "is not a whole number of at least 1024"),
                                       ("anthropic", ["thinking_budget": "4096", "temperature": ""], "is not below `max_tokens` (4096)"),
                                       ("anthropic", ["thinking_budget": "2048"], "only at the default temperature")] {
            let suite = try Self.suite(in: folder, baseURL: "http://127.0.0.1:9/v1", wire: wire, stream: false, steps: 1, extra: extra)
            let lines = try String(contentsOf: suite, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            let line = try #require(lines.firstIndex { $0.hasPrefix("    thinking_budget:") }) + 1
            let result = try runHost([driftboxExecutable, "scenarios", "validate", suite.path], in: folder.path, allowFailure: true)
            #expect(result.status == 1 && result.errors.contains("\(suite.path):\(line):") && result.errors.contains(message), "\(wire) \(extra): \(result.errors)")
        }
        let good = try Self.suite(in: folder, baseURL: "http://127.0.0.1:9/v1", wire: "anthropic", stream: false, steps: 1,
                                  extra: ["thinking_budget": "2048", "temperature": ""])
        let result = try runHost([driftboxExecutable, "scenarios", "validate", good.path], in: folder.path, allowFailure: true)
        #expect(result.status == 0, "\(result.errors)")
    }
}
