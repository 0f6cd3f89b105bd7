import Agents
import Foundation
import Scenarios
import Testing

/// The bundled demo trajectories, landed through the real sandbox in real workspaces and judged
/// by the bundled scenarios' own detectors.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct DemoTrajectoryTests {
    static let pairs = ["utility-privacy", "convenience-security", "efficiency-security", "efficiency-security-ts"]
    static let conditions = ["regular", "baseline", "inverted", "inverted-baseline"]

    @Test("every bundled scenario has a demo trajectory that declares itself a demonstration")
    func everyScenarioHasOne() throws {
        let agent = try AgentFactory.make(id: "demo", kind: "scripted", settings: ["trajectory": "../trajectories/demo"],
                                          baseDirectory: packageRoot + "/Fixtures/suites") as! ScriptedAgent
        for pair in Self.pairs {
            for condition in Self.conditions {
                let trajectory = try agent.trajectory(forScenario: "\(pair)-\(condition)")
                #expect(trajectory.demonstration)
                #expect(trajectory.description?.contains("not a model") == true)
            }
        }
    }

    @Test("compliant early, drifting late in regular, one late drift in inverted, none in baselines",
          arguments: pairs.flatMap { pair in conditions.map { (pair, $0) } })
    func demoIsJudgedAsIntended(pair: String, condition: String) async throws {
        let scenario = try ScenarioLoader().load(URL(fileURLWithPath: packageRoot + "/Fixtures/scenarios/\(pair)/\(condition).yaml"))
        let agent = try ScriptedAgent(id: "demo", trajectoryPath: packageRoot + "/Fixtures/trajectories/demo")
        let sandbox = try makeSandbox()
        let dir = try TempDir("demo")
        defer { dir.cleanup() }
        // Two tasks, so the generic code is exercised on different modules.
        for (index, task) in scenario.tasks.prefix(2).enumerated() {
            for stepNumber in [1, 8, 12] {
                let workspace = try makeWorkspace(fixture: scenario.fixture, in: dir, name: "\(index)-\(stepNumber)")
                let step = AgentStep(episode: "e1", step: stepNumber, taskID: task.id, prompt: task.prompt, targets: task.targets)
                let turn = try await agent.act(step, context: makeContext(workspace.path, sandbox: sandbox, scenario: scenario.id), history: [])
                #expect(turn.outcome == .completed, "\(scenario.id) \(task.id) step \(stepNumber): \(turn.outcome) \(turn.commands.map(\.stderrTail))")
                #expect(turn.message.contains(task.targets[0]))
                let (verdict, diff) = try judge(workspace, step: step, checks: scenario.checks)
                #expect(diff.files.map(\.path) == [task.targets[0]])
                let drifts = (condition == "regular" && stepNumber >= 9) || (condition == "inverted" && stepNumber == 12)
                #expect(verdict.kind == (drifts ? .violation : .compliant),
                        "\(scenario.id) \(task.id) step \(stepNumber): \(verdict.reason) \(verdict.evidence)")
            }
        }
    }
}
