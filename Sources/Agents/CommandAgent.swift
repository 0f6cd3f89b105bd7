import Foundation
import Sandbox

/// An agent CLI run once per step inside the sandbox (opencode, aider, claude, codex,
/// mini-swe-agent, or any program), with argument templates, an optional prompt on stdin and
/// named API-key variables.
///
/// Settings (all text, from the suite): `preset`, `command`, `args`, `prompt_stdin`, `model`,
/// `env` (names of the runner's variables to pass in, comma-separated), `env.NAME` (a variable
/// set inside), `output` (`text` or the preset's parser), `network` (`gateway`, `host` or `none`),
/// and the upstream the gateway forwards to: `base_url`, `protocol`, `key_env`, `ca_bundle`.
/// Templates may use `{prompt}`, `{step}`, `{session}`, `{model}`, `{workspace}`, `{task}`,
/// `{target}`, `{constraint}` (the constraint document, for CLIs that do not read `AGENTS.md`),
/// `{session_uuid}` (the session id as a UUID),
/// and `{targets}` as a whole word (every target, one argument each).
public struct CommandAgent: Agent {
    /// The agent's id as the suite names it.
    public let id: String
    /// The program run each step.
    public let program: String
    /// Argument template of the first step of an episode.
    public let firstStep: [String]
    /// Argument template of later steps.
    public let laterSteps: [String]
    /// Whether the prompt is written to the program's stdin (else stdin is empty and closed).
    public let promptOnStdin: Bool
    /// The `model` setting ('' when absent).
    public let model: String
    /// Variables set inside (templates).
    public let environment: [String: String]
    /// Names of the runner's variables passed in (API keys); nothing else of the runner's
    /// environment reaches the CLI.
    public let passEnvironment: [String]
    /// How the final message is read.
    public let output: CommandPreset.Output
    /// How the CLI reaches the network: `gateway` (the default with a preset or a `base_url`),
    /// `host` (policy `network`, the explicit opt-in) or `none`.
    public let network: AgentNetwork
    /// The model API the gateway forwards to (with `network: gateway`).
    public let upstream: ModelUpstream?
    /// Names at the workspace root the step snapshots leave out: the preset's, then the
    /// `snapshot_ignore` setting's.
    public let snapshotIgnore: [String]
    /// Files written before the CLI runs, every step (the preset's `setupFiles`).
    public let setupFiles: [String: String]
    /// `network` for `network: host`, else `default`.
    public var sandboxPolicy: String { network == .host ? "network" : "default" }

    /// The settings a command agent accepts (besides `env.NAME`).
    public static let settingKeys = ["preset", "command", "args", "prompt_stdin", "model", "env", "output", "network", "base_url", "protocol", "key_env", "ca_bundle", "extra_args", "snapshot_ignore"]
        + UpstreamTuning.settingKeys

