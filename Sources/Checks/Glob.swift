import Foundation

/// A repository path pattern: `*` matches within one path segment, `?` one character of a
/// segment, `**` any number of whole segments (`**/` also matches none).
struct Glob: Sendable {
    let pattern: String
    private let regex: NSRegularExpression

    /// Compiles a glob; fails with `emptyPattern` for an empty glob.
    init(_ pattern: String, detector: String) throws(ChecksError) {
        guard !pattern.isEmpty else {
            throw ChecksError(.emptyPattern, "detector `\(detector)`: a glob in `files` is empty; write a path pattern such as `src/**/*.py`")
        }
        self.pattern = pattern
        var expression = "^"
        var characters = Substring(pattern)
        while let first = characters.first {
            if characters.hasPrefix("**/") {
                expression += "(?:.*/)?"
                characters = characters.dropFirst(3)
            } else if characters.hasPrefix("**") {
                expression += ".*"
                characters = characters.dropFirst(2)
            } else {
                switch first {
                case "*": expression += "[^/]*"
                case "?": expression += "[^/]"
                default: expression += NSRegularExpression.escapedPattern(for: String(first))
                }
                characters = characters.dropFirst()
            }
        }
        expression += "$"
        do {
            regex = try NSRegularExpression(pattern: expression)
        } catch {
            throw ChecksError(.invalidPattern, "detector `\(detector)`: glob `\(pattern)` could not be compiled (\(error)); use only `*`, `**` and `?` as wildcards")
        }
    }

    /// True when the whole path matches.
    func matches(_ path: String) -> Bool {
        regex.firstMatch(in: path, range: NSRange(path.startIndex..., in: path)) != nil
    }
}
