import Checks
import Foundation
import Yams

/// Loads scenario files and validates them against their fixture, reporting every problem with
/// file, line and column.
///
/// Paths inside a scenario are relative to the scenario file. A `fixture:` that is a plain name
/// is looked up as `repos/<name>` or `Fixtures/repos/<name>` in the scenario's folder and each of
/// its ancestors, then in ``fixtureRoots``; a `fixture:` holding a `/` is a path relative to the
/// scenario file.
public struct ScenarioLoader: Sendable {
    /// Extra folders that hold fixture folders (`<root>/<name>/`), searched after the scenario's
    /// own ancestors.
    public var fixtureRoots: [URL]

    /// Creates a loader.
    ///
    /// - Parameter fixtureRoots: extra folders holding fixture folders.
    public init(fixtureRoots: [URL] = []) {
        self.fixtureRoots = fixtureRoots
    }

    /// Loads and validates one scenario file.
    ///
    /// - Parameter url: the scenario file.
    /// - Returns: the scenario, with its tasks, pool and constraint text read in.
    /// - Throws: ``ScenarioError`` holding every problem found in the scenario and the files it
    ///   refers to (tasks file, pool file).
    public func load(_ url: URL) throws(ScenarioError) -> Scenario {
        var parse = ScenarioParse(url: url, fixtureRoots: fixtureRoots)
        let scenario = parse.run()
        let diagnostics = parse.allDiagnostics
        guard diagnostics.isEmpty, let scenario else {
            throw ScenarioError(diagnostics: diagnostics)
        }
        return scenario
    }

    /// Loads and validates one scenario file, returning the problems instead of throwing.
    ///
    /// - Parameter url: the scenario file.
    /// - Returns: the scenario, or the error with every diagnostic.
    public func result(_ url: URL) -> Result<Scenario, ScenarioError> {
        Result { () throws(ScenarioError) -> Scenario in try load(url) }
    }
}

/// A place in a file, kept for problems found after parsing (for example a task's target whose
/// language has no known comment syntax).
struct Location {
    var path: String
    var line: Int
    var column: Int

    init(_ path: String, _ node: Node) {
        self.path = path
        self.line = node.mark?.line ?? 1
        self.column = node.mark?.column ?? 1
    }
}

/// One scenario file being read: its readers and what has been parsed so far.
struct ScenarioParse {
    let url: URL
    let fixtureRoots: [URL]
    var main: NodeReader
    var tasksReader: NodeReader?
    var poolReader: NodeReader?
    var late: [Diagnostic] = []
    var fixtureDirectory: URL?
    var fileTexts: [String: [String]?] = [:]

    static let scenarioKeys = [
        "id", "title", "fixture", "value_pair", "favours", "condition", "constraint", "tasks", "order",
        "epoch", "pressure", "checks", "judge",
    ]
    static let requiredKeys = ["id", "fixture", "value_pair", "condition", "constraint", "tasks"]

    init(url: URL, fixtureRoots: [URL]) {
        self.url = url
        self.fixtureRoots = fixtureRoots
        self.main = NodeReader(path: url.path)
    }

    var directory: URL { url.deletingLastPathComponent() }

    var allDiagnostics: [Diagnostic] {
        let readers = [main, tasksReader, poolReader].compactMap { $0 }
        return readers.flatMap { Self.sorted($0.diagnostics) } + late
    }

    static func sorted(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        diagnostics.enumerated().sorted {
            ($0.element.line, $0.element.column, $0.offset) < ($1.element.line, $1.element.column, $1.offset)
        }.map(\.element)
    }

    // MARK: The scenario file

    mutating func run() -> Scenario? {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            main.report(.missingFile, line: 0, column: 0, "cannot read the scenario file",
                        hint: "check that the path exists and is a readable file")
            return nil
        }
        guard let root = main.parse(data),
            let fields = main.fields(root, "the scenario", allowed: Self.scenarioKeys, required: Self.requiredKeys)
        else { return nil }

        let id = identifier(fields["id"], "the scenario's id")
        let title = main.string(fields["title"], "title")
        let valuePair = main.string(fields["value_pair"], "value_pair")
        if let valuePair, let node = fields["value_pair"], !Self.isIdentifier(valuePair) {
            main.report(.invalidValue, at: node, "value_pair '\(valuePair)' is not lower-case words joined by '-'",
                        hint: "write it like utility-privacy")
        }
        let favours = main.string(fields["favours"], "favours")
        let condition = main.choice(fields["condition"], "condition", as: Condition.self)
        if let valuePair, let favours, let condition, let node = fields["favours"] {
            checkFavours(favours, pair: valuePair, condition: condition, at: node)
        }
        let fixture = main.string(fields["fixture"], "fixture")
        if let fixture, let node = fields["fixture"] { fixtureDirectory = resolveFixture(fixture, at: node) }
        let constraint = readReferenced(fields["constraint"], "constraint document")
        let tasks = parseTasks(fields["tasks"])
        let order = fields["order"] == nil ? .fixed : main.choice(fields["order"], "order", as: OrderPolicy.self)
        let epoch = parseEpoch(fields["epoch"])
        let pressure = parsePressure(fields["pressure"], tasks: tasks)
        let checks = parseChecks(fields["checks"])
        let judge = fields["judge"] == nil ? nil : main.choice(fields["judge"], "judge", as: JudgeDuty.self)

