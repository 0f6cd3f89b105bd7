import Checks
import Foundation
import Yams

extension ConstraintDriftImporter {
    /// The files an import of `config` writes under `destination` (the fixture folder aside, which
    /// is kept when it exists).
    func files(of config: Config, in destination: URL) -> (scenario: URL, constraint: URL, pool: URL?, suite: URL) {
        let pairFolder = destination.appendingPathComponent("scenarios").appendingPathComponent(config.pairFolder)
        return (pairFolder.appendingPathComponent("\(config.variant).yaml"),
                pairFolder.appendingPathComponent("constraints/\(config.variant).md"),
                config.patches.isEmpty ? nil : pairFolder.appendingPathComponent("pressure/\(config.variant).yaml"),
                destination.appendingPathComponent("suites").appendingPathComponent("\(config.scenarioID).yaml"))
    }

    /// Refuses an import that would replace existing files, naming each of them.
    func refuseReplacing(_ configs: [Config], in destination: URL) throws(ScenarioError) {
        let existing = configs.flatMap { config -> [URL] in
            let planned = files(of: config, in: destination)
            return [planned.scenario, planned.constraint, planned.pool, planned.suite].compactMap { $0 }
        }.filter { FileManager.default.fileExists(atPath: $0.path) }
        guard existing.isEmpty else {
            throw ScenarioError(diagnostics: existing.map {
                Diagnostic(kind: .io, path: $0.path, line: 0, column: 0, message: "the import would replace this existing file",
                           hint: "import into another folder, move the file away, or pass --force to replace it")
            })
        }
    }