    /// Creates a command agent from suite settings.
    /// - Parameters:
    ///   - id: the agent's id.
    ///   - settings: the suite's keys for the agent.
    ///   - baseDirectory: the suite file's folder (a relative `command` path with a `/` starts there).
    /// - Throws: ``AgentError`` for an unknown setting or preset, no `command` without a preset,
    ///   unbalanced quotes in `args`, a template naming `{model}` without a model, bad values.
    public init(id: String, settings: [String: String], baseDirectory: String) throws(AgentError) {
        func invalid(_ what: String, _ fix: String) -> AgentError {
            AgentError(.invalidSetting, "agent '\(id)' (kind command): \(what); \(fix)")
        }
        for key in settings.keys where !Self.settingKeys.contains(key) && !key.hasPrefix("env.") {
            throw invalid("unknown setting `\(key)`", "use one of \(Self.settingKeys.joined(separator: ", ")) or env.NAME (docs/agents.md)")
        }
        var preset: CommandPreset?
        if let name = settings["preset"] {
            guard let found = CommandPreset.all[name] else {
                throw invalid("unknown preset '\(name)'", "use one of \(CommandPreset.all.keys.sorted().joined(separator: ", ")), or give `command` and `args`")
            }
            preset = found
        }
        model = settings["model"] ?? ""
        var first: [String], later: [String]
        if let args = settings["args"] {
            let words = try Self.split(args).get()
            (first, later) = (words, words)
        } else if let preset {
            let extra = model.isEmpty ? [] : preset.modelArguments
            (first, later) = (preset.firstStep + extra, preset.laterSteps + extra)
        } else {
            (first, later) = (["{prompt}"], ["{prompt}"])
        }
        if let extra = settings["extra_args"] {
            // Words added after the preset's (or `args`') arguments, without replacing them.
            let words = try Self.split(extra).get()
            first += words
            later += words
        }
        firstStep = first
        laterSteps = later
        guard let program = settings["command"] ?? preset?.program, !program.isEmpty else {
            throw AgentError(.missingSetting, "agent '\(id)' (kind command) needs `command` (the program) or `preset` (one of \(CommandPreset.all.keys.sorted().joined(separator: ", "))); add one to its entry in the suite")
        }
        self.program = program.contains("/") ? AgentFactory.resolve(program, against: baseDirectory) : program
        if model.isEmpty, (firstStep + laterSteps).contains(where: { $0.contains("{model}") }) {
            throw AgentError(.missingSetting, "agent '\(id)' (kind command): the arguments use {model} but no `model` is set; add `model: NAME`")
        }
        switch settings["prompt_stdin"] ?? String(preset?.promptOnStdin ?? false) {
        case "true": promptOnStdin = true
        case "false": promptOnStdin = false
        case let other: throw invalid("`prompt_stdin: \(other)` is neither true nor false", "write `prompt_stdin: true` to send the prompt on stdin")
        }
        var environment = preset?.environment ?? [:]
        for (key, value) in settings where key.hasPrefix("env.") {
            let name = String(key.dropFirst(4))
            guard Self.isVariableName(name) else { throw invalid("`\(key)` does not name a variable", "write `env.NAME: value` with NAME made of letters, digits and _") }
            environment[name] = value
        }
        self.environment = environment
        passEnvironment = (settings["env"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for name in passEnvironment where !Self.isVariableName(name) {
            throw invalid("`env` names '\(name)', which is not a variable name", "list variable names separated by commas, e.g. `env: OPENAI_API_KEY,ANTHROPIC_API_KEY`")
        }
        switch settings["output"] {
        case nil: output = preset?.output ?? .text
        case "text": output = .text
        case "json": output = preset?.output ?? .text
        case let other?: throw invalid("`output: \(other)` is not known", "write `output: text` (stdout tail) or `output: json` (the preset's parser)")
        }
        let modelDriven = preset != nil || settings["base_url"] != nil
        switch settings["network"] ?? (modelDriven ? "gateway" : "none") {
        case "gateway": network = .gateway
        case "host", "on": network = .host
        case "none", "off": network = .none
        case let other: throw invalid("`network: \(other)` is not known", "write `network: gateway` (the model gateway only, the default for presets), `network: host` (the whole host network) or `network: none`")
        }
        if network == .gateway {
            guard let base = settings["base_url"]?.trimmingCharacters(in: .whitespaces), !base.isEmpty else {
                throw AgentError(.missingSetting, "agent '\(id)' (kind command) reaches its model through the gateway (`network: gateway`, the default for presets) and needs the upstream: add `base_url` (e.g. https://api.openai.com/v1), `protocol` (\(ModelUpstream.protocols.joined(separator: ", "))) and `key_env` (the variable holding the real key); or write `network: host` to open the host network to it")
            }
            let modelProtocol = settings["protocol"] ?? preset?.modelProtocol ?? "openai-chat"
            guard ModelUpstream.protocols.contains(modelProtocol) else {
                throw invalid("`protocol: \(modelProtocol)` is not known", "use one of \(ModelUpstream.protocols.joined(separator: ", "))")
            }
            let key = settings["key_env"] ?? (modelProtocol == "anthropic-messages" ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY")
            guard key.isEmpty || Self.isVariableName(key) else { throw invalid("`key_env: \(key)` does not name a variable", "write the name of the runner's variable that holds the key") }
            if passEnvironment.contains(key) {
                throw invalid("`env` passes \(key), the upstream's real key, into the sandbox", "remove it from `env`: the gateway adds the key upstream and the agent gets a token of its own")
            }
            let bundle = settings["ca_bundle"].map { AgentFactory.resolve($0, against: baseDirectory) }
            upstream = ModelUpstream(baseURL: base, modelProtocol: modelProtocol, keyVariable: key.isEmpty ? nil : key, caBundlePath: bundle,
                                     tuning: try UpstreamTuning.parse(settings, agent: id, kind: "command"))
        } else {
            for key in ["base_url", "protocol", "key_env", "ca_bundle"] + UpstreamTuning.settingKeys where settings[key] != nil {
                throw invalid("`\(key)` is set but `network` is not `gateway`", "remove it, or use `network: gateway`")
            }
            upstream = nil
        }
        var ignored = preset?.snapshotIgnore ?? []
        for name in (settings["snapshot_ignore"] ?? "").split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init) {
            if let problem = Self.ignoreProblem(name) {
                throw AgentError(.invalidSetting, "agent '\(id)' (kind command): `snapshot_ignore` names '\(name)', \(problem); list exact names of files or folders at the workspace root that the CLI writes as its own state, e.g. `snapshot_ignore: .cache-of-my-cli`",
                                 setting: "snapshot_ignore")
            }
            if !ignored.contains(name) { ignored.append(name) }
        }
        snapshotIgnore = ignored
        setupFiles = preset?.setupFiles ?? [:]
        self.id = id
    }

    /// Why a `snapshot_ignore` entry is refused, nil when it is an exact name at the workspace
    /// root. Only whole names are accepted: no folder below the root, no wildcard, no name of the
    /// workspace's own files, so the list cannot be written to hide source files wholesale.
    static func ignoreProblem(_ name: String) -> String? {
        if name.contains("/") { return "which is not a single name at the workspace root (no `/`)" }
        if name.contains(where: { "*?[]{}\\".contains($0) }) { return "which has a wildcard; only exact names are taken" }
        if [".", "..", ".git"].contains(name) { return "which is the workspace itself or its git link" }
        if name == "AGENTS.md" { return "which is the constraint document" }
        if !name.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 32 && $0.value < 127 }) { return "which is not plain printable ASCII" }
        return nil
    }

