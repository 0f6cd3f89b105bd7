import Foundation
import Yams

/// Model prices as data: a YAML file of dated entries per model, in US dollars per million tokens.
///
/// ```yaml
/// models:
///   gpt-5-mini:
///     - since: 2025-08-07      # the entry applies to exchanges on or after this day (UTC)
///       input: 0.25            # per million prompt tokens not read from cache
///       cached_input: 0.025    # per million prompt tokens read from cache (default: input)
///       output: 2.00           # per million completion tokens
/// ```
///
/// A model is looked up by the upstream's model id, then by the requested model: exactly, else the
/// longest table name that the id starts with followed by `-` (so `gpt-5-mini-2025-08-07` finds
/// `gpt-5-mini`). Of its entries the latest `since` on or before the exchange's day applies.
public struct PriceTable: Sendable, Equatable {
    /// One dated price.
    public struct Entry: Sendable, Equatable {
        /// First day (`YYYY-MM-DD`, UTC) the price applies.
        public var since: String
        /// USD per million uncached prompt tokens.
        public var input: Double
        /// USD per million cached prompt tokens.
        public var cachedInput: Double
        /// USD per million completion tokens.
        public var output: Double
    }

    /// Entries per model name, sorted by `since`.
    public let models: [String: [Entry]]
    /// Where the table came from, for messages.
    public let source: String

    /// Parses a table.
    /// - Parameters:
    ///   - yaml: the file's text.
    ///   - source: its path, for messages.
    /// - Throws: ``GatewayError`` `.invalidPriceTable` naming the file, model and entry at fault.
    public init(yaml: String, source: String) throws(GatewayError) {
        self.source = source
        let root: Any?
        do { root = try Yams.load(yaml: yaml) } catch {
            throw GatewayError(.invalidPriceTable, "\(source): not valid YAML: \(error); fix the file (docs/gateway.md, price table)")
        }
        guard let top = root as? [String: Any], let models = top["models"] as? [String: Any] else {
            throw GatewayError(.invalidPriceTable, "\(source): expected a top-level `models:` mapping of model names to lists of dated entries (docs/gateway.md)")
        }
        var table: [String: [Entry]] = [:]
        for (name, value) in models {
            guard let list = value as? [Any], !list.isEmpty else {
                throw GatewayError(.invalidPriceTable, "\(source): model '\(name)' needs a list of entries with since, input and output")
            }
            var entries: [Entry] = []
            for (index, item) in list.enumerated() {
                let place = "\(source): model '\(name)', entry \(index + 1)"
                guard let fields = item as? [String: Any] else { throw GatewayError(.invalidPriceTable, "\(place): expected a mapping with since, input, output") }
                let unknown = Set(fields.keys).subtracting(["since", "input", "cached_input", "output", "note"])
                if let key = unknown.sorted().first { throw GatewayError(.invalidPriceTable, "\(place): unknown field '\(key)'; use since, input, cached_input, output, note") }
                func number(_ key: String) throws(GatewayError) -> Double? {
                    guard let raw = fields[key] else { return nil }
                    let value: Double? = (raw as? Double) ?? (raw as? Int).map(Double.init) ?? Double("\(raw)")
                    guard let value, value >= 0, value.isFinite else { throw GatewayError(.invalidPriceTable, "\(place): '\(key)' must be a number ≥ 0 (USD per million tokens)") }
                    return value
                }
                let sinceText: String
                if let date = fields["since"] as? Date {
                    let formatter = DateFormatter()
                    formatter.dateFormat = "yyyy-MM-dd"
                    formatter.timeZone = TimeZone(identifier: "UTC")
                    sinceText = formatter.string(from: date)
                } else if let text = fields["since"].map({ "\($0)" }) {
                    sinceText = text
                } else {
                    throw GatewayError(.invalidPriceTable, "\(place): missing 'since' (the first day, YYYY-MM-DD)")
                }
                guard sinceText.count == 10, sinceText.range(of: #"^\d{4}-\d{2}-\d{2}$"#, options: .regularExpression) != nil else {
                    throw GatewayError(.invalidPriceTable, "\(place): 'since' must be a day as YYYY-MM-DD, not '\(sinceText)'")
                }
                guard let input = try number("input"), let output = try number("output") else {
                    throw GatewayError(.invalidPriceTable, "\(place): needs 'input' and 'output' (USD per million tokens)")
                }
                entries.append(Entry(since: sinceText, input: input, cachedInput: try number("cached_input") ?? input, output: output))
            }
            table[name] = entries.sorted { $0.since < $1.since }
        }
        self.models = table
    }

    /// Loads a table file.
    /// - Throws: ``GatewayError`` `.invalidPriceTable` when it cannot be read or parsed.
    public static func load(path: String) throws(GatewayError) -> PriceTable {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw GatewayError(.invalidPriceTable, "cannot read the price table \(path); check the path")
        }
        return try PriceTable(yaml: text, source: path)
    }

    /// The entry for `model` on `day`, if any.
    /// - Parameters:
    ///   - model: a model id.
    ///   - day: `YYYY-MM-DD`.
    public func entry(model: String, day: String) -> Entry? {
        let name: String? = models[model] != nil ? model
            : models.keys.filter { model.hasPrefix($0 + "-") }.max { $0.count < $1.count }
        guard let name, let entries = models[name] else { return nil }
        return entries.last { $0.since <= day }
    }

    /// The cost in USD of `usage` with `model` on `day`; nil when the model has no price then.
    public func cost(of usage: TokenUsage, model: String, day: String) -> Double? {
        guard let entry = entry(model: model, day: day) else { return nil }
        let uncached = max(0, usage.input - usage.cached)
        return (Double(uncached) * entry.input + Double(usage.cached) * entry.cachedInput + Double(usage.output) * entry.output) / 1_000_000
    }
}
