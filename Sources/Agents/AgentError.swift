/// Everything the Agents module can fail at while setting an agent up. What an agent does during a
/// step (a failing command, a timeout) is never an error: it is the turn's ``AgentOutcome``.
public struct AgentError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: String, Sendable, Equatable {
        /// The suite names an agent kind this module does not know.
        case unknownKind
        /// A setting the agent kind needs is absent or empty.
        case missingSetting
        /// A setting has a value the agent kind cannot use.
        case invalidSetting
        /// A trajectory file or folder does not exist.
        case missingTrajectory
        /// A trajectory file is not valid.
        case invalidTrajectory
    }

    /// What kind of failure this is.
    public var code: Code
    /// What was wrong, where (`file:line` when there is a file), and what to do.
    public var message: String
    /// The suite setting at fault, when one is (so the suite's reader can name its line).
    public var setting: String?

    /// Creates an error.
    /// - Parameters:
    ///   - code: the kind of failure.
    ///   - message: what was wrong, where, and what to do.
    ///   - setting: the suite setting at fault, if one is.
    public init(_ code: Code, _ message: String, setting: String? = nil) {
        self.setting = setting
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
