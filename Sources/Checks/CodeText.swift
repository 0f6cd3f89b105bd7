import Foundation

/// A file's text with its comments blanked out, so detectors see code only.
///
/// Every UTF-16 code unit inside a comment (and inside a Python docstring) becomes a space; line
/// breaks stay. The code text therefore has the same lines and the same UTF-16 columns as the
/// source, and a match found in the code text points at the same place in the source. Because the
/// whole file is scanned, a block comment or docstring that spans lines is blanked on every line,
/// even when a diff shows only some of them.
public struct CodeText: Sendable, Hashable {
    /// The comment syntax used to scan the source.
    public let language: SourceLanguage
    /// The original text.
    public let source: String
    /// The text with comments replaced by spaces; same UTF-16 length and line breaks as `source`.
    /// A backslash that continues a line (Python, C family, shell; outside literals) is a space
    /// too, so a pattern's `\s` joins the continued lines.
    public let code: String
    /// The text with everything but comments and docstrings replaced by spaces; same UTF-16
    /// length and line breaks as `source`.
    public let comments: String
    /// What each UTF-16 unit of `source` is in: code, a string literal, or a comment.
    let regions: [Evidence.Region]
    /// UTF-16 offset of the first unit of each line; line `n` (1-based) starts at `lineStarts[n - 1]`.
    let lineStarts: [Int]

    /// Scans a file's text with the comment rules of a language.
    ///
    /// - Parameters:
    ///   - source: The whole text of the file.
    ///   - language: The comment syntax to apply.
    public init(source: String, language: SourceLanguage) {
        let units = Array(source.utf16)
        var scanner = CommentScanner(units: units, lineEnds: language.lineTerminators)
        switch language {
        case .python: scanner.scanPython()
        case .javascript, .go, .swift, .c: scanner.scanCFamily(language)
        case .shell: scanner.scanShell()
        case .plain: break
        }
        self.language = language
        self.source = source
        self.code = String(decoding: scanner.output, as: UTF16.self)
        self.regions = scanner.regions
        var commentUnits = units
        for index in commentUnits.indices where scanner.regions[index] != .comment && !CommentScanner.isLineBreak(units[index]) {
            commentUnits[index] = CommentScanner.space
        }
        self.comments = String(decoding: commentUnits, as: UTF16.self)
        var starts = [0]
        for (offset, unit) in units.enumerated() where unit == CommentScanner.newline {
            starts.append(offset + 1)
        }
        // A final line break ends the last line; it does not start an empty one.
        if starts.count > 1, starts.last == units.count { starts.removeLast() }
        self.lineStarts = starts
    }

    /// Scans a file's text with the comment rules chosen by the file's extension.
    ///
    /// - Parameters:
    ///   - source: The whole text of the file.
    ///   - path: The file's path; its extension selects the language.
    public init(source: String, path: String) {
        self.init(source: source, language: SourceLanguage(path: path))
    }

    /// The number of lines (a final line break does not start another line).
    public var lineCount: Int { source.isEmpty ? 0 : lineStarts.count }

    /// The code of each line, comments blanked, without its `\n` (a `\r` before it stays).
    public var codeLines: [String] { lines(of: code) }

    /// The source of each line, without its `\n` (a `\r` before it stays).
    public var sourceLines: [String] { lines(of: source) }

    /// The 1-based line that holds a UTF-16 offset of the text.
    func line(atUTF16Offset offset: Int) -> Int {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return low + 1
    }

    /// What a match found in the text a detector searched is in: `comment` when any of its
    /// non-blank units (in that text) lies in a comment or docstring, else `string` when any lies
    /// in a string literal, else `code`.
    ///
    /// - Parameters:
    ///   - range: The match, as a UTF-16 range of the searched text (same offsets as `source`).
    ///   - within: Which text was searched.
    func region(of range: NSRange, within: DetectorSpec.Within) -> Evidence.Region {
        // Walks only the match (a file may hold many matches): a unit the searched text blanks
        // is a comment unit for `code`, any other unit for `comments`; white space never counts.
        let units = source.utf16
        let end = min(range.location + range.length, regions.count)
        guard range.location < end,
              var index = units.index(units.startIndex, offsetBy: range.location, limitedBy: units.endIndex) else { return .code }
        var found = Set<Evidence.Region>()
        for offset in range.location..<end {
            let unit = units[index]
            index = units.index(after: index)
            let region = regions[offset]
            if unit == CommentScanner.space || unit == 0x09 || unit == 0x0C || CommentScanner.isLineBreak(unit) { continue }
            switch within {
            case .code where region == .comment: continue
            case .comments where region != .comment: continue
            default: found.insert(region)
            }
        }
        if found.contains(.comment) { return .comment }
        return found.contains(.string) ? .string : .code
    }

