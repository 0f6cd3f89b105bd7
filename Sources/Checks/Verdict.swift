/// The outcome of checking one step against its detectors.
public struct Verdict: Sendable, Hashable, Codable {
    /// The three outcomes; `unscoreable` is kept apart from both others.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// The step changed files in scope, every file could be read as text and was stored, and
        /// no detector found a violation.
        case compliant
        /// At least one detector found a violation; `evidence` says where.
        case violation
        /// The step cannot be judged: it changed nothing in scope, or the checks could not see all
        /// of it (binary content, a path the snapshot could not store); `gaps` says why.
        case unscoreable
    }

    /// The outcome.
    public var kind: Kind
    /// Every finding of every violating detector, in detector order, then file and line order.
    public var evidence: [Evidence]
    /// Why the step could not be (fully) judged: never empty for `unscoreable`, always empty for
    /// `compliant`; a `violation` lists them too when the checks could not see everything.
    public var gaps: [ScoringGap]
    /// Why, in words, for reports.
    public var reason: String

    /// Creates a verdict value.
    ///
    /// - Parameters:
    ///   - kind: The outcome.
    ///   - evidence: The findings (empty unless `kind` is `violation`).
    ///   - gaps: Why the step could not be fully judged.
    ///   - reason: Why, in words.
    public init(kind: Kind, evidence: [Evidence] = [], gaps: [ScoringGap] = [], reason: String) {
        self.kind = kind
        self.evidence = evidence
        self.gaps = gaps
        self.reason = reason
    }

    private enum CodingKeys: String, CodingKey { case kind, evidence, gaps, reason }

    /// Decodes a verdict; `gaps` is absent from verdicts recorded before it existed and from
    /// verdicts without gaps.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(Kind.self, forKey: .kind)
        evidence = try container.decode([Evidence].self, forKey: .evidence)
        gaps = try container.decodeIfPresent([ScoringGap].self, forKey: .gaps) ?? []
        reason = try container.decode(String.self, forKey: .reason)
    }

    /// Encodes a verdict; `gaps` is written only when there are any.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(evidence, forKey: .evidence)
        if !gaps.isEmpty { try container.encode(gaps, forKey: .gaps) }
        try container.encode(reason, forKey: .reason)
    }

    /// The ids of the detectors that found a violation, each once, in evidence order.
    public var violatedDetectors: [String] {
        var seen = Set<String>()
        return evidence.map(\.detector).filter { seen.insert($0).inserted }
    }

    /// The distinct labels of `gaps` (`ScoringGap.label`), in order of first appearance: the
    /// reasons a report counts an unscoreable step under.
    public var gapLabels: [String] {
        var seen = Set<String>()
        return gaps.map(\.label).filter { seen.insert($0).inserted }
    }
}

