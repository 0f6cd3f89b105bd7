import CPosix
import Glibc

/// A C `errno` value.
public struct Errno: Error, Sendable, Hashable, CustomStringConvertible {
    /// The raw value (`ENOENT`, `EINTR`…).
    public let rawValue: Int32

    /// Wraps a raw value.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's current `errno`.
    static var current: Errno { Errno(rawValue: cposix_errno()) }

    /// `strerror`'s text.
    public var description: String { String(cString: strerror(rawValue)) }

    /// No such file or folder.
    public static let noEntry = Errno(rawValue: ENOENT)
    /// A path component is not a folder.
    public static let notDirectory = Errno(rawValue: ENOTDIR)
    /// Interrupted system call.
    public static let interrupted = Errno(rawValue: EINTR)
    /// The file exists.
    public static let exists = Errno(rawValue: EEXIST)
    /// Too many levels of symbolic links (an `O_NOFOLLOW` open of a link).
    public static let tooManyLinks = Errno(rawValue: ELOOP)
    /// Cross-device link.
    public static let crossDevice = Errno(rawValue: EXDEV)
    /// Operation not permitted.
    public static let notPermitted = Errno(rawValue: EPERM)
    /// Too many links to one file.
    public static let linkCount = Errno(rawValue: EMLINK)
    /// A non-blocking call would have blocked (`EAGAIN`, the same value as `EWOULDBLOCK` on Linux).
    public static let wouldBlock = Errno(rawValue: EAGAIN)
    /// Invalid argument.
    public static let invalidArgument = Errno(rawValue: EINVAL)
    /// The file or folder already exists and is not empty (a rename over a full folder).
    public static let notEmpty = Errno(rawValue: ENOTEMPTY)
    /// No space left on the device.
    public static let noSpace = Errno(rawValue: ENOSPC)
    /// Input/output error.
    public static let ioError = Errno(rawValue: EIO)
    /// A bad file descriptor.
    public static let badDescriptor = Errno(rawValue: EBADF)
}

/// The one error type of the Posix module: which call failed, on what, and what to do.
public struct PosixError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, beyond a failed call.
    public enum Kind: String, Sendable, Hashable {
        /// A system call failed with `errno`.
        case systemCall
        /// The file is not of the kind asked for (a FIFO, device or socket where a regular file
        /// was wanted, a link where a folder was wanted).
        case wrongKind
        /// The file is larger than the caller's bound.
        case tooLarge
        /// A folder changed under a walk (its identity on the way back up differed).
        case changedDuringWalk
    }

    /// What went wrong.
    public var kind: Kind
    /// The C function (or operation) that failed.
    public var function: String
    /// The `errno` of a failed call; nil for the other kinds.
    public var errno: Errno?
    /// The file concerned, relative to the folder the operation started from (bytes that are not
    /// UTF-8 shown as U+FFFD).
    public var path: String
    /// What to do next.
    public var hint: String

    /// Creates an error value.
    public init(_ kind: Kind, function: String, errno: Errno? = nil, path: String, hint: String) {
        self.kind = kind
        self.function = function
        self.errno = errno
        self.path = path
        self.hint = hint
    }

    /// One line: path (when there is one), what failed, then the hint.
    public var description: String {
        var text = path.isEmpty ? "" : "\(path): "
        switch kind {
        case .systemCall: text += "\(function) failed: \(errno?.description ?? "unknown error") (errno \(errno?.rawValue ?? 0))"
        case .wrongKind: text += "not a file of the expected kind (in \(function))"
        case .tooLarge: text += "larger than allowed (in \(function))"
        case .changedDuringWalk: text += "the folder changed while it was walked (in \(function))"
        }
        return text + ". " + hint.prefix(1).uppercased() + hint.dropFirst()
    }
}

/// Runs a system call, retrying it while it fails with `EINTR`, and captures `errno` once, right
/// after the call that failed (as swift-system's `valueOrErrno` does).
/// - Parameter call: the call; a negative result means failure with `errno` set.
/// - Returns: the non-negative result, or the `errno` of the failure.
@inline(__always)
public func retryingInterrupts<I: FixedWidthInteger>(_ call: () -> I) -> Result<I, Errno> {
    while true {
        let result = call()
        if result >= 0 { return .success(result) }
        let error = Errno.current
        if error != .interrupted { return .failure(error) }
    }
}

/// Like `retryingInterrupts`, but throws a `PosixError` naming the call and the path: the one way
/// modules above make a libc call that has no wrapper of its own here.
/// - Parameters:
///   - function: the C function's name, shown in the error.
///   - path: the file concerned ("" when none).
///   - hint: what to do when the call fails.
///   - call: the call; a negative result means failure with `errno` set.
/// - Returns: the call's non-negative result.
@inline(__always)
public func systemCall<I: FixedWidthInteger>(_ function: String, path: @autoclosure () -> String = "", hint: String = "check that the file exists and is accessible",
                                             _ call: () -> I) throws -> I {
    try system(function, path(), hint: hint, call)
}

/// Like `retryingInterrupts`, but throws a `PosixError` naming the call and the path.
@inline(__always)
func system<I: FixedWidthInteger>(_ function: String, _ path: @autoclosure () -> String, hint: String = "check that the file exists and is accessible",
                                  _ call: () -> I) throws -> I {
    switch retryingInterrupts(call) {
    case .success(let value): return value
    case .failure(let error): throw PosixError(.systemCall, function: function, errno: error, path: path(), hint: hint)
    }
}

/// The bytes of a name or path shown as text (invalid UTF-8 as U+FFFD).
public func displayPath(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
