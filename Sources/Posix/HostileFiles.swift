import CPosix
import Glibc

/// File access for folders an untrusted program writes (an agent's workspace).
///
/// Everything is relative to a descriptor of a folder the caller trusts: paths are walked one
/// component at a time with `openat`, so no `PATH_MAX` applies and no link is ever followed
/// (`O_NOFOLLOW` on every component). Files are opened `O_NONBLOCK | O_NOCTTY`, so a FIFO or
/// device opens without blocking or side effects, and then checked with `fstat` on the open
/// descriptor: only regular files are read or written. Reads are bounded by the caller's limit.
/// Names are bytes.
public enum HostileFiles {
    /// Splits a relative path into its component names (empty components dropped).
    public static func components(_ relative: String) -> [[UInt8]] {
        relative.utf8.split(separator: UInt8(ascii: "/")).map(Array.init)
    }

    /// Opens the folder `name` in `parent` without following a link; nil when nothing is there.
    /// - Parameter create: create the folder (mode `mode`) when it is missing.
    /// - Throws: `PosixError` of kind `wrongKind` when `name` is not a folder (a link to one included).
    public static func openDirectory(_ name: [UInt8], in parent: FileDescriptor, create: Bool = false, mode: UInt32 = 0o755) throws -> FileDescriptor? {
        if create {
            switch retryingInterrupts({ withCName(name) { mkdirat(parent.rawValue, $0, mode_t(mode)) } }) {
            case .success, .failure(.exists): break
            case .failure(let error): throw PosixError(.systemCall, function: "mkdirat", errno: error, path: displayPath(name), hint: "check the parent folder's permissions")
            }
        }
        let flags = O_RDONLY | O_DIRECTORY | cposix_hostile_open_flags()
        switch retryingInterrupts({ withCName(name) { openat(parent.rawValue, $0, flags) } }) {
        case .success(let fd): return FileDescriptor(rawValue: fd)
        case .failure(.noEntry): return nil
        case .failure(.notDirectory), .failure(.tooManyLinks):
            throw PosixError(.wrongKind, function: "openat", path: displayPath(name), hint: "a folder was expected; links and other files are not entered")
        case .failure(let error): throw PosixError(.systemCall, function: "openat", errno: error, path: displayPath(name), hint: "check the folder's permissions")
        }
    }

    /// Opens the folder that holds the last component of `components`, walking from `root`
    /// one folder at a time; nil when a folder on the way is missing (and `create` is false).
    /// The caller closes the result; `root` stays open.
    public static func openParent(of components: [[UInt8]], under root: FileDescriptor, create: Bool = false) throws -> FileDescriptor? {
        var current = try system("dup", "") { fcntl(root.rawValue, F_DUPFD_CLOEXEC, 0) }
        for name in components.dropLast() {
            let next: FileDescriptor?
            do {
                next = try openDirectory(name, in: FileDescriptor(rawValue: current), create: create)
            } catch {
                Glibc.close(current)
                throw error
            }
            Glibc.close(current)
            guard let next else { return nil }
            current = next.rawValue
        }
        return FileDescriptor(rawValue: current)
    }

    /// Opens `name` in `parent` for reading when it is a regular file.
    /// - Returns: the descriptor and its status, or nil when nothing is there.
    /// - Throws: `PosixError` of kind `wrongKind` for a link, folder, FIFO, socket or device.
    public static func openRegular(_ name: [UInt8], in parent: FileDescriptor, forWriting: Bool = false) throws -> (FileDescriptor, FileStatus)? {
        let flags = (forWriting ? O_RDWR : O_RDONLY) | cposix_hostile_open_flags()
        let fd: FileDescriptor
        switch retryingInterrupts({ withCName(name) { openat(parent.rawValue, $0, flags) } }) {
        case .success(let raw): fd = FileDescriptor(rawValue: raw)
        case .failure(.noEntry): return nil
        case .failure(.tooManyLinks):
            throw PosixError(.wrongKind, function: "openat", path: displayPath(name), hint: "a regular file was expected; links are not followed")
        case .failure(let error): throw PosixError(.systemCall, function: "openat", errno: error, path: displayPath(name), hint: "check that the file is readable")
        }
        do {
            let status = try fd.status(path: displayPath(name))
            guard status.kind == .regular else {
                throw PosixError(.wrongKind, function: "openat", path: displayPath(name), hint: "a regular file was expected; FIFOs, sockets, devices and folders are not read")
            }
            return (fd, status)
        } catch {
            fd.close()
            throw error
        }
    }

    /// Reads a whole open file, at most `limit` bytes.
    /// - Throws: `PosixError` of kind `tooLarge` when the file holds more than `limit` bytes.
    public static func readAll(_ fd: FileDescriptor, limit: Int, path: @autoclosure () -> String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try fd.read(into: &chunk, at: Int64(bytes.count), path: path())
            if n == 0 { return bytes }
            guard bytes.count + n <= limit else {
                throw PosixError(.tooLarge, function: "read", path: path(), hint: "the file may hold at most \(limit) bytes here")
            }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }

    /// The content of the regular file at `relative` below `root`, at most `limit` bytes; nil
    /// when it (or a folder on its way) does not exist.
    /// - Throws: `PosixError`: `wrongKind` when the file or a folder on the way is a link, FIFO,
    ///   socket or device; `tooLarge` past the limit.
    public static func read(_ relative: [[UInt8]], under root: FileDescriptor, limit: Int) throws -> [UInt8]? {
        guard let name = relative.last, let parent = try openParent(of: relative, under: root) else { return nil }
        defer { parent.close() }
        guard let (fd, _) = try openRegular(name, in: parent) else { return nil }
        defer { fd.close() }
        return try readAll(fd, limit: limit, path: displayPath(relative.joined(separator: [UInt8(ascii: "/")]).map { $0 }))
    }

    /// Writes `bytes` as the whole content of the regular file at `relative` below `root`,
    /// creating it (mode 0644) and its folders when missing; an existing file keeps its mode.
    /// The bytes go over the old ones and the file is then cut to length (no truncation first).
    /// - Throws: `PosixError` of kind `wrongKind` when the file or a folder on its way is a link
    ///   or not a regular file / folder.
    public static func write(_ bytes: [UInt8], to relative: [[UInt8]], under root: FileDescriptor) throws {
        let path = displayPath(relative.joined(separator: [UInt8(ascii: "/")]).map { $0 })
        guard let name = relative.last, let parent = try openParent(of: relative, under: root, create: true) else {
            throw PosixError(.systemCall, function: "openat", errno: .noEntry, path: path, hint: "give a non-empty relative path")
        }
        defer { parent.close() }
        let flags = O_RDWR | O_CREAT | cposix_hostile_open_flags()
        let raw: Int32
        switch retryingInterrupts({ withCName(name) { openat(parent.rawValue, $0, flags, 0o644) } }) {
        case .success(let value): raw = value
        case .failure(.tooManyLinks): throw PosixError(.wrongKind, function: "openat", path: path, hint: "links are not written through")
        case .failure(let error): throw PosixError(.systemCall, function: "openat", errno: error, path: path, hint: "check that the folder is writable")
        }
        let fd = FileDescriptor(rawValue: raw)
        defer { fd.close() }
        guard try fd.status(path: path).kind == .regular else {
            throw PosixError(.wrongKind, function: "openat", path: path, hint: "only regular files are written")
        }
        try fd.write(bytes, path: path)
        try fd.truncate(to: Int64(bytes.count), path: path)
    }
}
