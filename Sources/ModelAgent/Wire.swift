import Agents
import Foundation

/// The model APIs the agent speaks, as a suite names them, and their wire formats: request
/// bodies from a conversation, answers (whole or streamed) back into a model turn.
enum WireProtocol: String, Sendable, CaseIterable {
    /// OpenAI Chat Completions: `tools`, `tool_calls`, `tool` role results.
    case chat = "openai"
    /// OpenAI Responses: `function_call` and `function_call_output` items.
    case responses = "openai-responses"
    /// Anthropic Messages: `tool_use` and `tool_result` content blocks.
    case anthropic

    /// The gateway's name of the protocol.
    var gatewayName: String {
        switch self {
        case .chat: "openai-chat"
        case .responses: "openai-responses"
        case .anthropic: "anthropic-messages"
        }
    }

    /// The route on the gateway.
    var path: String {
        switch self {
        case .chat: "/v1/chat/completions"
        case .responses: "/v1/responses"
        case .anthropic: "/v1/messages"
        }
    }
}

/// Sampling settings sent with every request.
struct Sampling: Sendable, Equatable {
    var model: String
    var temperature: Double?
    var maxTokens: Int?
    var seed: Int?
    var stream: Bool
    /// Anthropic extended thinking: the `budget_tokens` asked for; nil: thinking is not asked for.
    var thinkingBudget: Int? = nil
}

/// One model turn as the API returned it.
struct ModelAnswer: Sendable, Equatable {
    var text = ""
    var refusal: String?
    var toolCalls: [ToolCall] = []
    var inputTokens: Int?
    var outputTokens: Int?
    /// The API's reason for stopping (`stop`, `tool_calls`, `end_turn`, `refusal`...).
    var stop: String?
    /// Reasoning to send back unchanged: Messages `thinking` / `redacted_thinking` blocks,
    /// Responses `reasoning` items, in the answer's order.
    var reasoning: [JSONValue] = []
    /// The Responses message item's id (kept only beside reasoning).
    var messageID: String?

    /// Without reasoning, the Responses item ids are not sent back, so they are not kept.
    func keepingItemIDsOnlyWithReasoning() -> ModelAnswer {
        guard reasoning.isEmpty else { return self }
        var answer = self
        answer.messageID = nil
        answer.toolCalls = toolCalls.map { var call = $0; call.itemID = nil; return call }
        return answer
    }
}

/// A failure the gateway or upstream reported in an answer.
struct WireFailure: Error, Sendable {
    var status: Int
    var message: String
}

