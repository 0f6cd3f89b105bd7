import CPosix
import Glibc

/// Opening, reading and writing the runner's own files by descriptor, pipes and sealed memory
/// files. Every call retries `EINTR` and captures `errno` once (see `retryingInterrupts`).
extension FileDescriptor {
    /// Opens `path` (following links: for the runner's own files only) with `flags`; close-on-exec
    /// is always added.
    /// - Parameters:
    ///   - path: the file's path.
    ///   - flags: `O_RDONLY`, `O_RDWR | O_CREAT`…
    ///   - mode: the permission bits of a file `O_CREAT` makes.
    ///   - hint: what to do when the open fails.
    public static func open(_ path: String, _ flags: Int32, mode: UInt32 = 0o644,
                            hint: String = "check that the file exists and is accessible") throws -> FileDescriptor {
        FileDescriptor(rawValue: try system("open", path, hint: hint) { Glibc.open(path, flags | O_CLOEXEC, mode_t(mode)) })
    }

    /// Opens `path` read-only, flushes it (a file or a folder) to disk with `fsync`, and closes it.
    public static func sync(path: String) throws {
        try open(path, O_RDONLY).closeAfter { try $0.sync(path: path) }
    }

    /// Reads up to `buffer.count` bytes at the current offset; 0 at the end.
    public func read(into buffer: UnsafeMutableRawBufferPointer, path: @autoclosure () -> String = "") throws -> Int {
        try system("read", path()) { Glibc.read(rawValue, buffer.baseAddress, buffer.count) }
    }

    /// Reads at the current offset what a non-blocking descriptor has: the byte count (0 at the
    /// end), or nil when nothing is there yet (`EAGAIN`).
    public func readAvailable(into buffer: UnsafeMutableRawBufferPointer, path: @autoclosure () -> String = "") throws -> Int? {
        switch retryingInterrupts({ Glibc.read(rawValue, buffer.baseAddress, buffer.count) }) {
        case .success(let count): return count
        case .failure(.wouldBlock): return nil
        case .failure(let error): throw PosixError(.systemCall, function: "read", errno: error, path: path(), hint: "check that the descriptor is open for reading")
        }
    }

    /// Writes what a non-blocking descriptor takes now: the byte count, or nil when it takes
    /// nothing yet (`EAGAIN`).
    public func writeAvailable(_ bytes: UnsafeRawBufferPointer, path: @autoclosure () -> String = "") throws -> Int? {
        switch retryingInterrupts({ Glibc.write(rawValue, bytes.baseAddress, bytes.count) }) {
        case .success(let count): return count
        case .failure(.wouldBlock): return nil
        case .failure(let error): throw PosixError(.systemCall, function: "write", errno: error, path: path(), hint: "check that the reader is still there")
        }
    }

