import Foundation
import Yams

/// The bundled `Fixtures/` folder: finding it, and telling its YAML files apart.
public struct Catalog: Sendable {
    /// What a YAML file is, judged by its top-level keys.
    public enum Role: String, Sendable, Hashable {
        /// A scenario (anything that is not one of the others, so that broken files get validated).
        case scenario
        /// A suite: it has `agents` or `base_seed`.
        case suite
        /// A tasks file: its only key is `tasks`.
        case tasks
        /// A pressure pool: its keys are `static` and/or `dynamic`.
        case pool
    }

    /// The `Fixtures` folder.
    public var fixtures: URL

    /// Creates a catalog over a `Fixtures` folder.
    public init(fixtures: URL) {
        self.fixtures = fixtures.standardizedFileURL
    }

    /// The environment variable naming the `Fixtures` folder to use instead of the bundled one.
    public static let fixturesVariable = "DRIFTBOX_FIXTURES"

    /// The bundled `Fixtures` folder of a driftbox executable, found from the executable and not
    /// from the current folder, so an installed driftbox works from any folder.
    ///
    /// In order: `$DRIFTBOX_FIXTURES`; `PREFIX/share/driftbox/Fixtures` for an executable at
    /// `PREFIX/bin/` (an installed layout); the first folder upwards from the executable holding
    /// both `Package.swift` and `Fixtures/` (a checkout's `.build/<config>/`); last, the same
    /// search upwards from `directory`.
    ///
    /// - Parameters:
    ///   - executable: the running executable's path (symbolic links are resolved).
    ///   - directory: the current folder, searched last.
    /// - Returns: the catalog.
    /// - Throws: ``ScenarioError`` naming every place looked in when none holds the fixtures.
    public static func bundled(executable: URL, directory: URL) throws(ScenarioError) -> Catalog {
        if let override = ProcessInfo.processInfo.environment[fixturesVariable], !override.isEmpty {
            let folder = URL(fileURLWithPath: override, relativeTo: directory).standardizedFileURL
            guard ScenarioParse.isDirectory(folder) else {
                throw ScenarioError(.missingFile, path: folder.path, "\(fixturesVariable) names no folder",
                                    hint: "point \(fixturesVariable) at a Fixtures folder, or unset it to use the bundled one")
            }
            return Catalog(fixtures: folder)
        }
        let binary = executable.resolvingSymlinksInPath().deletingLastPathComponent()
        let installed = binary.deletingLastPathComponent().appendingPathComponent("share/driftbox/Fixtures")
        if ScenarioParse.isDirectory(installed) { return Catalog(fixtures: installed) }
        if let checkout = try? locate(from: binary) { return checkout }
        do { return try locate(from: directory) } catch {
            throw ScenarioError(.missingFile, path: binary.path,
                                "no bundled Fixtures folder: not at \(installed.path), nor in a checkout above the executable or the current folder",
                                hint: "install driftbox with scripts/install.sh PREFIX, run it from its checkout, or set \(fixturesVariable)")
        }
    }

