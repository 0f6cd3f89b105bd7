/// How the gateway treats one agent's upstream, from the agent's suite settings: retries, time
/// limits and concurrency. A nil field keeps the gateway's default (docs/gateway.md).
public struct UpstreamTuning: Sendable, Hashable, Codable {
    /// The suite settings it is read from.
    public static let settingKeys = ["retries", "connect_timeout", "first_byte_timeout", "total_timeout", "max_concurrent"]

    /// Retries after the first attempt (0: none).
    public var retries: Int?
    /// Seconds to establish a connection (TCP and TLS).
    public var connectSeconds: Double?
    /// Seconds without a byte of the answer (before it starts or between chunks of a stream).
    public var firstByteSeconds: Double?
    /// Seconds for the whole exchange, retries and their waits included.
    public var totalSeconds: Double?
    /// Exchanges with the upstream at once at most.
    public var maxConcurrent: Int?

    /// Creates tuning; nil fields keep the gateway's defaults.
    public init(retries: Int? = nil, connectSeconds: Double? = nil, firstByteSeconds: Double? = nil, totalSeconds: Double? = nil,
                maxConcurrent: Int? = nil) {
        self.retries = retries
        self.connectSeconds = connectSeconds
        self.firstByteSeconds = firstByteSeconds
        self.totalSeconds = totalSeconds
        self.maxConcurrent = maxConcurrent
    }

    /// Whether no field is set.
    public var isEmpty: Bool { self == UpstreamTuning() }

    /// Reads the tuning settings of agent `id` (kind `kind`); nil when none is set.
    /// - Throws: ``AgentError`` (`invalidSetting`, naming the setting) for a value out of range.
    public static func parse(_ settings: [String: String], agent id: String, kind: String) throws(AgentError) -> UpstreamTuning? {
        func whole(_ key: String, _ range: ClosedRange<Int>, _ what: String) throws(AgentError) -> Int? {
            guard let text = settings[key] else { return nil }
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
                throw AgentError(.invalidSetting, "agent '\(id)' (kind \(kind)): `\(key): \(text)` is not a whole number from \(range.lowerBound) to \(range.upperBound); write \(what)",
                                 setting: key)
            }
            return value
        }
        func seconds(_ key: String, _ most: Double) throws(AgentError) -> Double? {
            guard let text = settings[key] else { return nil }
            guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite, value >= 0.1, value <= most else {
                throw AgentError(.invalidSetting, "agent '\(id)' (kind \(kind)): `\(key): \(text)` is not a number of seconds from 0.1 to \(Int(most)); write the limit in seconds, e.g. `\(key): 30`",
                                 setting: key)
            }
            return value
        }
        let tuning = UpstreamTuning(retries: try whole("retries", 0...20, "how many times a failed request is tried again, e.g. `retries: 3`"),
                                    connectSeconds: try seconds("connect_timeout", 600), firstByteSeconds: try seconds("first_byte_timeout", 3600),
                                    totalSeconds: try seconds("total_timeout", 86_400),
                                    maxConcurrent: try whole("max_concurrent", 1...1024, "how many requests may be at the upstream at once, e.g. `max_concurrent: 8`"))
        return tuning.isEmpty ? nil : tuning
    }
}
