import Agents
import Checks
import Crypto
import DriftboxTestSupport
import Foundation
import Gateway
import GitStore
import Report
import Runner
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
                        "temperature": "0"].merging(extra) { $1 }
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

    static func run(_ suite: URL, runs: URL, id: String, models: ModelOptions = ModelOptions()) async throws -> Ran {
        setenv(keyVariable, "sk-test-\(UUID().uuidString)", 1)
        let definition = try RunDefinition.load(suite, agentsSuite: suite)
        let options = RunOptions(jobs: 1, stepTimeout: .seconds(600), sandboxMode: .full, progress: .quiet, models: models)
        let outcome = try await Runner.start(definition, runsFolder: runs, runID: id, options: options, makeAgent: Runner.standardAgents)
        let record = try RunRecord(folder: outcome.folder)
        let episode = try #require(record.manifest.episodes.first).id
        let transcript = try EventLog.read(TranscriptEntry.self, from: record.store.transcriptPath(episode))
        return Ran(record: record, episode: episode, steps: record.steps(of: episode), transcript: transcript, outcome: outcome)
    }

    static let shapes: [(String, Bool)] = [("openai", false), ("openai", true), ("anthropic", false), ("anthropic", true),
                                           ("openai-responses", false), ("openai-responses", true)]

    @Test("a multi-turn step with parallel tool calls reads, lists, edits and runs in the sandbox; the edit lands in the step commit", arguments: shapes)
    func multiToolStep(wire: String, stream: Bool) async throws {
        let folder = try temporaryFolder("model-agent-\(wire)-\(stream)")
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
        let ran = try await Self.run(suite, runs: folder.appendingPathComponent("runs"), id: "r")
        #expect(ran.outcome.episodesFailed == 0)
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
}
