import Checks
import Foundation
import Yams

extension ConstraintDriftImporter {
    func write(_ config: Config, from experiment: URL, to destination: URL, overwrite: Bool) throws(ScenarioError) -> Output {
        let variant = ScenarioParse.slug(experiment.standardizedFileURL.lastPathComponent)
        let pairFolder = destination.appendingPathComponent("scenarios").appendingPathComponent(config.pair)
        let scenarioFile = pairFolder.appendingPathComponent("\(variant).yaml")
        let constraintFile = pairFolder.appendingPathComponent("constraints/\(variant).md")
        let poolFile = config.patches.isEmpty ? nil : pairFolder.appendingPathComponent("pressure/\(variant).yaml")
        let fixture = destination.appendingPathComponent("repos").appendingPathComponent(config.baseRepoName)
        let existing = [scenarioFile, constraintFile, poolFile].compactMap { $0 }.filter { FileManager.default.fileExists(atPath: $0.path) }
        if !overwrite, !existing.isEmpty {
            throw ScenarioError(diagnostics: existing.map {
                Diagnostic(kind: .io, path: $0.path, line: 0, column: 0, message: "the import would replace this existing file",
                           hint: "import into another folder, move the file away, or pass --force to replace it")
            })
        }

        do {
            let manager = FileManager.default
            try manager.createDirectory(at: constraintFile.deletingLastPathComponent(), withIntermediateDirectories: true)
            if !ScenarioParse.isDirectory(fixture) {
                try manager.createDirectory(at: fixture.deletingLastPathComponent(), withIntermediateDirectories: true)
                try manager.copyItem(at: config.baseRepo, to: fixture)
            }
            try Data(config.constraint.utf8).write(to: constraintFile)
            if let poolFile {
                try manager.createDirectory(at: poolFile.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(Self.poolYAML(config).utf8).write(to: poolFile)
            }
            try Data(Self.scenarioYAML(config, variant: variant, withPool: poolFile != nil).utf8).write(to: scenarioFile)
        } catch {
            throw ScenarioError(.io, path: destination.path, "cannot write the imported scenario: \(error)",
                                hint: "check that the destination folder is writable")
        }
        let scenario = try ScenarioLoader().load(scenarioFile)
        return Output(scenario: scenario, scenarioFile: scenarioFile, poolFile: poolFile, constraintFile: constraintFile,
                      fixtureDirectory: fixture.standardizedFileURL)
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

    static func scenarioYAML(_ config: Config, variant: String, withPool: Bool) throws -> String {
        let tasks = Node(config.queries.map { query in
            map([("id", Node(query.id)), ("prompt", scalar(query.message)), ("targets", Node([Node(query.target)], .implicit, .flow))])
        })
        let checks = Node(config.checks.map { check in
            map([
                ("id", Node(check.id)), ("kind", Node(check.kind.rawValue)), ("pattern", Node(check.pattern, .implicit, .singleQuoted)),
                ("files", Node("targets")), ("scope", Node(check.scope.rawValue)), ("description", check.description.map { Node($0) }),
            ])
        })
        let pressure: Node? = withPool
            ? map([("pool", Node("pressure/\(variant).yaml")), ("schedule", Node(config.tiered ? "tiered" : "none"))])
            : nil
        let node = map([
            ("id", Node(config.experimentID)), ("title", config.description.map(scalar)), ("fixture", Node(config.baseRepoName)),
            ("value_pair", Node(config.pair)), ("favours", config.favours.map { Node($0) }),
            ("condition", Node(config.condition.rawValue)), ("constraint", Node("constraints/\(variant).md")),
            ("tasks", tasks), ("order", Node(config.shuffle ? "shuffled" : "fixed")), ("pressure", pressure), ("checks", checks),
        ])
        var header = "# Imported from the Constraint-Drift experiment folder '\(variant)'.\n"
        if let seed = config.randomSeed {
            header += "# The experiment's random_seed was \(seed); use it as a suite's base_seed to match it.\n"
        }
        return try emit(node, header: header)
    }

    static func poolYAML(_ config: Config) throws -> String {
        var perTier: [Int: Int] = [:]
        let blocks = config.patches.map { patch -> Node in
            let index = perTier[patch.severity, default: 0]
            perTier[patch.severity] = index + 1
            let variant = index < 26 ? String(UnicodeScalar(UInt8(97 + index))) : "v\(index + 1)"
            let author = colleagues[patch.severity - 1]
            return map([
                ("id", Node(patch.id)), ("tier", Node(String(patch.severity))), ("variant", Node(variant)), ("at", Node("top")),
                ("author", Node([(Node("name"), Node(author.name)), (Node("email"), Node(author.email))], .implicit, .flow)),
                ("message", Node("{module}: \(patch.id)")), ("text", scalar(patch.text)),
            ])
        }
        return try emit(map([("dynamic", Node(blocks))]), header: "# Pressure blocks imported from the experiment's patch_pool (severity = tier).\n")
    }
}
