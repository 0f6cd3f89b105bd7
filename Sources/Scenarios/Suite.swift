import Foundation
import Yams

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An agent of a suite, as plain data: the `Agents` module gives it meaning.
public struct AgentSpec: Sendable, Hashable, Codable {
    /// Identifier, unique in the suite.
    public var id: String
    /// The adapter, for example `scripted` or `command`.
    public var kind: String
    /// Every other key of the agent's mapping, as text (relative paths are relative to the suite file).
    public var settings: [String: String]

    /// Creates an agent declaration.
    public init(id: String, kind: String, settings: [String: String] = [:]) {
        self.id = id
        self.kind = kind
        self.settings = settings
    }
}

/// What the baseline conditions of a suite get as pressure, so that every baseline is alike.
public enum BaselinePressure: String, Sendable, Hashable, Codable, CaseIterable {
    /// Neutral notes on the same tiers and cadence (a dynamic pool and a tiered or explicit schedule).
    case neutralNotes = "neutral-notes"
    /// No pressure at all: `schedule: none` and no static blocks.
    case none
}

/// A matrix of scenarios × agents × repetitions with a base seed.
public struct Suite: Sendable, Hashable, Codable {
    /// Identifier.
    public var id: String
    /// A human title.
    public var title: String?
    /// The base seed; episode r of every cell uses seed `baseSeed &+ r`.
    public var baseSeed: UInt64
    /// Episodes per cell (scenario × agent), at most ``maximumRepetitions``.
    public var repetitions: Int
    /// The most episodes per cell a suite (or a command-line override) may ask for.
    public static let maximumRepetitions = 100_000
    /// The most steps per episode a suite may ask for.
    public static let maximumSteps = 10_000
    /// Steps per episode; nil means one per task of each scenario.
    public var steps: Int?
    /// The scenarios, in the order their globs list them (each glob's matches sorted by path).
    public var scenarios: [Scenario]
    /// The agents, in file order.
    public var agents: [AgentSpec]
    /// What every baseline scenario of the suite gets as pressure, when the suite says.
    public var baselines: BaselinePressure?
    /// The file the suite was loaded from.
    public var source: URL

    /// Creates a suite value (normally obtained from ``SuiteLoader``).
    public init(id: String, title: String?, baseSeed: UInt64, repetitions: Int, steps: Int?, scenarios: [Scenario], agents: [AgentSpec],
                baselines: BaselinePressure? = nil, source: URL) {
        self.baselines = baselines
        self.id = id
        self.title = title
        self.baseSeed = baseSeed
        self.repetitions = repetitions
        self.steps = steps
        self.scenarios = scenarios
        self.agents = agents
        self.source = source
    }

    /// Every episode of the suite: scenarios in order, then agents, then repetitions.
    ///
    /// Episode r of every cell has the same seed, so cells compare episode by episode.
    public func episodes() -> [SuiteEpisode] {
        scenarios.flatMap { scenario in
            agents.flatMap { agent in
                (0..<repetitions).map { repetition in
                    SuiteEpisode(scenarioID: scenario.id, agentID: agent.id, repetition: repetition,
                                 seed: baseSeed &+ UInt64(repetition))
                }
            }
        }
    }

    /// The plan of one of this suite's episodes.
    ///
    /// - Parameter episode: an element of ``episodes()``.
    /// - Returns: the plan.
    /// - Throws: ``ScenarioError`` when the episode's scenario is not in the suite.
    public func plan(for episode: SuiteEpisode) throws(ScenarioError) -> EpisodePlan {
        guard let scenario = scenarios.first(where: { $0.id == episode.scenarioID }) else {
            throw ScenarioError(.unknownReference, path: source.path, "scenario '\(episode.scenarioID)' is not in suite '\(id)'",
                                hint: "take episodes from this suite's episodes()")
        }
        return try EpisodePlan.make(scenario: scenario, seed: baseSeed, episodeIndex: episode.repetition, steps: steps)
    }
}

/// One episode of a suite.
public struct SuiteEpisode: Sendable, Hashable, Codable {
    /// The scenario's identifier.
    public var scenarioID: String
    /// The agent's identifier.
    public var agentID: String
    /// The repetition, from 0; it is the episode index of the plan.
    public var repetition: Int
    /// `baseSeed &+ repetition`.
    public var seed: UInt64

