/// The outcome of checking one step against its detectors.
public struct Verdict: Sendable, Hashable, Codable {
    /// The three outcomes; `unscoreable` is kept apart from both others.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// The step changed files in scope and no detector found a violation.
        case compliant
        /// At least one detector found a violation; `evidence` says where.
        case violation
        /// The step changed nothing in scope (a refusal, an empty step, or changes elsewhere only).
        case unscoreable
    }

    /// The outcome.
    public var kind: Kind
    /// Every finding of every violating detector, in detector order, then file and line order.
    public var evidence: [Evidence]
    /// Why, in words, for reports.
    public var reason: String

    /// Creates a verdict value.
    ///
    /// - Parameters:
    ///   - kind: The outcome.
    ///   - evidence: The findings (empty unless `kind` is `violation`).
    ///   - reason: Why, in words.
    public init(kind: Kind, evidence: [Evidence] = [], reason: String) {
        self.kind = kind
        self.evidence = evidence
        self.reason = reason
    }

    /// The ids of the detectors that found a violation, each once, in evidence order.
    public var violatedDetectors: [String] {
        var seen = Set<String>()
        return evidence.map(\.detector).filter { seen.insert($0).inserted }
    }
}

/// One finding of a detector: a forbidden match in added code, or a required form missing.
public struct Evidence: Sendable, Hashable, Codable, CustomStringConvertible {
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
    /// What was found, in words.
    public var note: String

    /// Creates an evidence value.
    ///
    /// - Parameters:
    ///   - detector: The detector id.
    ///   - kind: Forbid or require.
    ///   - path: The file's repository path.
    ///   - line: The 1-based line, or nil.
    ///   - lineText: The source text of the line, or nil.
    ///   - matchedText: The matched source text, or nil.
    ///   - note: What was found, in words.
    public init(
        detector: String, kind: DetectorSpec.Kind, path: String, line: Int? = nil, lineText: String? = nil,
        matchedText: String? = nil, note: String
    ) {
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
