import Agents
import Crypto
import Foundation
import Sandbox

/// A coding agent built into driftbox (suite kind `model`): it talks to a model over an OpenAI
/// Chat Completions, OpenAI Responses or Anthropic Messages API through the run's gateway, offers
/// it the tools of a versioned tools file (bash, read, write, edit, list, grep), runs every tool
/// call in the episode's sandbox, and keeps one conversation per episode: each step's task is a
/// new user turn after the earlier steps' turns (docs/agents.md).
public struct ModelAgent: Agent {
    /// The suite kind.
    public static let kind = "model"
    /// The settings it accepts.
    public static let settingKeys = ["protocol", "model", "base_url", "key_env", "ca_bundle", "temperature", "max_tokens", "seed", "max_turns",
                                     "system_prompt", "tools", "stream", "context_bytes", "tool_output_bytes", "tool_timeout", "thinking_budget"]
        + UpstreamTuning.settingKeys
    /// The bundled tools and system prompt, in the `Fixtures/agent` folder.
    public static let defaultTools = "tools-v1.json"
    /// The bundled system prompt.
    public static let defaultSystemPrompt = "system-v1.md"

    public let id: String
    let wire: WireProtocol
    let sampling: Sampling
    /// Model requests per step at most.
    public let maxTurns: Int
    /// The conversation's size (bytes of text) above which the oldest tool results are elided.
    public let contextBytes: Int
    /// Bytes of one tool result sent to the model (head and tail kept, the middle cut and marked).
    public let toolOutputBytes: Int
    /// The longest one tool command may run.
    public let toolTimeout: Duration
    let tools: ToolSet
    let systemPrompt: String
    public let upstream: ModelUpstream?
    public let dataFiles: [AgentDataFile]
    public var network: AgentNetwork { .gateway }

