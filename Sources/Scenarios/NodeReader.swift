import Foundation
import Yams

/// Reads one YAML (or JSON) file at the `Node` level and records every problem with its place.
///
/// The reader never throws: each accessor returns nil after recording a diagnostic, so one pass
/// over a file finds all of its problems.
struct NodeReader {
    /// The file, as it appears in diagnostics.
    let path: String
    /// The problems found so far.
    private(set) var diagnostics: [Diagnostic] = []

    init(path: String) {
        self.path = path
    }

    // MARK: Reporting

    mutating func report(_ kind: Diagnostic.Kind, at node: Node?, _ message: String, hint: String) {
        let mark = node?.mark
        report(kind, line: mark?.line ?? 1, column: mark?.column ?? 1, message, hint: hint)
    }

    mutating func report(_ kind: Diagnostic.Kind, line: Int, column: Int, _ message: String, hint: String) {
        diagnostics.append(
            Diagnostic(kind: kind, path: path, line: line, column: column, message: message, hint: hint))
    }

    mutating func absorb(_ other: [Diagnostic]) {
        diagnostics.append(contentsOf: other)
    }

    // MARK: Parsing

    /// Parses `data` into a root node; records a syntax diagnostic and returns nil when it cannot.
    mutating func parse(_ data: Data) -> Node? {
        guard let text = String(validatingUTF8Data: data) else {
            let (line, column) = Self.position(ofFirstInvalidUTF8In: data)
            report(.syntax, line: line, column: column, "the file is not valid UTF-8",
                   hint: "save the file as UTF-8 text")
            return nil
        }
        if let tooDeep = YAMLDepth.check(text, path: path) {
            diagnostics.append(tooDeep)
            return nil
        }
        do {
            guard let root = try Yams.compose(yaml: text) else {
                report(.syntax, line: 1, column: 1, "the file is empty", hint: "write the document's keys")
                return nil
            }
            return root
        } catch let error as YamlError {
            recordYAMLError(error, text: text)
            return nil
        } catch {
            report(.syntax, line: 1, column: 1, "the file could not be parsed: \(error)",
                   hint: "check the YAML syntax")
            return nil
        }
    }

