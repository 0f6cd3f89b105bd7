@testable import Gateway

/// Answers of each protocol, plain and streamed, all carrying the same usage: 1000 input tokens
/// of which 400 cached, 200 output.
enum Answers {
    static let chatPlain = #"{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-5-mini-2025-08-07","choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1000,"completion_tokens":200,"prompt_tokens_details":{"cached_tokens":400}}}"#
    static let chatEvents = [
        "data: {\"id\":\"c1\",\"model\":\"gpt-5-mini-2025-08-07\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hel\"}}]}\n\n",
        "data: {\"id\":\"c1\",\"model\":\"gpt-5-mini-2025-08-07\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}}]}\n\n",
        "data: {\"id\":\"c1\",\"model\":\"gpt-5-mini-2025-08-07\",\"choices\":[],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":200,\"prompt_tokens_details\":{\"cached_tokens\":400}}}\n\n",
        "data: [DONE]\n\n",
    ]
    static let responsesPlain = #"{"id":"resp_1","object":"response","model":"gpt-5-mini-2025-08-07","output":[{"type":"message","content":[{"type":"output_text","text":"hello"}]}],"usage":{"input_tokens":1000,"output_tokens":200,"input_tokens_details":{"cached_tokens":400}}}"#
    static let responsesEvents = [
        "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\",\"model\":\"gpt-5-mini-2025-08-07\"}}\n\n",
        "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"hello\"}\n\n",
        "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\",\"model\":\"gpt-5-mini-2025-08-07\",\"usage\":{\"input_tokens\":1000,\"output_tokens\":200,\"input_tokens_details\":{\"cached_tokens\":400}}}}\n\n",
    ]
    static let messagesPlain = #"{"id":"msg_1","type":"message","role":"assistant","model":"claude-haiku-4-5-20251001","content":[{"type":"text","text":"hello"}],"usage":{"input_tokens":600,"cache_read_input_tokens":400,"output_tokens":200}}"#
    static let messagesEvents = [
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude-haiku-4-5-20251001\",\"usage\":{\"input_tokens\":600,\"cache_read_input_tokens\":400,\"output_tokens\":1}}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hello\"}}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":200}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    ]

    static func plain(_ modelProtocol: ModelProtocol) -> String {
        switch modelProtocol {
        case .openAIChat: return chatPlain
        case .openAIResponses: return responsesPlain
        case .anthropicMessages: return messagesPlain
        }
    }

    static func events(_ modelProtocol: ModelProtocol) -> [String] {
        switch modelProtocol {
        case .openAIChat: return chatEvents
        case .openAIResponses: return responsesEvents
        case .anthropicMessages: return messagesEvents
        }
    }

    static func request(_ modelProtocol: ModelProtocol, prompt: String = "Say hello", stream: Bool = false, extra: String = "") -> String {
        switch modelProtocol {
        case .openAIChat:
            return #"{"model":"gpt-5-mini","stream":\#(stream),\#(extra)"messages":[{"role":"user","content":"\#(prompt)"}]}"#
        case .openAIResponses:
            return #"{"model":"gpt-5-mini","stream":\#(stream),\#(extra)"input":[{"role":"user","content":"\#(prompt)"}]}"#
        case .anthropicMessages:
            return #"{"model":"claude-haiku-4-5","max_tokens":100,"stream":\#(stream),\#(extra)"messages":[{"role":"user","content":"\#(prompt)"}]}"#
        }
    }

    static let prices = """
        # USD per million tokens
        models:
          gpt-5-mini:
            - since: 2020-01-01
              input: 100
              output: 100
            - since: 2025-08-07
              input: 0.25
              cached_input: 0.025
              output: 2.00
          claude-haiku-4-5:
            - since: 2025-10-15
              input: 1.00
              cached_input: 0.10
              output: 5.00
        """

    /// The script of an upstream that answers every request like the protocol's answer above.
    static func script(_ modelProtocol: ModelProtocol) -> ScriptedUpstream.Script {
        { received, _ in
            if received.body.contains("\"stream\":true") {
                return [.head(200, [("content-type", "text/event-stream")])] + events(modelProtocol).map { .body($0) } + [.end]
            }
            return ScriptedUpstream.json(plain(modelProtocol))
        }
    }
}
