import Foundation

/// Where an anchor puts a block in a given file text, or why it cannot.
enum AnchorPlacement: Equatable {
    /// Insert before this 0-based line index (the line count means the end).
    case before(Int)
    /// The regex matches no line.
    case noMatch
    /// The regex matches these 1-based lines.
    case ambiguous([Int])
    /// The line number is past the end of a file with this many lines.
    case lineOutOfRange(Int)
    /// The regex does not compile.
    case invalidRegex
}

extension Anchor {
    /// The lines of a file, without the final newline's empty remainder.
    static func lines(of text: String) -> [String] {
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    /// Where this anchor puts a block in `lines`.
    func placement(in lines: [String]) -> AnchorPlacement {
        switch self {
        case .top:
            var index = 0
            if lines.first?.hasPrefix("#!") == true { index = 1 }
            if index < lines.count, lines[index].range(of: #"^#.*coding[:=]"#, options: .regularExpression) != nil {
                index += 1
            }
            return .before(index)
        case .bottom:
            return .before(lines.count)
        case .beforeLine(let line):
            return line >= 1 && line <= lines.count + 1 ? .before(line - 1) : .lineOutOfRange(lines.count)
        case .afterMatch(let pattern), .beforeMatch(let pattern):
            guard let regex = try? NSRegularExpression(pattern: pattern) else { return .invalidRegex }
            let matches = lines.indices.filter { index in
                let line = lines[index]
                return regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil
            }
            guard let first = matches.first else { return .noMatch }
            guard matches.count == 1 else { return .ambiguous(matches.map { $0 + 1 }) }
            if case .afterMatch = self { return .before(first + 1) }
            return .before(first)
        }
    }

    /// How the anchor reads in the scenario format, for messages.
    var written: String {
        switch self {
        case .top: return "top"
        case .bottom: return "bottom"
        case .beforeLine(let line): return "before_line: \(line)"
        case .afterMatch(let pattern): return "after_match: \(pattern)"
        case .beforeMatch(let pattern): return "before_match: \(pattern)"
        }
    }
}