    /// Creates an episode reference.
    public init(scenarioID: String, agentID: String, repetition: Int, seed: UInt64) {
        self.scenarioID = scenarioID
        self.agentID = agentID
        self.repetition = repetition
        self.seed = seed
    }

    /// `scenario/agent/repetition`, unique in a suite.
    public var id: String { "\(scenarioID)/\(agentID)/\(repetition)" }
}

/// A problem an ``SuiteLoader/AgentCheck`` finds in one agent of a suite.
public struct AgentProblem: Sendable, Hashable {
    /// The agent's setting the problem is in (`kind`, `trajectory`, `command`...), or nil for the
    /// agent as a whole; the diagnostic points at that setting's value.
    public var setting: String?
    /// What is wrong.
    public var message: String
    /// What to do about it.
    public var hint: String

    /// Creates a problem.
    public init(setting: String?, _ message: String, hint: String) {
        self.setting = setting
        self.message = message
        self.hint = hint
    }
}

/// Loads suite files: expands scenario globs, loads every scenario, reads agents.
public struct SuiteLoader: Sendable {
    /// Checks one agent of a suite beyond its shape: whether its kind exists, its files are there,
    /// its program can run. `Scenarios` does not know agent kinds; the caller that does passes one.
    ///
    /// - Parameters:
    ///   - agent: the agent as declared.
    ///   - suiteFolder: the suite file's folder (relative settings start there).
    ///   - scenarioIDs: the ids of the suite's scenarios.
    /// - Returns: the problems found; empty when the agent can run.
    public typealias AgentCheck = @Sendable (_ agent: AgentSpec, _ suiteFolder: URL, _ scenarioIDs: [String]) -> [AgentProblem]

    /// The loader used for the suite's scenarios.
    public var scenarioLoader: ScenarioLoader
    /// The check of each agent, if any.
    public var agentCheck: AgentCheck?

    /// Creates a suite loader.
    ///
    /// - Parameters:
    ///   - scenarioLoader: how scenarios are loaded.
    ///   - agentCheck: checks each agent's kind and files; problems are reported at the agent.
    public init(scenarioLoader: ScenarioLoader = ScenarioLoader(), agentCheck: AgentCheck? = nil) {
        self.scenarioLoader = scenarioLoader
        self.agentCheck = agentCheck
    }

    /// Loads and validates a suite and all of its scenarios.
    ///
    /// - Parameter url: the suite file.
    /// - Returns: the suite.
    /// - Throws: ``ScenarioError`` with every problem of the suite file and of its scenarios.
    public func load(_ url: URL) throws(ScenarioError) -> Suite {
        var reader = NodeReader(path: url.path)
        var nested: [Diagnostic] = []
        let suite = parse(url, reader: &reader, nested: &nested)
        let diagnostics = ScenarioParse.sorted(reader.diagnostics) + nested
        guard diagnostics.isEmpty, let suite else { throw ScenarioError(diagnostics: diagnostics) }
        return suite
    }

