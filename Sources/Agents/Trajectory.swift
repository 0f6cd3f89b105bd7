import Foundation
import Yams

/// A scripted agent's plan: per task, what to do in each step, and when to drift.
///
/// Loaded from YAML (format in `docs/agents.md`); every problem is reported as `file:line: what;
/// what to do`.
public struct Trajectory: Sendable, Hashable {
    /// The task id that applies to every task without an entry of its own.
    public static let anyTask = "*"

    /// The file it was loaded from.
    public var file: String
    /// What the trajectory is, in words (for example that it demonstrates, not models, an agent).
    public var description: String?
    /// Whether the file declares itself a demonstration agent rather than a model's recording.
    public var demonstration: Bool
    /// The entries by task id (``anyTask`` for the default).
    public var entries: [String: Entry]

    /// Creates a trajectory.
    public init(file: String, description: String? = nil, demonstration: Bool = false, entries: [String: Entry]) {
        self.file = file
        self.description = description
        self.demonstration = demonstration
        self.entries = entries
    }

    /// What the agent does for one task: a compliant variant, optionally a drifting one and the
    /// rule deciding which one a step uses.
    public struct Entry: Sendable, Hashable {
        /// The variant used while the rule does not say drift.
        public var comply: Variant
        /// The variant used when the rule says drift (nil: never drifts).
        public var drift: Variant?
        /// When the drifting variant is used.
        public var rule: DriftRule

        /// Creates an entry.
        public init(comply: Variant, drift: Variant? = nil, rule: DriftRule = .never) {
            self.comply = comply
            self.drift = drift
            self.rule = rule
        }
    }

    /// One way of doing a task: the final message and the actions, in order.
    public struct Variant: Sendable, Hashable {
        /// The agent's final message (placeholders allowed).
        public var message: String
        /// The actions, in order.
        public var actions: [Action]

        /// Creates a variant.
        public init(message: String, actions: [Action]) {
            self.message = message
            self.actions = actions
        }
    }

    /// When an entry uses its drifting variant.
    public enum DriftRule: Sendable, Hashable {
        /// Always the compliant variant.
        case never
        /// The drifting variant from this episode step (1-based) on.
        case fromStep(Int)

        /// Whether step `step` drifts.
        public func drifts(atStep step: Int) -> Bool {
            switch self {
            case .never: false
            case .fromStep(let first): step >= first
            }
        }
    }

    /// One thing the agent does inside the sandbox.
    public struct Action: Sendable, Hashable {
        /// What the action does.
        public enum Kind: Sendable, Hashable {
            /// Writes `content` to the file `path` (folders created), replacing it.
            case write(path: String, content: String)
            /// Applies a unified diff with `patch -p1` in the workspace root.
            case patch(String)
            /// Replaces `old` by `new` in the file `path`; the file must hold `old` exactly `count` times.
            case replace(path: String, old: String, new: String, count: Int)
            /// Runs a `/bin/sh -c` command line, with `stdin` as its standard input.
            case shell(command: String, stdin: String)
        }

        /// What the action does.
        public var kind: Kind
        /// The line of the trajectory file where the action starts (0 when not from a file).
        public var line: Int

        /// Creates an action.
        public init(_ kind: Kind, line: Int = 0) {
            self.kind = kind
            self.line = line
        }

        /// The action's keyword, as in the file.
        public var keyword: String {
            switch kind {
            case .write: "write"
            case .patch: "patch"
            case .replace: "replace"
            case .shell: "shell"
            }
        }
    }

    /// The entry for a task: its own, else the ``anyTask`` entry.
    public func entry(forTask task: String) -> Entry? {
        entries[task] ?? entries[Self.anyTask]
    }