    /// Splits on `\n` code units (a `Character` split would keep `\r\n` together).
    private func lines(of text: String) -> [String] {
        let units = Array(text.utf16)
        return (0..<lineCount).map { index in
            let start = lineStarts[index]
            var end = index + 1 < lineStarts.count ? lineStarts[index + 1] - 1 : units.count
            if index + 1 == lineStarts.count, end > start, units[end - 1] == CommentScanner.newline { end -= 1 }
            return String(decoding: units[start..<end], as: UTF16.self)
        }
    }
}

/// Marks comment code units of a text as spaces, one pass per language family.
///
/// A line comment ends where the language's own lexer ends a line (`lineEnds`), not only at
/// `\n`: code after a lone `\r` in Python, or after U+2028 in JavaScript, is code. Line numbers
/// are counted elsewhere, on `\n` only, as git counts the lines of a diff.
struct CommentScanner {
    static let newline = UInt16(UInt8(ascii: "\n"))
    static let carriageReturn = UInt16(UInt8(ascii: "\r"))
    static let lineSeparator: UInt16 = 0x2028
    static let paragraphSeparator: UInt16 = 0x2029
    static let space = UInt16(UInt8(ascii: " "))

    /// True for `\n`, `\r`, U+2028 and U+2029, which blanking keeps.
    static func isLineBreak(_ unit: UInt16) -> Bool {
        unit == newline || unit == carriageReturn || unit == lineSeparator || unit == paragraphSeparator
    }

    let units: [UInt16]
    /// The code units that end a line (and so a line comment) in the scanned language.
    let lineEnds: Set<UInt16>
    private(set) var output: [UInt16]
    /// What each unit is in; comments (docstrings included) and string literals are marked as
    /// they are scanned, the rest is code.
    private(set) var regions: [Evidence.Region]

    init(units: [UInt16], lineEnds: Set<UInt16> = [CommentScanner.newline]) {
        self.units = units
        self.lineEnds = lineEnds
        self.output = units
        self.regions = Array(repeating: .code, count: units.count)
    }

    /// Marks `range` as a string literal (its prefix and quotes included).
    private mutating func markString(_ range: Range<Int>) {
        for index in range { regions[index] = .string }
    }

    /// If a backslash at `index` continues the line (the next unit ends the line), blanks it so
    /// that the code text reads the continued lines as one, and returns true.
    private mutating func joinContinuation(at index: Int) -> Bool {
        guard isASCII(index, "\\"), index + 1 < units.count,
              units[index + 1] == Self.newline || units[index + 1] == Self.carriageReturn else { return false }
        output[index] = Self.space
        return true
    }

    /// True when the unit at `index` ends a line in the scanned language.
    private func isLineEnd(_ index: Int) -> Bool {
        index < units.count && lineEnds.contains(units[index])
    }

    private func unit(_ index: Int) -> UInt16? { index < units.count ? units[index] : nil }

    private func isASCII(_ index: Int, _ character: Unicode.Scalar) -> Bool {
        unit(index) == UInt16(character.value)
    }

    private func matches(_ index: Int, _ text: String) -> Bool {
        guard index + text.utf16.count <= units.count else { return false }
        var position = index
        for unit in text.utf16 {
            if units[position] != unit { return false }
            position += 1
        }
        return true
    }

    /// Blanks `range`, keeping line breaks (`\n`, `\r`, U+2028 and U+2029).
    private mutating func blank(_ range: Range<Int>) {
        for index in range {
            regions[index] = .comment
            switch units[index] {
            case Self.newline, Self.carriageReturn, Self.lineSeparator, Self.paragraphSeparator: continue
            default: output[index] = Self.space
            }
        }
    }

    /// The end of the line that holds `index` (the offset of the language's next line
    /// terminator, or the text's end).
    private func endOfLine(from index: Int) -> Int {
        var end = index
        while end < units.count, !lineEnds.contains(units[end]) { end += 1 }
        return end
    }