enum Wire {
    /// The request body for `items` (elided already) with the system prompt and tools.
    static func body(_ wire: WireProtocol, system: String, items: [ConversationItem], tools: ToolSet, sampling: Sampling) -> Data {
        var body: [String: Any] = ["model": sampling.model]
        if let temperature = sampling.temperature { body["temperature"] = temperature }
        if sampling.stream { body["stream"] = true }
        let schemas = tools.tools.map { tool -> (ToolSet.Tool, Any) in (tool, (try? JSONSerialization.jsonObject(with: tool.parameters)) ?? [:]) }
        switch wire {
        case .chat:
            if let maxTokens = sampling.maxTokens { body["max_tokens"] = maxTokens }
            if let seed = sampling.seed { body["seed"] = seed }
            if sampling.stream { body["stream_options"] = ["include_usage": true] }
            body["tools"] = schemas.map { ["type": "function", "function": ["name": $0.0.name, "description": $0.0.description, "parameters": $0.1]] }
            var messages: [[String: Any]] = [["role": "system", "content": system]]
            for item in items {
                switch item.role {
                case .user: messages.append(["role": "user", "content": item.text])
                case .assistant:
                    var message: [String: Any] = ["role": "assistant"]
                    let text = item.text.isEmpty ? item.refusal ?? "" : item.text
                    let calls = item.toolCalls ?? []
                    message["content"] = text.isEmpty && !calls.isEmpty ? NSNull() : text
                    if !calls.isEmpty {
                        message["tool_calls"] = calls.map { ["id": $0.id, "type": "function", "function": ["name": $0.name, "arguments": $0.arguments]] }
                    }
                    messages.append(message)
                case .tool: messages.append(["role": "tool", "tool_call_id": item.callID ?? "", "content": item.text])
                }
            }
            body["messages"] = messages
        case .responses:
            if let maxTokens = sampling.maxTokens { body["max_output_tokens"] = maxTokens }
            body["instructions"] = system
            body["tools"] = schemas.map { ["type": "function", "name": $0.0.name, "description": $0.0.description, "parameters": $0.1] }
            var input: [[String: Any]] = []
            for item in items {
                switch item.role {
                case .user: input.append(["role": "user", "content": item.text])
                case .assistant:
                    // Reasoning items go back as the API gave them, before the turn's message and
                    // calls, which then carry their item ids: the API pairs each reasoning item with
                    // the item after it by id.
                    input += (item.reasoning ?? []).map { $0.any as? [String: Any] ?? [:] }
                    let text = item.text.isEmpty ? item.refusal ?? "" : item.text
                    if !text.isEmpty, item.reasoning?.isEmpty == false, let id = item.itemID {
                        input.append(["type": "message", "id": id, "role": "assistant", "status": "completed",
                                      "content": [["type": "output_text", "text": text, "annotations": [Any]()]]])
                    } else if !text.isEmpty {
                        input.append(["role": "assistant", "content": text])
                    }
                    for call in item.toolCalls ?? [] {
                        var entry: [String: Any] = ["type": "function_call", "call_id": call.id, "name": call.name, "arguments": call.arguments]
                        if item.reasoning?.isEmpty == false, let id = call.itemID { entry["id"] = id }
                        input.append(entry)
                    }
                case .tool: input.append(["type": "function_call_output", "call_id": item.callID ?? "", "output": item.text])
                }
            }
            body["input"] = input
        case .anthropic:
            body["max_tokens"] = sampling.maxTokens ?? ModelAgent.anthropicMaxTokens
            if let budget = sampling.thinkingBudget { body["thinking"] = ["type": "enabled", "budget_tokens": budget] }
            body["system"] = system
            body["tools"] = schemas.map { ["name": $0.0.name, "description": $0.0.description, "input_schema": $0.1] }
            // Consecutive blocks of one role go into one message (tool results, then the next task).
            var messages: [(role: String, blocks: [[String: Any]])] = []
            func add(_ role: String, _ block: [String: Any]) {
                if messages.last?.role == role { messages[messages.count - 1].blocks.append(block) } else { messages.append((role, [block])) }
            }
            for item in items {
                switch item.role {
                case .user: add("user", ["type": "text", "text": item.text.isEmpty ? "(empty)" : item.text])
                case .assistant:
                    // Thinking blocks go back unchanged (signature included), first in the turn, as
                    // the API requires with tool use.
                    for block in item.reasoning ?? [] { add("assistant", block.any as? [String: Any] ?? [:]) }
                    let text = item.text.isEmpty ? item.refusal ?? "" : item.text
                    let calls = item.toolCalls ?? []
                    if !text.isEmpty || calls.isEmpty { add("assistant", ["type": "text", "text": text.isEmpty ? "(empty answer)" : text]) }
                    for call in calls {
                        let input = (try? JSONSerialization.jsonObject(with: Data(call.arguments.utf8))) as? [String: Any] ?? [:]
                        add("assistant", ["type": "tool_use", "id": call.id, "name": call.name, "input": input])
                    }
                case .tool:
                    var block: [String: Any] = ["type": "tool_result", "tool_use_id": item.callID ?? "", "content": item.text]
                    if item.isError == true { block["is_error"] = true }
                    add("user", block)
                }
            }
            body["messages"] = messages.map { ["role": $0.role, "content": $0.blocks] }
        }
        return (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
    }

    /// A whole (non-streamed) answer.
    static func answer(_ wire: WireProtocol, _ object: [String: Any]) throws(WireFailure) -> ModelAnswer {
        if let error = object["error"] as? [String: Any] { throw WireFailure(status: 200, message: error["message"] as? String ?? "\(error)") }
        var answer = ModelAnswer()
        switch wire {
        case .chat:
            let choice = (object["choices"] as? [[String: Any]])?.first ?? [:]
            let message = choice["message"] as? [String: Any] ?? [:]
            answer.text = message["content"] as? String ?? ""
            answer.refusal = message["refusal"] as? String
            for (index, call) in (message["tool_calls"] as? [[String: Any]] ?? []).enumerated() {
                let function = call["function"] as? [String: Any] ?? [:]
                answer.toolCalls.append(ToolCall(id: call["id"] as? String ?? "call_\(index)", name: function["name"] as? String ?? "",
                                                 arguments: function["arguments"] as? String ?? ""))
            }
            answer.stop = choice["finish_reason"] as? String
            let usage = object["usage"] as? [String: Any]
            answer.inputTokens = usage?["prompt_tokens"] as? Int
            answer.outputTokens = usage?["completion_tokens"] as? Int
        case .responses:
            for item in object["output"] as? [[String: Any]] ?? [] { responsesItem(item, into: &answer) }
            answer.stop = object["status"] as? String
            let usage = object["usage"] as? [String: Any]
            answer.inputTokens = usage?["input_tokens"] as? Int
            answer.outputTokens = usage?["output_tokens"] as? Int
            answer = answer.keepingItemIDsOnlyWithReasoning()
        case .anthropic:
            for (index, block) in (object["content"] as? [[String: Any]] ?? []).enumerated() {
                switch block["type"] as? String {
                case "text": answer.text += block["text"] as? String ?? ""
                case "tool_use":
                    answer.toolCalls.append(ToolCall(id: block["id"] as? String ?? "toolu_\(index)", name: block["name"] as? String ?? "",
                                                     arguments: argumentsText(block["input"])))
                case "thinking", "redacted_thinking": if let value = JSONValue(any: block) { answer.reasoning.append(value) }
                default: break
                }
            }
            answer.stop = object["stop_reason"] as? String
            if answer.stop == "refusal" {
                answer.refusal = answer.text.isEmpty ? "(refused)" : answer.text
                answer.text = ""
            }
            let usage = object["usage"] as? [String: Any]
            answer.inputTokens = usage.map { ($0["input_tokens"] as? Int ?? 0) + ($0["cache_creation_input_tokens"] as? Int ?? 0) + ($0["cache_read_input_tokens"] as? Int ?? 0) }
            answer.outputTokens = usage?["output_tokens"] as? Int
        }
        return answer
    }

    /// A Messages `tool_use` input as JSON text: an object (or array) serialised, a text as it is
    /// (a model's malformed arguments, which the tool then reports), anything else `{}`. Only
    /// containers are handed to JSONSerialization, which does not take a bare value at the top.
    static func argumentsText(_ input: Any?) -> String {
        switch input {
        case let text as String: return text
        case let value? where value is [String: Any] || value is [Any]:
            return (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        default: return "{}"
        }
    }

    static func responsesItem(_ item: [String: Any], into answer: inout ModelAnswer) {
        switch item["type"] as? String {
        case "message":
            if answer.messageID == nil { answer.messageID = item["id"] as? String }
            for part in item["content"] as? [[String: Any]] ?? [] {
                if part["type"] as? String == "refusal" { answer.refusal = (answer.refusal ?? "") + (part["refusal"] as? String ?? "") }
                if part["type"] as? String == "output_text" { answer.text += part["text"] as? String ?? "" }
            }
        case "function_call":
            answer.toolCalls.append(ToolCall(id: item["call_id"] as? String ?? "call_\(answer.toolCalls.count)", name: item["name"] as? String ?? "",
                                             arguments: item["arguments"] as? String ?? "", itemID: item["id"] as? String))
        case "reasoning": if let value = JSONValue(any: item) { answer.reasoning.append(value) }
        default: break
        }
    }
}

extension JSONValue {
    /// A value JSONSerialization parsed, as JSON: serialised and read back, so booleans stay
    /// booleans and strings keep every character. Nil for what is not JSON.
    init?(any: Any) {
        guard JSONSerialization.isValidJSONObject([any]), let data = try? JSONSerialization.data(withJSONObject: [any]),
            let values = try? JSONDecoder().decode([JSONValue].self, from: data), let value = values.first
        else { return nil }
        self = value
    }

    /// The value as JSONSerialization writes it.
    var any: Any {
        switch self {
        case .null: NSNull()
        case .bool(let value): value
        case .integer(let value): Int(value)
        case .number(let value): value
        case .string(let value): value
        case .array(let values): values.map(\.any)
        case .object(let members): members.mapValues(\.any)
        }
    }

    /// Bytes of its strings (keys included): what it adds to a request's text.
    var textBytes: Int {
        switch self {
        case .null, .bool, .integer, .number: 0
        case .string(let value): value.utf8.count
        case .array(let values): values.reduce(0) { $0 + $1.textBytes }
        case .object(let members): members.reduce(0) { $0 + $1.key.utf8.count + $1.value.textBytes }
        }
    }
}

/// Assembles a streamed answer from its server-sent events: text and refusal deltas, tool calls
/// whose arguments arrive in pieces, usage.
struct StreamAssembler {
    let wire: WireProtocol
    var answer = ModelAnswer()
    /// Tool calls by the stream's index (Chat's `index`, Messages' block index).
    private var calls: [Int: ToolCall] = [:]
    private var order: [Int] = []
    /// Messages thinking blocks by block index, assembled from their deltas.
    private var thinking: [Int: [String: Any]] = [:]
    /// Responses reasoning items from `response.output_item.done`, in order.
    private var reasoningItems: [JSONValue] = []
    /// The whole response a Responses stream ends with, when it sent one.
    private var completed: [String: Any]?
    private var sawCompleted = false

    init(wire: WireProtocol) { self.wire = wire }

    private mutating func call(_ index: Int, _ change: (inout ToolCall) -> Void) {
        if calls[index] == nil {
            calls[index] = ToolCall(id: "", name: "", arguments: "")
            order.append(index)
        }
        change(&calls[index]!)
    }

    /// Takes one event.
    mutating func take(event: String?, data: String) throws(WireFailure) {
        guard data != "[DONE]" else { return }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] else {
            if event == "error" { throw WireFailure(status: 200, message: data) }
            return
        }
        if event == "error" || object["type"] as? String == "error" || (wire == .chat && object["error"] != nil) {
            let error = object["error"] as? [String: Any]
            throw WireFailure(status: 200, message: error?["message"] as? String ?? data)
        }
        switch wire {
        case .chat:
            if let usage = object["usage"] as? [String: Any] {
                answer.inputTokens = usage["prompt_tokens"] as? Int
                answer.outputTokens = usage["completion_tokens"] as? Int
            }
            guard let choice = (object["choices"] as? [[String: Any]])?.first else { return }
            if let reason = choice["finish_reason"] as? String { answer.stop = reason }
            let delta = choice["delta"] as? [String: Any] ?? [:]
            if let text = delta["content"] as? String { answer.text += text }
            if let refusal = delta["refusal"] as? String { answer.refusal = (answer.refusal ?? "") + refusal }
            for piece in delta["tool_calls"] as? [[String: Any]] ?? [] {
                let index = piece["index"] as? Int ?? order.count
                let function = piece["function"] as? [String: Any] ?? [:]
                call(index) { call in
                    if let id = piece["id"] as? String { call.id = id }
                    if let name = function["name"] as? String { call.name += name }
                    if let arguments = function["arguments"] as? String { call.arguments += arguments }
                }
            }
        case .responses:
            switch object["type"] as? String {
            case "response.output_text.delta": answer.text += object["delta"] as? String ?? ""
            case "response.refusal.delta": answer.refusal = (answer.refusal ?? "") + (object["delta"] as? String ?? "")
            case "response.output_item.done":
                if let item = object["item"] as? [String: Any], item["type"] as? String == "reasoning", let value = JSONValue(any: item) {
                    reasoningItems.append(value)
                }
                if let item = object["item"] as? [String: Any], item["type"] as? String == "message", answer.messageID == nil {
                    answer.messageID = item["id"] as? String
                }
                if let item = object["item"] as? [String: Any], item["type"] as? String == "function_call" {
                    call(order.count) { call in
                        call.id = item["call_id"] as? String ?? ""
                        call.name = item["name"] as? String ?? ""
                        call.arguments = item["arguments"] as? String ?? ""
                        call.itemID = item["id"] as? String
                    }
                }
            case "response.completed", "response.incomplete":
                completed = object["response"] as? [String: Any]
                sawCompleted = true
            case "response.failed":
                let error = (object["response"] as? [String: Any])?["error"] as? [String: Any]
                throw WireFailure(status: 200, message: error?["message"] as? String ?? "the response failed")
            default: break
            }
        case .anthropic:
            switch object["type"] as? String {
            case "message_start":
                let usage = (object["message"] as? [String: Any])?["usage"] as? [String: Any]
                answer.inputTokens = usage.map { ($0["input_tokens"] as? Int ?? 0) + ($0["cache_creation_input_tokens"] as? Int ?? 0) + ($0["cache_read_input_tokens"] as? Int ?? 0) }
                answer.outputTokens = usage?["output_tokens"] as? Int
            case "content_block_start":
                let index = object["index"] as? Int ?? 0
                let block = object["content_block"] as? [String: Any] ?? [:]
                if block["type"] as? String == "tool_use" {
                    call(index) { call in
                        call.id = block["id"] as? String ?? "toolu_\(index)"
                        call.name = block["name"] as? String ?? ""
                    }
                } else if ["thinking", "redacted_thinking"].contains(block["type"] as? String) {
                    thinking[index] = block
                } else if let text = block["text"] as? String {
                    answer.text += text
                }
            case "content_block_delta":
                let index = object["index"] as? Int ?? 0
                let delta = object["delta"] as? [String: Any] ?? [:]
                switch delta["type"] as? String {
                case "text_delta": answer.text += delta["text"] as? String ?? ""
                case "input_json_delta": call(index) { $0.arguments += delta["partial_json"] as? String ?? "" }
                // Pieces of a thinking block: its text and its signature, each appended in order.
                case "thinking_delta" where thinking[index] != nil:
                    thinking[index]!["thinking"] = (thinking[index]!["thinking"] as? String ?? "") + (delta["thinking"] as? String ?? "")
                case "signature_delta" where thinking[index] != nil:
                    thinking[index]!["signature"] = (thinking[index]!["signature"] as? String ?? "") + (delta["signature"] as? String ?? "")
                default: break
                }
            case "message_delta":
                if let reason = (object["delta"] as? [String: Any])?["stop_reason"] as? String { answer.stop = reason }
                if let output = (object["usage"] as? [String: Any])?["output_tokens"] as? Int { answer.outputTokens = output }
            default: break
            }
        }
    }

    /// The assembled turn.
    func finish() throws(WireFailure) -> ModelAnswer {
        if wire == .responses, let completed, completed["output"] is [[String: Any]] {
            return try Wire.answer(.responses, completed)
        }
        var result = answer
        result.reasoning = wire == .responses ? reasoningItems : thinking.keys.sorted().compactMap { JSONValue(any: thinking[$0]!) }
        result.toolCalls = order.compactMap { calls[$0] }.enumerated().map { index, call in
            var call = call
            if call.id.isEmpty { call.id = "call_\(index)" }
            // An Anthropic tool call with no input deltas has an empty object as input.
            if wire == .anthropic && call.arguments.isEmpty { call.arguments = "{}" }
            return call
        }
        if wire == .anthropic && result.stop == "refusal" {
            result.refusal = result.text.isEmpty ? "(refused)" : result.text
            result.text = ""
        }
        if wire == .responses, !sawCompleted, result.text.isEmpty, result.toolCalls.isEmpty {
            throw WireFailure(status: 200, message: "the stream ended before the response was complete")
        }
        return result.keepingItemIDsOnlyWithReasoning()
    }
}

/// Splits a byte stream into server-sent events (`event:` and `data:` lines, a blank line ending
/// each), keeping at most `limit` bytes of an unfinished event.
struct EventSplitter {
    private var buffer: [UInt8] = []
    let limit: Int