    /// Loads and validates a trajectory file.
    /// - Parameter path: the YAML file.
    /// - Throws: ``AgentError`` `.missingTrajectory` when the file cannot be read, `.invalidTrajectory`
    ///   naming `file:line` for YAML errors, unknown keys, wrong types and missing values.
    public static func load(path: String) throws(AgentError) -> Trajectory {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AgentError(.missingTrajectory, "\(path): no trajectory file here; write one (format in docs/agents.md) or fix the agent's `trajectory` setting")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw AgentError(.invalidTrajectory, "\(path): the file is not UTF-8 text; save it as UTF-8")
        }
        return try parse(text, file: path)
    }

    /// Parses and validates trajectory YAML.
    /// - Parameters:
    ///   - text: the YAML text.
    ///   - file: the file name used in messages.
    /// - Throws: ``AgentError`` `.invalidTrajectory` naming `file:line`.
    public static func parse(_ text: String, file: String) throws(AgentError) -> Trajectory {
        let reader = TrajectoryReader(file: file)
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { throw reader.error(nil, "the file is empty", "add a `tasks:` mapping") }
            root = node
        } catch let error as AgentError {
            throw error
        } catch let error as YamlError {
            switch error {
            case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
                 .composer(let context, let problem, let mark, _):
                let during = context.map { " (\($0.text))" } ?? ""
                throw AgentError(.invalidTrajectory, "\(file):\(mark.line):\(mark.column): not valid YAML: \(problem)\(during); fix the syntax there")
            default:
                throw AgentError(.invalidTrajectory, "\(file): not valid YAML: \(error); fix the syntax")
            }
        } catch {
            throw AgentError(.invalidTrajectory, "\(file): not valid YAML: \(error); fix the syntax")
        }
        return try reader.trajectory(root)
    }
}

/// Reads the YAML node tree of a trajectory into values, naming file and line on every problem.
private struct TrajectoryReader {
    let file: String

    func error(_ node: Node?, _ what: String, _ fix: String) -> AgentError {
        let place = node?.mark.map { "\(file):\($0.line)" } ?? file
        return AgentError(.invalidTrajectory, "\(place): \(what); \(fix)")
    }

    /// The mapping's pairs by key, refusing keys outside `allowed` and keys given twice.
    func mapping(_ node: Node, _ what: String, allowed: Set<String>?) throws(AgentError) -> [(key: String, keyNode: Node, value: Node)] {
        guard let mapping = node.mapping else { throw error(node, "\(what) must be a mapping", "write it as `key: value` lines") }
        var seen = Set<String>()
        var pairs: [(String, Node, Node)] = []
        for (keyNode, value) in mapping {
            let key = keyNode.scalar?.string ?? ""
            if let allowed, !allowed.contains(key) {
                throw error(keyNode, "unknown key `\(key)` in \(what)", "use one of: \(allowed.sorted().joined(separator: ", "))")
            }
            guard seen.insert(key).inserted else { throw error(keyNode, "key `\(key)` appears twice in \(what)", "keep one") }
            pairs.append((key, keyNode, value))
        }
        return pairs
    }

    func string(_ node: Node, _ what: String) throws(AgentError) -> String {
        guard let scalar = node.scalar else { throw error(node, "\(what) must be text", "write a string (use `|` for several lines)") }
        return scalar.string
    }

    func positiveInt(_ node: Node, _ what: String) throws(AgentError) -> Int {
        guard let value = node.scalar.flatMap({ Int($0.string) }), value >= 1 else {
            throw error(node, "\(what) must be a whole number of at least 1", "write e.g. `\(what): 1`")
        }
        return value
    }

    func trajectory(_ root: Node) throws(AgentError) -> Trajectory {
        var result = Trajectory(file: file, entries: [:])
        var tasks: Node?
        for pair in try mapping(root, "the trajectory", allowed: ["description", "demonstration", "tasks"]) {
            switch pair.key {
            case "description": result.description = try string(pair.value, "description")
            case "demonstration":
                guard let flag = pair.value.scalar.flatMap({ Bool($0.string) }) else {
                    throw error(pair.value, "`demonstration` must be true or false", "write `demonstration: true` for a demonstration agent")
                }
                result.demonstration = flag
            default: tasks = pair.value
            }
        }
        guard let tasks else { throw error(root, "the trajectory has no `tasks`", "add `tasks:` with an entry per task id or `\"*\"`") }
        for pair in try mapping(tasks, "tasks", allowed: nil) {
            guard !pair.key.isEmpty else { throw error(pair.keyNode, "a task id is empty", "write the task's id or \"*\"") }
            result.entries[pair.key] = try entry(pair.value, task: pair.key)
        }
        guard !result.entries.isEmpty else { throw error(tasks, "`tasks` is empty", "add an entry per task id or `\"*\"`") }
        return result
    }

