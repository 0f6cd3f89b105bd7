import CGit2
import Foundation
import Posix

/// The one error type of GitStore: what failed, where, and what to do about it.
///
/// Errors from libgit2 carry the failing C function, libgit2's return code and error class,
/// and libgit2's own message, read in the same call that failed.
public struct GitError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The broad kind of failure.
    public enum Kind: String, Sendable, Hashable {
        /// A libgit2 call returned an error.
        case libgit2
        /// A file-system call (open, read, lstat, readlink…) failed.
        case fileSystem
        /// An argument or an input file was not acceptable (bad anchor, bad name, bad fixture).
        case invalidInput
        /// Something that was looked up does not exist.
        case notFound
    }

    /// The broad kind of failure.
    public var kind: Kind
    /// The function that failed (a libgit2 or libc function, or a GitStore operation).
    public var function: String
    /// libgit2's return code or the C `errno`; 0 when neither applies.
    public var code: Int32
    /// libgit2's error class (`git_error_t`); 0 when not from libgit2.
    public var errorClass: Int32
    /// What was wrong.
    public var message: String
    /// The file or repository concerned, with `:line` when a line is known.
    public var location: String?
    /// What to do next.
    public var hint: String?

    /// Creates an error value.
    /// - Parameters:
    ///   - kind: the broad kind of failure.
    ///   - function: the function or operation that failed.
    ///   - code: the return code or `errno` (0 when none).
    ///   - errorClass: libgit2's error class (0 when none).
    ///   - message: what was wrong.
    ///   - location: the file concerned (`path` or `path:line`).
    ///   - hint: what to do next.
    public init(
        kind: Kind, function: String, code: Int32 = 0, errorClass: Int32 = 0, message: String,
        location: String? = nil, hint: String? = nil
    ) {
        self.kind = kind
        self.function = function
        self.code = code
        self.errorClass = errorClass
        self.message = message
        self.location = location
        self.hint = hint
    }

    /// One line: location, message, failing function and codes, then the hint.
    public var description: String {
        var text = ""
        if let location { text += "\(location): " }
        text += message
        switch kind {
        case .libgit2: text += " (\(function) returned \(code), libgit2 error class \(errorClass))"
        case .fileSystem: text += " (\(function) failed, errno \(code))"
        case .invalidInput, .notFound: text += " (in \(function))"
        }
        if let hint { text += ". " + hint.prefix(1).uppercased() + hint.dropFirst() }
        return text
    }

    /// True when libgit2 reported that the object or reference does not exist.
    public var isNotFound: Bool {
        kind == .notFound || (kind == .libgit2 && code == GIT_ENOTFOUND.rawValue)
    }
}

extension GitError {
    /// The error of a failed libgit2 call; reads `git_error_last()` now, on the calling thread.
    static func libgit2(_ function: String, code: Int32, location: String? = nil, hint: String? = nil) -> GitError {
        var message = "libgit2 reported no message"
        var errorClass: Int32 = 0
        if let last = git_error_last() {
            message = String(cString: last.pointee.message)
            errorClass = last.pointee.klass
        }
        return GitError(
            kind: .libgit2, function: function, code: code, errorClass: errorClass, message: message,
            location: location, hint: hint)
    }

    /// The error of a failed libc call, from the `errno` the Posix layer captured.
    static func posix(_ function: String, path: String, error: Errno, hint: String? = nil) -> GitError {
        GitError(
            kind: .fileSystem, function: function, code: error.rawValue, message: error.description,
            location: path, hint: hint)
    }
}

/// Throws the libgit2 error of `function` when `result` is negative; returns `result` otherwise.
///
/// Call it directly around the libgit2 call so the thread-local error is read before anything
/// else can overwrite it: `try check("git_x", git_x(...))`.
@discardableResult
func check(_ function: String, _ result: Int32, location: String? = nil, hint: String? = nil) throws -> Int32 {
    if result < 0 { throw GitError.libgit2(function, code: result, location: location, hint: hint) }
    return result
}

extension GitError {
    /// A GitStore error from an error of the Posix layer (or any other error).
    /// - Parameters:
    ///   - error: the error thrown.
    ///   - function: the GitStore operation that was under way.
    ///   - base: the folder the error's relative path is relative to, if any.
    init(_ error: any Error, function: String, base: String? = nil) {
        if let error = error as? GitError { self = error; return }
        guard let error = error as? PosixError else {
            self.init(kind: .fileSystem, function: function, message: "\(error)", location: base)
            return
        }
        let location = base.map { error.path.isEmpty ? $0 : $0 + "/" + error.path } ?? error.path
        let what: String
        switch error.kind {
        case .systemCall: what = error.errno?.description ?? "the call failed"
        case .wrongKind: what = "not a file of the expected kind"
        case .tooLarge: what = "larger than allowed"
        case .changedDuringWalk: what = "the folder changed while it was walked"
        }
        self.init(kind: .fileSystem, function: "\(function): \(error.function)", code: error.errno?.rawValue ?? 0,
                  message: what, location: location, hint: error.hint)
    }
}
