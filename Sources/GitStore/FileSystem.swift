import Foundation

/// One entry of a folder listing: its raw name bytes and kind.
struct DirectoryEntry {
    /// The name as the file system stores it (not necessarily UTF-8).
    let name: [UInt8]
    /// The kind from `readdir` (`DT_*`); `unknown` when the file system does not say.
    let kind: Kind

    enum Kind { case file, directory, symlink, fifo, socket, characterDevice, blockDevice, unknown }

    /// The name as a string, or nil when it is not valid UTF-8.
    var utf8Name: String? { String(validating: name, as: UTF8.self) }
}

/// The few file-system calls GitStore makes itself, each turning `errno` into a `GitError`.
enum FileSystem {
    /// Lists a folder without `.` and `..`, sorted by name bytes.
    static func entries(of path: String) throws -> [DirectoryEntry] {
        try entries(ofBytes: Array(path.utf8))
    }

    /// Lists a folder given as raw path bytes.
    static func entries(ofBytes path: [UInt8]) throws -> [DirectoryEntry] {
        guard let dir = (path + [0]).withUnsafeBufferPointer({ $0.withMemoryRebound(to: CChar.self) { opendir($0.baseAddress!) } }) else {
            throw GitError.posix("opendir", path: String(decoding: path, as: UTF8.self), errno: errno, hint: "check that the folder exists and is readable")
        }
        defer { closedir(dir) }
        var result: [DirectoryEntry] = []
        forEachEntry(of: dir) { _, name, kind in result.append(DirectoryEntry(name: Array(name), kind: kind)) }
        return result.sorted { $0.name.lexicographicallyPrecedes($1.name) }
    }

    /// Calls `body` for each entry of an open folder (a `DIR *`) except `.` and `..`, in
    /// directory order: the NUL-terminated name and its bytes (both valid only during the call),
    /// and the kind `readdir` reports.
    static func forEachEntry(
        of dir: OpaquePointer, _ body: (UnsafePointer<CChar>, UnsafeRawBufferPointer, DirectoryEntry.Kind) throws -> Void
    ) rethrows {
        while let entry = readdir(dir) {
            let type = entry.pointee.d_type
            try withUnsafeBytes(of: &entry.pointee.d_name) { raw in
                let name = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
                let bytes = UnsafeRawBufferPointer(start: raw.baseAddress, count: strlen(name))
                if (bytes.count == 1 || bytes.count == 2) && bytes.allSatisfy({ $0 == UInt8(ascii: ".") }) { return }
                try body(name, bytes, kind(type))
            }
        }
    }

    /// True when `bytes` are valid UTF-8 (checked quickly for plain ASCII).
    static func isUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if !bytes.contains(where: { $0 >= 0x80 }) { return true }
        return String(validating: bytes, as: UTF8.self) != nil
    }

    private static func kind(_ type: UInt8) -> DirectoryEntry.Kind {
        switch Int(type) {
        case Int(DT_REG): .file
        case Int(DT_DIR): .directory
        case Int(DT_LNK): .symlink
        case Int(DT_FIFO): .fifo
        case Int(DT_SOCK): .socket
        case Int(DT_CHR): .characterDevice
        case Int(DT_BLK): .blockDevice
        default: .unknown
        }
    }

    /// The kind of a file from its `lstat` mode.
    static func kind(mode: mode_t) -> DirectoryEntry.Kind {
        switch mode & S_IFMT {
        case S_IFREG: .file
        case S_IFDIR: .directory
        case S_IFLNK: .symlink
        case S_IFIFO: .fifo
        case S_IFSOCK: .socket
        case S_IFCHR: .characterDevice
        case S_IFBLK: .blockDevice
        default: .unknown
        }
    }

    /// `lstat` of a path; nil when nothing exists there.
    static func status(_ path: String) throws -> stat? {
        var info = stat()
        if lstat(path, &info) == 0 { return info }
        if errno == ENOENT || errno == ENOTDIR { return nil }
        throw GitError.posix("lstat", path: path, errno: errno)
    }

    /// The target of a symbolic link, as bytes.
    static func linkTarget(_ path: String) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = buffer.withUnsafeMutableBufferPointer {
            $0.withMemoryRebound(to: CChar.self) { readlink(path, $0.baseAddress!, $0.count) }
        }
        guard count >= 0 else { throw GitError.posix("readlink", path: path, errno: errno) }
        return Array(buffer[0..<count])
    }

    /// Creates a folder and its parents.
    static func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw GitError(kind: .fileSystem, function: "createDirectory", message: "cannot create the folder: \(error)", location: path,
                           hint: "check the parent folder's permissions")
        }
    }

    /// The whole content of a file.
    static func contents(of path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw GitError.posix("open", path: path, errno: errno, hint: "check that the file exists and is readable") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw GitError.posix("read", path: path, errno: errno)
            }
            if n == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }

    /// Replaces a file's content in place (its mode is kept; a new file gets 0644).
    ///
    /// The bytes are written over the old ones and the file is then cut to length, instead of
    /// truncating it first: on ext4 a truncation to zero (like a rename over an existing file)
    /// makes the kernel start writing the file back at once, which costs a few hundred
    /// microseconds per file; neither is more durable without an fsync.
    static func replaceContents(of path: String, with bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw GitError.posix("open", path: path, errno: errno, hint: "check that the folder exists and is writable") }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + offset, $0.count - offset, off_t(offset)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw GitError.posix("pwrite", path: path, errno: errno)
            }
            offset += n
        }
        guard ftruncate(fd, off_t(bytes.count)) == 0 else { throw GitError.posix("ftruncate", path: path, errno: errno) }
    }

    /// Removes a file that is about to be written anew, so the new file is linked into place
    /// rather than renamed over the old one (on ext4 a rename over an existing file starts an
    /// immediate write-back); a missing file is fine.
    static func removeBeforeRewrite(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else { throw GitError.posix("unlink", path: path, errno: errno) }
    }

    /// Hard-links `source` to `destination`, or copies it when the two are on different file
    /// systems or links are refused.
    static func linkOrCopy(_ source: String, to destination: String) throws {
        if link(source, destination) == 0 { return }
        guard errno == EXDEV || errno == EPERM || errno == EMLINK else {
            throw GitError.posix("link", path: destination, errno: errno)
        }
        try replaceContents(of: destination, with: try contents(of: source))
    }
}
