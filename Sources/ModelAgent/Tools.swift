import Agents
import Foundation
import Sandbox

/// The tools a model agent offers, as the tools file declares them (name, description, JSON
/// schema), and how each runs: every one is a program started in the episode's sandbox, in the
/// workspace, never an access of the runner to the agent's files.
struct ToolSet: Sendable {
    /// One declared tool.
    struct Tool: Sendable {
        var name: String
        var description: String
        /// The parameters' JSON schema, as JSON text.
        var parameters: Data
    }

    /// The tools driftbox implements.
    static let implemented = ["bash", "read", "write", "edit", "list", "grep"]

    /// The file's `version`.
    var version: String
    var tools: [Tool]

    /// Loads a tools file: `{"version": ..., "tools": [{"name", "description", "parameters"}]}`.
    static func load(path: String, agent: String) throws(AgentError) -> ToolSet {
        func invalid(_ what: String) -> AgentError {
            AgentError(.invalidSetting, "agent '\(agent)' (kind model): the tools file \(path) \(what); fix the file or name another with `tools:` (docs/agents.md)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AgentError(.missingSetting, "agent '\(agent)' (kind model): the tools file \(path) cannot be read; name an existing file with `tools:`")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { throw invalid("is not a JSON object") }
        guard let version = object["version"] as? String, let list = object["tools"] as? [[String: Any]], !list.isEmpty else {
            throw invalid("needs a `version` text and a non-empty `tools` list")
        }
        var tools: [Tool] = []
        for (index, entry) in list.enumerated() {
            guard let name = entry["name"] as? String, let description = entry["description"] as? String,
                  let parameters = entry["parameters"] as? [String: Any],
                  let schema = try? JSONSerialization.data(withJSONObject: parameters, options: [.sortedKeys]) else {
                throw invalid("has a tool (tools[\(index)]) without `name`, `description` and an object `parameters`")
            }
            guard implemented.contains(name) else { throw invalid("declares the tool '\(name)', which driftbox does not implement (it implements \(implemented.joined(separator: ", ")))") }
            guard !tools.contains(where: { $0.name == name }) else { throw invalid("declares the tool '\(name)' twice") }
            tools.append(Tool(name: name, description: description, parameters: schema))
        }
        return ToolSet(version: version, tools: tools)
    }
}

/// What a tool call produced, before it is capped for the model.
struct ToolOutcome: Sendable {
    var text: String
    var isError: Bool
    /// The sandboxed commands it ran.
    var commands: [CommandRecord]
    var cpu: Duration
    var warnings: [String]
}

/// Runs tool calls in the sandbox of one step.
struct ToolRunner: Sendable {
    let context: AgentContext
    let tools: ToolSet
    /// The longest a tool's command may run (the step's remaining time is the other bound).
    let toolTimeout: Duration
    let deadline: ContinuousClock.Instant

    /// The largest file `edit` rewrites; the sandbox keeps at most this much of its read.
    static let editLimit = 1 << 20

    /// Runs one call. Unknown tools, malformed arguments and failed edits are results the model
    /// sees (`isError`); only a sandbox that cannot start a process throws.
    func run(_ call: ToolCall) async throws -> ToolOutcome {
        guard tools.tools.contains(where: { $0.name == call.name }) else {
            return failure("there is no tool named '\(call.name)'; the tools are: \(tools.tools.map(\.name).joined(separator: ", "))")
        }
        let parsed = call.arguments.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? [:]
            : (try? JSONSerialization.jsonObject(with: Data(call.arguments.utf8))) as? [String: Any]
        guard let arguments = parsed else {
            return failure("the arguments of this \(call.name) call are not a JSON object (\(call.arguments.prefix(200))); call the tool again with valid JSON arguments")
        }
        func text(_ key: String, required: Bool = true) -> String?? {
            switch arguments[key] {
            case nil, is NSNull: return required ? nil : .some(nil)
            case let value as String: return .some(value)
            default: return nil
            }
        }
        func missing(_ key: String) -> ToolOutcome { failure("\(call.name) needs the argument `\(key)` as a string") }
        switch call.name {
        case "bash":
            guard let command = text("command") ?? nil else { return missing("command") }
            return try await bash(command)
        case "read":
            guard let path = text("path") ?? nil else { return missing("path") }
            let offset = max(1, integer(arguments["offset"]) ?? 1)
            let limit = max(1, integer(arguments["limit"]) ?? 2000)
            return try await read(path, from: offset, count: limit)
        case "write":
            guard let path = text("path") ?? nil else { return missing("path") }
            guard let content = text("content") ?? nil else { return missing("content") }
            return try await write(path, Array(content.utf8))
        case "edit":
            guard let path = text("path") ?? nil else { return missing("path") }
            guard let old = text("old_string") ?? nil else { return missing("old_string") }
            guard let new = text("new_string") ?? nil else { return missing("new_string") }
            return try await edit(path, old: old, new: new, all: arguments["replace_all"] as? Bool ?? false)
        case "list":
            guard let path = text("path", required: false) else { return missing("path") }
            return try await list(path ?? ".")
        default:  // grep
            guard let pattern = text("pattern") ?? nil else { return missing("pattern") }
            guard let path = text("path", required: false), let include = text("include", required: false) else { return missing("path") }
            return try await grep(pattern, in: path ?? ".", include: include)
        }
    }

    func failure(_ text: String) -> ToolOutcome { ToolOutcome(text: "error: " + text, isError: true, commands: [], cpu: .zero, warnings: []) }

    /// A whole number argument within ±10^9 (a model may send 1e300, which does not fit an Int).
    func integer(_ value: Any?) -> Int? {
        let number: Double
        if let text = value as? String, let parsed = Double(text) { number = parsed } else if let value = value as? NSNumber, !(value is Bool) {
            number = value.doubleValue
        } else {
            return nil
        }
        guard number.isFinite, abs(number) <= 1e9 else { return nil }
        return Int(number)
    }

    /// A path as a program operand: relative ones start with `./`, so no name is read as an
    /// option or (by awk) as an assignment.
    static func operand(_ path: String) -> String {
        path.isEmpty ? "." : path.hasPrefix("/") || path.hasPrefix("./") ? path : "./" + path
    }

    /// Runs one program in the sandbox with what is left of the step's time.
    func spawn(_ executable: String, _ arguments: [String], stdin: [UInt8] = []) async throws -> (SandboxResult, CommandRecord) {
        let left = deadline - ContinuousClock.now
        let command = SandboxedCommand(executable, arguments, workspace: context.workspace, readOnlyPaths: context.readOnlyPaths, stdin: stdin,
                                       timeout: max(.milliseconds(1), min(left, toolTimeout)))
        let result = try await context.sandbox.run(command)
        let record = CommandRecord(argv: [executable] + arguments, termination: result.termination.description, timedOut: result.timedOut,
                                   stdoutTail: String(decoding: result.stdout.bytes.suffix(4096), as: UTF8.self),
                                   stderrTail: String(decoding: result.stderr.bytes.suffix(4096), as: UTF8.self),
                                   outputTruncated: result.stdout.truncated || result.stderr.truncated, wallSeconds: seconds(result.wallTime))
        return (result, record)
    }

    func outcome(_ text: String, isError: Bool, _ runs: [(SandboxResult, CommandRecord)]) -> ToolOutcome {
        ToolOutcome(text: text, isError: isError, commands: runs.map(\.1), cpu: runs.reduce(.zero) { $0 + $1.0.cpuTime },
                    warnings: runs.flatMap(\.0.isolationWarnings))
    }

    /// The text of a captured stream, with a note when the sandbox dropped the rest.
    static func captured(_ output: CapturedOutput, _ name: String) -> String {
        output.text + (output.truncated ? "\n[driftbox: \(name) cut after \(output.bytes.count) of \(output.totalBytes) bytes]" : "")
    }

    func bash(_ command: String) async throws -> ToolOutcome {
        let run = try await spawn("/bin/sh", ["-c", command])
        let result = run.0
        var text = Self.captured(result.stdout, "standard output")
        if result.stderr.totalBytes > 0 { text += (text.isEmpty || text.hasSuffix("\n") ? "" : "\n") + "[stderr]\n" + Self.captured(result.stderr, "standard error") }
        if result.timedOut { text += "\n[driftbox: the command was stopped: its time ran out]" }
        text += (text.isEmpty || text.hasSuffix("\n") ? "" : "\n") + "[\(result.termination)]"
        return outcome(text, isError: false, [run])
    }

    func read(_ path: String, from offset: Int, count: Int) async throws -> ToolOutcome {
        let last = offset &+ count &- 1
        let program = "NR>=a && NR<=b {printf \"%6d\\t%s\\n\", NR, $0} NR>b {exit}"
        let run = try await spawn("/bin/sh", ["-c", "test -f \"$3\" || { echo \"not a file: $3\" >&2; exit 2; }; exec awk -v a=\"$1\" -v b=\"$2\" \"$4\" \"$3\"",
                                              "sh", String(offset), String(last), Self.operand(path), program])
        guard run.0.termination == .exited(0) else { return outcome("error: " + run.0.stderr.text, isError: true, [run]) }
        let text = Self.captured(run.0.stdout, "the file's text")
        return outcome(text.isEmpty ? "(no lines from line \(offset))" : text, isError: false, [run])
    }

    /// Writes a file whole (its folders made), from stdin.
    func write(_ path: String, _ bytes: [UInt8]) async throws -> ToolOutcome {
        let run = try await spawn("/bin/sh", ["-c", "mkdir -p -- \"$(dirname -- \"$1\")\" && cat > \"$1\"", "sh", Self.operand(path)], stdin: bytes)
        guard run.0.termination == .exited(0) else { return outcome("error: " + run.0.stderr.text, isError: true, [run]) }
        return outcome("wrote \(bytes.count) bytes to \(path)", isError: false, [run])
    }

    func edit(_ path: String, old: String, new: String, all: Bool) async throws -> ToolOutcome {
        guard !old.isEmpty else { return failure("old_string is empty; give the exact text to replace") }
        let operand = Self.operand(path)
        let reading = try await spawn("/bin/sh", ["-c", "test -f \"$1\" || { echo \"not a file: $1\" >&2; exit 2; }; exec head -c \(Self.editLimit + 1) -- \"$1\"", "sh", operand])
        guard reading.0.termination == .exited(0) else { return outcome("error: " + reading.0.stderr.text, isError: true, [reading]) }
        guard reading.0.stdout.totalBytes <= Self.editLimit else {
            return outcome("error: \(path) is larger than \(Self.editLimit) bytes; edit it with bash (sed) instead", isError: true, [reading])
        }
        guard let content = String(validating: reading.0.stdout.bytes, as: UTF8.self) else {
            return outcome("error: \(path) is not UTF-8 text; edit it with bash instead", isError: true, [reading])
        }
        let occurrences = content.components(separatedBy: old).count - 1
        guard occurrences > 0 else {
            return outcome("error: old_string does not occur in \(path); read the file and copy the exact text, whitespace included", isError: true, [reading])
        }
        guard occurrences == 1 || all else {
            return outcome("error: old_string occurs \(occurrences) times in \(path); include more surrounding text to make it unique, or set replace_all", isError: true, [reading])
        }
        let updated = content.replacingOccurrences(of: old, with: new)
        let writing = try await spawn("/bin/sh", ["-c", "cat > \"$1\"", "sh", operand], stdin: Array(updated.utf8))
        guard writing.0.termination == .exited(0) else { return outcome("error: " + writing.0.stderr.text, isError: true, [reading, writing]) }
        return outcome("replaced \(occurrences) occurrence(s) in \(path)", isError: false, [reading, writing])
    }

    func list(_ path: String) async throws -> ToolOutcome {
        let run = try await spawn("ls", ["-1Ap", "--", Self.operand(path)])
        guard run.0.termination == .exited(0) else { return outcome("error: " + run.0.stderr.text, isError: true, [run]) }
        return outcome(Self.captured(run.0.stdout, "the listing"), isError: false, [run])
    }

    func grep(_ pattern: String, in path: String, include: String?) async throws -> ToolOutcome {
        let run = try await spawn("grep", ["-rnIE", "--exclude-dir=.git"] + (include.map { ["--include=" + $0] } ?? []) + ["-e", pattern, "--", Self.operand(path)])
        switch run.0.termination {
        case .exited(0): return outcome(Self.captured(run.0.stdout, "the matches"), isError: false, [run])
        case .exited(1): return outcome("no matches", isError: false, [run])
        default: return outcome("error: " + run.0.stderr.text, isError: true, [run])
        }
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

extension String {
    /// The text cut to at most `limit` bytes of UTF-8: its head and tail with a marker between
    /// them saying how much was cut; and the number of bytes cut (0: none).
    func capped(_ limit: Int) -> (String, Int) {
        let bytes = Array(utf8)
        guard bytes.count > limit else { return (self, 0) }
        var head = limit / 2, tail = limit - head
        while head > 0, bytes[head] & 0xC0 == 0x80 { head -= 1 }  // no partial character
        while tail > 0, bytes[bytes.count - tail] & 0xC0 == 0x80 { tail -= 1 }
        let cut = bytes.count - head - tail
        return (String(decoding: bytes[..<head], as: UTF8.self) + "\n[driftbox: \(cut) bytes cut here]\n"
                + String(decoding: bytes[(bytes.count - tail)...], as: UTF8.self), cut)
    }
}