    /// Creates the agent from suite settings.
    /// - Parameters:
    ///   - id: the agent's id.
    ///   - settings: the suite's keys for the agent, as text.
    ///   - baseDirectory: the suite file's folder (relative paths start there).
    ///   - bundled: the folder of the bundled tools and system prompt (`Fixtures/agent`), used when
    ///     the settings name none.
    /// - Throws: `AgentError` for an unknown, missing or invalid setting or an unreadable data file.
    public init(id: String, settings: [String: String], baseDirectory: String, bundled: URL?) throws(AgentError) {
        func invalid(_ what: String, _ fix: String) -> AgentError {
            AgentError(.invalidSetting, "agent '\(id)' (kind model): \(what); \(fix)")
        }
        func required(_ key: String, _ example: String) throws(AgentError) -> String {
            guard let value = settings[key]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else {
                throw AgentError(.missingSetting, "agent '\(id)' (kind model) needs the setting `\(key)`; add e.g. `\(key): \(example)` to its entry in the suite\(key == "model" ? " (or pass --model to driftbox run)" : "")")
            }
            return value
        }
        func number<T: LosslessStringConvertible & Comparable>(_ key: String, _ range: ClosedRange<T>, default value: T?) throws(AgentError) -> T? {
            guard let text = settings[key] else { return value }
            guard let parsed = T(text.trimmingCharacters(in: .whitespaces)), range.contains(parsed) else {
                throw invalid("`\(key): \(text)` is not a number from \(range.lowerBound) to \(range.upperBound)", "write a number in that range")
            }
            return parsed
        }
        for key in settings.keys.sorted() where !Self.settingKeys.contains(key) {
            throw invalid("unknown setting `\(key)`", "use one of \(Self.settingKeys.joined(separator: ", ")) (docs/agents.md)")
        }
        let protocolName = settings["protocol"] ?? "openai"
        guard let wire = WireProtocol(rawValue: protocolName) else {
            throw invalid("`protocol: \(protocolName)` is not known", "use one of \(WireProtocol.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.wire = wire
        let model = try required("model", "gpt-5-mini")
        let base = try required("base_url", wire == .anthropic ? "https://api.anthropic.com" : "https://api.openai.com/v1")
        let stream: Bool
        switch settings["stream"] ?? "false" {
        case "true": stream = true
        case "false": stream = false
        case let other: throw invalid("`stream: \(other)` is neither true nor false", "write `stream: true` to have answers streamed")
        }
        let seed: Int? = try number("seed", Int.min...Int.max, default: nil)
        if seed != nil && wire != .chat {
            throw invalid("`seed` is set but the \(wire.rawValue) API takes none", "remove it (only `protocol: openai` sends a seed)")
        }
        var sampling = Sampling(model: model, temperature: try number("temperature", 0.0...2.0, default: nil),
                                maxTokens: try number("max_tokens", 1...1_000_000, default: nil), seed: seed, stream: stream)
        if let text = settings["thinking_budget"] {
            func refuse(_ what: String, _ fix: String) -> AgentError {
                AgentError(.invalidSetting, "agent '\(id)' (kind model): \(what); \(fix)", setting: "thinking_budget")
            }
            guard wire == .anthropic else {
                throw refuse("`thinking_budget` is set but only the anthropic API takes it here", "remove it, or use `protocol: anthropic`")
            }
            let limit = sampling.maxTokens ?? Self.anthropicMaxTokens
            guard let budget = Int(text.trimmingCharacters(in: .whitespaces)), budget >= 1024 else {
                throw refuse("`thinking_budget: \(text)` is not a whole number of at least 1024 tokens (the API's least)", "write e.g. `thinking_budget: 2048`")
            }
            guard budget < limit else {
                throw refuse("`thinking_budget: \(budget)` is not below `max_tokens` (\(limit)), which must leave room for the answer", "raise `max_tokens` above it or lower the budget")
            }
            if let temperature = sampling.temperature, temperature != 1 {
                throw refuse("`temperature: \(settings["temperature"] ?? "\(temperature)")` is set with `thinking_budget`, and the API takes extended thinking only at the default temperature", "remove `temperature`")
            }
            sampling.thinkingBudget = budget
        }
        self.sampling = sampling
        maxTurns = try number("max_turns", 1...10_000, default: 50)!
        contextBytes = try number("context_bytes", 4096...100_000_000, default: 400_000)!
        toolOutputBytes = try number("tool_output_bytes", 256...1_000_000, default: 32_768)!
        toolTimeout = .seconds(try number("tool_timeout", 1...86_400, default: 300)!)
        let key = settings["key_env"] ?? (wire == .anthropic ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY")
        guard key.isEmpty || key.unicodeScalars.allSatisfy({ $0.isASCII && ($0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0)) }) else {
            throw invalid("`key_env: \(key)` does not name a variable", "write the name of the runner's variable that holds the key")
        }
        upstream = ModelUpstream(baseURL: base, modelProtocol: wire.gatewayName, keyVariable: key.isEmpty ? nil : key,
                                 caBundlePath: settings["ca_bundle"].map { AgentFactory.resolve($0, against: baseDirectory) },
                                 tuning: try UpstreamTuning.parse(settings, agent: id, kind: Self.kind))
        func file(_ key: String, _ bundledName: String) throws(AgentError) -> String {
            if let path = settings[key] { return AgentFactory.resolve(path, against: baseDirectory) }
            guard let bundled else {
                throw AgentError(.missingSetting, "agent '\(id)' (kind model): no bundled Fixtures/agent folder to take \(bundledName) from; name the file with `\(key):`")
            }
            return bundled.appendingPathComponent(bundledName).path
        }
        let toolsPath = try file("tools", Self.defaultTools), systemPath = try file("system_prompt", Self.defaultSystemPrompt)
        tools = try ToolSet.load(path: toolsPath, agent: id)
        guard let systemData = FileManager.default.contents(atPath: systemPath), let system = String(data: systemData, encoding: .utf8) else {
            throw AgentError(.missingSetting, "agent '\(id)' (kind model): the system prompt \(systemPath) cannot be read as UTF-8 text; name an existing file with `system_prompt:`")
        }
        systemPrompt = system.trimmingCharacters(in: .whitespacesAndNewlines)
        let toolsData = FileManager.default.contents(atPath: toolsPath) ?? Data()
        func digest(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }
        dataFiles = [AgentDataFile(role: "tools", name: URL(fileURLWithPath: toolsPath).lastPathComponent, sha256: digest(toolsData)),
                     AgentDataFile(role: "system_prompt", name: URL(fileURLWithPath: systemPath).lastPathComponent, sha256: digest(systemData))]
        self.id = id
    }

    /// `max_tokens` sent to the anthropic API when the suite sets none (the API requires one).
    static let anthropicMaxTokens = 4096
    /// The most bytes of `AGENTS.md` put into the system prompt.
    static let instructionsLimit = 65_536
    /// Tool calls of one model turn that run; the rest are answered with an error (a turn of
    /// thousands of calls would otherwise fill the step's time and transcript).
    static let callsPerTurn = 64
    /// How often one step retries a request the upstream refused as too long for the model's context.
    static let overflowRetries = 3

    /// Does one step: the task as a user turn after the session so far, then model turns and
    /// tool calls until the model answers without a tool call, refuses, or `max_turns` is reached.
    public func act(_ step: AgentStep, context: AgentContext, history: [AgentTurn]) async throws -> AgentTurn {
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + context.stepTimeout
        var commands: [CommandRecord] = []
        var cpu: Duration = .zero
        var gaps = context.sandbox.isolationGaps
        var items: [ConversationItem] = [ConversationItem(role: .user, text: step.prompt)]
        var inputTokens: Int?, outputTokens: Int?
        var turns = 0, elided = 0
        var firstSystem: String?
        func turn(_ outcome: AgentOutcome, ended: String) -> AgentTurn {
            let last = items.last { $0.role == .assistant }
            return AgentTurn(message: last.map { $0.text.isEmpty ? $0.refusal ?? "" : $0.text } ?? "", commands: commands, outcome: outcome,
                             usage: AgentUsage(inputTokens: inputTokens, outputTokens: outputTokens, wallSeconds: seconds(clock.now - started),
                                               cpuSeconds: seconds(cpu)),
                             isolationGaps: gaps,
                             conversation: ModelConversation(system: firstSystem, items: items, modelTurns: turns, ended: ended, elided: elided > 0 ? elided : nil))
        }
        guard let gateway = context.gateway, let open = gateway.runnerEndpoint else {
            return turn(.failed("agent '\(id)' talks to its model through the run's gateway, but the runner serves none for this step"), ended: "failed")
        }
        let endpoint: String
        do { endpoint = try await open() } catch {
            if Task.isCancelled { throw error }
            return turn(.failed("the gateway's listener for the agent could not start: \(error)"), ended: "failed")
        }
        let runner = ToolRunner(context: context, tools: tools, toolTimeout: toolTimeout, deadline: deadline)
        func record(_ outcome: ToolOutcome) {
            commands += outcome.commands
            cpu += outcome.cpu
            for warning in outcome.warnings where !gaps.contains(warning) { gaps.append(warning) }
        }
        // The session: the system prompt of the episode's first step, then every earlier step's items.
        let earlier = history.compactMap(\.conversation)
        let system: String
        if let kept = earlier.first?.system {
            system = kept
        } else {
            let read = try await runner.spawn("/bin/sh", ["-c", "test -f AGENTS.md && exec head -c \(Self.instructionsLimit) -- AGENTS.md; exit 0"])
            commands.append(read.1)
            cpu += read.0.cpuTime
            let instructions = read.0.stdout.text.trimmingCharacters(in: .whitespacesAndNewlines)
            system = systemPrompt + (instructions.isEmpty ? "" : "\n\nInstructions from the repository's AGENTS.md:\n\n" + instructions)
            firstSystem = system
        }
        let session = earlier.flatMap(\.items)
        let call = ModelCall(endpoint: endpoint, token: gateway.token, wire: wire)
        var budget = contextBytes
        var overflows = 0
        while true {
            guard turns < maxTurns else { return turn(.completed, ended: "max_turns") }
            guard clock.now < deadline else { return turn(.timedOut, ended: "timed_out") }
            let (view, cut) = ContextPolicy.view(system: system, items: session + items, budget: budget)
            elided = cut
            let body = Wire.body(wire, system: system, items: view, tools: tools, sampling: sampling)
            turns += 1
            let answer: ModelAnswer
            do {
                answer = try await call.send(body, stream: sampling.stream, timeout: deadline - clock.now)
            } catch let failure as WireFailure {
                if ContextPolicy.isOverflow(failure), overflows < Self.overflowRetries {
                    overflows += 1
                    budget = min(budget, ContextPolicy.size(system: system, items: view)) / 2
                    continue
                }
                return turn(.failed("model request \(turns) failed (status \(failure.status)): \(failure.message.prefix(1000))"), ended: "failed")
            } catch {
                if Task.isCancelled { throw error }
                return turn(.failed("model request \(turns) failed: \(error)"), ended: "failed")
            }
            if let input = answer.inputTokens { inputTokens = (inputTokens ?? 0) + input }
            if let output = answer.outputTokens { outputTokens = (outputTokens ?? 0) + output }
            items.append(ConversationItem(role: .assistant, text: answer.text, toolCalls: answer.toolCalls.isEmpty ? nil : answer.toolCalls,
                                          refusal: answer.refusal, inputTokens: answer.inputTokens, outputTokens: answer.outputTokens,
                                          reasoning: answer.reasoning.isEmpty ? nil : answer.reasoning, itemID: answer.messageID))
            if answer.refusal != nil, answer.toolCalls.isEmpty { return turn(.completed, ended: "refused") }
            if answer.toolCalls.isEmpty { return turn(.completed, ended: "answered") }
            // Parallel calls of one turn run one after another, in the model's order: the same
            // workspace state for each on every run, so a replay sees the same results.
            for (index, toolCall) in answer.toolCalls.enumerated() {
                let result = index < Self.callsPerTurn ? try await runner.run(toolCall)
                    : runner.failure("not run: at most \(Self.callsPerTurn) tool calls of one model turn run; call the rest in a later turn")
                record(result)
                let (text, cutBytes) = result.text.capped(toolOutputBytes)
                items.append(ConversationItem(role: .tool, text: text, callID: toolCall.id, name: toolCall.name, isError: result.isError ? true : nil,
                                              cutBytes: cutBytes > 0 ? cutBytes : nil))
            }
        }
    }
}

/// What the model is sent when the session outgrows its budget: the oldest tool results are
/// replaced by a marker, one after another, until the text fits; the latest turn's results stay.
/// Only tool results are touched: model turns, their reasoning included, go whole or not at all.
enum ContextPolicy {
    /// The marker an elided tool result becomes.
    static func marker(_ bytes: Int) -> String { "[driftbox: this tool output (\(bytes) bytes) was elided to fit the model's context]" }

    /// Bytes of text a request carries (system prompt, texts, tool call arguments, the strings of
    /// reasoning blocks and items).
    static func size(system: String, items: [ConversationItem]) -> Int {
        items.reduce(system.utf8.count) { total, item in
            total + item.text.utf8.count + (item.refusal?.utf8.count ?? 0) + (item.toolCalls ?? []).reduce(0) { $0 + $1.arguments.utf8.count + $1.name.utf8.count }
                + (item.reasoning ?? []).reduce(0) { $0 + $1.textBytes }
        }
    }

    /// The items with the oldest tool results elided until they fit `budget`; and how many were.
    static func view(system: String, items: [ConversationItem], budget: Int) -> ([ConversationItem], Int) {
        var size = size(system: system, items: items)
        guard size > budget else { return (items, 0) }
        let lastAssistant = items.lastIndex { $0.role == .assistant } ?? items.count
        var view = items
        var count = 0
        for index in view.indices where index < lastAssistant && view[index].role == .tool {
            guard size > budget else { break }
            let before = view[index].text.utf8.count
            view[index].text = marker(before)
            size -= before - view[index].text.utf8.count
            count += 1
        }
        return (view, count)
    }

    /// Whether an answer says the request was too long for the model's context.
    static func isOverflow(_ failure: WireFailure) -> Bool {
        guard failure.status == 400 || failure.status == 413 else { return false }
        let text = failure.message.lowercased()
        return text.contains("context_length") || text.contains("context length") || text.contains("context window")
            || text.contains("prompt is too long") || text.contains("maximum context") || text.contains("too many tokens")
    }
}

extension ModelAgent {
    /// Runs one tool call exactly as a step does (in `context.sandbox`, in `context.workspace`,
    /// output capped to `toolOutputBytes`), outside any conversation: for benchmarks and tools.
    /// - Returns: the result text the model would see, and whether it reports an error.
    /// - Throws: `SandboxError` when the sandbox cannot start a process.
    public func runTool(_ call: ToolCall, context: AgentContext) async throws -> (text: String, isError: Bool) {
        let runner = ToolRunner(context: context, tools: tools, toolTimeout: toolTimeout, deadline: .now + context.stepTimeout)
        let outcome = try await runner.run(call)
        return (outcome.text.capped(toolOutputBytes).0, outcome.isError)
    }
}