    init(limit: Int) { self.limit = limit }

    /// The events completed by `bytes`.
    mutating func feed(_ bytes: some Sequence<UInt8>) throws(WireFailure) -> [(event: String?, data: String)] {
        buffer.append(contentsOf: bytes.lazy.filter { $0 != 13 })  // CR LF as LF
        var events: [(String?, String)] = []
        var start = 0
        var index = 0
        while index + 1 < buffer.count {
            if buffer[index] == 10 && buffer[index + 1] == 10 {
                if let event = Self.parse(buffer[start..<index]) { events.append(event) }
                start = index + 2
                index = start
            } else {
                index += 1
            }
        }
        buffer.removeFirst(start)
        guard buffer.count <= limit else { throw WireFailure(status: 200, message: "a streamed event is longer than \(limit) bytes") }
        return events
    }

    /// The last event when the stream ends without a blank line.
    mutating func end() -> [(event: String?, data: String)] {
        defer { buffer = [] }
        return Self.parse(buffer[...]).map { [$0] } ?? []
    }

    static func parse(_ bytes: ArraySlice<UInt8>) -> (event: String?, data: String)? {
        var event: String?
        var data: [String] = []
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("event:") { event = line.dropFirst(6).trimmingCharacters(in: .whitespaces) }
            if line.hasPrefix("data:") { data.append(String(line.dropFirst(5).drop { $0 == " " })) }
        }
        return data.isEmpty ? nil : (event, data.joined(separator: "\n"))
    }
}
