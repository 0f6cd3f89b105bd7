import CPosix
import Glibc

/// What kind of file a status or folder entry describes.
public enum FileKind: Sendable, Hashable {
    /// A regular file.
    case regular
    /// A folder.
    case directory
    /// A symbolic link.
    case symlink
    /// A named pipe.
    case fifo
    /// A Unix domain socket.
    case socket
    /// A character device.
    case characterDevice
    /// A block device.
    case blockDevice
    /// A kind the file system did not name.
    case unknown

    /// The kind of an `st_mode`.
    init(mode: mode_t) {
        switch mode & S_IFMT {
        case S_IFREG: self = .regular
        case S_IFDIR: self = .directory
        case S_IFLNK: self = .symlink
        case S_IFIFO: self = .fifo
        case S_IFSOCK: self = .socket
        case S_IFCHR: self = .characterDevice
        case S_IFBLK: self = .blockDevice
        default: self = .unknown
        }
    }

    /// The kind of a `d_type`.
    init(directoryEntryType type: UInt8) {
        switch Int32(type) {
        case Int32(DT_REG): self = .regular
        case Int32(DT_DIR): self = .directory
        case Int32(DT_LNK): self = .symlink
        case Int32(DT_FIFO): self = .fifo
        case Int32(DT_SOCK): self = .socket
        case Int32(DT_CHR): self = .characterDevice
        case Int32(DT_BLK): self = .blockDevice
        default: self = .unknown
        }
    }
}

/// A seconds-and-nanoseconds time stamp.
public struct TimeStamp: Sendable, Hashable, Comparable {
    /// Seconds since the epoch.
    public var seconds: Int64
    /// Nanoseconds within the second.
    public var nanoseconds: Int64

    /// Creates a time stamp.
    public init(seconds: Int64, nanoseconds: Int64) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    init(_ time: timespec) { self.init(seconds: Int64(time.tv_sec), nanoseconds: Int64(time.tv_nsec)) }

    /// Earlier first.
    public static func < (a: TimeStamp, b: TimeStamp) -> Bool { (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds) }
}

/// What `fstat`/`fstatat` tell about a file (without following links).
public struct FileStatus: Sendable, Hashable {
    /// The file's kind.
    public var kind: FileKind
    /// The full `st_mode` (kind and permission bits).
    public var mode: UInt32
    /// Size in bytes (for a link: the target's length).
    public var size: Int64
    /// The device holding the file (with `inode`, the file's identity).
    public var device: UInt64
    /// The file's inode number.
    public var inode: UInt64
    /// The owner's user id.
    public var user: UInt32
    /// The group id.
    public var group: UInt32
    /// Number of hard links.
    public var linkCount: UInt64
    /// The last modification of the content.
    public var modified: TimeStamp
    /// The last change of the status (mode, links, content).
    public var changed: TimeStamp

    init(_ info: stat) {
        kind = FileKind(mode: info.st_mode)
        mode = info.st_mode
        size = Int64(info.st_size)
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        user = info.st_uid
        group = info.st_gid
        linkCount = UInt64(info.st_nlink)
        modified = TimeStamp(info.st_mtim)
        changed = TimeStamp(info.st_ctim)
    }

    /// True when the owner may execute the file.
    public var isOwnerExecutable: Bool { mode & UInt32(S_IXUSR) != 0 }
    /// True when the set-user-id or set-group-id bit is set.
    public var hasSetIDBits: Bool { mode & cposix_setid_bits() != 0 }
    /// True when both name the same file (device and inode).
    public func isSameFile(as other: FileStatus) -> Bool { device == other.device && inode == other.inode }
}

/// An open file descriptor. Not closed automatically: call `close()` exactly once.
public struct FileDescriptor: Sendable, Hashable {
    /// The raw descriptor number.
    public let rawValue: Int32

    /// Wraps a raw descriptor number.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// Closes the descriptor (errors are ignored: the descriptor is gone either way on Linux).
    public func close() { _ = Glibc.close(rawValue) }

    /// Runs `body` with the descriptor and closes it afterwards, also when `body` throws.
    public func closeAfter<T>(_ body: (FileDescriptor) throws -> T) rethrows -> T {
        defer { close() }
        return try body(self)
    }

    /// Opens a folder by absolute or relative path (following links: for the runner's own
    /// folders only; agent files are opened relative to a descriptor).
    public static func openDirectory(path: String) throws -> FileDescriptor {
        FileDescriptor(rawValue: try system("open", path, hint: "check that the folder exists and is readable") {
            Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        })
    }

    /// The status of the open file.
    public func status(path: @autoclosure () -> String = "") throws -> FileStatus {
        var info = stat()
        _ = try system("fstat", path()) { fstat(rawValue, &info) }
        return FileStatus(info)
    }

