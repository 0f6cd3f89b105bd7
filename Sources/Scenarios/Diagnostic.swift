import Foundation

/// One problem found in a scenario, pool, tasks, suite or experiment file, with its place.
///
/// Printed as `path:line:column: error: what was wrong; what to do`, the form compilers use,
/// so editors and terminals can jump to the place.
public struct Diagnostic: Sendable, Hashable, Codable, CustomStringConvertible {
    /// What kind of problem this is; tests and tools can branch on it without parsing text.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// The file is not readable, not UTF-8, or not well-formed YAML/JSON.
        case syntax
        /// A key that the format does not define.
        case unknownKey
        /// The same key twice in one mapping.
        case duplicateKey
        /// A value of the wrong YAML type (for example a list where a string belongs).
        case wrongType
        /// A required key is absent.
        case missingField
        /// A value of the right type that the format does not allow.
        case invalidValue
        /// Two tasks, blocks, checks, scenarios or agents share an identifier.
        case duplicateID
        /// A referenced file or folder (fixture, constraint, pool, tasks file) does not exist.
        case missingFile
        /// A task target or block file is absent from the fixture's folder tree.
        case missingTarget
        /// An anchor regex matches no line of a file it may land in.
        case anchorNoMatch
        /// An anchor regex matches more than one line of a file it may land in.
        case anchorAmbiguous
        /// A regular expression that does not compile.
        case invalidRegex
        /// A tier of a tiered schedule has no block.
        case emptyTier
        /// An identifier that names nothing (for example an unknown block in an explicit schedule).
        case unknownReference
        /// The experiment folder uses something the importer cannot translate.
        case unsupported
        /// A file or folder could not be written or copied.
        case io
    }

    /// The kind of problem.
    public var kind: Kind
    /// The file the problem is in, as given to the loader.
    public var path: String
    /// The 1-based line, or 0 when the problem concerns the whole file.
    public var line: Int
    /// The 1-based column (in Unicode scalars), or 0 when the problem concerns the whole file.
    public var column: Int
    /// What was wrong.
    public var message: String
    /// What to do about it.
    public var hint: String

    /// Creates a diagnostic.
    public init(kind: Kind, path: String, line: Int, column: Int, message: String, hint: String) {
        self.kind = kind
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        self.hint = hint
    }

    /// `path:line:column: error: message; hint` (the position is left out when it is unknown).
    public var description: String {
        let place = line > 0 ? "\(path):\(line):\(column)" : path
        return "\(place): error: \(message); \(hint)"
    }
}

/// The error of the `Scenarios` module: every problem found, each with file, line and column.
///
/// Loading reports all problems of a file at once rather than stopping at the first.
public struct ScenarioError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The problems, in the order they were found (file by file, then by position).
    public var diagnostics: [Diagnostic]

    /// Creates an error from its diagnostics.
    public init(diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }

    /// Creates an error with one diagnostic.
    public init(_ kind: Diagnostic.Kind, path: String, line: Int = 0, column: Int = 0, _ message: String, hint: String) {
        self.diagnostics = [Diagnostic(kind: kind, path: path, line: line, column: column, message: message, hint: hint)]
    }

    /// One diagnostic per line.
    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}
