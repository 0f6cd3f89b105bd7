import Foundation

/// One edit a seed commit makes: text inserted into a file at an anchor.
public struct SeedEdit: Sendable, Hashable, Codable {
    /// Where the text goes.
    public enum Anchor: Sendable, Hashable, Codable {
        /// At the top, but after a `#!` line and a Python `coding` declaration when present.
        case top
        /// At the end (a missing final newline is added first).
        case bottom
        /// So the text starts at line N (1-based; N = line count + 1 appends).
        case beforeLine(Int)
        /// After the one line matching the regular expression (ICU syntax).
        case afterMatch(String)
        /// Before the one line matching the regular expression (ICU syntax).
        case beforeMatch(String)
        /// The text becomes the whole file (created, with its folders, when missing).
        case wholeFile
    }

    /// The file's path relative to the workspace root.
    public var path: String
    /// Where the text goes.
    public var anchor: Anchor
    /// The text to insert, exactly; a final newline is added when an insertion lacks one.
    public var text: String

    /// Creates an edit.
    /// - Parameters:
    ///   - path: the file's path relative to the workspace root.
    ///   - anchor: where the text goes.
    ///   - text: the text to insert.
    public init(path: String, anchor: Anchor, text: String) {
        self.path = path
        self.anchor = anchor
        self.text = text
    }

    /// The file's new content after this edit.
    /// - Parameter content: the current content, or nil when the file does not exist.
    /// - Returns: the new content.
    /// - Throws: `GitError` naming the file (and lines) when the anchor matches no line or several,
    ///   the line number is out of range, the pattern is invalid, or the file is missing.
    public func apply(to content: String?) throws -> String {
        if case .wholeFile = anchor { return text }
        guard let content else {
            throw failure("the file does not exist", hint: "create it with the wholeFile anchor first, or fix the path")
        }
        var lines = Self.lines(of: content)
        let finalNewline = content.utf8.last == UInt8(ascii: "\n") || content.isEmpty
        let index = try insertionIndex(lines)
        let block = text.utf8.last == UInt8(ascii: "\n") ? String(decoding: text.utf8.dropLast(), as: UTF8.self) : text
        lines.insert(block, at: index)
        return lines.joined(separator: "\n") + (finalNewline || index == lines.count - 1 ? "\n" : "")
    }

    /// A file's lines without their `\n`, as anchors see them: split on the byte, so a `\r` of a
    /// CRLF file stays with its line (Swift treats `"\r\n"` as one character and would not split
    /// it), and without the empty remainder after a final newline.
    /// - Parameter content: the file's text.
    /// - Returns: its lines.
    public static func lines(of content: String) -> [String] {
        var lines = content.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    private func insertionIndex(_ lines: [String]) throws -> Int {
        switch Self.placement(of: anchor, in: lines) {
        case .before(let index):
            return index
        case .lineOutOfRange(let count):
            guard case .beforeLine(let number) = anchor else { return count }
            throw failure("line \(number) is outside the file's \(count) lines", hint: "use a line number from 1 to \(count + 1)")
        case .invalidRegex:
            throw failure("the anchor pattern /\(Self.pattern(of: anchor))/ is not a valid regular expression", hint: "fix the pattern (ICU syntax)")
        case .noMatch:
            throw GitError(kind: .invalidInput, function: "SeedEdit.apply", message: "the anchor /\(Self.pattern(of: anchor))/ matches no line; it must match exactly one",
                           location: path, hint: "make the pattern match one line only")
        case .ambiguous(let numbers):
            throw GitError(kind: .invalidInput, function: "SeedEdit.apply",
                           message: "the anchor /\(Self.pattern(of: anchor))/ matches \(numbers.count) lines (\(numbers.map(String.init).joined(separator: ", "))); it must match exactly one",
                           location: "\(path):\(numbers[0])", hint: "make the pattern match one line only")
        }
    }

    /// Where an anchor puts inserted text among a file's lines, or why it cannot.
    public enum Placement: Sendable, Equatable {
        /// Insert before this 0-based line index (the line count means the end).
        case before(Int)
        /// The pattern matches no line.
        case noMatch
        /// The pattern matches these 1-based lines.
        case ambiguous([Int])
        /// The line number lies outside a file with this many lines.
        case lineOutOfRange(Int)
        /// The pattern does not compile.
        case invalidRegex
    }

    /// Where `anchor` puts inserted text among `lines` (a file's lines without their newlines).
    ///
    /// The one definition of anchor placement: seed commits use it, and scenario validation
    /// checks anchors with it, so a scenario that validates lands the same way.
    /// - Parameters:
    ///   - anchor: the anchor.
    ///   - lines: the file's lines.
    /// - Returns: the insertion index, or why there is none.
    public static func placement(of anchor: Anchor, in lines: [String]) -> Placement {
        switch anchor {
        case .wholeFile:
            return .before(0)
        case .top:
            var index = 0
            if lines.first?.hasPrefix("#!") == true { index = 1 }
            if index < lines.count, index < 2, isCodingDeclaration(lines[index]) { index += 1 }
            return .before(index)
        case .bottom:
            return .before(lines.count)
        case .beforeLine(let number):
            return (1...lines.count + 1).contains(number) ? .before(number - 1) : .lineOutOfRange(lines.count)
        case .afterMatch(let pattern), .beforeMatch(let pattern):
            // ICU syntax (NSRegularExpression), the same the scenario files are validated with.
            guard let regex = try? NSRegularExpression(pattern: pattern) else { return .invalidRegex }
            let matches = lines.indices.filter { index in
                let line = lines[index]
                return regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil
            }
            guard let first = matches.first else { return .noMatch }
            guard matches.count == 1 else { return .ambiguous(matches.map { $0 + 1 }) }
            if case .afterMatch = anchor { return .before(first + 1) }
            return .before(first)
        }
    }

    /// The pattern of a match anchor (empty for the others).
    private static func pattern(of anchor: Anchor) -> String {
        switch anchor {
        case .afterMatch(let pattern), .beforeMatch(let pattern): return pattern
        default: return ""
        }
    }

    /// True for a Python source-encoding line (PEP 263): a comment naming `coding:` or `coding=`.
    static func isCodingDeclaration(_ line: String) -> Bool {
        let text = line.drop { $0 == " " || $0 == "\t" || $0 == "\u{0C}" }
        return text.hasPrefix("#") && (text.contains("coding:") || text.contains("coding="))
    }

    private func failure(_ message: String, hint: String) -> GitError {
        GitError(kind: .invalidInput, function: "SeedEdit.apply", message: message, location: path, hint: hint)
    }
}

/// A seed commit: edits by a named colleague, landed before an agent step.
public struct Seed: Sendable, Hashable, Codable {
    /// The edits, applied in order.
    public var edits: [SeedEdit]
    /// The colleague who wrote them, with the time.
    public var author: Signature
    /// Who committed them; the author when nil.
    public var committer: Signature?
    /// The commit message.
    public var message: String
    /// Trailers appended to the message.
    public var trailers: [Trailer]

    /// Creates a seed.
    /// - Parameters:
    ///   - edits: the edits, applied in order.
    ///   - author: the colleague, with the time.
    ///   - committer: who committed them; the author when nil.
    ///   - message: the commit message.
    ///   - trailers: trailers appended to the message.
    public init(edits: [SeedEdit], author: Signature, committer: Signature? = nil, message: String, trailers: [Trailer] = []) {
        self.edits = edits
        self.author = author
        self.committer = committer
        self.message = message
        self.trailers = trailers
    }
}