    /// Reads from the current offset to the end, at most `limit` bytes.
    /// - Throws: `PosixError` `.tooLarge` when there is more than `limit`.
    public func readToEnd(limit: Int = 1 << 30, path: @autoclosure () -> String = "") throws -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = try buffer.withUnsafeMutableBytes { try read(into: $0, path: path()) }
            if count == 0 { return bytes }
            guard count <= limit - bytes.count else {
                throw PosixError(.tooLarge, function: "read", path: path(), hint: "the file may be at most \(limit) bytes")
            }
            bytes += buffer[0..<count]
        }
    }

    /// Writes all of `bytes` at the current offset (a short write is continued).
    public func writeAll(_ bytes: UnsafeRawBufferPointer, path: @autoclosure () -> String = "") throws {
        var done = 0
        while done < bytes.count {
            done += try system("write", path(), hint: "check free disk space") {
                Glibc.write(rawValue, bytes.baseAddress! + done, bytes.count - done)
            }
        }
    }

    /// Moves the offset: `whence` is `SEEK_SET`, `SEEK_CUR` or `SEEK_END`. Returns the new offset.
    @discardableResult
    public func seek(to offset: Int64, from whence: Int32 = SEEK_SET, path: @autoclosure () -> String = "") throws -> Int64 {
        Int64(try system("lseek", path()) { lseek(rawValue, off_t(offset), whence) })
    }

    /// Tries to take an `flock` without waiting (`LOCK_EX` or `LOCK_SH`): false when another
    /// descriptor holds a conflicting lock.
    public func tryLock(_ operation: Int32 = LOCK_EX, path: @autoclosure () -> String = "") throws -> Bool {
        switch retryingInterrupts({ flock(rawValue, operation | LOCK_NB) }) {
        case .success: return true
        case .failure(.wouldBlock): return false
        case .failure(let error): throw PosixError(.systemCall, function: "flock", errno: error, path: path(), hint: "check that the file system supports locks")
        }
    }

    /// Releases this descriptor's `flock`.
    public func unlock(path: @autoclosure () -> String = "") throws {
        _ = try system("flock", path()) { flock(rawValue, LOCK_UN) }
    }

    /// A close-on-exec duplicate at the lowest free number >= `minimum` (`F_DUPFD_CLOEXEC`).
    public func duplicate(atLeast minimum: Int32 = 0) throws -> FileDescriptor {
        FileDescriptor(rawValue: try system("fcntl(F_DUPFD_CLOEXEC)", "", hint: "too many open files?") { cposix_dup_above(rawValue, minimum) })
    }

    /// Adds `O_NONBLOCK` to the descriptor's status flags.
    public func setNonBlocking() throws {
        _ = try system("fcntl(F_SETFL, O_NONBLOCK)", "", hint: "check that the descriptor is open") { cposix_set_nonblocking(rawValue) }
    }

    /// Changes the owner of the open file (not through its name).
    public func changeOwner(user: UInt32, group: UInt32, path: @autoclosure () -> String = "") throws {
        _ = try system("fchown", path(), hint: "run as root or own the file") { fchown(rawValue, user, group) }
    }

    /// Changes the owner of `name` in this folder, not following a link (`fchownat` with
    /// `AT_SYMLINK_NOFOLLOW`).
    public func changeOwner(of name: [UInt8], user: UInt32, group: UInt32) throws {
        _ = try system("fchownat", displayPath(name), hint: "run as root or own the file") {
            withCName(name) { fchownat(rawValue, $0, user, group, AT_SYMLINK_NOFOLLOW) }
        }
    }

    /// A pipe, both ends close-on-exec (`pipe2` with `O_CLOEXEC`).
    public static func makePipe() throws -> (read: FileDescriptor, write: FileDescriptor) {
        var fds: [Int32] = [-1, -1]
        _ = try system("pipe2", "", hint: "too many open files?") { cposix_pipe_cloexec(&fds) }
        return (FileDescriptor(rawValue: fds[0]), FileDescriptor(rawValue: fds[1]))
    }

    /// A connected pair of unix stream sockets, both close-on-exec.
    public static func makeSocketPair() throws -> (FileDescriptor, FileDescriptor) {
        var fds: [Int32] = [-1, -1]
        _ = try system("socketpair", "", hint: "too many open files?") { cposix_socketpair_cloexec(&fds) }
        return (FileDescriptor(rawValue: fds[0]), FileDescriptor(rawValue: fds[1]))
    }

    /// What ``receiveDescriptor(tag:)`` got.
    public enum Received: Sendable, Equatable {
        /// A descriptor, close-on-exec, now the caller's.
        case descriptor(FileDescriptor)
        /// Nothing yet (the socket is non-blocking and empty).
        case nothingYet
        /// The peer hung up, or sent no descriptor with the tag (anything it sent is closed).
        case none
    }

    /// Receives one descriptor sent over this unix socket with `SCM_RIGHTS` along one byte equal
    /// to `tag`, without blocking; every other descriptor in the message is closed.
    public func receiveDescriptor(tag: UInt8) throws -> Received {
        // -2 (no descriptor, or the peer hung up) is an answer, not a failure with errno.
        var sawNone = false
        let result = retryingInterrupts { () -> Int32 in
            let fd = cposix_receive_descriptor(rawValue, CChar(bitPattern: tag))
            if fd == -2 { sawNone = true; return 0 }
            return fd
        }
        switch result {
        case .success(let fd): return sawNone ? .none : .descriptor(FileDescriptor(rawValue: fd))
        case .failure(let error) where error == .wouldBlock: return .nothingYet
        case .failure(let error): throw PosixError(.systemCall, function: "recvmsg(SCM_RIGHTS)", errno: error, path: "", hint: "check that the socket is open")
        }
    }

    /// An anonymous memory file, close-on-exec, that can be sealed later (`memfd_create` with
    /// `MFD_CLOEXEC | MFD_ALLOW_SEALING`).
    /// - Parameter name: shown in `/proc/<pid>/fd` (as `memfd:<name>`).
    public static func memoryFile(name: String) throws -> FileDescriptor {
        FileDescriptor(rawValue: try system("memfd_create", name, hint: "the kernel must be Linux 3.17 or newer") { cposix_memfd_create_sealable(name) })
    }

    /// Seals a memory file against every further change (`F_ADD_SEALS` with `F_SEAL_SEAL`,
    /// `F_SEAL_SHRINK`, `F_SEAL_GROW`, `F_SEAL_WRITE`): writes, truncation and growth fail with
    /// `EPERM` from now on, through any descriptor.
    public func sealAgainstChanges(path: @autoclosure () -> String = "") throws {
        _ = try system("fcntl(F_ADD_SEALS)", path(), hint: "only a memory file made with sealing allowed, and not mapped writable, can be sealed") {
            cposix_seal_against_changes(rawValue)
        }
    }
}

/// Waits until one of `descriptors` is ready or `timeout` milliseconds (-1: no limit) have passed.
/// An interrupted wait (`EINTR`) returns 0, as a timeout does, so a caller that loops recomputes
/// its timeout instead of waiting the whole time again.
/// - Returns: the number of descriptors with events (`revents` set).
public func poll(_ descriptors: inout [pollfd], timeout: Int32) throws -> Int {
    let result = descriptors.withUnsafeMutableBufferPointer { Glibc.poll($0.baseAddress, nfds_t($0.count), timeout) }
    if result >= 0 { return Int(result) }
    let error = Errno.current
    if error == .interrupted { return 0 }
    throw PosixError(.systemCall, function: "poll", errno: error, path: "", hint: "check that every descriptor is open")
}

/// The status of the file at `path`, following links (`stat`; for the runner's own files only).
public func fileStatus(atPath path: String) throws -> FileStatus {
    var info = stat()
    _ = try system("stat", path) { stat(path, &info) }
    return FileStatus(info)
}

/// Creates a new folder, mode 0700, whose name is `template` with its trailing `XXXXXX` replaced
/// by a unique suffix (`mkdtemp`).
/// - Returns: the new folder's path.
public func makeTemporaryDirectory(_ template: String) throws -> String {
    var bytes = Array(template.utf8CString)
    while true {
        if let made = mkdtemp(&bytes) { return String(cString: made) }
        let error = Errno.current
        if error == .interrupted { continue }
        throw PosixError(.systemCall, function: "mkdtemp", errno: error, path: template, hint: "check that the parent folder exists and is writable")
    }
}
