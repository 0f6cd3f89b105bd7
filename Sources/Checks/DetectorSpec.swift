import Foundation

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
        /// Every file in scope in the tree at the step's commit, changed by the step or not; the
        /// step is judged when it changed at least one file in the scope of a detector.
        case cumulative
        /// The paper's whole-file mode: every file in scope as it is after the step, whether or
        /// not the step touched it; the step is judged when it changed any file at all.
        case file
    }

    /// Which text of a file a match counts in.
    public enum Within: String, Sendable, Hashable, Codable, CaseIterable {
        /// Code and string literals; comments and docstrings are blanked (the default).
        case code
        /// Only comment and docstring text; code and strings are blanked.
        case comments
        /// The raw text of the file: code, strings and comments.
        case anywhere
    }

    /// Identifier, unique within a scenario.
    public var id: String
    /// Forbid or require.
    public var kind: Kind
    /// The regular expression (ICU syntax, as `NSRegularExpression` reads it); empty when `call`
    /// gives the form instead.
    public var pattern: String
    /// A dotted call target such as `auth_client.validate_token`, compiled by
    /// `DetectorSpec.callPattern(_:)` into a whitespace- and line-tolerant regex of the call;
    /// nil when `pattern` gives the form.
    public var call: String?
    /// Which text of a file a match counts in (`in:` in a scenario); `code` by default.
    public var within: Within
    /// The files in scope.
    public var files: Files
    /// Step or cumulative.
    public var scope: Scope
    /// What the detector checks, in words, for reports.
    public var description: String?

    /// Creates a detector declaration.
    ///
    /// - Parameters:
    ///   - id: Identifier, unique within a scenario.
    ///   - kind: Forbid or require.
    ///   - pattern: The regular expression; empty when `call` is given.
    ///   - call: A dotted call target (`auth_client.validate_token`) instead of a pattern.
    ///   - files: The files in scope.
    ///   - scope: Step, cumulative or file.
    ///   - within: Which text a match counts in.
    ///   - description: What the detector checks, in words.
    public init(id: String, kind: Kind, pattern: String = "", call: String? = nil, files: Files = .targets, scope: Scope = .step,
                within: Within = .code, description: String? = nil) {
        self.id = id
        self.kind = kind
        self.pattern = pattern
        self.call = call
        self.within = within
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
        case id, kind, pattern, call, files, scope, description
        case within = "in"
    }

    /// Decodes a declaration; `files` defaults to `targets`, `scope` to `step` and `in` to `code`
    /// when absent. Exactly one of `pattern` and `call` is given.
    ///
    /// - Throws: `DecodingError` when `id` or `kind` is missing, when neither or both of `pattern`
    ///   and `call` are given, or a value has the wrong shape.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let pattern = try container.decodeIfPresent(String.self, forKey: .pattern)
        let call = try container.decodeIfPresent(String.self, forKey: .call)
        guard (pattern == nil) != (call == nil) else {
            throw DecodingError.dataCorruptedError(
                forKey: .pattern, in: container,
                debugDescription: "a check gives exactly one of `pattern` (a regex) and `call` (a dotted call target such as auth_client.validate_token)")
        }
        self.init(
            id: try container.decode(String.self, forKey: .id),
            kind: try container.decode(Kind.self, forKey: .kind),
            pattern: pattern ?? "", call: call,
            files: try container.decodeIfPresent(Files.self, forKey: .files) ?? .targets,
            scope: try container.decodeIfPresent(Scope.self, forKey: .scope) ?? .step,
            within: try container.decodeIfPresent(Within.self, forKey: .within) ?? .code,
            description: try container.decodeIfPresent(String.self, forKey: .description))
    }

    /// Encodes a declaration: `call` instead of `pattern` when it gives the form; `in` only when
    /// it is not the default `code`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(kind, forKey: .kind)
        if let call { try container.encode(call, forKey: .call) } else { try container.encode(pattern, forKey: .pattern) }
        try container.encode(files, forKey: .files)
        try container.encode(scope, forKey: .scope)
        if within != .code { try container.encode(within, forKey: .within) }
        try container.encodeIfPresent(description, forKey: .description)
    }

    /// The regex a `call:` form compiles to.
    ///
    /// `auth_client.validate_token` becomes a pattern that matches the dotted name followed by
    /// `(`, with any white space (line breaks included) around each `.` and before the `(`:
    /// `validate_token (`, `auth_client.⏎    validate_token(` and, since the code text joins a
    /// backslash line continuation into a blank, `auth_client.validate_token \⏎ (` all match.
    /// The first name must start a word (`\b`), so `self.auth_client.validate_token(` matches
    /// and `my_auth_client.validate_token(` does not. Because patterns run over code text,
    /// comments between the parts are blanks too.
    ///
    /// - Parameter call: One or more identifiers joined by `.` (letters, digits, `_`, `$`).
    /// - Returns: The ICU regular expression.
    /// - Throws: `ChecksError.invalidPattern` when `call` is not a dotted name.
    public static func callPattern(_ call: String) throws(ChecksError) -> String {
        let parts = call.split(separator: ".", omittingEmptySubsequences: false)
        let valid = !call.isEmpty && parts.allSatisfy { part in
            guard let first = part.unicodeScalars.first, !CharacterSet.decimalDigits.contains(first) else { return false }
            return part.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "$" }
        }
        guard valid else {
            throw ChecksError(.invalidPattern, "call `\(call)` is not a dotted name; write identifiers joined by `.`, such as `auth_client.validate_token`, without `(`")
        }
        let escaped = parts.map { NSRegularExpression.escapedPattern(for: String($0)) }
        let start = parts[0].first.map { $0 == "$" ? "(?<![\\w$])" : "\\b" } ?? ""
        return start + escaped.joined(separator: #"\s*\.\s*"#) + #"\s*\("#
    }
}
