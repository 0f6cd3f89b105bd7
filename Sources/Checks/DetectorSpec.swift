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

extension DetectorSpec.Files {
    /// Decodes the scenario form: the string `targets`, or a list of globs.
    ///
    /// - Throws: `DecodingError.dataCorrupted` for any other string or shape.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let globs = try? container.decode([String].self) {
            self = .globs(globs)
            return
        }
        let word = try container.decode(String.self)
        guard word == "targets" else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "`files` is `\(word)`; write `targets` or a list of globs such as [\"src/**/*.py\"]")
        }
        self = .targets
    }

    /// Encodes the scenario form: the string `targets`, or a list of globs.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .targets: try container.encode("targets")
        case .globs(let globs): try container.encode(globs)
        }
    }
}

extension DetectorSpec {
    private enum CodingKeys: String, CodingKey {
        case id, kind, pattern, files, scope, description
    }

    /// Decodes a declaration; `files` defaults to `targets` and `scope` to `step` when absent.
    ///
    /// - Throws: `DecodingError` when `id`, `kind` or `pattern` is missing or a value has the wrong shape.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try container.decode(String.self, forKey: .id),
            kind: try container.decode(Kind.self, forKey: .kind),
            pattern: try container.decode(String.self, forKey: .pattern),
            files: try container.decodeIfPresent(Files.self, forKey: .files) ?? .targets,
            scope: try container.decodeIfPresent(Scope.self, forKey: .scope) ?? .step,
            description: try container.decodeIfPresent(String.self, forKey: .description))
    }
}
