import CGit2
import Foundation

/// One pass over a working tree that brings the index up to date with it, like `git add -A -f`,
/// using the index's stat cache: a file whose `lstat` matches its index entry is not read again.
///
/// The same pass lists what git cannot or must not store (FIFOs, sockets, devices, names that
/// are not UTF-8, the `.git` of nested repositories); no `.git` is ever entered.
struct WorktreeStaging {
    let root: String
    let repository: Repository
    let index: IndexHandle
    /// When the index file was last written: entries not older than this are "racily clean"
    /// (the file may have changed within the same clock tick) and are read again.
    let indexStamp: timespec?

    private var seen: [Bool]
    private var changed: [(path: [UInt8], info: stat)] = []
    private(set) var skipped: [SkippedPath] = []

    init(root: String, repository: Repository, index: IndexHandle, indexFile: String) throws {
        self.root = root
        self.repository = repository
        self.index = index
        indexStamp = try FileSystem.status(indexFile)?.st_mtim
        seen = Array(repeating: false, count: git_index_entrycount(index.pointer))
    }

    /// Walks the tree, then removes vanished entries and re-adds changed files.
    mutating func run() throws {
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw GitError.posix("open", path: root, errno: errno, hint: "check that the workspace folder exists") }
        var relative: [UInt8] = []
        relative.reserveCapacity(4096)
        try walk(directory: fd, relative: &relative)
        skipped.sort { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        // Removals first, so a file turned into a folder (or back) never collides in the index.
        let vanished = seen.indices.filter { !seen[$0] }.compactMap { git_index_get_byindex(index.pointer, $0).map { String(cString: $0.pointee.path) } }
        for path in vanished {
            try check("git_index_remove_bypath", git_index_remove_bypath(index.pointer, path), location: path)
        }
        // Files are read and hashed here rather than through `git_index_add_bypath`: the
        // workspace stores bytes as they are (no attributes, no filters), and the blobs go
        // straight to the object buffer.
        for (bytes, info) in changed {
            let path = String(decoding: bytes, as: UTF8.self)
            let isLink = info.st_mode & S_IFMT == S_IFLNK
            let content = isLink ? try FileSystem.linkTarget(root + "/" + path) : try FileSystem.contents(of: root + "/" + path)
            let blob = try content.withUnsafeBytes { try repository.writeObject($0, type: GIT_OBJECT_BLOB, location: path) }
            try Self.add(path, info: info, mode: Self.mode(info), blob: blob, to: index)
        }
    }

    /// The index mode of a file or link with this `lstat` data.
    static func mode(_ info: stat) -> UInt32 {
        info.st_mode & S_IFMT == S_IFLNK ? 0o120000 : (info.st_mode & S_IXUSR != 0 ? 0o100755 : 0o100644)
    }

    /// Adds or replaces the index entry of `path`, with the file's `lstat` data as stat cache.
    static func add(_ path: String, info: stat, mode: UInt32, blob: ObjectID, to index: IndexHandle) throws {
        try path.withCString { cPath in
            var record = git_index_entry()
            record.ctime = git_index_time(seconds: Int32(truncatingIfNeeded: info.st_ctim.tv_sec), nanoseconds: UInt32(info.st_ctim.tv_nsec))
            record.mtime = git_index_time(seconds: Int32(truncatingIfNeeded: info.st_mtim.tv_sec), nanoseconds: UInt32(info.st_mtim.tv_nsec))
            record.dev = UInt32(truncatingIfNeeded: info.st_dev)
            record.ino = UInt32(truncatingIfNeeded: info.st_ino)
            record.mode = mode
            record.uid = info.st_uid
            record.gid = info.st_gid
            record.file_size = UInt32(truncatingIfNeeded: info.st_size)
            record.id = blob.oid
            record.path = cPath
            try check("git_index_add", git_index_add(index.pointer, &record), location: path)
        }
    }

