import Foundation
import Scenarios

/// Keeps secrets out of the run folder: agent settings `env.NAME` whose name looks like a key,
/// token, secret or password, or that the agent's `env` setting names, are recorded as
/// `Secrets.placeholder`. A resume takes the real values from the suite file again.
public enum Secrets {
    /// What a redacted value is recorded as.
    public static let placeholder = "<redacted>"

    /// Parts of a variable name that mark it as secret (compared case-insensitively).
    static let markers = ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASS", "CREDENTIAL", "AUTH", "COOKIE", "SESSION", "PRIVATE"]

    /// True when the value of `env.NAME` is recorded redacted for an agent with these settings.
    public static func isSecret(variable name: String, settings: [String: String]) -> Bool {
        let named = (settings["env"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if named.contains(name) { return true }
        let upper = name.uppercased()
        return markers.contains { upper.contains($0) }
    }

    /// The agents with their secret settings replaced by the placeholder.
    public static func redacted(_ agents: [AgentSpec]) -> [AgentSpec] {
        agents.map { agent in
            var agent = agent
            for (key, value) in agent.settings where key.hasPrefix("env.") && !value.isEmpty
                && isSecret(variable: String(key.dropFirst(4)), settings: agent.settings) {
                agent.settings[key] = placeholder
            }
            return agent
        }
    }

    /// The recorded agents with their secrets back, from the suite that declared them: the
    /// suite file (hash-checked elsewhere) or, for a one-scenario run, a suite in `agentsBase`
    /// whose agents redact to exactly the recorded ones.
    /// - Throws: `RunStoreError.invalid` when recorded agents have redacted values and no suite
    ///   gives them back.
    static func restored(_ recorded: [AgentSpec], suiteFile: URL?, agentsBase: URL, manifestPath: String) throws -> [AgentSpec] {
        guard recorded.contains(where: { $0.settings.values.contains(placeholder) }) else { return recorded }
        var candidates: [URL] = suiteFile.map { [$0] } ?? []
        let files = (try? FileManager.default.contentsOfDirectory(at: agentsBase, includingPropertiesForKeys: nil)) ?? []
        candidates += files.filter { ["yaml", "yml"].contains($0.pathExtension) }.sorted { $0.path < $1.path }
        for file in candidates {
            guard let suite = try? SuiteLoader().load(file) else { continue }
            let chosen = recorded.compactMap { agent in suite.agents.first { $0.id == agent.id } }
            if chosen.count == recorded.count, redacted(chosen) == recorded { return chosen }
        }
        throw RunStoreError.invalid(path: manifestPath, reason: "the run's agents have secret settings that were not recorded, and no suite in \(agentsBase.path) declares them as they were",
                                    hint: "restore the suite file that declared the agents, or start a new run")
    }
}