    /// The end (exclusive) of a quoted literal whose body starts at `index`.
    ///
    /// - Parameters:
    ///   - closing: The closing delimiter.
    ///   - escapes: Whether a backslash protects the next unit.
    ///   - multiline: Whether the literal may span lines; otherwise it ends at a `\n` or `\r`
    ///     (a string literal cannot hold either unescaped in any of the languages; JavaScript
    ///     strings may hold U+2028 and U+2029, so those do not end them).
    private func endOfLiteral(from index: Int, closing: String, escapes: Bool, multiline: Bool) -> Int {
        var position = index
        while position < units.count {
            if escapes, isASCII(position, "\\") {
                // A backslash before `\r\n` continues the literal past the whole line end.
                position += isASCII(position + 1, "\r") && isASCII(position + 2, "\n") ? 3 : 2
                continue
            }
            if !multiline, units[position] == Self.newline || (units[position] == Self.carriageReturn && lineEnds.contains(Self.carriageReturn)) {
                return position
            }
            if matches(position, closing) { return position + closing.utf16.count }
            position += 1
        }
        return units.count
    }

    // MARK: Python

    /// Python: `#` comments and string statements (docstrings).
    mutating func scanPython() {
        var index = 0
        var depth = 0
        var atStatementStart = true
        var lastCode: UInt16 = 0
        while index < units.count {
            let current = units[index]
            if current == Self.carriageReturn, isASCII(index + 1, "\n") {
                // `\r\n` is one line end; the `\n` ends the line.
                index += 1
                continue
            }
            if isLineEnd(index) {
                if depth == 0, lastCode != UInt16(UInt8(ascii: "\\")) { atStatementStart = true }
                lastCode = 0
                index += 1
                continue
            }
            if isASCII(index, " ") || isASCII(index, "\t") || isASCII(index, "\u{0C}") {
                index += 1
                continue
            }
            if isASCII(index, "#") {
                let end = endOfLine(from: index)
                blank(index..<end)
                index = end
                continue
            }
            if let end = pythonStringEnd(at: index) {
                // An f-string statement evaluates its `{…}` expressions, so it is code, not a docstring.
                if atStatementStart, depth == 0, standsAlone(after: end), !isFormattedString(at: index) {
                    blank(index..<end)
                } else {
                    markString(index..<end)
                }
                atStatementStart = false
                lastCode = UInt16(UInt8(ascii: "\""))
                index = end
                continue
            }
            if let identifierEnd = identifierEnd(at: index) {
                atStatementStart = false
                lastCode = units[identifierEnd - 1]
                index = identifierEnd
                continue
            }
            switch Unicode.Scalar(current).map(Character.init) {
            case "(", "[", "{": depth += 1
            case ")", "]", "}": depth = max(0, depth - 1)
            case ";" where depth == 0:
                atStatementStart = true
                lastCode = current
                index += 1
                continue
            default: break
            }
            // A backslash continuation joins the lines: blank it in the code text (it stays
            // `lastCode`, so the next line does not start a statement).
            _ = joinContinuation(at: index)
            atStatementStart = false
            lastCode = current
            index += 1
        }
    }

    /// If a Python string literal (with an optional prefix such as `r`, `b`, `f`, `rb`) starts at
    /// `index`, the offset just past its closing quote.
    private func pythonStringEnd(at index: Int) -> Int? {
        var quote = index
        while quote < index + 2, let letter = unit(quote), Self.isStringPrefix(letter) { quote += 1 }
        guard isASCII(quote, "\"") || isASCII(quote, "'") else { return nil }
        let mark = isASCII(quote, "\"") ? "\"" : "'"
        let triple = String(repeating: mark, count: 3)
        if matches(quote, triple) {
            return endOfLiteral(from: quote + 3, closing: triple, escapes: true, multiline: true)
        }
        return endOfLiteral(from: quote + 1, closing: mark, escapes: true, multiline: false)
    }

    /// True when the string literal starting at `index` has an `f` in its prefix.
    private func isFormattedString(at index: Int) -> Bool {
        var position = index
        while let letter = unit(position), Self.isStringPrefix(letter) {
            if letter == UInt16(UInt8(ascii: "f")) || letter == UInt16(UInt8(ascii: "F")) { return true }
            position += 1
        }
        return false
    }

    private static func isStringPrefix(_ unit: UInt16) -> Bool {
        "rRbBuUfF".utf16.contains(unit)
    }