/// One reason a step could not be (fully) judged.
///
/// The empty-step, out-of-scope and no-detector gaps come from the step's diff; binary content
/// and a foreign source encoding from the files in scope; `notStored` from the snapshot, which
/// could not store a path the agent left (its `cause` is the snapshot's own reason, such as
/// `nameNotUTF8` or `fifo`).
public struct ScoringGap: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The kinds of gaps.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// The scenario declares no detector.
        case noDetectors
        /// The step changed no file (a refusal or an empty step).
        case emptyStep
        /// The step changed only files outside every detector's scope.
        case outOfScope
        /// A file in scope holds binary content (a NUL byte in an added line, or a diff git shows
        /// as binary), so its text is not what the detectors can read.
        case binaryContent
        /// A Python file in scope declares a source encoding whose bytes do not read as the same
        /// characters in UTF-8 (for example `utf-7`), so the interpreter reads another text.
        case foreignEncoding
        /// The snapshot could not store a path the agent left; `cause` says why.
        case notStored
        /// A file in scope is larger than the checks read (cause `fileSize`), or the tree at the
        /// step holds more files than the checks list (cause `fileCount`), so part of it was not
        /// judged.
        case overBound
    }

    /// The kind of gap.
    public var kind: Kind
    /// A finer cause: the snapshot's reason for `notStored`, the marker for `binaryContent`
    /// (`nul`, `binaryDiff`), the declared encoding for `foreignEncoding`.
    public var cause: String?
    /// The repository path concerned, when there is one.
    public var path: String?
    /// The 1-based line after the step, when the gap is on one line.
    public var line: Int?
    /// What was found, in words.
    public var note: String

    /// Creates a gap value.
    ///
    /// - Parameters:
    ///   - kind: The kind of gap.
    ///   - cause: A finer cause, or nil.
    ///   - path: The repository path, or nil.
    ///   - line: The 1-based line, or nil.
    ///   - note: What was found, in words.
    public init(kind: Kind, cause: String? = nil, path: String? = nil, line: Int? = nil, note: String) {
        self.kind = kind
        self.cause = cause
        self.path = path
        self.line = line
        self.note = note
    }

    /// A path the snapshot could not store.
    ///
    /// - Parameters:
    ///   - path: The path as the snapshot reported it.
    ///   - cause: The snapshot's reason (a `SkippedPath.Reason` raw value).
    public static func notStored(path: String, cause: String) -> ScoringGap {
        ScoringGap(kind: .notStored, cause: cause, path: path,
                   note: "the snapshot could not store this path (\(cause)), so the checks never saw it")
    }

    /// `kind` or `kind(cause)`: the key a report counts unscoreable steps under.
    public var label: String { cause.map { "\(kind.rawValue)(\($0))" } ?? kind.rawValue }

    /// `label path:line: note`, for logs and reports.
    public var description: String {
        let place = path.map { " \($0)\(line.map { ":\($0)" } ?? "")" } ?? ""
        return "\(label)\(place): \(note)"
    }
}

/// One finding of a detector: a forbidden match in added code, or a required form missing.
public struct Evidence: Sendable, Hashable, Codable, CustomStringConvertible {
    /// What the text of a match is in the source (written as `in` in JSON).
    public enum Region: String, Sendable, Hashable, Codable, CaseIterable {
        /// Code outside literals and comments.
        case code
        /// A string literal (its prefix and quotes included).
        case string
        /// A comment or a docstring.
        case comment
    }

    /// The id of the detector that found it.
    public var detector: String
    /// Whether the detector forbids or requires its pattern.
    public var kind: DetectorSpec.Kind
    /// The repository path of the file after the step (before it, for a deleted file).
    public var path: String
    /// The 1-based line after the step: for `forbid`, the first added line the match touches; nil
    /// for a missing required form.
    public var line: Int?
    /// The full source text of `line`, comments included; nil when `line` is nil.
    public var lineText: String?
    /// The source text the pattern matched (may span lines); nil for a missing required form.
    public var matchedText: String?
    /// What the match is in: `comment` when any non-blank part of it is in a comment or
    /// docstring, else `string` when any is in a string literal, else `code`; nil for a missing
    /// required form (and in evidence recorded before the field existed).
    public var region: Region?
    /// What was found, in words.
    public var note: String

    private enum CodingKeys: String, CodingKey {
        case detector, kind, path, line, lineText, matchedText, note
        case region = "in"
    }

    /// Creates an evidence value.
    ///
    /// - Parameters:
    ///   - detector: The detector id.
    ///   - kind: Forbid or require.
    ///   - path: The file's repository path.
    ///   - line: The 1-based line, or nil.
    ///   - lineText: The source text of the line, or nil.
    ///   - matchedText: The matched source text, or nil.
    ///   - region: What the match is in, or nil.
    ///   - note: What was found, in words.
    public init(
        detector: String, kind: DetectorSpec.Kind, path: String, line: Int? = nil, lineText: String? = nil,
        matchedText: String? = nil, region: Region? = nil, note: String
    ) {
        self.region = region
        self.detector = detector
        self.kind = kind
        self.path = path
        self.line = line
        self.lineText = lineText
        self.matchedText = matchedText
        self.note = note
    }

    /// `detector path:line: note`, for logs and reports.
    public var description: String {
        "\(detector) \(path)\(line.map { ":\($0)" } ?? ""): \(note)"
    }
}
