import CPosix
import Glibc

/// A `wait` status, decoded.
public struct WaitStatus: Sendable, Hashable {
    /// The raw status `wait4` filled in.
    public let rawValue: Int32

    /// Wraps a raw status.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The exit code when the process exited (`WIFEXITED`, `WEXITSTATUS`), else nil.
    public var exitCode: Int32? {
        let code = cposix_wait_exit_code(rawValue)
        return code >= 0 ? code : nil
    }

    /// The signal that ended the process (`WIFSIGNALED`, `WTERMSIG`), else nil.
    public var signal: Int32? {
        let number = cposix_wait_term_signal(rawValue)
        return number >= 0 ? number : nil
    }
}

/// Child processes: waiting for them, descriptors that tell when they exit, spawn settings.
public enum Processes {
    /// Waits for the child `pid` to end and reaps it (`wait4`, `EINTR` retried).
    /// - Parameters:
    ///   - pid: the child.
    ///   - blocking: false to return nil at once when it has not ended (`WNOHANG`).
    ///   - usage: filled with the child's resource usage when it was reaped.
    /// - Returns: its status, or nil when `blocking` is false and it is still running.
    public static func wait(for pid: pid_t, blocking: Bool = true, usage: UnsafeMutablePointer<rusage>? = nil) throws -> WaitStatus? {
        var status: Int32 = 0
        let reaped = try system("wait4", "", hint: "check that the process is a child of this one and not reaped yet") {
            wait4(pid, &status, blocking ? 0 : WNOHANG, usage)
        }
        return reaped == pid ? WaitStatus(rawValue: status) : nil
    }

    /// A descriptor that becomes readable when the process `pid` exits (`pidfd_open`, Linux 5.3+).
    public static func exitDescriptor(of pid: pid_t) throws -> FileDescriptor {
        FileDescriptor(rawValue: try system("pidfd_open", "", hint: "the kernel must be Linux 5.3 or newer") { cposix_pidfd_open(pid) })
    }

    /// Sets `attributes` so the spawned process starts with every signal at its default
    /// disposition, an empty signal mask and a session of its own (`POSIX_SPAWN_SETSIGDEF`,
    /// `POSIX_SPAWN_SETSIGMASK`, `POSIX_SPAWN_SETSID`).
    public static func setDefaultSignalsAndNewSession(_ attributes: inout posix_spawnattr_t) throws {
        try spawnCall("posix_spawnattr_setflags") { cposix_spawnattr_defaults_new_session(&attributes) }
    }

    /// Adds to `actions`: close every descriptor >= `lowest` in the spawned process
    /// (`posix_spawn_file_actions_addclosefrom_np`, glibc 2.34+).
    public static func closeDescriptors(from lowest: Int32, in actions: inout posix_spawn_file_actions_t) throws {
        try spawnCall("posix_spawn_file_actions_addclosefrom_np") { cposix_spawn_closefrom(&actions, lowest) }
    }

    /// The posix_spawn family returns its error number instead of setting `errno`.
    private static func spawnCall(_ function: String, _ call: () -> Int32) throws {
        let rc = call()
        guard rc == 0 else { throw PosixError(.systemCall, function: function, errno: Errno(rawValue: rc), path: "", hint: "glibc 2.34 or newer is needed") }
    }
}