    private mutating func recordYAMLError(_ error: YamlError, text: String) {
        let hint = "fix the YAML syntax at this place (indentation, quotes, a missing ':' or '-')"
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
            let .composer(context, problem, mark, _):
            let about = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
            report(.syntax, line: mark.line, column: mark.column, "YAML syntax: \(problem)\(about)", hint: hint)
        case let .reader(problem, offset, _, _):
            let (line, column) = Self.position(ofScalarOffset: offset ?? 0, in: text)
            report(.syntax, line: line, column: column, "YAML syntax: \(problem)",
                   hint: "remove control characters and non-printable bytes")
        default:
            report(.syntax, line: 1, column: 1, "YAML syntax: \(error)", hint: hint)
        }
    }

    static func position(ofScalarOffset offset: Int, in text: String) -> (Int, Int) {
        var line = 1
        var column = 1
        for (index, scalar) in text.unicodeScalars.enumerated() {
            if index >= offset { break }
            if scalar == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }

    static func position(ofFirstInvalidUTF8In data: Data) -> (Int, Int) {
        let bytes = [UInt8](data)
        var validEnd = 0
        var index = 0
        while index < bytes.count {
            let lead = bytes[index]
            let length: Int
            switch lead {
            case 0x00...0x7F: length = 1
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: length = 0
            }
            if length == 0 || index + length > bytes.count { break }
            let sequence = Array(bytes[index..<(index + length)])
            if String(validating: sequence, as: UTF8.self) == nil { break }
            index += length
            validEnd = index
        }
        let prefix = String(decoding: bytes[0..<validEnd], as: UTF8.self)
        return position(ofScalarOffset: Int.max, in: prefix)
    }

    // MARK: Typed access

    /// Records that `id` is used at `node`; reports a duplicate (naming the first use's line) and
    /// returns false when it was used before.
    mutating func claim(_ id: String, at node: Node, in seen: inout [String: Node], _ what: String, hint: String) -> Bool {
        if let earlier = seen[id] {
            report(.duplicateID, at: node, "\(what) '\(id)' is already used at line \(earlier.mark?.line ?? 0)", hint: hint)
            return false
        }
        seen[id] = node
        return true
    }

    /// The keys of a mapping, with unknown, duplicate and missing keys reported.
    mutating func fields(
        _ node: Node, _ what: String, allowed: [String], required: [String] = []
    ) -> Fields? {
        guard let mapping = node.mapping else {
            report(.wrongType, at: node, "\(what) must be a mapping, found \(Self.describe(node))",
                   hint: "write it as `key: value` lines")
            return nil
        }
        var fields = Fields(node: node)
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string else {
                report(.wrongType, at: keyNode, "a key of \(what) must be a plain word, found \(Self.describe(keyNode))",
                       hint: "use one of: \(allowed.joined(separator: ", "))")
                continue
            }
            if fields.values[key] != nil {
                report(.duplicateKey, at: keyNode, "duplicate key '\(key)' in \(what)",
                       hint: "keep one '\(key)' and delete the other")
                continue
            }
            guard allowed.contains(key) else {
                let suggestion = Self.nearest(key, among: allowed).map { "did you mean '\($0)'?" }
                    ?? "the allowed keys are: \(allowed.joined(separator: ", "))"
                report(.unknownKey, at: keyNode, "unknown key '\(key)' in \(what)", hint: suggestion)
                continue
            }
            fields.values[key] = value
            fields.keys[key] = keyNode
        }
        for key in required where fields.values[key] == nil {
            report(.missingField, at: node, "\(what) has no '\(key)'", hint: "add `\(key):`")
        }
        return fields
    }

    /// A non-null scalar as text.
    mutating func string(_ node: Node?, _ what: String) -> String? {
        guard let node else { return nil }
        guard let scalar = node.scalar, node.null == nil else {
            report(.wrongType, at: node, "\(what) must be a string, found \(Self.describe(node))",
                   hint: "write a single value (quote it if it holds ':' or '#')")
            return nil
        }
        return scalar.string
    }

    /// An integer within `range`.
    mutating func int(_ node: Node?, _ what: String, in range: ClosedRange<Int>) -> Int? {
        guard let node else { return nil }
        guard node.scalar != nil, let value = node.int else {
            report(.wrongType, at: node, "\(what) must be an integer, found \(Self.describe(node))",
                   hint: "write a whole number from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        guard range.contains(value) else {
            report(.invalidValue, at: node, "\(what) is \(value), outside \(range.lowerBound)...\(range.upperBound)",
                   hint: "write a whole number from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return value
    }

    /// An unsigned 64-bit integer.
    mutating func uint64(_ node: Node?, _ what: String) -> UInt64? {
        guard let node else { return nil }
        guard let text = node.scalar?.string, node.null == nil, let value = UInt64(text) else {
            report(.wrongType, at: node, "\(what) must be a non-negative integer, found \(Self.describe(node))",
                   hint: "write a whole number from 0 to \(UInt64.max)")
            return nil
        }
        return value
    }

    /// A boolean.
    mutating func bool(_ node: Node?, _ what: String) -> Bool? {
        guard let node else { return nil }
        guard node.scalar != nil, let value = node.bool else {
            report(.wrongType, at: node, "\(what) must be true or false, found \(Self.describe(node))",
                   hint: "write true or false")
            return nil
        }
        return value
    }

    /// A list's elements.
    mutating func sequence(_ node: Node?, _ what: String) -> [Node]? {
        guard let node else { return nil }
        guard let sequence = node.sequence else {
            report(.wrongType, at: node, "\(what) must be a list, found \(Self.describe(node))",
                   hint: "write one `- item` per line, or `[a, b]`")
            return nil
        }
        return Array(sequence)
    }

    /// One of an enumeration's raw values.
    mutating func choice<Value: RawRepresentable & CaseIterable>(
        _ node: Node?, _ what: String, as type: Value.Type
    ) -> Value? where Value.RawValue == String {
        guard let text = string(node, what) else { return nil }
        if let value = Value(rawValue: text) { return value }
        let allowed = Value.allCases.map(\.rawValue)
        let suggestion = Self.nearest(text, among: allowed).map { "did you mean '\($0)'? " } ?? ""
        report(.invalidValue, at: node, "\(what) '\(text)' is not allowed",
               hint: "\(suggestion)use one of: \(allowed.joined(separator: ", "))")
        return nil
    }

    /// A regular expression that compiles; reports it at `node` otherwise.
    mutating func regex(_ node: Node?, _ what: String) -> String? {
        guard let pattern = string(node, what) else { return nil }
        do {
            _ = try NSRegularExpression(pattern: pattern)
            return pattern
        } catch {
            report(.invalidRegex, at: node, "\(what) '\(pattern)' is not a valid regular expression",
                   hint: "fix the pattern (ICU syntax; escape '(' '[' '.' with a backslash)")
            return nil
        }
    }

    // MARK: Words

    static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar:
            if node.null != nil { return "nothing (null)" }
            if node.bool != nil { return "a boolean '\(node.scalar?.string ?? "")'" }
            if node.int != nil { return "an integer '\(node.scalar?.string ?? "")'" }
            return "'\(node.scalar?.string ?? "")'"
        }
    }

    /// The closest word within a small edit distance, for "did you mean" hints.
    static func nearest(_ word: String, among candidates: [String]) -> String? {
        let limit = max(2, word.count / 3)
        let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= limit else { return nil }
        return best.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars)
        let b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// The values of one mapping, by key.
struct Fields {
    /// The mapping itself (for the place of "missing key" reports).
    let node: Node
    var values: [String: Node] = [:]
    var keys: [String: Node] = [:]

    subscript(_ key: String) -> Node? { values[key] }
}

extension String {
    /// Decodes UTF-8, or nil when `data` is not valid UTF-8.
    init?(validatingUTF8Data data: Data) {
        guard let text = String(validating: data, as: UTF8.self) else { return nil }
        self = text
    }
}

/// "Did you mean" suggestions, the same for file keys and command-line values.
public enum Spelling {
    /// The candidate closest to `word` within a small edit distance, or nil.
    ///
    /// - Parameters:
    ///   - word: what was written.
    ///   - candidates: what may be written.
    /// - Returns: the nearest candidate, when close enough to be a typo.
    public static func nearest(_ word: String, among candidates: [String]) -> String? {
        NodeReader.nearest(word, among: candidates)
    }
}
