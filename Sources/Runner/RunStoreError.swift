import Foundation
import Posix

/// What went wrong running an episode or reading and writing a run's record on disk.
public enum RunStoreError: Error, CustomStringConvertible, Equatable {
    /// A system call failed: the call, the file, and the `errno` the Posix layer captured.
    case system(String, path: String, errno: Int32)
    /// A file the run needs is not there.
    case missing(path: String, what: String)
    /// A file is damaged beyond a torn last line.
    case corrupt(path: String, line: Int, reason: String)
    /// A request does not fit the run (unknown episode, step out of range, changed suite...).
    case invalid(path: String, reason: String, hint: String)
    /// Another process is writing the run (it holds the run's lock).
    case locked(path: String, holder: RunLock.Holder)
    /// The harness itself failed (disk full, scratch removed, run-repository objects missing):
    /// the run stopped, nothing permanent was recorded for the step at hand, and `resume` retries it.
    case harness(run: String, reason: String, fix: String)

    /// A message that says what failed, where, and what to do.
    public var description: String {
        switch self {
        case let .system(call, path, code):
            return "\(path): \(call) failed: \(Errno(rawValue: code)) (errno \(code)); check the folder exists and is writable"
        case let .missing(path, what):
            if what == "run.json" { return "\(path): no \(what) here; is this a run folder made by `driftbox run`?" }
            return "\(path): no \(what) here"
        case let .corrupt(path, line, reason):
            return "\(path):\(line): corrupt record: \(reason); the run cannot be trusted as is — inspect the line, or start the run again"
        case let .invalid(path, reason, hint):
            return "\(path): \(reason); \(hint)"
        case let .locked(path, holder):
            return "\(path): the run is being written by process \(holder.pid) (`\(holder.command)`); wait for it to finish, or stop it (kill \(holder.pid)) and then `driftbox resume` the run"
        case let .harness(run, reason, fix):
            return "\(run): the run stopped because \(reason) (a fault of this machine, not of the agent; nothing was recorded for the interrupted steps); \(fix), then `driftbox resume \(run)`"
        }
    }
}

extension RunStoreError {
    /// What to throw for an error of the Posix layer: `.system` naming the call, the file (`path`
    /// when the error names none) and its `errno`; any other error as it is.
    static func converting(_ error: any Error, path: String) -> any Error {
        guard let error = error as? PosixError else { return error }
        let file = error.path.isEmpty ? path : error.path.hasPrefix("/") ? error.path : path
        return RunStoreError.system(error.function, path: file, errno: error.errno?.rawValue ?? Errno.ioError.rawValue)
    }

    /// Runs `body` (calls into the Posix layer) and turns its `PosixError`s into `.system` errors
    /// about `path`.
    static func calling<T>(path: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw converting(error, path: path) }
    }
}