    /// Runs the CLI once for the step. A non-zero exit is `.failed`, the step's limit `.timedOut`
    /// (also for a CLI stuck on an interactive question: stdin is closed and there is no TTY).
    public func act(_ step: AgentStep, context: AgentContext, history: [AgentTurn]) async throws -> AgentTurn {
        var context = context
        if let folder = programFolder { context.readOnlyPaths.append(folder) }
        var recorder = StepRecorder(context: context)
        let values = ["{prompt}": step.prompt, "{step}": String(step.step), "{session}": context.sessionID, "{model}": model,
                      "{workspace}": context.workspace, "{task}": step.taskID, "{target}": step.targets.first ?? "",
                      "{constraint}": context.constraint, "{session_uuid}": Self.sessionUUID(context.sessionID)]
        let fill = { (text: String) in values.reduce(text) { $0.replacingOccurrences(of: $1.key, with: $1.value) } }
        let template = history.isEmpty ? firstStep : laterSteps
        let arguments = template.flatMap { $0 == "{targets}" ? step.targets : [fill($0)] }
        var variables = environment.mapValues(fill)
        var listener: GatewayListener?
        if network == .gateway {
            guard let gateway = context.gateway else {
                return recorder.turn(message: "", outcome: .failed("agent '\(id)' reaches its model through the gateway (network: gateway), but the runner serves none for this step"))
            }
            // The gateway's URLs and the episode's token win over any `env.NAME` of the same name.
            variables.merge(gateway.environment) { _, gatewayValue in gatewayValue }
            listener = gateway.listener
        }
        for (path, content) in setupFiles.sorted(by: { $0.key < $1.key }) {
            let written = try await recorder.run("/bin/sh", ["-c", "mkdir -p -- \"$(dirname -- \"$1\")\" && cat > \"$1\"", "sh", path], stdin: Array(fill(content).utf8))
            guard written.termination == .exited(0) else {
                return recorder.turn(message: "", outcome: .failed("the preset's file \(path) could not be written: \(written.stderr.text.tail(300))"))
            }
        }
        let result = try await recorder.run(program, arguments, stdin: promptOnStdin ? Array(step.prompt.utf8) : [],
                                            environment: variables, passEnvironment: passEnvironment, gateway: listener)
        let parsed = OutputParser.parse(result.stdout.text, as: output)
        let message = parsed.message ?? result.stdout.text.tail(2000).trimmingCharacters(in: .whitespacesAndNewlines)
        let outcome: AgentOutcome
        if result.timedOut {
            outcome = .timedOut
        } else if result.termination != .exited(0) {
            let detail = result.stderr.text.tail(600).trimmingCharacters(in: .whitespacesAndNewlines)
            outcome = .failed("\(program) ended with \(result.termination)\(detail.isEmpty ? "" : ": " + detail)")
        } else {
            outcome = .completed
        }
        return recorder.turn(message: message, outcome: outcome, inputTokens: parsed.inputTokens, outputTokens: parsed.outputTokens)
    }

