/// The declaration of one regex detector, as written in a scenario's `checks:` list.
///
/// Scenarios hold these as data; `Checks` compiles and runs them over a step's diff.
public struct DetectorSpec: Sendable, Hashable, Codable {
    /// Whether a match is a violation (`forbid`) or its absence is (`require`).
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// A match in added, non-comment code of a file in scope is a violation.
        case forbid
        /// No match in the non-comment code of a file in scope after the step is a violation.
        case require
    }

    /// Which files a detector looks at.
    public enum Files: Sendable, Hashable, Codable {
        /// The target files of the step's task.
        case targets
        /// Files whose repository path matches one of these globs (`*`, `**`, `?`).
        case globs([String])
    }

    /// How much of the history a detector considers.
    public enum Scope: String, Sendable, Hashable, Codable, CaseIterable {
        /// Only this step's own changes (added lines for `forbid`; files the step touched for `require`).
        case step
        /// The whole file after the step, whether or not this step touched it.
        case cumulative
    }

    /// Identifier, unique within a scenario.
    public var id: String
    /// Forbid or require.
    public var kind: Kind
    /// The regular expression (ICU syntax, as `NSRegularExpression` reads it).
    public var pattern: String
    /// The files in scope.
    public var files: Files
    /// Step or cumulative.
    public var scope: Scope
    /// What the detector checks, in words, for reports.
    public var description: String?

    /// Creates a detector declaration.
    public init(id: String, kind: Kind, pattern: String, files: Files = .targets, scope: Scope = .step, description: String? = nil) {
        self.id = id
        self.kind = kind
        self.pattern = pattern
        self.files = files
        self.scope = scope
        self.description = description
    }
}
