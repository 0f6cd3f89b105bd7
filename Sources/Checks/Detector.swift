import Foundation
import GitStore

/// A compiled detector: its declaration, its regular expression and its file globs.
public struct Detector: Sendable {
    /// The declaration it was compiled from.
    public let spec: DetectorSpec
    private let regex: NSRegularExpression
    private let globs: [Glob]

    /// Compiles a detector declaration.
    ///
    /// The pattern runs over a whole file's code text with `^` and `$` matching at line starts
    /// and ends; `.` does not match a line break (write `(?s)` for that), `\s` does.
    ///
    /// - Parameter spec: The declaration.
    /// - Throws: `ChecksError` with code `invalidPattern` (naming the detector id) when the pattern
    ///   is not a valid ICU regular expression, `emptyPattern` when the pattern or a glob is empty.
    public init(_ spec: DetectorSpec) throws(ChecksError) {
        let pattern: String
        if let call = spec.call {
            do { pattern = try DetectorSpec.callPattern(call) } catch {
                throw ChecksError(.invalidPattern, "detector `\(spec.id)`: \(error.message)")
            }
        } else {
            pattern = spec.pattern
        }
        guard !pattern.isEmpty else {
            throw ChecksError(.emptyPattern, "detector `\(spec.id)`: the pattern is empty; an empty pattern matches everywhere, write the code form to \(spec.kind.rawValue)")
        }
        do {
            regex = try NSRegularExpression(pattern: pattern, options: [.anchorsMatchLines])
        } catch {
            throw ChecksError(.invalidPattern, "detector `\(spec.id)`: pattern `\(spec.pattern)` is not a valid ICU regular expression (unbalanced parentheses or brackets, a dangling quantifier, or an unknown escape); fix the pattern (escape `(` `.` `[` as `\\(` `\\.` `\\[` when you mean them literally)")
        }
        switch spec.files {
        case .targets: globs = []
        case .globs(let patterns): globs = try patterns.map { (pattern) throws(ChecksError) in try Glob(pattern, detector: spec.id) }
        }
        self.spec = spec
    }

    /// The detector id.
    public var id: String { spec.id }

    /// True when a repository path is in this detector's scope.
    ///
    /// - Parameters:
    ///   - path: A repository path.
    ///   - targets: The step's target paths, with renames already followed.
    func covers(_ path: String, targets: Set<String>) -> Bool {
        switch spec.files {
        case .targets: targets.contains(path)
        case .globs: globs.contains { $0.matches(path) }
        }
    }

    /// Every match of the pattern over the text of a file the detector reads (`spec.within`: its
    /// code, its comments, or its raw source), as UTF-16 ranges of the text.
    func matches(in text: CodeText) -> [NSRange] {
        let searched: String
        switch spec.within {
        case .code: searched = text.code
        case .comments: searched = text.comments
        case .anywhere: searched = text.source
        }
        return regex.matches(in: searched, range: NSRange(location: 0, length: searched.utf16.count))
            .map(\.range)
            .filter { $0.length > 0 }
    }
}
