import Foundation

/// A model API protocol the gateway serves, each on its own path.
public enum ModelProtocol: String, Sendable, Codable, CaseIterable, Equatable {
    /// OpenAI Chat Completions, `POST /v1/chat/completions`.
    case openAIChat = "openai-chat"
    /// OpenAI Responses, `POST /v1/responses`.
    case openAIResponses = "openai-responses"
    /// Anthropic Messages, `POST /v1/messages`.
    case anthropicMessages = "anthropic-messages"

    /// The request path of the protocol's one route.
    public var path: String {
        switch self {
        case .openAIChat: return "/v1/chat/completions"
        case .openAIResponses: return "/v1/responses"
        case .anthropicMessages: return "/v1/messages"
        }
    }

    /// The protocol served on `path`, if any.
    /// - Parameter path: a request path without query.
    public init?(path: String) {
        guard let found = ModelProtocol.allCases.first(where: { $0.path == path }) else { return nil }
        self = found
    }
}

/// How the gateway uses upstreams and recordings.
public enum ModelsMode: String, Sendable, CaseIterable, Equatable {
    /// Forward every request upstream; record nothing.
    case live
    /// Forward every request upstream and record every exchange.
    case record
    /// Answer only from the recording; a request with no recorded answer is an error.
    case replay
    /// Answer from the recording when it holds the request; otherwise forward and record.
    case recordMissing = "record-missing"
}

/// Retries of one upstream: exponential backoff with seeded jitter, `Retry-After` honoured.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all, the first included (1 = no retry).
    public var maxAttempts: Int
    /// The delay before the first retry; doubled for each further retry, then jittered to 50–100 %.
    public var baseDelay: Duration
    /// No backoff delay is longer than this.
    public var maxDelay: Duration
    /// A `Retry-After` longer than this is not waited for: the upstream's answer goes to the client.
    public var maxRetryAfter: Duration
    /// The seed of the jitter's random numbers.
    public var seed: UInt64

    /// Makes a policy.
    public init(maxAttempts: Int = 4, baseDelay: Duration = .milliseconds(500), maxDelay: Duration = .seconds(20),
                maxRetryAfter: Duration = .seconds(60), seed: UInt64 = 0) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
        self.seed = seed
    }
}

/// Time limits of one upstream exchange.
public struct UpstreamTimeouts: Sendable, Equatable {
    /// Establishing the connection (TCP and TLS).
    public var connect: Duration
    /// Waiting for the first byte of the answer, and for each further byte (a stalled stream).
    public var firstByte: Duration
    /// The whole exchange, streamed body included.
    public var total: Duration

    /// Makes time limits.
    public init(connect: Duration = .seconds(10), firstByte: Duration = .seconds(120), total: Duration = .seconds(600)) {
        self.connect = connect
        self.firstByte = firstByte
        self.total = total
    }
}

/// One upstream model API: where it is, what it speaks, where its key comes from, how it is used.
public struct Upstream: Sendable, Equatable {
    /// The name episodes refer to.
    public var name: String
    /// The base URL, e.g. `https://api.openai.com/v1` or `https://api.anthropic.com`. The route's
    /// path is appended; a base ending in `/v1` does not get a second `/v1`.
    public var baseURL: String
    /// The protocol the upstream speaks; requests on another protocol's path are refused.
    public var modelProtocol: ModelProtocol
    /// The name of the runner's environment variable that holds the real key; nil sends no key.
    public var keyVariable: String?
    /// At most this many exchanges with this upstream at once; further requests wait their turn.
    public var maxConcurrent: Int
    /// Time limits.
    public var timeouts: UpstreamTimeouts
    /// Retries.
    public var retry: RetryPolicy
    /// A PEM file of certificate authorities to trust instead of the system's; nil uses the system's.
    public var caBundlePath: String?

    /// Makes an upstream.
    public init(name: String, baseURL: String, modelProtocol: ModelProtocol, keyVariable: String?,
                maxConcurrent: Int = 8, timeouts: UpstreamTimeouts = UpstreamTimeouts(),
                retry: RetryPolicy = RetryPolicy(), caBundlePath: String? = nil) {
        self.name = name
        self.baseURL = baseURL
        self.modelProtocol = modelProtocol
        self.keyVariable = keyVariable
        self.maxConcurrent = maxConcurrent
        self.timeouts = timeouts
        self.retry = retry
        self.caBundlePath = caBundlePath
    }

    /// The full upstream URL of `path`.
    func url(for path: String) -> String {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/v1"), path.hasPrefix("/v1/") { return base + path.dropFirst(3) }
        return base + path
    }
}

/// Spending limits in US dollars; nil is no limit.
public struct Budget: Sendable, Equatable {
    /// The whole run.
    public var runUSD: Double?
    /// Each episode.
    public var episodeUSD: Double?

    /// Makes limits.
    public init(runUSD: Double? = nil, episodeUSD: Double? = nil) {
        self.runUSD = runUSD
        self.episodeUSD = episodeUSD
    }
}

/// Everything a ``Gateway`` needs.
public struct GatewayConfiguration: Sendable {
    /// The upstreams episodes may name.
    public var upstreams: [Upstream]
    /// Live, record, replay or record-missing.
    public var mode: ModelsMode
    /// Where exchanges are recorded (`record`, `record-missing`); nil records nothing.
    public var recordStore: ExchangeStore?
    /// Where recorded exchanges are read from (`replay`, `record-missing`).
    public var replayStore: ExchangeStore?
    /// Prices; nil costs nothing (tokens are still counted).
    public var prices: PriceTable?
    /// Spending limits.
    public var budget: Budget
    /// The environment upstream keys are read from (the runner's).
    public var environment: [String: String]
    /// The largest request body accepted from a client.
    public var maxRequestBytes: Int
    /// The largest upstream answer kept; a longer one is cut and reported.
    public var maxResponseBytes: Int

    /// Makes a configuration.
    public init(upstreams: [Upstream], mode: ModelsMode = .record, recordStore: ExchangeStore? = nil,
                replayStore: ExchangeStore? = nil, prices: PriceTable? = nil, budget: Budget = Budget(),
                environment: [String: String] = ProcessInfo.processInfo.environment,
                maxRequestBytes: Int = 32 << 20, maxResponseBytes: Int = 64 << 20) {
        self.upstreams = upstreams
        self.mode = mode
        self.recordStore = recordStore
        self.replayStore = replayStore
        self.prices = prices
        self.budget = budget
        self.environment = environment
        self.maxRequestBytes = maxRequestBytes
        self.maxResponseBytes = maxResponseBytes
    }
}