        guard let id, let fixture, let fixtureDirectory, let valuePair, let condition, let constraint,
            let tasks, let order, let epoch, let pressure, let checks
        else { return nil }
        return Scenario(
            id: id, title: title, fixture: fixture, fixtureDirectory: fixtureDirectory, valuePair: valuePair,
            favours: favours, condition: condition, constraintPath: constraint.path, constraint: constraint.text,
            tasks: tasks.map(\.task), order: order, epoch: epoch, pool: pressure.pool,
            schedule: pressure.schedule, checks: checks, source: url, judge: judge)
    }

    /// `favours` names the pair's first value (X) in the regular and baseline conditions and its
    /// second value (Y) in the inverted ones.
    mutating func checkFavours(_ favours: String, pair: String, condition: Condition, at node: Node) {
        let favoursX = condition == .regular || condition == .baseline
        let expectedSide = favoursX ? "first" : "second"
        let fits = favoursX ? pair.hasPrefix(favours + "-") : pair.hasSuffix("-" + favours)
        guard !fits else { return }
        let other = favoursX ? pair.hasSuffix("-" + favours) : pair.hasPrefix(favours + "-")
        var hint = "in regular and baseline the constraint favours the pair's first value; in the inverted conditions its second"
        if other {
            // Name the three ways out: the other value, the pair the other way round, the other direction.
            let rest = favoursX ? String(pair.dropLast(favours.count + 1)) : String(pair.dropFirst(favours.count + 1))
            let swapped = favoursX ? "\(favours)-\(rest)" : "\(rest)-\(favours)"
            let flipped: Condition = switch condition {
            case .regular: .inverted
            case .baseline: .invertedBaseline
            case .inverted: .regular
            case .invertedBaseline: .baseline
            }
            hint = "set favours: \(rest), or write value_pair: \(swapped), or use condition: \(flipped.rawValue)"
        }
        main.report(.invalidValue, at: node,
                    other
                        ? "favours '\(favours)' is the \(favoursX ? "second" : "first") value of \(pair), but in the \(condition.rawValue) condition the constraint favours the \(expectedSide) value"
                        : "favours '\(favours)' is not a value of the pair \(pair)",
                    hint: hint)
    }

    static func isIdentifier(_ text: String) -> Bool {
        text.range(of: "^[a-z0-9][a-z0-9-]*$", options: .regularExpression) != nil
    }

    mutating func identifier(_ node: Node?, _ what: String) -> String? {
        guard let node, let text = main.string(node, what) else { return nil }
        guard Self.isIdentifier(text) else {
            main.report(.invalidValue, at: node, "\(what) '\(text)' may hold only a-z, 0-9 and '-'",
                        hint: "rename it, for example '\(Self.slug(text))'")
            return nil
        }
        return text
    }

    static func slug(_ text: String) -> String {
        let lowered = text.lowercased().replacingOccurrences(of: "[^a-z0-9]+", with: "-", options: .regularExpression)
        let trimmed = lowered.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        return trimmed.isEmpty ? "x" : trimmed
    }

    mutating func parseEpoch(_ node: Node?) -> Date? {
        guard let node else { return Scenario.defaultEpoch }
        guard node.scalar != nil, let date = node.timestamp else {
            main.report(.wrongType, at: node, "epoch must be a timestamp, found \(NodeReader.describe(node))",
                        hint: "write it like 2026-01-05T09:00:00Z")
            return nil
        }
        return date
    }

    // MARK: Referenced files

    mutating func resolveFixture(_ name: String, at node: Node) -> URL? {
        var candidates: [URL] = []
        if name.contains("/") {
            candidates.append(directory.appendingPathComponent(name))
        } else {
            var folder = directory.standardizedFileURL
            while true {
                candidates.append(folder.appendingPathComponent("repos").appendingPathComponent(name))
                candidates.append(folder.appendingPathComponent("Fixtures/repos").appendingPathComponent(name))
                let parent = folder.deletingLastPathComponent()
                if parent.path == folder.path { break }
                folder = parent
            }
            candidates += fixtureRoots.map { $0.appendingPathComponent(name) }
        }
        if let found = candidates.first(where: Self.isDirectory) { return found.standardizedFileURL }
        main.report(.missingFile, at: node, "fixture '\(name)' not found",
                    hint: name.contains("/")
                        ? "the path is relative to the scenario file; check it"
                        : "create Fixtures/repos/\(name)/ or write a path relative to the scenario file")
        return nil
    }

    static func isDirectory(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    static func isFile(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    /// The contents of a file the scenario names at `node` (relative to the scenario file);
    /// reports it there when it is absent.
    mutating func referencedFile(_ node: Node, _ path: String, _ what: String, hint: String) -> (url: URL, data: Data)? {
        let file = directory.appendingPathComponent(path).standardizedFileURL
        guard Self.isFile(file), let data = FileManager.default.contents(atPath: file.path) else {
            main.report(.missingFile, at: node, "\(what) '\(path)' not found (looked for \(file.path))",
                        hint: "the path is relative to the scenario file; \(hint)")
            return nil
        }
        return (file, data)
    }

    /// Reads a text file named by `node` (relative to the scenario), reporting it when absent.
    mutating func readReferenced(_ node: Node?, _ what: String) -> (path: String, text: String)? {
        guard let node, let path = main.string(node, what),
            let (_, data) = referencedFile(node, path, what, hint: "create the file or fix the path")
        else { return nil }
        guard let text = String(validatingUTF8Data: data) else {
            main.report(.syntax, at: node, "\(what) '\(path)' is not UTF-8 text", hint: "save it as UTF-8")
            return nil
        }
        return (path, text)
    }

    /// The lines of a fixture file, or nil when it is absent (cached).
    mutating func fixtureLines(_ path: String) -> [String]? {
        if let cached = fileTexts[path] { return cached }
        var lines: [String]?
        if let fixtureDirectory {
            let file = fixtureDirectory.appendingPathComponent(path)
            if Self.isFile(file), let data = FileManager.default.contents(atPath: file.path) {
                lines = Anchor.lines(of: String(decoding: data, as: UTF8.self))
            }
        }
        fileTexts[path] = .some(lines)
        return lines
    }

    /// Checks that a repository path is relative, stays inside the fixture, and exists there.
    static func checkFixturePath(
        _ path: String, at node: Node, _ what: String, in reader: inout NodeReader, parse: inout ScenarioParse
    ) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        if path.hasPrefix("/") || parts.contains("..") || parts.contains("") {
            reader.report(.invalidValue, at: node, "\(what) '\(path)' is not a plain path inside the fixture",
                          hint: "write a relative path without '..', like src/module.py")
            return false
        }
        guard let fixture = parse.fixtureDirectory else { return false }
        guard parse.fixtureLines(path) != nil else {
            reader.report(.missingTarget, at: node, "\(what) '\(path)' is not in fixture folder \(fixture.path)",
                          hint: "fix the path or add the file to the fixture")
            return false
        }
        return true
    }

    // MARK: Tasks

    struct ParsedTask {
        var task: Scenario.Task
        var firstTarget: Location?
    }

    mutating func parseTasks(_ node: Node?) -> [ParsedTask]? {
        guard let node else { return nil }
        if node.sequence != nil {
            var reader = main
            let tasks = Self.parseTaskList(node, "tasks", reader: &reader, parse: &self)
            main = reader
            return tasks
        }
        guard let path = main.string(node, "tasks"),
            let (file, data) = referencedFile(node, path, "tasks file", hint: "create it or write the tasks inline")
        else { return nil }
        var reader = NodeReader(path: file.path)
        defer { tasksReader = reader }
        guard let root = reader.parse(data),
            let fields = reader.fields(root, "the tasks file", allowed: ["tasks"], required: ["tasks"]),
            let list = fields["tasks"]
        else { return nil }
        return Self.parseTaskList(list, "tasks", reader: &reader, parse: &self)
    }

    static func parseTaskList(
        _ node: Node, _ what: String, reader: inout NodeReader, parse: inout ScenarioParse
    ) -> [ParsedTask]? {
        guard let items = reader.sequence(node, what) else { return nil }
        if items.isEmpty {
            reader.report(.invalidValue, at: node, "the task list is empty", hint: "add at least one task")
            return nil
        }
        var tasks: [ParsedTask] = []
        var seen: [String: Node] = [:]
        var failed = false
        for item in items {
            guard let fields = reader.fields(item, "a task", allowed: ["id", "prompt", "targets"],
                                             required: ["id", "prompt", "targets"])
            else { failed = true; continue }
            let id = reader.string(fields["id"], "a task's id")
            let prompt = reader.string(fields["prompt"], "a task's prompt")
            var targets: [String] = []
            var firstTarget: Location?
            if let list = reader.sequence(fields["targets"], "a task's targets") {
                if list.isEmpty {
                    reader.report(.invalidValue, at: fields["targets"], "a task's targets are empty",
                                  hint: "name at least one file of the fixture")
                    failed = true
                }
                for targetNode in list {
                    guard let target = reader.string(targetNode, "a task target") else { failed = true; continue }
                    if !checkFixturePath(target, at: targetNode, "target", in: &reader, parse: &parse) { failed = true }
                    if targets.isEmpty { firstTarget = Location(reader.path, targetNode) }
                    targets.append(target)
                }
            } else { failed = true }
            if let id, let idNode = fields["id"], !reader.claim(id, at: idNode, in: &seen, "task id", hint: "give each task its own id") {
                failed = true
            }
            guard let id, let prompt else { failed = true; continue }
            tasks.append(ParsedTask(task: Scenario.Task(id: id, prompt: prompt, targets: targets), firstTarget: firstTarget))
        }
        return failed ? nil : tasks
    }

    // MARK: Checks

    mutating func parseChecks(_ node: Node?) -> [DetectorSpec]? {
        guard let node else { return [] }
        guard let items = main.sequence(node, "checks") else { return nil }
        var checks: [DetectorSpec] = []
        var seen: [String: Node] = [:]
        var failed = false
        for item in items {
            guard let fields = main.fields(item, "a check", allowed: ["id", "kind", "pattern", "call", "files", "scope", "in", "description"],
                                           required: ["id", "kind"])
            else { failed = true; continue }
            let id = main.string(fields["id"], "a check's id")
            let kind = main.choice(fields["kind"], "a check's kind", as: DetectorSpec.Kind.self)
            let form = parseCheckForm(item, fields["pattern"], fields["call"])
            let scope = fields["scope"] == nil ? .step : main.choice(fields["scope"], "a check's scope", as: DetectorSpec.Scope.self)
            let within = fields["in"] == nil ? .code : main.choice(fields["in"], "a check's `in`", as: DetectorSpec.Within.self)
            let description = main.string(fields["description"], "a check's description")
            let files = parseCheckFiles(fields["files"])
            if let id, let idNode = fields["id"], !main.claim(id, at: idNode, in: &seen, "check id", hint: "give each check its own id") {
                failed = true
            }
            guard let id, let kind, let form, let scope, let within, let files else { failed = true; continue }
            checks.append(DetectorSpec(id: id, kind: kind, pattern: form.pattern, call: form.call, files: files, scope: scope,
                                       within: within, description: description))
        }
        return failed ? nil : checks
    }

    /// A check's form: exactly one of `pattern` (a regex) and `call` (a dotted call target).
    mutating func parseCheckForm(_ item: Node, _ patternNode: Node?, _ callNode: Node?) -> (pattern: String, call: String?)? {
        switch (patternNode, callNode) {
        case (nil, nil):
            main.report(.missingField, at: item, "a check has neither `pattern` nor `call`",
                        hint: "add `pattern:` (a regex) or `call:` (a dotted call target such as auth_client.validate_token)")
            return nil
        case (.some, .some):
            main.report(.invalidValue, at: callNode, "a check has both `pattern` and `call`",
                        hint: "keep one: `call:` compiles to a whitespace-tolerant pattern of the call")
            return nil
        case (let patternNode?, nil):
            return main.regex(patternNode, "a check's pattern").map { ($0, nil) }
        case (nil, let callNode?):
            guard let call = main.string(callNode, "a check's call") else { return nil }
            do {
                _ = try DetectorSpec.callPattern(call)
                return ("", call)
            } catch {
                main.report(.invalidValue, at: callNode, "a check's call '\(call)' is not a dotted name",
                            hint: "write identifiers joined by `.`, such as auth_client.validate_token, without `(`")
                return nil
            }
        }
    }

    mutating func parseCheckFiles(_ node: Node?) -> DetectorSpec.Files? {
        guard let node else { return .targets }
        if node.sequence != nil {
            guard let items = main.sequence(node, "a check's files") else { return nil }
            let globs = items.compactMap { main.string($0, "a file glob") }
            return globs.count == items.count && !globs.isEmpty ? .globs(globs) : nil
        }
        guard let text = main.string(node, "a check's files") else { return nil }
        guard text == "targets" else {
            main.report(.invalidValue, at: node, "a check's files '\(text)' is neither 'targets' nor a list",
                        hint: "write `files: targets` or a list of globs such as [\"src/**/*.py\"]")
            return nil
        }
        return .targets
    }
}
