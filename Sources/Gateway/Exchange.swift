import Foundation

/// Tokens of one exchange or a total. `input` counts every prompt token, cached ones included;
/// `cached` is the part of `input` read from the provider's cache.
public struct TokenUsage: Codable, Sendable, Equatable {
    /// Prompt tokens, cached included.
    public var input: Int
    /// Completion tokens.
    public var output: Int
    /// Prompt tokens read from cache (a part of `input`).
    public var cached: Int

    /// Makes a count.
    public init(input: Int = 0, output: Int = 0, cached: Int = 0) {
        self.input = input
        self.output = output
        self.cached = cached
    }

    /// The sum of two counts.
    public static func + (a: TokenUsage, b: TokenUsage) -> TokenUsage {
        TokenUsage(input: a.input + b.input, output: a.output + b.output, cached: a.cached + b.cached)
    }
}

/// One model exchange as recorded: the normalised request, the full answer (every streamed event
/// with its framing), status, timings, usage, cost and the upstream's model id.
///
/// Stored as plain JSON (docs/gateway.md); its file name is its ``contentHash``.
public struct Exchange: Codable, Sendable, Equatable {
    /// The request as matched on replay.
    public struct Request: Codable, Sendable, Equatable {
        /// The HTTP method.
        public var method: String
        /// The path, without query.
        public var path: String
        /// The body in normal form (sorted keys, volatile fields removed).
        public var body: String
        /// Whether a streamed answer was asked for.
        public var stream: Bool
    }

    /// The answer as the client received it.
    public struct Response: Codable, Sendable, Equatable {
        /// The HTTP status.
        public var status: Int
        /// The content type.
        public var contentType: String
        /// The whole body of an answer that was not streamed (UTF-8 text), or nil.
        public var body: String?
        /// The whole body as base64 when it is not valid UTF-8, or nil.
        public var bodyBase64: String?
        /// A streamed answer's server-sent events, each with its framing (`data: …` lines and the
        /// blank line that ends it); joined they are the body byte for byte. Nil when not streamed.
        public var events: [String]?

        /// The body bytes exactly as sent to the client.
        public var bytes: [UInt8] {
            if let events { return Array(events.joined().utf8) }
            if let bodyBase64, let data = Data(base64Encoded: bodyBase64) { return Array(data) }
            return Array((body ?? "").utf8)
        }
    }

    /// When and how long.
    public struct Timings: Codable, Sendable, Equatable {
        /// When the request arrived (ISO 8601, UTC, milliseconds).
        public var startedAt: String
        /// Milliseconds to the first byte of the answer, nil when none came.
        public var firstByteMs: Double?
        /// Milliseconds for the whole exchange, retries included.
        public var totalMs: Double
    }

    /// Layout version of this record.
    public var format: Int = 1
    /// The episode that made the request.
    public var episode: String
    /// The step it was made in (0 before the first step).
    public var step: Int
    /// The agent of the episode.
    public var agent: String
    /// The upstream's name.
    public var upstream: String
    /// The protocol (`openai-chat`, `openai-responses`, `anthropic-messages`).
    public var modelProtocol: String
    /// The request.
    public var request: Request
    /// The answer.
    public var response: Response
    /// Timings.
    public var timings: Timings
    /// Tokens, from the protocol's usage fields; nil when the answer carried none.
    public var usage: TokenUsage?
    /// Cost in US dollars from the price table; nil when the model has no price.
    public var costUSD: Double?
    /// The model id the upstream answered with.
    public var upstreamModel: String?
    /// Upstream attempts made (retries included); 0 for a replayed or refused exchange.
    public var attempts: Int
    /// `upstream` (forwarded), `replay` (answered from a recording) or `gateway` (refused or
    /// failed before an answer came).
    public var source: String
    /// What went wrong, nil when the exchange completed.
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case format, episode, step, agent, upstream, request, response, timings, usage, attempts, source, error
        case modelProtocol = "protocol"
        case costUSD = "costUsd"  // written `cost_usd` by the store's snake-case keys
        case upstreamModel
    }

    /// The content address: SHA-256 of the normalised request line and body, the status and the
    /// answer's bytes, each separated by a newline.
    public var contentHash: String {
        var bytes = Array("\(request.method) \(request.path)\n\(request.body)\n\(response.status)\n".utf8)
        bytes += response.bytes
        return ContentAddress.hex(bytes)
    }

    /// The key replay matches on.
    var matchKey: String { "\(request.method) \(request.path)\n\(request.body)" }
}