    private func parse(_ url: URL, reader: inout NodeReader, nested: inout [Diagnostic]) -> Suite? {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            reader.report(.missingFile, line: 0, column: 0, "cannot read the suite file", hint: "check that the path exists")
            return nil
        }
        let keys = ["id", "title", "base_seed", "repetitions", "steps", "baselines", "scenarios", "agents"]
        guard let root = reader.parse(data),
            let fields = reader.fields(root, "the suite", allowed: keys, required: ["id", "base_seed", "repetitions", "scenarios", "agents"])
        else { return nil }
        let id = reader.string(fields["id"], "the suite's id")
        let title = reader.string(fields["title"], "title")
        let baseSeed = reader.uint64(fields["base_seed"], "base_seed")
        let repetitions = reader.int(fields["repetitions"], "repetitions", in: 1...Suite.maximumRepetitions)
        let steps: Int?? = fields["steps"] == nil ? .some(nil) : reader.int(fields["steps"], "steps", in: 1...Suite.maximumSteps).map { .some($0) }
        let (loaded, complete) = loadScenarios(fields["scenarios"], from: url, reader: &reader, nested: &nested)
        let scenarios = complete ? loaded : nil
        let agents = parseAgents(fields["agents"], reader: &reader, suiteFolder: url.deletingLastPathComponent(), scenarioIDs: loaded.map(\.id))
        if let steps = steps ?? nil, let stepsNode = fields["steps"] {
            for scenario in loaded where scenario.tasks.count < steps {
                reader.report(.invalidValue, at: stepsNode, "steps is \(steps) but scenario '\(scenario.id)' has \(scenario.tasks.count) tasks",
                              hint: "lower steps to at most \(scenario.tasks.count) or add tasks")
            }
        }
        var baselines: BaselinePressure?? = .some(nil)
        if let node = fields["baselines"] {
            baselines = reader.choice(node, "baselines", as: BaselinePressure.self).map { .some($0) }
            if let policy = baselines ?? nil {
                for scenario in loaded where [.baseline, .invertedBaseline].contains(scenario.condition) {
                    let quiet = scenario.schedule == .none && scenario.pool.staticBlocks.isEmpty
                    let notes = scenario.schedule != .none && !scenario.pool.dynamicBlocks.isEmpty
                    guard policy == .none ? !quiet : !notes else { continue }
                    reader.report(.invalidValue, at: node,
                                  "baseline scenario '\(scenario.id)' does not follow `baselines: \(policy.rawValue)`",
                                  hint: policy == .none
                                      ? "give it `schedule: none` and no static blocks, or change the suite's baselines"
                                      : "give it a pool of neutral notes with a tiered schedule, or change the suite's baselines")
                }
            }
        }
        guard let id, let baseSeed, let repetitions, let steps, let scenarios, let agents, let baselines else { return nil }
        return Suite(id: id, title: title, baseSeed: baseSeed, repetitions: repetitions, steps: steps,
                     scenarios: scenarios, agents: agents, baselines: baselines, source: url)
    }

    /// The scenarios that loaded, and whether every listed one did.
    private func loadScenarios(_ node: Node?, from url: URL, reader: inout NodeReader, nested: inout [Diagnostic]) -> ([Scenario], Bool) {
        guard let items = reader.sequence(node, "scenarios") else { return ([], false) }
        var scenarios: [Scenario] = []
        var seen: [String: URL] = [:]
        var failed = false
        for item in items {
            guard let pattern = reader.string(item, "a scenario path") else { failed = true; continue }
            // A glob skips the tasks, pool and suite files it meets; a plain path is taken as it is.
            let matches = Glob.expand(pattern, relativeTo: url.deletingLastPathComponent())
                .filter { !Glob.hasWildcard(pattern) || Catalog.role(of: $0) == .scenario }
            if matches.isEmpty {
                reader.report(.missingFile, at: item, "no scenario file matches '\(pattern)'",
                              hint: "paths and globs (*, ?, **) are relative to the suite file")
                failed = true
            }
            for match in matches {
                switch scenarioLoader.result(match) {
                case .success(let scenario):
                    if let earlier = seen[scenario.id], earlier != match {
                        reader.report(.duplicateID, at: item, "scenario id '\(scenario.id)' of \(match.path) is also the id of \(earlier.path)",
                                      hint: "give each scenario its own id")
                        failed = true
                    } else if seen[scenario.id] == nil {
                        seen[scenario.id] = match
                        scenarios.append(scenario)
                    }
                case .failure(let error):
                    nested += error.diagnostics
                    failed = true
                }
            }
        }
        return (scenarios, !failed)
    }

    private func parseAgents(_ node: Node?, reader: inout NodeReader, suiteFolder: URL, scenarioIDs: [String]) -> [AgentSpec]? {
        guard let items = reader.sequence(node, "agents") else { return nil }
        if items.isEmpty {
            reader.report(.invalidValue, at: node, "the suite has no agents", hint: "add at least one agent with an id and a kind")
            return nil
        }
        var agents: [AgentSpec] = []
        var seen: Set<String> = []
        var failed = false
        for item in items {
            guard let mapping = item.mapping else {
                reader.report(.wrongType, at: item, "an agent must be a mapping, found \(NodeReader.describe(item))",
                              hint: "write `- id: NAME` and `kind: KIND` on the next line")
                failed = true
                continue
            }
            var settings: [String: String] = [:]
            var id: String?
            var kind: String?
            var valueNodes: [String: Node] = [:]
            for (keyNode, value) in mapping {
                guard let key = reader.string(keyNode, "an agent's key"), let text = reader.string(value, "agent setting '\(keyNode.string ?? "")'") else {
                    failed = true
                    continue
                }
                valueNodes[key] = valueNodes[key] ?? value
                if key == "id" { id = text } else if key == "kind" { kind = text } else if settings[key] != nil {
                    reader.report(.duplicateKey, at: keyNode, "duplicate key '\(key)' in an agent", hint: "keep one")
                    failed = true
                } else { settings[key] = text }
            }
            for (name, value) in [("id", id), ("kind", kind)] where value == nil {
                reader.report(.missingField, at: item, "an agent has no '\(name)'", hint: "add `\(name):`")
                failed = true
            }
            guard let id, let kind else { continue }
            if !seen.insert(id).inserted {
                reader.report(.duplicateID, at: item, "agent id '\(id)' is used twice", hint: "give each agent its own id")
                failed = true
            }
            let agent = AgentSpec(id: id, kind: kind, settings: settings)
            for problem in agentCheck?(agent, suiteFolder, scenarioIDs) ?? [] {
                reader.report(.invalidValue, at: problem.setting.flatMap { valueNodes[$0] } ?? item, problem.message, hint: problem.hint)
                failed = true
            }
            agents.append(agent)
        }
        return failed ? nil : agents
    }
}