    /// The session id as a UUID (for CLIs that insist on one): itself when it is one, else a
    /// UUID derived from it (FNV-1a, stable across runs and machines).
    public static func sessionUUID(_ sessionID: String) -> String {
        if let uuid = UUID(uuidString: sessionID) { return uuid.uuidString.lowercased() }
        func fnv(_ offset: UInt64) -> UInt64 {
            sessionID.utf8.reduce(offset) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
        }
        var bytes = withUnsafeBytes(of: fnv(0xcbf2_9ce4_8422_2325).bigEndian, Array.init) + withUnsafeBytes(of: fnv(0x6c62_272e_07bb_0142).bigEndian, Array.init)
        bytes[6] = bytes[6] & 0x0f | 0x80  // version 8: custom
        bytes[8] = bytes[8] & 0x3f | 0x80  // RFC 4122 variant
        let hex = bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return parts.joined(separator: "-")
    }

    /// The folder of a program named by path, when it lies outside the system folders the sandbox
    /// reads anyway: it is made visible read-only inside, so the program (and what lies beside it)
    /// can run. Everything in that folder is readable by the agent.
    var programFolder: String? {
        guard program.hasPrefix("/") else { return nil }
        let folder = URL(fileURLWithPath: program).resolvingSymlinksInPath().deletingLastPathComponent().path
        guard folder != "/", !SandboxOptions.systemPaths.contains(where: { folder == $0 || folder.hasPrefix($0 + "/") }),
              FileManager.default.fileExists(atPath: folder) else { return nil }
        return folder
    }

    static func isVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0)) }
    }

    /// Splits an argument template into words: blanks separate, single quotes keep everything,
    /// double quotes keep everything but `\"` and `\\`.
    static func split(_ text: String) -> Result<[String], AgentError> {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for char in text {
            if escaped { current.append(char); escaped = false; continue }
            switch (quote, char) {
            case ("'", "'"), ("\"", "\""): quote = nil
            case ("\"", "\\"): escaped = true
            case (nil, "'"), (nil, "\""): quote = char; inWord = true
            case (nil, _) where char.isWhitespace:
                if inWord { words.append(current); current = ""; inWord = false }
            default: current.append(char); inWord = true
            }
        }
        guard quote == nil, !escaped else {
            return .failure(AgentError(.invalidSetting, "the `args` template '\(text)' has an unclosed quote; close it"))
        }
        if inWord { words.append(current) }
        return .success(words)
    }
}

/// Reads a CLI's final message and token counts from its stdout.
enum OutputParser {
    struct Parsed {
        var message: String?
        var inputTokens: Int?
        var outputTokens: Int?
    }

    static func parse(_ stdout: String, as output: CommandPreset.Output) -> Parsed {
        switch output {
        case .text: return Parsed()
        case .claudeJSON:
            let objects = jsonObjects(stdout)
            guard let result = objects.last(where: { $0["type"] as? String == "result" }) ?? objects.last else { return Parsed() }
            let usage = result["usage"] as? [String: Any]
            return Parsed(message: result["result"] as? String, inputTokens: usage?["input_tokens"] as? Int, outputTokens: usage?["output_tokens"] as? Int)
        case .opencodeEvents:
            var parsed = Parsed()
            for event in jsonObjects(stdout) {
                let part = event["part"] as? [String: Any] ?? [:]
                if event["type"] as? String == "text", let text = part["text"] as? String { parsed.message = text }
                if let tokens = part["tokens"] as? [String: Any] {
                    parsed.inputTokens = (parsed.inputTokens ?? 0) + (tokens["input"] as? Int ?? 0)
                    parsed.outputTokens = (parsed.outputTokens ?? 0) + (tokens["output"] as? Int ?? 0)
                }
            }
            return parsed
        case .codexEvents:
            var parsed = Parsed()
            for event in jsonObjects(stdout) {
                if let item = event["item"] as? [String: Any], item["type"] as? String == "agent_message", let text = item["text"] as? String {
                    parsed.message = text
                }
                if event["type"] as? String == "turn.completed", let usage = event["usage"] as? [String: Any] {
                    parsed.inputTokens = (parsed.inputTokens ?? 0) + (usage["input_tokens"] as? Int ?? 0)
                    parsed.outputTokens = (parsed.outputTokens ?? 0) + (usage["output_tokens"] as? Int ?? 0)
                }
            }
            return parsed
        }
    }

    /// Every JSON object in the text: the whole text if it is one (or an array of them), else
    /// one per line.
    static func jsonObjects(_ text: String) -> [[String: Any]] {
        if let whole = try? JSONSerialization.jsonObject(with: Data(text.utf8)) {
            if let object = whole as? [String: Any] { return [object] }
            if let array = whole as? [Any] { return array.compactMap { $0 as? [String: Any] } }
        }
        return text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
    }
}
