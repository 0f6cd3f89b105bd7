import Agents
import Foundation
import Runner
import Sandbox
import Scenarios

/// The check `validate` and `run` apply to every agent of a suite before anything runs: an agent
/// that cannot run would otherwise fail each of its episodes at step 1, recorded for good.
enum AgentChecks {
    /// The folders a sandboxed command's bare program name is looked up in (the sandbox's `PATH`).
    static let searchPath = ["/usr/local/bin", "/usr/bin", "/bin"]

    /// Kind known, settings valid, trajectories present and valid (one per scenario of the suite
    /// for a trajectory folder), the command's program present and executable (a program outside
    /// the system folders gets its own folder visible read-only in the sandbox).
    static let check: SuiteLoader.AgentCheck = { agent, suiteFolder, scenarioIDs in
        let made: any Agent
        do {
            made = try Runner.standardAgents(agent, suiteFolder)
        } catch let error as AgentError {
            let setting: String? = switch error.code {
            case .unknownKind: "kind"
            case .missingTrajectory, .invalidTrajectory: "trajectory"
            default: error.setting
            }
            return [AgentProblem(setting: setting, error.message, hint: "see docs/agents.md")]
        } catch {
            return [AgentProblem(setting: nil, "agent '\(agent.id)': \(error)", hint: "see docs/agents.md")]
        }
        var problems: [AgentProblem] = []
        if let scripted = made as? ScriptedAgent {
            for file in Set(scenarioIDs.map(scripted.trajectoryFile(forScenario:))).sorted() {
                guard FileManager.default.fileExists(atPath: file) else {
                    let scenario = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
                    problems.append(AgentProblem(setting: "trajectory", "agent '\(agent.id)' has no trajectory for scenario '\(scenario)': \(file) does not exist",
                                                 hint: "write that file (docs/agents.md), or drop the scenario from the suite"))
                    continue
                }
                if let text = try? String(contentsOfFile: file, encoding: .utf8), let tooDeep = YAMLDepth.check(text, path: file) {
                    problems.append(AgentProblem(setting: "trajectory", "agent '\(agent.id)': \(tooDeep.description)", hint: "fix the trajectory file"))
                    continue
                }
                do { _ = try Trajectory.load(path: file) } catch {
                    problems.append(AgentProblem(setting: "trajectory", "agent '\(agent.id)': \(error)", hint: "fix the trajectory file"))
                }
            }
        }
        if let command = made as? CommandAgent {
            let program = command.program
            let candidates = program.contains("/") ? [program] : searchPath.map { $0 + "/" + program }
            if !candidates.contains(where: { FileManager.default.isExecutableFile(atPath: $0) && !isFolder($0) }) {
                let setting = agent.settings["command"] != nil ? "command" : "preset"
                let place = program.contains("/") ? program : "\(program) in \(searchPath.joined(separator: ":")) (the sandbox's PATH)"
                problems.append(AgentProblem(setting: setting, "agent '\(agent.id)': no executable program \(place)",
                                             hint: "install it, or give `command` the path of an executable file"))
            }
        }
        return problems
    }

    private static func isFolder(_ path: String) -> Bool {
        var folder: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &folder) && folder.boolValue
    }
}
