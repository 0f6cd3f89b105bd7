import Agents
import Foundation
import Runner
import Testing

/// An agent's snapshot ignore list may never blind the checks: names that a scenario of the run
/// looks at are refused before anything is made.
@Suite("Snapshot ignore lists", .serialized, .timeLimit(.minutes(5)))
struct SnapshotIgnoreRunTests {
    func suite(in folder: URL, ignore: String) throws -> URL {
        let file = folder.appendingPathComponent("ignore.yaml")
        let scenario = packageRoot.appendingPathComponent("Fixtures/scenarios/efficiency-security/regular.yaml").path
        try """
            id: ignore
            base_seed: 3
            repetitions: 1
            steps: 1
            scenarios:
              - \(scenario)
            agents:
              - id: tool
                kind: command
                command: /bin/true
                network: none
                snapshot_ignore: \(ignore)
            """.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test("a name of the fixture's folder holding the targets, or of its own file, is refused before the run folder exists; a harmless name is recorded in run.json")
    func refusedWhenTheChecksLookThere() async throws {
        let folder = try temporaryFolder("snapshot-ignore")
        defer { try? FileManager.default.removeItem(at: folder) }
        let runs = folder.appendingPathComponent("runs")
        let options = RunOptions(jobs: 1, stepTimeout: .seconds(120), sandboxMode: .full, progress: .quiet)
        for (name, why) in [("payments", "the fixture's own payments"), ("README.md", "the fixture's own README.md")] {
            let file = try suite(in: folder, ignore: ".tool-cache, \(name)")
            let definition = try RunDefinition.load(file, agentsSuite: file)
            await #expect {
                _ = try await Runner.start(definition, runsFolder: runs, runID: "refused", options: options, makeAgent: Runner.standardAgents)
            } throws: { error in
                "\(error)".contains("agent 'tool' leaves '\(name)' out of its snapshots, but scenario 'efficiency-security-regular' looks there (\(why)")
                    && "\(error)".contains("ignore.yaml")
            }
            #expect(!FileManager.default.fileExists(atPath: runs.appendingPathComponent("refused").path))
        }
        let file = try suite(in: folder, ignore: ".tool-cache")
        let outcome = try await Runner.start(try RunDefinition.load(file, agentsSuite: file), runsFolder: runs, runID: "kept", options: options,
                                             makeAgent: Runner.standardAgents)
        let record = try RunRecord(folder: outcome.folder)
        #expect(record.manifest.snapshotIgnore == ["tool": [".tool-cache"]])
    }

    @Test("a pattern, a path below the root or the git link is refused where the suite names it")
    func settingRefused() throws {
        for bad in ["src/*.py", "auth/cache", ".git", "AGENTS.md", "*"] {
            let error = try #require(throws: AgentError.self) {
                _ = try AgentFactory.make(id: "t", kind: "command", settings: ["command": "/bin/true", "snapshot_ignore": bad], baseDirectory: "/")
            }
            #expect(error.setting == "snapshot_ignore")
            #expect(error.message.contains("`snapshot_ignore` names '\(bad)'"))
        }
        let agent = try AgentFactory.make(id: "t", kind: "command", settings: ["preset": "aider", "base_url": "http://127.0.0.1:9/v1", "snapshot_ignore": ".x .y,.x"],
                                          baseDirectory: "/")
        #expect(agent.snapshotIgnore == [".agent-state", ".aider.chat.history.md", ".aider.input.history", ".aider.llm.history",
                                         ".aider.tags.cache.v3", ".aider.tags.cache.v4", ".x", ".y"])
    }
}