    func write(_ config: Config, to destination: URL) throws(ScenarioError) -> Output {
        let (scenarioFile, constraintFile, poolFile, suiteFile) = files(of: config, in: destination)
        let variant = config.variant
        let fixture = destination.appendingPathComponent("repos").appendingPathComponent(config.baseRepoName)

        do {
            let manager = FileManager.default
            try manager.createDirectory(at: constraintFile.deletingLastPathComponent(), withIntermediateDirectories: true)
            try manager.createDirectory(at: suiteFile.deletingLastPathComponent(), withIntermediateDirectories: true)
            if !ScenarioParse.isDirectory(fixture) {
                try manager.createDirectory(at: fixture.deletingLastPathComponent(), withIntermediateDirectories: true)
                try manager.copyItem(at: config.baseRepo, to: fixture)
            }
            try Data(config.constraint.utf8).write(to: constraintFile)
            if let poolFile {
                try manager.createDirectory(at: poolFile.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(Self.poolYAML(config).utf8).write(to: poolFile)
            }
            try Data(Self.scenarioYAML(config, withPool: poolFile != nil).utf8).write(to: scenarioFile)
            try Data(Self.suiteYAML(config).utf8).write(to: suiteFile)
        } catch {
            throw ScenarioError(.io, path: destination.path, "cannot write the imported scenario: \(error)",
                                hint: "check that the destination folder is writable")
        }
        let scenario = try ScenarioLoader().load(scenarioFile)
        let suite = try SuiteLoader().load(suiteFile)
        return Output(scenario: scenario, scenarioFile: scenarioFile, poolFile: poolFile, constraintFile: constraintFile,
                      fixtureDirectory: fixture.standardizedFileURL, suiteFile: suiteFile, suite: suite,
                      randomSeed: config.randomSeed, warnings: config.warnings)
    }

    static func scalar(_ text: String) -> Node {
        Node(text, .implicit, text.contains("\n") ? .literal : .any)
    }

    static func map(_ pairs: [(String, Node?)]) -> Node {
        Node(pairs.compactMap { key, value in value.map { (Node(key), $0) } })
    }

    static func emit(_ node: Node, header: String) throws -> String {
        header + (try Yams.serialize(node: node, width: -1, allowUnicode: true))
    }

    static func scenarioYAML(_ config: Config, withPool: Bool) throws -> String {
        let tasks = Node(config.queries.map { query in
            map([("id", Node(query.id)), ("prompt", scalar(query.message)), ("targets", Node([Node(query.target)], .implicit, .flow))])
        })
        let checks = Node(config.checks.map { check in
            map([
                ("id", Node(check.id)), ("kind", Node(check.kind.rawValue)), ("pattern", Node(check.pattern, .implicit, .singleQuoted)),
                ("files", Node("targets")), ("scope", Node(check.scope.rawValue)), ("description", check.description.map { Node($0) }),
            ])
        })
        var pressure: Node?
        if withPool {
            let slugs = Dictionary(uniqueKeysWithValues: config.patches.map { ($0.originalID, $0.id) })
            switch config.assignment {
            case .none:
                pressure = nil
            case .tiered:
                pressure = map([("pool", Node("pressure/\(config.variant).yaml")), ("schedule", Node("tiered"))])
            case .ordered(let ids):
                let steps = Node(ids.prefix(config.queries.count).enumerated().map { index, id in
                    (Node(String(index + 1)), Node([Node(slugs[id] ?? id)], .implicit, .flow))
                })
                pressure = map([("pool", Node("pressure/\(config.variant).yaml")), ("schedule", Node("explicit")), ("steps", steps)])
            }
        }
        let node = map([
            ("id", Node(config.scenarioID)), ("title", config.description.map(scalar)), ("fixture", Node(config.baseRepoName)),
            ("value_pair", Node(config.valuePair)), ("favours", Node(config.favours)),
            ("condition", Node(config.condition.rawValue)), ("constraint", Node("constraints/\(config.variant).md")),
            ("tasks", tasks), ("order", Node(config.shuffle ? "shuffled" : "fixed")), ("pressure", pressure), ("checks", checks),
        ])
        var header = "# Imported from the Constraint-Drift experiment '\(config.folder.lastPathComponent)' (validator \(config.validator.rawValue)).\n"
        header += "# The suite ../../suites/\(config.scenarioID).yaml runs it with the experiment's random_seed as base_seed.\n"
        return try emit(node, header: header)
    }

    static func poolYAML(_ config: Config) throws -> String {
        // Variants a, b, … within a severity in id order: the order the harness draws from.
        var variants: [String: String] = [:]
        for severity in Set(config.patches.map(\.severity)) {
            let ids = config.patches.filter { $0.severity == severity }.map(\.originalID).sorted()
            for (index, id) in ids.enumerated() {
                variants[id] = index < 26 ? String(UnicodeScalar(UInt8(97 + index))) : "v\(index + 1)"
            }
        }
        let blocks = config.patches.map { patch -> Node in
            let author = colleagues[patch.severity - 1]
            return map([
                ("id", Node(patch.id)), ("tier", Node(String(patch.severity))), ("variant", Node(variants[patch.originalID] ?? "a")),
                ("at", map([("before_line", Node("1"))])),
                ("author", Node([(Node("name"), Node(author.name)), (Node("email"), Node(author.email))], .implicit, .flow)),
                ("message", Node(messages[patch.severity - 1], .implicit, .doubleQuoted)), ("text", scalar(patch.text)),
            ])
        }
        return try emit(map([("dynamic", Node(blocks))]),
                        header: "# The patch_pool of '\(config.folder.lastPathComponent)': tier = severity; each block lands before the target's first line, as the harness prepends it.\n")
    }

    static func suiteYAML(_ config: Config) throws -> String {
        let seed = config.randomSeed ?? defaultSeed
        let agent = map([("id", Node("opencode")), ("kind", Node("command")), ("preset", Node("opencode"))])
        let node = map([
            ("id", Node(config.scenarioID)), ("title", config.description.map(scalar)), ("base_seed", Node(String(seed))),
            ("repetitions", Node("1")),
            ("scenarios", Node([Node("../scenarios/\(config.pairFolder)/\(config.variant).yaml")])),
            ("agents", Node([agent])),
        ])
        var header = "# Runs the imported experiment '\(config.folder.lastPathComponent)'.\n"
        header += config.randomSeed != nil
            ? "# base_seed is the experiment's execution.random_seed; repetition r uses base_seed + r, as the harness's iteration r + 1 does.\n"
            : "# The experiment has no random_seed; \(defaultSeed) is the harness's deterministic default.\n"
        header += "# The harness drove opencode; set the agents (and repetitions) you want to run.\n"
        return try emit(node, header: header)
    }
}