    /// The status of `name` in this folder, not following a link; nil when nothing is there.
    public func status(of name: [UInt8]) throws -> FileStatus? {
        var info = stat()
        let result = retryingInterrupts { withCName(name) { fstatat(rawValue, $0, &info, AT_SYMLINK_NOFOLLOW) } }
        switch result {
        case .success: return FileStatus(info)
        case .failure(let error) where error == .noEntry || error == .notDirectory: return nil
        case .failure(let error): throw PosixError(.systemCall, function: "fstatat", errno: error, path: displayPath(name), hint: "check the folder's permissions")
        }
    }

    /// Reads up to `buffer.count` bytes at `offset` into `buffer`; returns how many (0 at the end).
    public func read(into buffer: inout [UInt8], at offset: Int64, path: @autoclosure () -> String = "") throws -> Int {
        try system("pread", path()) { buffer.withUnsafeMutableBytes { pread(rawValue, $0.baseAddress, $0.count, off_t(offset)) } }
    }

    /// Writes all of `bytes` at `offset`.
    public func write(_ bytes: [UInt8], at offset: Int64 = 0, path: @autoclosure () -> String = "") throws {
        var done = 0
        while done < bytes.count {
            done += try system("pwrite", path(), hint: "check free disk space") {
                bytes.withUnsafeBytes { pwrite(rawValue, $0.baseAddress! + done, $0.count - done, off_t(offset) + off_t(done)) }
            }
        }
    }

    /// Cuts or extends the file to `size` bytes.
    public func truncate(to size: Int64, path: @autoclosure () -> String = "") throws {
        _ = try system("ftruncate", path()) { ftruncate(rawValue, off_t(size)) }
    }

    /// Sets the permission bits of the open file (not through its name).
    public func setMode(_ mode: UInt32, path: @autoclosure () -> String = "") throws {
        _ = try system("fchmod", path()) { fchmod(rawValue, mode_t(mode)) }
    }

    /// Flushes the file's data and metadata to disk.
    public func sync(path: @autoclosure () -> String = "") throws {
        _ = try system("fsync", path()) { fsync(rawValue) }
    }

    /// The target of the link `name` in this folder, at most `limit` bytes.
    public func linkTarget(of name: [UInt8], limit: Int = 4096) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: limit + 1)
        let count = try system("readlinkat", displayPath(name)) {
            withCName(name) { cName in buffer.withUnsafeMutableBytes { readlinkat(rawValue, cName, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) } }
        }
        guard count <= limit else {
            throw PosixError(.tooLarge, function: "readlinkat", path: displayPath(name), hint: "a link target may be at most \(limit) bytes")
        }
        return Array(buffer[0..<count])
    }

    /// The entries of this folder except `.` and `..`, sorted by name bytes. The descriptor stays
    /// open and at its place (a duplicate is read).
    public func entries(path: @autoclosure () -> String = "") throws -> [(name: [UInt8], kind: FileKind)] {
        let copy = try system("dup", path()) { fcntl(rawValue, F_DUPFD_CLOEXEC, 0) }
        guard let dir = fdopendir(copy) else {
            let error = Errno.current
            Glibc.close(copy)
            throw PosixError(.systemCall, function: "fdopendir", errno: error, path: path(), hint: "check that the folder is readable")
        }
        defer { closedir(dir) }
        rewinddir(dir)
        var result: [(name: [UInt8], kind: FileKind)] = []
        var name: UnsafePointer<CChar>?
        var type: UInt8 = 0
        while true {
            let rc = cposix_next_entry(dir, &name, &type)
            if rc == 0 { break }
            if rc < 0 {
                let error = Errno.current
                if error == .interrupted { continue }
                throw PosixError(.systemCall, function: "readdir", errno: error, path: path(), hint: "check that the folder is readable")
            }
            let bytes = UnsafeRawBufferPointer(start: name!, count: strlen(name!))
            if (bytes.count == 1 || bytes.count == 2) && bytes.allSatisfy({ $0 == UInt8(ascii: ".") }) { continue }
            result.append((Array(bytes), FileKind(directoryEntryType: type)))
        }
        result.sort { $0.name.lexicographicallyPrecedes($1.name) }
        return result
    }

    /// Removes the file or empty folder `name` from this folder; true when something was removed.
    @discardableResult
    public func remove(_ name: [UInt8], directory: Bool = false) throws -> Bool {
        switch retryingInterrupts({ withCName(name) { unlinkat(rawValue, $0, directory ? AT_REMOVEDIR : 0) } }) {
        case .success: return true
        case .failure(.noEntry): return false
        case .failure(let error): throw PosixError(.systemCall, function: "unlinkat", errno: error, path: displayPath(name), hint: "check the folder's permissions")
        }
    }
}

/// Calls `body` with `name` as a NUL-terminated C string (copied to the stack when small).
@inline(__always)
func withCName<T>(_ name: [UInt8], _ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
    try withUnsafeTemporaryAllocation(of: CChar.self, capacity: name.count + 1) { buffer in
        name.withUnsafeBytes { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: $0) }
        buffer[name.count] = 0
        return try body(UnsafePointer(buffer.baseAddress!))
    }
}

/// The process's peak resident set size in bytes (`getrusage`'s `ru_maxrss`).
public func peakResidentBytes() -> Int64 { cposix_peak_rss_bytes() }
