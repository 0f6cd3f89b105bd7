import Foundation

/// Reads tokens and the model id from each protocol's answers.
///
/// - OpenAI Chat Completions: `usage.prompt_tokens`, `usage.completion_tokens`,
///   `usage.prompt_tokens_details.cached_tokens`; streamed, the chunk that carries `usage`.
/// - OpenAI Responses: `usage.input_tokens`, `usage.output_tokens`,
///   `usage.input_tokens_details.cached_tokens`; streamed, `response.completed`'s `response`.
/// - Anthropic Messages: `usage.input_tokens` + `cache_creation_input_tokens` +
///   `cache_read_input_tokens` as input, `cache_read_input_tokens` as cached, `output_tokens`;
///   streamed, `message_start`'s message and the last `message_delta`'s usage.
enum UsageReader {
    static func object(_ text: Substring) -> [String: Any]? {
        guard let data = text.data(using: .utf8) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    static func int(_ value: Any?) -> Int? {
        if let number = value as? Int { return number }
        if let number = value as? NSNumber { return number.intValue }
        return nil
    }

    /// Usage and model of a whole JSON answer.
    static func read(body: [String: Any], protocol modelProtocol: ModelProtocol) -> (TokenUsage?, String?) {
        var accumulator = Accumulator(modelProtocol: modelProtocol)
        switch modelProtocol {
        case .openAIChat, .openAIResponses: accumulator.openAI(body)
        case .anthropicMessages: accumulator.anthropicMessage(body)
        }
        return (accumulator.usage, accumulator.model)
    }

    /// Usage and model of a streamed answer's events.
    static func read(events: [String], protocol modelProtocol: ModelProtocol) -> (TokenUsage?, String?) {
        var accumulator = Accumulator(modelProtocol: modelProtocol)
        for event in events {
            var data = ""
            for line in event.split(separator: "\n", omittingEmptySubsequences: false) where line.hasPrefix("data:") {
                data += line.dropFirst(5).drop { $0 == " " }
            }
            guard !data.isEmpty, data != "[DONE]", let object = object(Substring(data)) else { continue }
            switch modelProtocol {
            case .openAIChat: accumulator.openAI(object)
            case .openAIResponses:
                if let response = object["response"] as? [String: Any] { accumulator.openAI(response) }
            case .anthropicMessages:
                if let message = object["message"] as? [String: Any] { accumulator.anthropicMessage(message) }
                if let usage = object["usage"] as? [String: Any] { accumulator.anthropicUsage(usage) }
            }
        }
        return (accumulator.usage, accumulator.model)
    }

    struct Accumulator {
        let modelProtocol: ModelProtocol
        var usage: TokenUsage?
        var model: String?

        mutating func openAI(_ object: [String: Any]) {
            if let name = object["model"] as? String { model = name }
            guard let usage = object["usage"] as? [String: Any] else { return }
            let details = (usage["prompt_tokens_details"] ?? usage["input_tokens_details"]) as? [String: Any]
            self.usage = TokenUsage(
                input: int(usage["prompt_tokens"]) ?? int(usage["input_tokens"]) ?? 0,
                output: int(usage["completion_tokens"]) ?? int(usage["output_tokens"]) ?? 0,
                cached: int(details?["cached_tokens"]) ?? 0)
        }

        mutating func anthropicMessage(_ message: [String: Any]) {
            if let name = message["model"] as? String { model = name }
            if let usage = message["usage"] as? [String: Any] { anthropicUsage(usage) }
        }

        mutating func anthropicUsage(_ usage: [String: Any]) {
            var current = self.usage ?? TokenUsage()
            let read = int(usage["cache_read_input_tokens"])
            let created = int(usage["cache_creation_input_tokens"])
            if let input = int(usage["input_tokens"]) { current.input = input + (read ?? 0) + (created ?? 0) }
            if let read { current.cached = read }
            if let output = int(usage["output_tokens"]) { current.output = output }
            self.usage = current
        }
    }
}
