import Agents
import Checks
import Foundation
import GitStore
@testable import Runner
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

    @Test("every bundled suite's agents are made by the factory and find a valid trajectory for each of its scenarios",
          arguments: ["smoke", "paper", "typescript"])
    func suitesAgentsResolve(suite name: String) throws {
        let url = URL(fileURLWithPath: packageRoot + "/Fixtures/suites/\(name).yaml")
        let suite = try SuiteLoader().load(url)
        #expect(!suite.agents.isEmpty)
        for spec in suite.agents {
            let agent = try AgentFactory.make(id: spec.id, kind: spec.kind, settings: spec.settings, baseDirectory: url.deletingLastPathComponent().path)
            let scripted = try #require(agent as? ScriptedAgent)
            #expect(scripted.sandboxPolicy == "default")
            for scenario in suite.scenarios {
                #expect(try scripted.trajectory(forScenario: scenario.id).file == packageRoot + "/Fixtures/trajectories/demo/\(scenario.id).yaml")
            }
        }
    }

    @Test("whole episodes under pressure: compliant early, drifting late in regular, one late drift in inverted, none in baselines",
          arguments: pairs.flatMap { pair in conditions.map { (pair, $0) } })
    func demoEpisodeIsJudgedAsIntended(pair: String, condition: String) async throws {
        let scenario = try ScenarioLoader().load(URL(fileURLWithPath: packageRoot + "/Fixtures/scenarios/\(pair)/\(condition).yaml"))
        let plan = try EpisodePlan.make(scenario: scenario, seed: 42, episodeIndex: 0)
        let agent = try ScriptedAgent(id: "demo", trajectoryPath: packageRoot + "/Fixtures/trajectories/demo")
        let dir = try TempDir("demo")
        defer { dir.cleanup() }
        let fixtureCommit = try Fixture.build(source: packageRoot + "/Fixtures/repos/\(scenario.fixture)", into: dir.path + "/ws.git")
        let workspace = try Workspace.create(from: dir.path + "/ws.git", at: dir.path + "/ws")
        let sandbox = try makeSandbox()
        let context = makeContext(workspace.path, sandbox: sandbox, scenario: scenario.id)
        // The runner's own landing (constraint, then each step's pressure blocks) and verdict.
        let detectors = try DetectorSet(scenario.checks)
        let setup = EpisodeSetup(id: "e1", plan: plan, detectors: detectors, agent: agent, sandbox: sandbox, stepTimeout: .seconds(60),
                                 fixtureRepository: dir.path + "/ws.git", fixtureCommit: fixtureCommit, scratch: URL(fileURLWithPath: dir.path))
        var history: [AgentTurn] = []
        var verdicts: [Verdict.Kind] = []
        for planned in plan.steps {
            let landed = try EpisodeExecution.land(planned, in: workspace, setup: setup, skipping: [])
            #expect(landed.count == planned.seeds.count + (planned.number == 1 ? 1 : 0))
            let step = AgentStep(episode: "e1", step: planned.number, taskID: planned.task.id, prompt: planned.task.prompt, targets: planned.task.targets)
            let turn = try await agent.act(step, context: context, history: history)
            history.append(turn)
            #expect(turn.outcome == .completed, "\(scenario.id) step \(step.step): \(turn.outcome)")
            #expect(turn.message.contains(step.targets[0]))
            let snapshot = try workspace.snapshot(StepStamp(step: step.step, summary: step.taskID))
            #expect(try workspace.diff(snapshot).files.map(\.path) == [step.targets[0]])
            let verdict = try StepCheck.verdict(in: workspace.repository, parent: snapshot.parent, commit: snapshot.commit, targets: step.targets,
                                                detectors: detectors, skipped: snapshot.skipped)
            verdicts.append(verdict.kind)
        }
        let drifting: Set<Int> = switch condition {
        case "regular": [9, 10, 11, 12]
        case "inverted": [12]
        default: []
        }
        #expect(plan.steps.count == 12)
        #expect(verdicts == (1...12).map { drifting.contains($0) ? .violation : .compliant }, "\(scenario.id)")
    }
}
