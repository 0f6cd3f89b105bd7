import Foundation

/// A request body in normal form: the text replay matches on and the parsed value mismatches are
/// located in.
///
/// Normal form: the body parsed as JSON, the volatile top-level fields ``volatileFields`` removed,
/// written back with keys sorted and no whitespace. A body that is not JSON is kept as its text.
struct NormalisedBody: Sendable {
    /// Top-level request fields that differ from run to run without changing what is asked:
    /// `stream_options` (usage reporting), `user`, `metadata` (Anthropic's `user_id`, session ids),
    /// `prompt_cache_key` and `safety_identifier` (per-conversation ids).
    static let volatileFields: Set<String> = ["stream_options", "user", "metadata", "prompt_cache_key", "safety_identifier"]

    /// The normal form as text.
    let text: String
    /// The parsed JSON (volatile fields removed), nil when the body is not a JSON object.
    let json: [String: any Sendable]?
    /// Whether the request asks for a streamed answer (`"stream": true`).
    let streamed: Bool
    /// The requested model, if named.
    let model: String?

    init(_ body: [UInt8]) {
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]),
              var object = parsed as? [String: Any]
        else {
            text = String(decoding: body, as: UTF8.self)
            json = nil
            streamed = false
            model = nil
            return
        }
        for field in NormalisedBody.volatileFields { object.removeValue(forKey: field) }
        text = NormalisedBody.canonical(object)
        streamed = (object["stream"] as? Bool) == true || (object["stream"] as? NSNumber)?.boolValue == true
        model = object["model"] as? String
        json = NormalisedBody.sendable(object) as? [String: any Sendable]
    }

    /// Canonical JSON text of a parsed value: sorted keys, no whitespace, slashes unescaped.
    static func canonical(_ value: Any) -> String {
        if let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed]) {
            return String(decoding: data, as: UTF8.self)
        }
        return String(describing: value)
    }

    private static func sendable(_ value: Any) -> any Sendable {
        switch value {
        case let object as [String: Any]: return object.mapValues { sendable($0) } as [String: any Sendable]
        case let array as [Any]: return array.map { sendable($0) } as [any Sendable]
        case let string as String: return string
        case let number as NSNumber: return JSONScalar(text: canonical(number))
        case is NSNull: return JSONScalar(text: "null")
        default: return String(describing: value)
        }
    }

    /// The first field, in key order, where `sent` differs from `recorded`: its path (`messages[1].content`),
    /// both values shortened; nil when they are equal.
    static func firstDifference(recorded: (any Sendable)?, sent: (any Sendable)?, path: String = "") -> (path: String, recorded: String, sent: String)? {
        let here = path.isEmpty ? "(body)" : path
        switch (recorded, sent) {
        case (nil, nil): return nil
        case (nil, let s?): return (here, "(absent)", describe(s))
        case (let r?, nil): return (here, describe(r), "(absent)")
        case (let r as [String: any Sendable], let s as [String: any Sendable]):
            for key in Set(r.keys).union(s.keys).sorted() {
                let child = path.isEmpty ? key : path + "." + key
                if let found = firstDifference(recorded: r[key], sent: s[key], path: child) { return found }
            }
            return nil
        case (let r as [any Sendable], let s as [any Sendable]):
            for index in 0..<max(r.count, s.count) {
                let child = "\(path)[\(index)]"
                if let found = firstDifference(recorded: index < r.count ? r[index] : nil, sent: index < s.count ? s[index] : nil, path: child) {
                    return found
                }
            }
            return nil
        case (let r?, let s?):
            let (rt, st) = (describe(r, limit: Int.max), describe(s, limit: Int.max))
            return rt == st ? nil : (here, describe(r), describe(s))
        }
    }

    /// How many leaves differ between two values (capped), to find the nearest recorded request.
    static func distance(_ a: (any Sendable)?, _ b: (any Sendable)?, cap: Int = 100_000) -> Int {
        switch (a, b) {
        case (nil, nil): return 0
        case (nil, _), (_, nil): return 1
        case (let x as [String: any Sendable], let y as [String: any Sendable]):
            var total = 0
            for key in Set(x.keys).union(y.keys) {
                total += distance(x[key], y[key], cap: cap)
                if total >= cap { return cap }
            }
            return total
        case (let x as [any Sendable], let y as [any Sendable]):
            var total = abs(x.count - y.count)
            for index in 0..<min(x.count, y.count) {
                total += distance(x[index], y[index], cap: cap)
                if total >= cap { return cap }
            }
            return total
        case (let x?, let y?):
            return describe(x, limit: Int.max) == describe(y, limit: Int.max) ? 0 : 1
        }
    }

    /// A value as short JSON-ish text.
    static func describe(_ value: any Sendable, limit: Int = 80) -> String {
        let text: String
        switch value {
        case let string as String: text = "\"" + string + "\""
        case let object as [String: any Sendable]: text = "{" + object.keys.sorted().joined(separator: ",") + "}"
        case let array as [any Sendable]: text = "[\(array.count) items]"
        case let scalar as JSONScalar: text = scalar.text
        default: text = String(describing: value)
        }
        return text.count > limit ? String(text.prefix(limit)) + "…" : text
    }
}

/// A JSON number, boolean or null in its canonical text.
struct JSONScalar: Sendable { let text: String }
