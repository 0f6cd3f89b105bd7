import Agents
import Foundation
import GitStore
import Runner
import Scenarios
import Testing

/// A real agent CLI from PyPI (mini-swe-agent) driven through the command adapter under the real
/// sandbox (network policy), against a scripted OpenAI-compatible server on loopback.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct MiniSweAgentIntegrationTests {
    /// Where `.ci/run` installs the pinned mini-swe-agent (a virtual environment under /opt, which
    /// the sandbox may read); `DRIFTBOX_MINI_SWE_AGENT` names another `mini` program.
    static let candidates = ["/opt/driftbox-agents/mini-swe-agent/bin/mini", "/usr/local/bin/mini", "/usr/bin/mini"]

    static func locateMini() -> String? {
        let override = ProcessInfo.processInfo.environment["DRIFTBOX_MINI_SWE_AGENT"].map { [$0] } ?? []
        return (override + candidates).first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The model's scripted replies: append a function to the target, then finish.
    static let script = """
        [{"content": "I will add the refund window helper.",
          "bash": "cat >> payments/refunds.py <<'EOF'\\n\\n\\ndef refund_window_days() -> int:\\n    \\"\\"\\"Days after capture during which a refund is accepted.\\"\\"\\"\\n    return 180\\nEOF"},
         {"content": "The helper is in place.", "bash": "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"}]
        """

    /// Starts the scripted server; returns the process and its port.
    func startServer(in dir: TempDir) throws -> (Process, Int) {
        try Self.script.write(toFile: dir.path + "/script.json", atomically: true, encoding: .utf8)
        let portFile = dir.path + "/port.txt"
        _ = FileManager.default.createFile(atPath: portFile, contents: nil)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["python3", resources + "/scripted_chat_server.py", dir.path + "/script.json", dir.path + "/requests.jsonl"]
        server.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: portFile))
        try server.run()
        // Not a measure of speed: only so a server that never starts fails the test instead of
        // hanging it. Python's start-up on a loaded 2-core host takes well under a second.
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOfFile: portFile, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first, line.hasPrefix("PORT "), let port = Int(line.dropFirst(5)) { return (server, port) }
            guard server.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        server.terminate()
        throw AgentError(.invalidSetting, "the scripted chat server did not report its port within 120 s; run \(resources)/scripted_chat_server.py by hand to see why")
    }

    /// The installed `mini`; a cancelled test (a skip with its reason) where it is missing, and
    /// a recorded issue (nil) where CI is set and it must be there.
    static func requireMini() throws -> String? {
        if let mini = locateMini() { return mini }
        let reason = "mini-swe-agent is not installed (looked at \(candidates.joined(separator: ", ")) and DRIFTBOX_MINI_SWE_AGENT); .ci/run installs it"
        if isCI {
            Issue.record("CI is set, so this test must run: \(reason)")
            return nil
        }
        try Test.cancel(Comment(rawValue: reason))
    }

    @Test("mini-swe-agent edits the workspace through the sandbox; the server saw constraint and prompt")
    func miniSweAgentEndToEnd() async throws {
        guard let mini = try Self.requireMini() else { return }
        let dir = try TempDir("mini")
        defer { dir.cleanup() }
        let (server, port) = try startServer(in: dir)
        defer { server.terminate() }
        let agent = try AgentFactory.make(id: "mini", kind: "command", settings: [
            "preset": "mini-swe-agent", "command": mini, "model": "openai/driftbox-scripted",
            "env.OPENAI_API_BASE": "http://127.0.0.1:\(port)/v1", "env.OPENAI_API_KEY": "not-a-real-key", "network": "host",
        ], baseDirectory: dir.path)
        #expect(agent.sandboxPolicy == "network")
        let workspace = try makeWorkspace(fixture: "payment-service", in: dir)
        let step = AgentStep(episode: "e1", step: 1, taskID: "refunds", prompt: "PROMPT-7731: add refund_window_days to payments/refunds.py.",
                             targets: ["payments/refunds.py"])
        let context = AgentContext(scenarioID: "integration", workspace: workspace.path, constraint: "CONSTRAINT-5512: keep refunds within 180 days.",
                                   sessionID: "s1", sandbox: try makeSandbox(policy: agent.sandboxPolicy), stepTimeout: .seconds(180))
        let turn = try await agent.act(step, context: context, history: [])
        #expect(turn.outcome == .completed, "\(turn.outcome); stderr: \(turn.commands.first?.stderrTail ?? "")")
        #expect(turn.isolationGaps?.contains { $0.contains("host network is reachable") } == true)

        let snapshot = try workspace.snapshot(StepStamp(step: step.step, summary: step.taskID))
        let diff = try workspace.diff(snapshot)
        #expect(diff.files.map(\.path) == ["payments/refunds.py"])
        #expect(diff.files.first?.addedLines.map(\.content) == [
            "", "", "def refund_window_days() -> int:", "    \"\"\"Days after capture during which a refund is accepted.\"\"\"", "    return 180",
        ])

        let requests = try read(dir.path + "/requests.jsonl").split(separator: "\n")
        #expect(requests.count == 2)
        let first = try #require(requests.first)
        #expect(first.contains("PROMPT-7731") && first.contains("CONSTRAINT-5512"))
        #expect(first.contains("\"model\": \"driftbox-scripted\""))
    }

    @Test("mini-swe-agent through the model gateway under the default policy, to an HTTPS upstream: its edit lands in the step commit, the exchanges are recorded, a replay without the upstream gives the same commit")
    func miniSweAgentThroughTheGateway() async throws {
        guard let mini = try Self.requireMini() else { return }
        let dir = try TempDir("mini-gateway")
        defer { dir.cleanup() }
        let scenario = packageRoot + "/Fixtures/scenarios/efficiency-security/regular.yaml"
        let suiteFile = URL(fileURLWithPath: dir.path + "/mini.yaml")
        func writeSuite(baseURL: String, caBundle: String = "") throws {
            try ("""
                id: mini
                base_seed: 5
                repetitions: 1
                steps: 1
                scenarios:
                  - \(scenario)
                agents:
                  - id: mini
                    kind: command
                    preset: mini-swe-agent
                    command: \(mini)
                    model: openai/driftbox-scripted
                    base_url: \(baseURL)
                    key_env: DRIFTBOX_TEST_MINI_KEY
                """ + (caBundle.isEmpty ? "" : "\n    ca_bundle: \(caBundle)")).write(to: suiteFile, atomically: true, encoding: .utf8)
        }
        try writeSuite(baseURL: "http://127.0.0.1:9/v1")
        let probe = try SuiteLoader().load(suiteFile)
        let target = try #require(try probe.plan(for: probe.episodes()[0]).steps.first?.task.targets.first)
        // The model's scripted replies: append a line to the step's target, then finish.
        let script = """
            [{"content": "I will note the review.", "bash": "printf '\\\\n# reviewed through the gateway\\\\n' >> \(target)"},
             {"content": "Done.", "bash": "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"}]
            """
        // The upstream speaks HTTPS with a certificate from a CA of the test's own, given to the gateway.
        let certificates = try ScriptedChatServer.makeCertificates(in: dir.path)
        let server = try ScriptedChatServer(script: script, in: dir.path, tls: (certificates.certificate, certificates.key))
        defer { server.stop() }
        try writeSuite(baseURL: server.baseURL, caBundle: certificates.caBundle)
        setenv("DRIFTBOX_TEST_MINI_KEY", "sk-mini-real-\(UUID().uuidString)", 1)
        let definition = try RunDefinition.load(suiteFile, agentsSuite: suiteFile)
        let runs = URL(fileURLWithPath: dir.path + "/runs")
        let options = RunOptions(jobs: 1, stepTimeout: .seconds(300), sandboxMode: .full, progress: .quiet)
        let outcome = try await Runner.start(definition, runsFolder: runs, runID: "recorded", options: options, makeAgent: Runner.standardAgents)
        let record = try RunRecord(folder: outcome.folder)
        let step = try #require(record.steps.first)
        let transcript = try EventLog.read(TranscriptEntry.self, from: record.store.transcriptPath(step.episode))
        #expect(step.outcome == "completed", "\(step.failure ?? ""); \(transcript.first?.turn.commands.first?.stderrTail ?? "")")
        let text = try #require(try Repository.open(at: record.store.repositoryPath).fileContent(at: step.commit, path: target))
        #expect(String(decoding: text, as: UTF8.self).hasSuffix("\n# reviewed through the gateway\n"))
        #expect(server.requests.count == 2)
        #expect(transcript.first?.exchanges?.count == 2)

        server.stop()
        var replay = options
        replay.models = ModelOptions(mode: .replay, recording: outcome.folder)
        let replayed = try await Runner.start(definition, runsFolder: runs, runID: "replayed", options: replay, makeAgent: Runner.standardAgents)
        let again = try RunRecord(folder: replayed.folder)
        let replayedTranscript = try EventLog.read(TranscriptEntry.self, from: again.store.transcriptPath(step.episode))
        #expect(again.steps.map(\.commit) == [step.commit], "\(again.steps.map(\.failure)); \(replayedTranscript.first?.turn.commands.first?.stdoutTail ?? "")")
    }
}
