import Foundation

/// A bound on how deeply a YAML text nests, checked on the text before any parser sees it.
///
/// YAML parsers build nested documents recursively: a small file nested thousands of levels deep
/// (`[[[[…` or `- - - -…`) overflows the stack and kills the process. Every YAML file driftbox
/// reads (scenarios, pools, tasks, suites, checks files) is first measured here, and one nested
/// deeper than ``limit`` is refused with its line and column.
///
/// The measure is an upper bound of the true depth, taken line by line: the indentation levels
/// open at the line, plus its compact `- ` and `? ` indicators, plus the open flow collections
/// (`[`, `{`). Block scalars (`|`, `>`), quoted text and comments do not count.
public enum YAMLDepth {
    /// The deepest nesting accepted. driftbox's own formats nest less than ten levels.
    public static let limit = 64

    /// Where a text first nests deeper than ``limit``, or nil when it never does.
    ///
    /// - Parameters:
    ///   - text: the YAML text.
    ///   - path: the file, for the diagnostic.
    /// - Returns: a `.syntax` diagnostic at the first place deeper than the limit.
    public static func check(_ text: String, path: String) -> Diagnostic? {
        guard let (line, column) = firstTooDeep(Array(text.utf8)) else { return nil }
        return Diagnostic(kind: .syntax, path: path, line: line, column: column,
                          message: "the YAML nests deeper than \(limit) levels here",
                          hint: "driftbox's files need only a few levels; flatten the structure")
    }

    /// The 1-based line and column of the first byte at which the depth exceeds the limit.
    static func firstTooDeep(_ bytes: [UInt8]) -> (Int, Int)? {
        let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t"), newline = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        var indents: [Int] = []  // open block indentation levels
        var flow = 0  // open flow collections
        var blockScalarIndent: Int?  // inside a block scalar started at this indentation
        var lineNumber = 0
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != newline { end += 1 }
            lineNumber += 1
            var line = bytes[start..<end]
            if line.last == cr { line = line.dropLast() }
            defer { start = end + 1 }
            if start == bytes.count && line.isEmpty { break }

            var index = line.startIndex
            while index < line.endIndex, line[index] == space || line[index] == tab { index += 1 }
            let indent = index - line.startIndex
            let blank = index == line.endIndex || line[index] == UInt8(ascii: "#")
            if let scalarIndent = blockScalarIndent {
                if blank || indent > scalarIndent { continue }
                blockScalarIndent = nil
            }
            if blank { continue }
            var depth = 0
            if flow == 0 {
                while let last = indents.last, last > indent { indents.removeLast() }
                if indents.last != indent { indents.append(indent) }
                depth = indents.count
                // Compact nesting on one line: `- - x`, `? - x`.
                while index < line.endIndex, line[index] == UInt8(ascii: "-") || line[index] == UInt8(ascii: "?") {
                    let next = line.index(after: index)
                    guard next == line.endIndex || line[next] == space || line[next] == tab else { break }
                    depth += 1
                    if depth > limit { return (lineNumber, index - line.startIndex + 1) }
                    index = next
                    while index < line.endIndex, line[index] == space || line[index] == tab { index += 1 }
                }
                if depth > limit { return (lineNumber, index - line.startIndex + 1) }
            }
            // The rest of the line: flow collections open at a value's start, or anywhere inside one.
            var valueStart = true
            var previous: UInt8 = space
            while index < line.endIndex {
                let byte = line[index]
                let column = index - line.startIndex + 1
                if byte == UInt8(ascii: "#"), previous == space || previous == tab { break }
                if (byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")) && (valueStart || flow > 0) {
                    // Skip the quoted text (to the end of the line at most).
                    index = line.index(after: index)
                    while index < line.endIndex {
                        if byte == UInt8(ascii: "\""), line[index] == UInt8(ascii: "\\") {
                            index = min(line.index(index, offsetBy: 2), line.endIndex)
                            continue
                        }
                        if line[index] == byte { break }
                        index = line.index(after: index)
                    }
                    if index < line.endIndex { index = line.index(after: index) }
                    previous = byte
                    valueStart = false
                    continue
                }
                if (byte == UInt8(ascii: "[") || byte == UInt8(ascii: "{")) && (valueStart || flow > 0) {
                    flow += 1
                    if depth + flow > limit { return (lineNumber, column) }
                    valueStart = true
                } else if (byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}")) && flow > 0 {
                    flow -= 1
                    valueStart = false
                } else if byte == UInt8(ascii: ",") && flow > 0 {
                    valueStart = true
                } else if byte == UInt8(ascii: ":"), index + 1 == line.endIndex || line[index + 1] == space || line[index + 1] == tab || flow > 0 {
                    valueStart = true
                } else if byte == UInt8(ascii: "|") || byte == UInt8(ascii: ">"), valueStart, flow == 0 {
                    // A block scalar header: its content lines are more indented than this line.
                    blockScalarIndent = indent
                    break
                } else if byte != space && byte != tab {
                    valueStart = false
                }
                previous = byte
                index = line.index(after: index)
            }
        }
        return nil
    }
}
