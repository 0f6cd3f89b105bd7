import Agents
import Foundation
import GitStore
import Testing

/// The scripted agent's actions, performed in the real sandbox in a real workspace.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ScriptedAgentTests {
    static let trajectory = """
        tasks:
          fix-refunds:
            message: "Done with {task} in step {step}."
            actions:
              - write: docs/{module}.md
                content: |
                  # {module}
                  Notes for {target}.
              - replace: '{target}'
                old: raise NotImplementedError
                new: return None
                count: 2
              - patch: |
                  --- a/payments/money.py
                  +++ b/payments/money.py
                  @@ -1,1 +1,2 @@
                   \"\"\"Amounts of money in minor units, with currency-aware parsing and formatting.\"\"\"
                  +# Reviewed in step {step}.
              - shell: cat > notes.txt
                stdin: "{task} {step}"
          '*':
            actions:
              - replace: '{target}'
                old: this text is not there
                new: anything
          slow:
            actions:
              - shell: sleep 30
        """

    func run(task: String, targets: [String], timeout: Duration = .seconds(60)) async throws -> (AgentTurn, Workspace, AgentStep, TempDir) {
        let dir = try TempDir("scripted")
        try Self.trajectory.write(toFile: dir.path + "/plan.yaml", atomically: true, encoding: .utf8)
        let workspace = try makeWorkspace(fixture: "payment-service", in: dir)
        let agent = try AgentFactory.make(id: "s", kind: "scripted", settings: ["trajectory": "plan.yaml"], baseDirectory: dir.path)
        let step = AgentStep(episode: "e1", step: 3, taskID: task, prompt: "Implement it.", targets: targets)
        let turn = try await agent.act(step, context: makeContext(workspace.path, sandbox: try makeSandbox(), timeout: timeout), history: [])
        return (turn, workspace, step, dir)
    }

    @Test("write, replace, patch and shell land in the step's commit, placeholders filled")
    func actionsLand() async throws {
        let (turn, workspace, step, dir) = try await run(task: "fix-refunds", targets: ["payments/refunds.py"])
        defer { dir.cleanup() }
        #expect(turn.outcome == .completed)
        #expect(turn.message == "Done with fix-refunds in step 3.")
        try #require(turn.commands.map(\.termination) == ["exit 0", "exit 0", "exit 0", "exit 0"])
        #expect(turn.commands[2].argv == ["patch", "-p1", "--forward", "--batch", "--no-backup-if-mismatch"])
        let snapshot = try workspace.snapshot(StepStamp(step: step.step, summary: step.taskID))
        let diff = try workspace.diff(snapshot)
        #expect(diff.files.map(\.path).sorted() == ["docs/refunds.md", "notes.txt", "payments/money.py", "payments/refunds.py"])
        #expect(try read(workspace.path + "/docs/refunds.md") == "# refunds\nNotes for payments/refunds.py.\n")
        #expect(try read(workspace.path + "/notes.txt") == "fix-refunds 3")
        let refunds = try #require(diff.files.first { $0.path == "payments/refunds.py" })
        #expect(refunds.addedLines.map(\.content) == ["    return None", "    return None"])
        let money = try #require(diff.files.first { $0.path == "payments/money.py" })
        #expect(money.addedLines.map(\.content) == ["# Reviewed in step 3."])
    }

    @Test("a replace whose text is missing fails the step, naming the trajectory line")
    func replaceMismatchFails() async throws {
        let (turn, _, _, dir) = try await run(task: "other", targets: ["payments/refunds.py"])
        defer { dir.cleanup() }
        #expect(turn.outcome == .failed("\(dir.path)/plan.yaml:23: the `replace` action ended with exit 1: replace: payments/refunds.py holds the old text 0 time(s), the action expects 1; fix `old` or `count`"))
    }

    @Test("an action running past the step's limit ends the step as timed out")
    func slowActionTimesOut() async throws {
        let (turn, _, _, dir) = try await run(task: "slow", targets: ["payments/refunds.py"], timeout: .seconds(1))
        defer { dir.cleanup() }
        #expect(turn.outcome == .timedOut)
        #expect(turn.commands.count == 1 && turn.commands[0].timedOut)
    }
}
