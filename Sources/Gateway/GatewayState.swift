import Foundation

/// The answer of a replay lookup.
enum ReplayLookup: Sendable {
    /// The recorded exchange that answers the request.
    case hit(Exchange)
    /// No recorded answer; why, naming the nearest recorded request and its first differing field.
    case miss(String)
    /// The recording could not be read.
    case failed(String)
}

/// The gateway's mutable state: tokens, steps, replay cursors, jitter.
actor GatewayState {
    private var routes: [String: Route] = [:]
    private var steps: [String: Int] = [:]
    private var random: [String: SeededRandom]
    private var replayIndex: [String: [Exchange]] = [:]
    private var cursors: [String: Int] = [:]

    init(seeds: [String: UInt64]) { random = seeds.mapValues { SeededRandom(state: $0) } }

    func register(token: String, route: Route) { routes[token] = route }

    func unregister(episode: String) {
        routes = routes.filter { $0.value.episode != episode }
        steps[episode] = nil
    }

    func route(token: String) -> Route? { routes[token] }

    func setStep(episode: String, step: Int) { steps[episode] = step }

    func step(episode: String) -> Int { steps[episode] ?? 0 }

    func jitter(upstream: String) -> Double {
        var generator = random[upstream] ?? SeededRandom(state: 0)
        let value = generator.unit()
        random[upstream] = generator
        return value
    }

    /// The recorded answer to the `n`-th request with `key` in `episode`: the `n`-th recorded
    /// exchange with that key, or the last one when the request is repeated more often.
    func replay(store: ExchangeStore, episode: String, key: String) -> ReplayLookup {
        let recorded: [Exchange]
        if let cached = replayIndex[episode] {
            recorded = cached
        } else {
            do {
                var all: [Exchange] = []
                for (_, hashes) in try store.exchanges(episode: episode) {
                    for hash in hashes { all.append(try store.exchange(hash)) }
                }
                recorded = all.filter { $0.source != "gateway" }
                replayIndex[episode] = recorded
            } catch {
                return .failed("the recording in \(store.root) cannot be read: \(error)")
            }
        }
        let matching = recorded.filter { $0.matchKey == key }
        if !matching.isEmpty {
            let cursorKey = episode + "\u{0}" + key
            let index = cursors[cursorKey] ?? 0
            cursors[cursorKey] = index + 1
            return .hit(matching[min(index, matching.count - 1)])
        }
        guard !recorded.isEmpty else { return .miss("the recording holds no exchange of this episode") }
        let lines = key.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        let requestLine = String(lines.first ?? "")
        let sent = NormalisedBody(Array((lines.count > 1 ? String(lines[1]) : "").utf8))
        let samePath = recorded.filter { "\($0.request.method) \($0.request.path)" == requestLine }
        guard !samePath.isEmpty else { return .miss("the recording holds no \(requestLine) of this episode") }
        var nearest = samePath[0]
        var best = Int.max
        for candidate in samePath {
            let distance = NormalisedBody.distance(NormalisedBody(Array(candidate.request.body.utf8)).json, sent.json)
            if distance < best { best = distance; nearest = candidate }
        }
        let recordedBody = NormalisedBody(Array(nearest.request.body.utf8))
        let place = "the nearest recorded request (step \(nearest.step), exchange \(nearest.contentHash.prefix(12)))"
        if let difference = NormalisedBody.firstDifference(recorded: recordedBody.json, sent: sent.json) {
            return .miss("\(place) differs first at `\(difference.path)`: recorded \(difference.recorded), sent \(difference.sent)")
        }
        return .miss("\(place) differs in its body text")
    }
}

/// What one upstream answer has relayed so far; shared by the attempt and the code that ends it.
final class Relay: @unchecked Sendable {
    private let lock = NSLock()
    private var _attempts = 0
    private var _headSent = false
    private var _firstByte: Duration?
    private let started = ContinuousClock.now
    private var status = 0
    private var contentType = "application/json"
    private var streamed = false
    private var events: [String] = []
    private var pending: [UInt8] = []
    private var body: [UInt8] = []
    private var parsed: [String: Any]?

    struct Snapshot {
        var status: Int
        var contentType: String
        var streamed: Bool
        var events: [String]
        var body: [UInt8]
        var parsed: [String: Any]?
    }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    var attempts: Int {
        get { locked { _attempts } }
        set { locked { _attempts = newValue } }
    }
    var headSent: Bool {
        get { locked { _headSent } }
        set { locked { _headSent = newValue } }
    }
    var firstByte: Duration? { locked { _firstByte } }
    var eventCount: Int { locked { events.count } }

    func markFirstByte() { locked { if _firstByte == nil { _firstByte = ContinuousClock.now - started } } }

    func startStream(status: Int, contentType: String) {
        locked {
            self.status = status
            self.contentType = contentType
            streamed = true
        }
    }

    /// Appends streamed bytes, cutting them into events at each blank line (`\n\n` or `\r\n\r\n`).
    func appendStream(_ bytes: [UInt8]) {
        locked {
            let before = pending.count
            pending += bytes
            var start = 0
            var index = max(0, before - 3)
            while index < pending.count {
                var end: Int?
                if pending[index] == 10, index + 1 < pending.count, pending[index + 1] == 10 { end = index + 2 }
                if pending[index] == 13, index + 3 < pending.count, pending[index + 1] == 10, pending[index + 2] == 13, pending[index + 3] == 10 { end = index + 4 }
                if let end {
                    events.append(String(decoding: pending[start..<end], as: UTF8.self))
                    start = end
                    index = end
                } else {
                    index += 1
                }
            }
            pending.removeFirst(start)
        }
    }

    /// Keeps what is left of the stream as a last, unterminated event.
    func endStream() {
        locked {
            if !pending.isEmpty { events.append(String(decoding: pending, as: UTF8.self)) }
            pending = []
        }
    }

    func setPlain(status: Int, contentType: String, body: [UInt8], parsed: [String: Any]? = nil) {
        locked {
            self.status = status
            self.contentType = contentType
            self.body = body
            self.parsed = parsed
            streamed = false
        }
    }

    func snapshot() -> Snapshot {
        locked {
            var all = events
            if !pending.isEmpty { all.append(String(decoding: pending, as: UTF8.self)) }
            return Snapshot(status: status, contentType: contentType, streamed: streamed, events: all, body: body, parsed: parsed)
        }
    }
}