    func entry(_ node: Node, task: String) throws(AgentError) -> Trajectory.Entry {
        let what = "task `\(task)`"
        let pairs = try mapping(node, what, allowed: ["message", "actions", "comply", "drift", "drift_from_step"])
        let value = { (key: String) in pairs.first { $0.key == key }?.value }
        if value("comply") == nil {
            guard value("drift") == nil, value("drift_from_step") == nil else {
                throw error(node, "\(what) has `drift` or `drift_from_step` without `comply`", "give both `comply` and `drift` variants, or plain `message` and `actions`")
            }
            return Trajectory.Entry(comply: try variant(node, pairs, what))
        }
        guard value("message") == nil, value("actions") == nil else {
            throw error(node, "\(what) mixes plain `message`/`actions` with `comply`", "put message and actions inside `comply` and `drift`")
        }
        let comply = try variant(value("comply")!, nil, "\(what), comply")
        let drift = try value("drift").map { node throws(AgentError) in try variant(node, nil, "\(what), drift") }
        var rule = Trajectory.DriftRule.never
        if let ruleNode = value("drift_from_step"), ruleNode.scalar?.string != "never" {
            rule = .fromStep(try positiveInt(ruleNode, "drift_from_step"))
        }
        if drift == nil, rule != .never {
            throw error(node, "\(what) has `drift_from_step` but no `drift` variant", "add `drift:` with message and actions, or write `drift_from_step: never`")
        }
        if drift != nil, value("drift_from_step") == nil {
            throw error(node, "\(what) has a `drift` variant but no `drift_from_step`", "add `drift_from_step: N` (first drifting step) or `never`")
        }
        return Trajectory.Entry(comply: comply, drift: drift, rule: rule)
    }

    func variant(_ node: Node, _ known: [(key: String, keyNode: Node, value: Node)]?, _ what: String) throws(AgentError) -> Trajectory.Variant {
        let pairs: [(key: String, keyNode: Node, value: Node)]
        if let known { pairs = known } else { pairs = try mapping(node, what, allowed: ["message", "actions"]) }
        var message = ""
        var actions: [Trajectory.Action] = []
        var hasActions = false
        for pair in pairs {
            switch pair.key {
            case "message": message = try string(pair.value, "`message` of \(what)")
            case "actions":
                hasActions = true
                guard let list = pair.value.sequence else { throw error(pair.value, "`actions` of \(what) must be a list", "write one `- write:`/`- patch:`/`- replace:`/`- shell:` item per action") }
                for item in list { actions.append(try action(item, what)) }
            default: break
            }
        }
        guard hasActions else { throw error(node, "\(what) has no `actions`", "add `actions:` (an empty list `[]` for a step that changes nothing)") }
        return Trajectory.Variant(message: message, actions: actions)
    }

    func action(_ node: Node, _ what: String) throws(AgentError) -> Trajectory.Action {
        let pairs = try mapping(node, "an action of \(what)", allowed: ["write", "content", "patch", "replace", "old", "new", "count", "shell", "stdin"])
        let verbs = pairs.filter { ["write", "patch", "replace", "shell"].contains($0.key) }
        guard verbs.count == 1, let verb = verbs.first else {
            throw error(node, "an action of \(what) must have exactly one of `write`, `patch`, `replace`, `shell`", "split it into one action per item")
        }
        let allowedExtras: [String: Set<String>] = ["write": ["content"], "patch": [], "replace": ["old", "new", "count"], "shell": ["stdin"]]
        for pair in pairs where pair.key != verb.key && !allowedExtras[verb.key]!.contains(pair.key) {
            throw error(pair.keyNode, "`\(pair.key)` does not belong to a `\(verb.key)` action", "remove it, or use the action it belongs to")
        }
        func required(_ key: String) throws(AgentError) -> String {
            guard let pair = pairs.first(where: { $0.key == key }) else {
                throw error(node, "the `\(verb.key)` action of \(what) needs `\(key)`", "add `\(key): ...`")
            }
            return try string(pair.value, "`\(key)`")
        }
        let line = node.mark?.line ?? 0
        let main = try string(verb.value, "`\(verb.key)`")
        switch verb.key {
        case "write": return Trajectory.Action(.write(path: main, content: try required("content")), line: line)
        case "patch": return Trajectory.Action(.patch(main), line: line)
        case "replace":
            let count = try pairs.first { $0.key == "count" }.map { pair throws(AgentError) in try positiveInt(pair.value, "count") } ?? 1
            return Trajectory.Action(.replace(path: main, old: try required("old"), new: try required("new"), count: count), line: line)
        default:
            let stdin = try pairs.first { $0.key == "stdin" }.map { pair throws(AgentError) in try string(pair.value, "`stdin`") } ?? ""
            return Trajectory.Action(.shell(command: main, stdin: stdin), line: line)
        }
    }
}
