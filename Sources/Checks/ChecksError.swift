/// Why detectors could not be compiled or a step could not be checked.
///
/// The one error type of the `Checks` module. Its `description` says what was wrong, where, and
/// what to do.
public struct ChecksError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Sendable, Hashable, Codable {
        /// A detector's pattern is not a valid regular expression.
        case invalidPattern
        /// A detector's pattern or glob is empty.
        case emptyPattern
        /// Two detectors in one set share an id.
        case duplicateDetector
        /// A file's text could not be read before or after the step.
        case unreadableFile
    }

    /// The kind of failure.
    public var code: Code
    /// What was wrong, where, and what to do.
    public var message: String

    /// Creates an error value.
    ///
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: What was wrong, where, and what to do.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message, prefixed with the kind of failure.
    public var description: String { "\(code.rawValue): \(message)" }
}
