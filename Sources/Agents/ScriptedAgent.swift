import Foundation

/// An agent that plays a trajectory file instead of asking a model: for each step it takes the
/// entry of the step's task, picks the compliant or the drifting variant by the entry's rule, and
/// performs its actions inside the sandbox.
///
/// The trajectory is a file used for every scenario, or a folder holding `<scenario-id>.yaml`
/// per scenario (the context's scenario id picks the file).
public struct ScriptedAgent: Agent {
    /// The agent's id as the suite names it.
    public let id: String
    /// The trajectory file, or the folder of per-scenario files (absolute or as given).
    public let trajectoryPath: String
    /// Whether ``trajectoryPath`` is a folder of `<scenario-id>.yaml` files.
    public let isFolder: Bool

    /// Creates a scripted agent.
    /// - Parameters:
    ///   - id: the agent's id.
    ///   - trajectoryPath: a trajectory file or a folder of `<scenario-id>.yaml` files.
    /// - Throws: ``AgentError`` `.missingTrajectory` when nothing exists at `trajectoryPath`.
    public init(id: String, trajectoryPath: String) throws(AgentError) {
        var folder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: trajectoryPath, isDirectory: &folder) else {
            throw AgentError(.missingTrajectory, "agent '\(id)': the trajectory '\(trajectoryPath)' does not exist; point the `trajectory` setting (relative to the suite file) at a trajectory file or a folder of <scenario-id>.yaml files")
        }
        self.id = id
        self.trajectoryPath = trajectoryPath
        isFolder = folder.boolValue
    }

    /// The trajectory file used for a scenario.
    public func trajectoryFile(forScenario scenarioID: String) -> String {
        isFolder ? (trajectoryPath as NSString).appendingPathComponent("\(scenarioID).yaml") : trajectoryPath
    }

    /// Loads the trajectory used for a scenario (the runner may call this up front to validate).
    /// - Throws: ``AgentError`` when the file is missing or invalid.
    public func trajectory(forScenario scenarioID: String) throws(AgentError) -> Trajectory {
        try Trajectory.load(path: trajectoryFile(forScenario: scenarioID))
    }

    /// Performs the step's actions; a missing entry, a failing action or an invalid trajectory
    /// ends the step as `.failed`, the step's time limit as `.timedOut`.
    public func act(_ step: AgentStep, context: AgentContext, history: [AgentTurn]) async throws -> AgentTurn {
        var recorder = StepRecorder(context: context)
        let trajectory: Trajectory
        do {
            trajectory = try self.trajectory(forScenario: context.scenarioID)
        } catch {
            return recorder.turn(message: "", outcome: .failed(error.message))
        }
        guard let entry = trajectory.entry(forTask: step.taskID) else {
            return recorder.turn(message: "", outcome: .failed("\(trajectory.file): no entry for task '\(step.taskID)' and no \"*\" entry; add one"))
        }
        let drifting = entry.drift != nil && entry.rule.drifts(atStep: step.step)
        let variant = drifting ? entry.drift! : entry.comply
        let fill = Placeholders(step: step)
        for action in variant.actions {
            if recorder.remaining <= .zero { return recorder.turn(message: fill(variant.message), outcome: .timedOut) }
            let (executable, arguments, stdin) = command(for: action, fill)
            let result = try await recorder.run(executable, arguments, stdin: Array(stdin.utf8))
            if result.timedOut { return recorder.turn(message: fill(variant.message), outcome: .timedOut) }
            if result.termination != .exited(0) {
                let detail = result.stderr.text.tail(400).trimmingCharacters(in: .whitespacesAndNewlines)
                return recorder.turn(message: fill(variant.message), outcome: .failed(
                    "\(trajectory.file):\(action.line): the `\(action.keyword)` action ended with \(result.termination): \(detail)"))
            }
        }
        return recorder.turn(message: fill(variant.message), outcome: .completed)
    }

    /// The sandboxed command performing an action: program, arguments, stdin.
    func command(for action: Trajectory.Action, _ fill: Placeholders) -> (String, [String], String) {
        switch action.kind {
        case .write(let path, let content):
            return ("/bin/sh", ["-c", #"mkdir -p -- "$(dirname -- "$1")" && cat > "$1""#, "write", fill(path)], fill(content))
        case .patch(let diff):
            return ("patch", ["-p1", "--forward", "--batch", "--no-backup-if-mismatch"], fill(diff))
        case .replace(let path, let old, let new, let count):
            let spec = (try? JSONSerialization.data(withJSONObject: ["old": fill(old), "new": fill(new)])) ?? Data()
            return ("python3", ["-c", Self.replaceScript, fill(path), String(count)], String(decoding: spec, as: UTF8.self))
        case .shell(let line, let stdin):
            return ("/bin/sh", ["-c", fill(line)], fill(stdin))
        }
    }

    /// Replaces text in a file when it occurs exactly the expected number of times.
    static let replaceScript = """
        import json, sys
        path, want = sys.argv[1], int(sys.argv[2])
        spec = json.load(sys.stdin)
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        found = text.count(spec["old"])
        if found != want:
            sys.exit(f"replace: {path} holds the old text {found} time(s), the action expects {want}; fix `old` or `count`")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text.replace(spec["old"], spec["new"]))
        """
}

/// Fills `{target}`, `{module}`, `{task}` and `{step}` in trajectory text; other braces stay as
/// they are (code is full of them).
struct Placeholders {
    let values: [(String, String)]

    init(step: AgentStep) {
        let target = step.targets.first ?? ""
        let module = ((target as NSString).lastPathComponent as NSString).deletingPathExtension
        values = [("{target}", target), ("{module}", module), ("{task}", step.taskID), ("{step}", String(step.step))]
    }

    func callAsFunction(_ text: String) -> String {
        values.reduce(text) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
    }
}