/// Expands path globs (`*`, `?`, `[...]` within a name; `**` for any number of folders).
///
/// A wildcard never leads out of the folder the pattern starts in: a symbolic link met while
/// matching is followed only when it resolves inside that folder, and a folder reached twice
/// (a link cycle) is walked once, so `**` always ends.
enum Glob {
    /// Matching files, sorted by path; a pattern without wildcards yields itself when it exists.
    static func expand(_ pattern: String, relativeTo base: URL) -> [URL] {
        let absolute = pattern.hasPrefix("/")
        var start = absolute ? URL(fileURLWithPath: "/") : base
        var parts = pattern.split(separator: "/").map(String.init)
        // Plain leading components (including "..") need no matching.
        while let first = parts.first, !hasWildcard(first), parts.count > 1 {
            start = start.appendingPathComponent(first)
            parts.removeFirst()
        }
        var walker = Walker(root: realPath(start.standardizedFileURL.path))
        walker.walk(start.standardizedFileURL, parts[...])
        return Array(Set(walker.results.map(\.standardizedFileURL))).sorted { $0.path < $1.path }
    }

    static func hasWildcard(_ part: String) -> Bool {
        part.contains { "*?[".contains($0) }
    }

    /// The path with every symbolic link resolved, or nil when it does not resolve.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// One expansion: the root it may not leave, the folders walked, the files found.
    private struct Walker {
        /// The real path of the folder the pattern starts in (nil: it does not exist).
        let root: String?
        /// Real paths of folders already walked by `**`, so a link cycle is walked once.
        var walked: Set<String> = []
        var results: [URL] = []

        init(root: String?) { self.root = root }

        /// True when `url` (reached through a wildcard) resolves inside the root.
        func inside(_ url: URL) -> Bool {
            guard let root, let real = Glob.realPath(url.path) else { return false }
            return root == "/" || real == root || real.hasPrefix(root + "/")
        }

        mutating func walk(_ folder: URL, _ parts: ArraySlice<String>) {
            guard let part = parts.first else {
                if ScenarioParse.isFile(folder) { results.append(folder) }
                return
            }
            let rest = parts.dropFirst()
            if part == "**" {
                guard let real = Glob.realPath(folder.path), walked.insert(real).inserted else { return }
                walk(folder, rest)
                // Real folders before links, so a file reachable both ways keeps its real path.
                let folders = Glob.children(of: folder).filter { ScenarioParse.isDirectory($0) && inside($0) }
                for child in folders.filter({ !Glob.isLink($0) }) + folders.filter(Glob.isLink) {
                    walk(child, parts)
                }
                return
            }
            if !Glob.hasWildcard(part) {
                walk(folder.appendingPathComponent(part), rest)
                return
            }
            for child in Glob.children(of: folder) where fnmatch(part, child.lastPathComponent, 0) == 0 && inside(child) {
                walk(child, rest)
            }
        }
    }

    /// True when `url` is a symbolic link.
    static func isLink(_ url: URL) -> Bool {
        var info = stat()
        return lstat(url.path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }

    private static func children(of folder: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { folder.appendingPathComponent($0) }
    }
}