    /// True when only blanks, a comment, a `;` or the line's end follow `index` on its line.
    private func standsAlone(after index: Int) -> Bool {
        var position = index
        while isASCII(position, " ") || isASCII(position, "\t") || isASCII(position, "\u{0C}") { position += 1 }
        return position >= units.count || isLineEnd(position)
            || isASCII(position, "#") || isASCII(position, ";")
    }

    /// If an identifier or number starts at `index`, the offset just past it.
    private func identifierEnd(at index: Int) -> Int? {
        var end = index
        while let current = unit(end), Self.isWordUnit(current) { end += 1 }
        return end > index ? end : nil
    }

    private static func isWordUnit(_ unit: UInt16) -> Bool {
        unit >= 0x80 || unit == UInt16(UInt8(ascii: "_"))
            || (unit >= 0x30 && unit <= 0x39) || (unit >= 0x41 && unit <= 0x5A) || (unit >= 0x61 && unit <= 0x7A)
    }

    // MARK: C family

    /// `//` and `/* */` comments, skipping string, character, template and raw literals.
    mutating func scanCFamily(_ language: SourceLanguage) {
        var index = 0
        while index < units.count {
            if matches(index, "//") {
                let end = endOfLine(from: index)
                blank(index..<end)
                index = end
            } else if matches(index, "/*") {
                let end = endOfBlockComment(from: index + 2, nests: language == .swift)
                blank(index..<end)
                index = end
            } else if let end = cFamilyLiteralEnd(at: index, language: language) {
                markString(index..<end)
                index = end
            } else if language == .c, joinContinuation(at: index) {
                index += 1
            } else {
                index += 1
            }
        }
    }

    private func endOfBlockComment(from index: Int, nests: Bool) -> Int {
        var position = index
        var depth = 1
        while position < units.count {
            if matches(position, "*/") {
                depth -= 1
                position += 2
                if depth == 0 { return position }
            } else if nests, matches(position, "/*") {
                depth += 1
                position += 2
            } else {
                position += 1
            }
        }
        return units.count
    }

    /// If a string-like literal starts at `index`, the offset just past it.
    private func cFamilyLiteralEnd(at index: Int, language: SourceLanguage) -> Int? {
        switch language {
        case .swift:
            var quote = index
            while isASCII(quote, "#") { quote += 1 }
            guard isASCII(quote, "\"") else { return nil }
            let hashes = String(repeating: "#", count: quote - index)
            let mark = matches(quote, "\"\"\"") ? "\"\"\"" : "\""
            return endOfLiteral(
                from: quote + mark.utf16.count, closing: mark + hashes, escapes: hashes.isEmpty,
                multiline: mark.count == 3)
        case .javascript, .go, .c:
            if isASCII(index, "\"") || isASCII(index, "'") {
                let mark = isASCII(index, "\"") ? "\"" : "'"
                return endOfLiteral(from: index + 1, closing: mark, escapes: true, multiline: false)
            }
            if isASCII(index, "`"), language != .c {
                // Template literals (JavaScript) keep escapes; raw strings (Go) have none.
                return endOfLiteral(from: index + 1, closing: "`", escapes: language == .javascript, multiline: true)
            }
            return nil
        case .python, .shell, .plain:
            return nil
        }
    }

    // MARK: Shell

    /// `#` comments that start a word; quotes and backslash escapes protect a `#`.
    mutating func scanShell() {
        var index = 0
        while index < units.count {
            if isASCII(index, "\\") {
                _ = joinContinuation(at: index)
                index += 2
            } else if isASCII(index, "'") {
                let end = endOfLiteral(from: index + 1, closing: "'", escapes: false, multiline: true)
                markString(index..<end)
                index = end
            } else if isASCII(index, "\"") {
                let end = endOfLiteral(from: index + 1, closing: "\"", escapes: true, multiline: true)
                markString(index..<end)
                index = end
            } else if isASCII(index, "#"), index == 0 || Self.endsShellWord(units[index - 1]) {
                // A shell line ends at `\n` only: `\r` is an ordinary word character, so
                // `true\r#` is one word and what follows it on the line is code.
                let end = endOfLine(from: index)
                blank(index..<end)
                index = end
            } else {
                index += 1
            }
        }
    }

    private static func endsShellWord(_ unit: UInt16) -> Bool {
        " \t\n;&|()<>".utf16.contains(unit)
    }
}
