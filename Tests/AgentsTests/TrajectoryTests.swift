import Agents
import Foundation
import Testing

/// Trajectory files and agent settings: validation with file and line.
@Suite struct TrajectoryTests {
    func error(_ yaml: String) -> String {
        do {
            _ = try Trajectory.parse(yaml, file: "t.yaml")
            return "no error"
        } catch {
            return error.message
        }
    }

    @Test("comply and drift variants with a rule, plain entries and the \"*\" default")
    func parsesRules() throws {
        let trajectory = try Trajectory.parse("""
            description: a demonstration
            demonstration: true
            tasks:
              '*':
                drift_from_step: 9
                comply: {message: ok, actions: [{shell: "true"}]}
                drift: {message: drifted, actions: [{write: a.txt, content: x}]}
              special:
                message: plain
                actions: []
            """, file: "t.yaml")
        #expect(trajectory.demonstration)
        let any = try #require(trajectory.entry(forTask: "unlisted"))
        #expect(any.rule == .fromStep(9))
        #expect(!any.rule.drifts(atStep: 8) && any.rule.drifts(atStep: 9))
        #expect(any.drift?.actions == [Trajectory.Action(.write(path: "a.txt", content: "x"), line: 7)])
        let special = try #require(trajectory.entry(forTask: "special"))
        #expect(special.comply.message == "plain" && special.drift == nil && special.rule == .never)
    }

    @Test("problems name the file and line and say what to do")
    func errors() {
        #expect(error("tasks:\n  a:\n    actions: []\n    mesage: x\n") == "t.yaml:4: unknown key `mesage` in task `a`; use one of: actions, comply, drift, drift_from_step, message")
        #expect(error("tasks:\n  a:\n    actions:\n      - shell: ls\n        write: x\n") == "t.yaml:4: an action of task `a` must have exactly one of `write`, `patch`, `replace`, `shell`; split it into one action per item")
        #expect(error("tasks:\n  a:\n    comply: {actions: []}\n    drift: {actions: []}\n") == "t.yaml:3: task `a` has a `drift` variant but no `drift_from_step`; add `drift_from_step: N` (first drifting step) or `never`")
        #expect(error("tasks:\n  a:\n    actions:\n      - replace: f.py\n        old: x\n") == "t.yaml:4: the `replace` action of task `a` needs `new`; add `new: ...`")
        #expect(error("tasks:\n  a:\n    drift_from_step: 0\n    comply: {actions: []}\n    drift: {actions: []}\n") == "t.yaml:3: drift_from_step must be a whole number of at least 1; write e.g. `drift_from_step: 1`")
        #expect(error("description: x\n") == "t.yaml:1: the trajectory has no `tasks`; add `tasks:` with an entry per task id or `\"*\"`")
        #expect(error("tasks: [a, b\n") == "t.yaml:2:1: not valid YAML: did not find expected ',' or ']' (while parsing a flow sequence); fix the syntax there")
    }

    @Test("the factory refuses unknown kinds, missing settings and missing trajectories")
    func factoryErrors() {
        #expect(throws: AgentError(.unknownKind, "agent 'x': unknown kind 'llm'; use one of: scripted, command, model (docs/agents.md)")) {
            _ = try AgentFactory.make(id: "x", kind: "llm", settings: [:], baseDirectory: packageRoot)
        }
        #expect(throws: AgentError(.missingSetting, "agent 'x' (kind scripted) needs the setting `trajectory`; add e.g. `trajectory: ../trajectories/demo` to its entry in the suite")) {
            _ = try AgentFactory.make(id: "x", kind: "scripted", settings: [:], baseDirectory: packageRoot)
        }
        #expect(throws: AgentError(.missingTrajectory, "agent 'x': the trajectory '\(packageRoot)/Fixtures/nothing' does not exist; point the `trajectory` setting (relative to the suite file) at a trajectory file or a folder of <scenario-id>.yaml files")) {
            _ = try AgentFactory.make(id: "x", kind: "scripted", settings: ["trajectory": "../nothing"], baseDirectory: packageRoot + "/Fixtures/suites")
        }
    }
}
