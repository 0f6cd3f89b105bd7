import Foundation

/// Something the runner must know about: an isolation attempt, a replay miss, a refusal, an
/// upstream failure or a retry. Delivered on ``Gateway/events`` as it happens.
public struct GatewayEvent: Sendable, Equatable {
    /// What happened.
    public enum Kind: String, Sendable, Equatable {
        /// A request the gateway refuses on principle: another path or method, a CONNECT, an
        /// absolute-URI (proxy) request, a missing or wrong token, another episode's token.
        case isolation
        /// In replay, a request the recording holds no answer for.
        case replayMiss = "replay-miss"
        /// An exchange refused because a budget is spent.
        case budget
        /// An upstream failed: an error status after retries, a timeout, a broken stream, a
        /// malformed answer, a missing key.
        case upstreamError = "upstream-error"
        /// An upstream attempt will be retried after ``GatewayEvent/delay``.
        case retry
    }

    /// What happened.
    public let kind: Kind
    /// The episode: the listener's own episode, else the one whose token was shown; nil when
    /// neither is known.
    public let episode: String?
    /// The episode's current step, nil without an episode.
    public let step: Int?
    /// When.
    public let time: Date
    /// What was attempted (`CONNECT example.com:443`, `POST /v1/chat/completions`, …).
    public let attempted: String
    /// Why it was refused or what failed, in words.
    public let detail: String
    /// For a retry: the wait before the next attempt.
    public let delay: Duration?

    /// Makes an event.
    public init(kind: Kind, episode: String?, step: Int?, time: Date = Date(), attempted: String, detail: String, delay: Duration? = nil) {
        self.kind = kind
        self.episode = episode
        self.step = step
        self.time = time
        self.attempted = attempted
        self.detail = detail
        self.delay = delay
    }
}

/// Waits for one of `permits` slots: the concurrency cap of an upstream.
actor Limiter {
    private var free: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(permits: Int) { free = max(1, permits) }

    func acquire() async {
        if free > 0 { free -= 1; return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty { free += 1 } else { waiters.removeFirst().resume() }
    }
}

/// SplitMix64: the seeded jitter of retries.
struct SeededRandom: Sendable {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// A number in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
