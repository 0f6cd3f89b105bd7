import CGit2
import Foundation

/// One pass over a working tree that brings the index up to date with it, like `git add -A -f`,
/// using the index's stat cache: a file whose `lstat` matches its index entry is not read again.
///
/// The same pass lists what git cannot or must not store (FIFOs, sockets, devices, names that
/// are not UTF-8, nested repositories); `.git` is never entered.
struct WorktreeStaging {
    let root: String
    let index: IndexHandle
    /// When the index file was last written: entries not older than this are "racily clean"
    /// (the file may have changed within the same clock tick) and are read again.
    let indexStamp: timespec?

    private var seen: [Bool]
    private var changed: [[UInt8]] = []
    private(set) var skipped: [SkippedPath] = []

    init(root: String, index: IndexHandle, indexFile: String) throws {
        self.root = root
        self.index = index
        indexStamp = try FileSystem.status(indexFile)?.st_mtim
        seen = Array(repeating: false, count: git_index_entrycount(index.pointer))
    }

    /// Walks the tree, then removes vanished entries and re-adds changed files.
    mutating func run() throws {
        try walk([])
        skipped.sort { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        // Removals first, so a file turned into a folder (or back) never collides in the index.
        let vanished = seen.indices.filter { !seen[$0] }.compactMap { git_index_get_byindex(index.pointer, $0).map { String(cString: $0.pointee.path) } }
        for path in vanished {
            try check("git_index_remove_bypath", git_index_remove_bypath(index.pointer, path), location: path)
        }
        for path in changed {
            let rc = (path + [0]).withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { git_index_add_bypath(index.pointer, $0.baseAddress!) }
            }
            try check("git_index_add_bypath", rc, location: String(decoding: path, as: UTF8.self), hint: "check that the file is readable")
        }
    }

    private mutating func walk(_ relative: [UInt8]) throws {
        let folder = Array(root.utf8) + (relative.isEmpty ? [] : [UInt8(ascii: "/")] + relative)
        let entries = try FileSystem.entries(ofBytes: folder)
        let dotGit = Array(".git".utf8)
        if !relative.isEmpty, entries.contains(where: { $0.name == dotGit }) {
            skipped.append(SkippedPath(path: String(decoding: relative, as: UTF8.self), reason: .nestedRepository))
            return
        }
        for entry in entries where entry.name != dotGit {
            let child = relative.isEmpty ? entry.name : relative + [UInt8(ascii: "/")] + entry.name
            guard entry.utf8Name != nil else {
                skipped.append(SkippedPath(path: String(decoding: child, as: UTF8.self), reason: .nameNotUTF8))
                continue
            }
            var info = stat()
            let rc = (folder + [UInt8(ascii: "/")] + entry.name + [0]).withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { lstat($0.baseAddress!, &info) }
            }
            if rc != 0 {
                if errno == ENOENT { continue }  // removed while we walked
                throw GitError.posix("lstat", path: String(decoding: child, as: UTF8.self), errno: errno)
            }
            let display = { String(decoding: child, as: UTF8.self) }
            switch FileSystem.kind(mode: info.st_mode) {
            case .directory: try walk(child)
            case .file, .symlink: if try isChanged(child, info) { changed.append(child) }
            case .fifo: skipped.append(SkippedPath(path: display(), reason: .fifo))
            case .socket: skipped.append(SkippedPath(path: display(), reason: .socket))
            case .characterDevice, .blockDevice: skipped.append(SkippedPath(path: display(), reason: .device))
            case .unknown: skipped.append(SkippedPath(path: display(), reason: .unknownKind))
            }
        }
    }

    /// True unless the index holds `path` with exactly this `lstat` data, written after it.
    private mutating func isChanged(_ path: [UInt8], _ info: stat) throws -> Bool {
        var position = 0
        let found = (path + [0]).withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { git_index_find(&position, index.pointer, $0.baseAddress!) }
        }
        guard found == 0, position < seen.count, let entry = git_index_get_byindex(index.pointer, position)?.pointee else { return true }
        seen[position] = true
        let isLink = info.st_mode & S_IFMT == S_IFLNK
        let mode: UInt32 = isLink ? 0o120000 : (info.st_mode & S_IXUSR != 0 ? 0o100755 : 0o100644)
        guard entry.mode == mode,
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
