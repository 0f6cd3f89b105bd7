import Posix

/// Everything the Sandbox module can fail at. A sandboxed command's own failure (non-zero exit,
/// signal, timeout) is never an error: it is part of ``SandboxResult``.
public struct SandboxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Code: String, Sendable, Equatable {
        /// A policy file or policy text is malformed.
        case invalidPolicy
        /// libseccomp refused a rule or could not export the program.
        case policyCompilation
        /// The host cannot provide what was asked for (mode, seccomp).
        case unsupportedHost
        /// The launcher binary could not be found or started.
        case launcherUnavailable
        /// The launcher could not set up the sandbox (it failed closed; the command did not run).
        case setupFailed
        /// A system call in the runner itself failed.
        case system
        /// The command description is invalid (relative paths, empty command…).
        case invalidCommand
    }

    /// What kind of failure this is.
    public var code: Code
    /// What was wrong, where, and what to do about it.
    public var message: String
    /// The errno of the failing call, when there is one.
    public var errno: Int32?

    /// Creates an error.
    /// - Parameters:
    ///   - code: the kind of failure.
    ///   - message: what was wrong, where, and what to do.
    ///   - errno: the errno of the failing call, if any.
    public init(_ code: Code, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    /// The message, with the errno's text when there is one.
    public var description: String {
        guard let errno else { return message }
        return "\(message) (\(Errno(rawValue: errno)))"
    }

    /// The `.system` error for a call of the Posix layer that failed (its `errno` captured there).
    /// - Parameters:
    ///   - error: what the Posix layer threw.
    ///   - what: what the runner was doing, e.g. "creating the command's pipes".
    static func system(_ error: any Error, _ what: String) -> SandboxError {
        guard let error = error as? PosixError else { return SandboxError(.system, "\(error) while \(what)") }
        let subject = error.path.isEmpty ? "" : " of \(error.path)"
        return SandboxError(.system, "\(error.function)\(subject) failed while \(what)", errno: error.errno?.rawValue)
    }

    /// Runs `body` (calls into the Posix layer) and turns what it throws into a `.system` error.
    static func calling<T>(_ what: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw system(error, what) }
    }
}