    /// Walks one folder, given as an open descriptor (closed here), whose path relative to the
    /// root is `relative`; `relative` is used as a scratch buffer and restored on return.
    private mutating func walk(directory fd: Int32, relative: inout [UInt8]) throws {
        guard let dir = fdopendir(fd) else {
            close(fd)
            throw GitError.posix("fdopendir", path: String(decoding: relative, as: UTF8.self), errno: errno)
        }
        defer { closedir(dir) }
        // A nested repository's files are stored like any others (nothing hides behind a `.git`);
        // only its `.git` is left out, and listed.
        if !relative.isEmpty, faccessat(fd, ".git", F_OK, AT_SYMLINK_NOFOLLOW) == 0 {
            skipped.append(SkippedPath(path: String(decoding: relative, as: UTF8.self) + "/.git", reason: .nestedRepository))
        }
        let base = relative.count
        try FileSystem.forEachEntry(of: dir) { name, bytes, _ in
            if bytes.count == 4 && strcmp(name, ".git") == 0 { return }
            defer { relative.removeSubrange(base...) }
            if base > 0 { relative.append(UInt8(ascii: "/")) }
            relative.append(contentsOf: bytes)
            guard FileSystem.isUTF8(bytes) else {
                skipped.append(SkippedPath(path: String(decoding: relative, as: UTF8.self), reason: .nameNotUTF8))
                return
            }
            var info = stat()
            if fstatat(dirfd(dir), name, &info, AT_SYMLINK_NOFOLLOW) != 0 {
                if errno == ENOENT { return }  // removed while we walked
                throw GitError.posix("fstatat", path: String(decoding: relative, as: UTF8.self), errno: errno)
            }
            let reason: SkippedPath.Reason
            switch FileSystem.kind(mode: info.st_mode) {
            case .directory:
                let sub = openat(dirfd(dir), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard sub >= 0 else { throw GitError.posix("openat", path: String(decoding: relative, as: UTF8.self), errno: errno) }
                try walk(directory: sub, relative: &relative)
                return
            case .file, .symlink:
                if try isChanged(&relative, info) { changed.append((relative, info)) }
                return
            case .fifo: reason = .fifo
            case .socket: reason = .socket
            case .characterDevice, .blockDevice: reason = .device
            case .unknown: reason = .unknownKind
            }
            skipped.append(SkippedPath(path: String(decoding: relative, as: UTF8.self), reason: reason))
        }
    }

    /// True unless the index holds `path` with exactly this `lstat` data, written after it.
    private mutating func isChanged(_ path: inout [UInt8], _ info: stat) throws -> Bool {
        var position = 0
        path.append(0)
        let found = path.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { git_index_find(&position, index.pointer, $0.baseAddress!) }
        }
        path.removeLast()
        guard found == 0, position < seen.count, let entry = git_index_get_byindex(index.pointer, position)?.pointee else { return true }
        seen[position] = true
        guard entry.mode == Self.mode(info),
              entry.file_size == UInt32(truncatingIfNeeded: info.st_size),
              entry.ino == UInt32(truncatingIfNeeded: info.st_ino),
              entry.uid == info.st_uid, entry.gid == info.st_gid,
              Self.same(entry.mtime, info.st_mtim), Self.same(entry.ctime, info.st_ctim)
        else { return true }
        guard let stamp = indexStamp else { return true }
        // Racily clean: modified in the same tick as the index was written.
        return (info.st_mtim.tv_sec, info.st_mtim.tv_nsec) >= (stamp.tv_sec, stamp.tv_nsec)
    }

    /// Index times keep 32-bit seconds and, when libgit2 records them, nanoseconds.
    private static func same(_ time: git_index_time, _ stat: timespec) -> Bool {
        time.seconds == Int32(truncatingIfNeeded: stat.tv_sec)
            && (time.nanoseconds == 0 || time.nanoseconds == UInt32(truncatingIfNeeded: stat.tv_nsec))
    }
}
