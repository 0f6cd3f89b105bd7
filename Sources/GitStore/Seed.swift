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
        // Lines without their "\n" (split on bytes: Swift treats "\r\n" as one character).
        var lines = content.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        var finalNewline = true
        if lines.last == "" { lines.removeLast() } else { finalNewline = false }
        let index = try insertionIndex(lines)
        let block = text.utf8.last == UInt8(ascii: "\n") ? String(decoding: text.utf8.dropLast(), as: UTF8.self) : text
        lines.insert(block, at: index)
        if index == lines.count - 1 { finalNewline = true }
        return lines.joined(separator: "\n") + (finalNewline ? "\n" : "")
    }

    private func insertionIndex(_ lines: [String]) throws -> Int {
        switch anchor {
        case .wholeFile:
            return 0
        case .top:
            var index = 0
            if lines.first?.hasPrefix("#!") == true { index = 1 }
            if index < lines.count, index < 2, Self.isCodingDeclaration(lines[index]) { index += 1 }
            return index
        case .bottom:
            return lines.count
        case .beforeLine(let number):
            guard (1...lines.count + 1).contains(number) else {
                throw failure("line \(number) is outside the file's \(lines.count) lines", hint: "use a line number from 1 to \(lines.count + 1)")
            }
            return number - 1
        case .afterMatch(let pattern):
            return try matchingLine(pattern, lines) + 1
        case .beforeMatch(let pattern):
            return try matchingLine(pattern, lines)
        }
    }

    /// True for a Python source-encoding line (PEP 263): a comment naming `coding:` or `coding=`.
    static func isCodingDeclaration(_ line: String) -> Bool {
        let text = line.drop { $0 == " " || $0 == "\t" || $0 == "\u{0C}" }
        return text.hasPrefix("#") && (text.contains("coding:") || text.contains("coding="))
    }

    private func matchingLine(_ pattern: String, _ lines: [String]) throws -> Int {
        // ICU syntax (NSRegularExpression), the same the scenario files are validated with.
        let regex: NSRegularExpression
        do { regex = try NSRegularExpression(pattern: pattern) } catch {
            throw failure("the anchor pattern /\(pattern)/ is not a valid regular expression", hint: "fix the pattern (ICU syntax)")
        }
        let matches = lines.indices.filter { index in
            let line = lines[index]
            return regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil
        }
        guard matches.count == 1 else {
            let which = matches.isEmpty ? "no line" : "\(matches.count) lines (\(matches.map { String($0 + 1) }.joined(separator: ", ")))"
            throw GitError(kind: .invalidInput, function: "SeedEdit.apply", message: "the anchor /\(pattern)/ matches \(which); it must match exactly one",
                           location: matches.first.map { "\(path):\($0 + 1)" } ?? path, hint: "make the pattern match one line only")
        }
        return matches[0]
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