    /// The running executable's path (from `/proc/self/exe`).
    public static var runningExecutable: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    }

    /// Finds the `Fixtures` folder by walking up from `directory` to the first folder holding both
    /// `Package.swift` and `Fixtures/`.
    ///
    /// - Parameter directory: where to start, usually the current directory.
    /// - Returns: the catalog.
    /// - Throws: ``ScenarioError`` when no ancestor holds both.
    public static func locate(from directory: URL) throws(ScenarioError) -> Catalog {
        var folder = directory.standardizedFileURL
        while true {
            if ScenarioParse.isFile(folder.appendingPathComponent("Package.swift")),
                ScenarioParse.isDirectory(folder.appendingPathComponent("Fixtures"))
            {
                return Catalog(fixtures: folder.appendingPathComponent("Fixtures"))
            }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path {
                throw ScenarioError(.missingFile, path: directory.path, "no folder from here upwards holds both Package.swift and Fixtures/",
                                    hint: "run this inside the driftbox package, or pass scenario paths explicitly")
            }
            folder = parent
        }
    }

    /// The role of a YAML file; `.scenario` when it cannot be read or parsed.
    public static func role(of file: URL) -> Role {
        guard let data = FileManager.default.contents(atPath: file.path),
            let text = String(validatingUTF8Data: data), YAMLDepth.check(text, path: file.path) == nil,
            let root = try? Yams.compose(yaml: text), let mapping = root.mapping
        else { return .scenario }
        let keys = Set(mapping.keys.compactMap(\.string))
        if keys.contains("agents") || keys.contains("base_seed") { return .suite }
        if keys == ["tasks"] { return .tasks }
        if !keys.isEmpty && keys.isSubset(of: ["static", "dynamic"]) { return .pool }
        return .scenario
    }

    /// The bundled scenario files: `scenarios/<pair>/*.yaml` that are scenarios, sorted by path.
    public func scenarioFiles() -> [URL] {
        Glob.expand("scenarios/*/*.yaml", relativeTo: fixtures).filter { Self.role(of: $0) == .scenario }
    }

    /// The bundled suite files: `suites/*.yaml`, sorted by path.
    public func suiteFiles() -> [URL] {
        Glob.expand("suites/*.yaml", relativeTo: fixtures)
    }

    /// A scenario file named by a path (relative to `directory`) or by a bundled scenario's id.
    ///
    /// - Throws: ``ScenarioError`` when it is neither an existing file nor a bundled id.
    public func scenarioFile(_ idOrPath: String, relativeTo directory: URL) throws(ScenarioError) -> URL {
        let path = idOrPath.hasPrefix("/") ? URL(fileURLWithPath: idOrPath) : directory.appendingPathComponent(idOrPath)
        if ScenarioParse.isFile(path) { return path.standardizedFileURL }
        let files = scenarioFiles()
        if let match = files.first(where: { Self.declaredID(of: $0) == idOrPath }) { return match }
        let ids = files.compactMap(Self.declaredID)
        let suggestion = NodeReader.nearest(idOrPath, among: ids).map { "did you mean '\($0)'? " } ?? ""
        throw ScenarioError(.missingFile, path: idOrPath, "no scenario file or bundled scenario id '\(idOrPath)'",
                            hint: "\(suggestion)run `driftbox scenarios list` to see the bundled ids")
    }

    /// True when `url` is an existing folder.
    public static func isFolder(_ url: URL) -> Bool {
        ScenarioParse.isDirectory(url)
    }

    /// Every `.yaml` and `.yml` file under a folder, at any depth, sorted by path.
    public static func yamlFiles(under folder: URL) -> [URL] {
        (Glob.expand("**/*.yaml", relativeTo: folder) + Glob.expand("**/*.yml", relativeTo: folder))
            .sorted { $0.path < $1.path }
    }

    /// The `id:` a file declares, read without validating the rest.
    public static func declaredID(of file: URL) -> String? {
        guard let data = FileManager.default.contents(atPath: file.path),
            let text = String(validatingUTF8Data: data), YAMLDepth.check(text, path: file.path) == nil,
            let root = try? Yams.compose(yaml: text)
        else { return nil }
        return root["id"]?.string
    }
}

extension EpisodePlan {
    /// The plan as lines for a terminal: task order, and per step the seeds with author and tier.
    public func summary() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        var lines = ["scenario \(scenarioID)  base seed \(baseSeed)  episode \(episodeIndex)  episode seed \(episodeSeed)",
                     "task order: \(steps.map(\.task.id).joined(separator: ", "))"]
        for step in steps {
            let tier = step.tier.map { "  tier \($0)" } ?? ""
            lines.append("step \(step.number)  \(step.task.id)  → \(step.task.targets.joined(separator: ", "))\(tier)")
            for seed in step.seeds {
                let kind = seed.tier.map { "tier \($0)\(seed.variant ?? "")" } ?? "static"
                let time = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seed.time)))
                lines.append("  seed \(seed.blockID) [\(kind)]  \(seed.author.name) <\(seed.author.email)>  \(time)  \(seed.path) @ \(seed.anchor.written)")
                lines.append("       \(seed.message.trimmingCharacters(in: .newlines))")
            }
        }
        return lines.joined(separator: "\n")
    }
}
