import Foundation

/// Makes the agents a suite names.
public enum AgentFactory {
    /// The agent kinds ``make(id:kind:settings:baseDirectory:)`` knows.
    /// (`model`, the built-in model agent, is made by the `ModelAgent` library, which the runner
    /// calls: this module cannot depend on it.)
    public static let kinds = ["scripted", "command", "model"]

    /// Makes one suite agent.
    /// - Parameters:
    ///   - id: the agent's id in the suite.
    ///   - kind: `scripted` or `command`.
    ///   - settings: the suite's other keys for this agent, as text.
    ///   - baseDirectory: the suite file's folder; relative paths in settings start there.
    /// - Returns: the agent.
    /// - Throws: ``AgentError`` for an unknown kind, a missing or invalid setting, or a missing
    ///   trajectory, saying what to change in the suite.
    public static func make(id: String, kind: String, settings: [String: String], baseDirectory: String) throws -> any Agent {
        switch kind {
        case "scripted":
            let path = try setting("trajectory", of: id, kind: kind, in: settings, example: "../trajectories/demo")
            return try ScriptedAgent(id: id, trajectoryPath: resolve(path, against: baseDirectory))
        case "command":
            return try CommandAgent(id: id, settings: settings, baseDirectory: baseDirectory)
        case "model":
            throw AgentError(.unknownKind, "agent '\(id)': kind model is made by the ModelAgent library; make agents with Runner.standardAgents (docs/agents.md)")
        default:
            throw AgentError(.unknownKind, "agent '\(id)': unknown kind '\(kind)'; use one of: \(kinds.joined(separator: ", ")) (docs/agents.md)")
        }
    }

    /// A required, non-empty setting.
    static func setting(_ key: String, of id: String, kind: String, in settings: [String: String], example: String) throws(AgentError) -> String {
        guard let value = settings[key]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else {
            throw AgentError(.missingSetting, "agent '\(id)' (kind \(kind)) needs the setting `\(key)`; add e.g. `\(key): \(example)` to its entry in the suite")
        }
        return value
    }

    /// A path from a setting: absolute as is, else relative to `base` (the suite file's folder).
    public static func resolve(_ path: String, against base: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: base).appendingPathComponent(path).standardizedFileURL.path
    }
}
