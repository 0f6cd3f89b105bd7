import CGit2
import Foundation
import Posix

/// One pass over a working tree that brings the index up to date with it, like `git add -A -f`,
/// using the index's stat cache: a file whose `lstat` matches its index entry is not read again.
///
/// The tree is the agent's: it is walked through `Posix.TreeWalk` (iterative, descriptor-relative,
/// no link followed, no `PATH_MAX`), files are opened non-blocking and only when regular, and the
/// same pass lists what the snapshot cannot store or store faithfully (`SkippedPath`). The top
/// level `.git` is never entered (the workspace checks it apart); a nested `.git` is left out.
struct WorktreeStaging {
    let root: String
    let repository: Repository
    let index: IndexHandle
    let budget: SnapshotBudget
    /// Names at the root left out of the snapshot (`Workspace.snapshotIgnore`), as bytes.
    let ignored: Set<[UInt8]>
    /// When the index file was last written: entries not older than this are "racily clean"
    /// (the file may have changed within the same clock tick) and are read again.
    let indexStamp: TimeStamp?

    private var seen: [Bool]
    private var changed: [(path: [UInt8], status: FileStatus, blob: ObjectID)] = []
    private(set) var skipped: [SkippedPath] = []
    /// Files in the tree so far, and bytes of new or changed content read so far.
    private var fileCount = 0
    private var newBytes: Int64 = 0

    init(root: String, repository: Repository, index: IndexHandle, indexFile: String, budget: SnapshotBudget, ignored: Set<String> = []) throws {
        self.root = root
        self.repository = repository
        self.index = index
        self.budget = budget
        self.ignored = Set(ignored.map { Array($0.utf8) })
        indexStamp = try FileSystem.status(indexFile).map { TimeStamp(seconds: Int64($0.st_mtim.tv_sec), nanoseconds: Int64($0.st_mtim.tv_nsec)) }
        seen = Array(repeating: false, count: git_index_entrycount(index.pointer))
        guard !ignored.isEmpty else { return }
        // What the parent commit holds under an ignored name stays as it is: the walk never looks there.
        for position in seen.indices {
            guard let entry = git_index_get_byindex(index.pointer, position) else { continue }
            let path = UnsafeRawBufferPointer(start: entry.pointee.path, count: strlen(entry.pointee.path))
            let first = Array(path.prefix { $0 != UInt8(ascii: "/") })
            if self.ignored.contains(first) { seen[position] = true }
        }
    }

    /// Walks the tree (storing new blobs as it goes), then removes vanished entries and adds
    /// changed files.
    mutating func run() throws {
        let rootDescriptor: FileDescriptor
        do { rootDescriptor = try FileDescriptor.openDirectory(path: root) } catch { throw GitError(error, function: "WorktreeStaging") }
        defer { rootDescriptor.close() }
        do {
            try TreeWalk.walk(rootDescriptor) { entry in try visit(entry) }
        } catch let error as PosixError {
            throw GitError(error, function: "snapshot walk", base: root)
        }
        skipped.sort { ($0.path.utf8.lexicographicallyPrecedes($1.path.utf8)) || ($0.path == $1.path && $0.reason.rawValue < $1.reason.rawValue) }
        if unlisted > 0 { skipped.append(SkippedPath(path: "(\(unlisted) more findings not listed)", reason: .overBudget)) }
        // Removals first, so a file turned into a folder (or back) never collides in the index.
        var vanished: [[UInt8]] = []
        for position in seen.indices where !seen[position] {
            if let entry = git_index_get_byindex(index.pointer, position) { vanished.append(Array(UnsafeRawBufferPointer(start: entry.pointee.path, count: strlen(entry.pointee.path)))) }
        }
        for path in vanished {
            _ = try withCPath(path) { try check("git_index_remove_bypath", git_index_remove_bypath(index.pointer, $0), location: String(decoding: path, as: UTF8.self)) }
        }
        for (path, status, blob) in changed {
            try Self.add(path, status: status, mode: Self.mode(status), blob: blob, to: index)
        }
    }

    /// At most this many findings are listed one by one; the rest are counted in a last entry.
    static let findingLimit = 10_000
    private var unlisted = 0

    /// Lists a finding, or counts it once the list is full.
    private mutating func note(_ path: String, _ reason: SkippedPath.Reason) {
        if skipped.count < Self.findingLimit { skipped.append(SkippedPath(path: path, reason: reason)) } else { unlisted += 1 }
    }

    /// Decides about one entry of the walk.
    private mutating func visit(_ entry: WalkEntry) throws -> WalkDecision {
        var shown: String { String(decoding: entry.path, as: UTF8.self) }
        if entry.name == Self.gitName {
            // The top-level `.git` is the workspace's link to its git directory (checked apart);
            // a nested one is the `.git` of a nested repository, whose other files are stored.
            if entry.depth > 1 { note(shown, .nestedRepository) }
            return .skip
        }
        // The agent CLI's own state at the root (histories, caches): not part of the step.
        if entry.depth == 1 && ignored.contains(entry.name) { return .skip }
        if !Self.isUTF8(entry.name) { note(shown, .nameNotUTF8) }
        if entry.path.count > budget.maximumPathBytes {
            note(Self.shortened(shown), .pathTooLong)
            return .skip
        }
        var status = entry.status
        let reason: SkippedPath.Reason
        switch status.kind {
        case .directory: return .descend
        case .regular, .symlink:
            if status.kind == .regular && status.hasSetIDBits {
                status = try stripSetIDBits(entry) ?? status
                note(shown, .setuidBit)
            }
            fileCount += 1
            guard fileCount <= budget.maximumFiles else {
                note(shown, .overBudget)
                return .skip
            }
            let (position, unchanged) = lookUp(entry.path, status)
            if unchanged {
                seen[position!] = true
                return .skip
            }
            // Only new content counts against the budget. A file whose index entry has the same
            // size may be unchanged (its stat data only looks racy), so it is read first and
            // counted only when its blob turns out new; such re-reads are bounded by what the
            // index already holds. Any other file must fit before it is read.
            let indexed = position.flatMap { git_index_get_byindex(index.pointer, $0)?.pointee }
            let maybeSame = indexed.map { $0.file_size == UInt32(truncatingIfNeeded: status.size) } ?? false
            let cost = status.kind == .regular ? status.size : 0
            guard maybeSame || newBytes + cost <= budget.maximumNewBytes else {
                note(shown, .overBudget)
                return .skip
            }
            do {
                let (blob, stored) = try store(entry, status)
                let same = indexed.map { ObjectID($0.id) == blob } ?? false
                if !same {
                    let stored = stored.kind == .regular ? stored.size : 0
                    guard newBytes + stored <= budget.maximumNewBytes else {
                        note(shown, .overBudget)
                        return .skip
                    }
                    newBytes += stored
                }
                changed.append((entry.path, stored, blob))
                if let position { seen[position] = true }
            } catch is PosixError {
                note(shown, .unreadable)
            }
            return .skip
        case .fifo: reason = .fifo
        case .socket: reason = .socket
        case .characterDevice, .blockDevice: reason = .device
        case .unknown: reason = .unknownKind
        }
        note(shown, reason)
        return .skip
    }

    /// Removes the set-user-id and set-group-id bits of a regular file through its open
    /// descriptor (never by name); returns the file's new status, nil when it vanished.
    private func stripSetIDBits(_ entry: WalkEntry) throws -> FileStatus? {
        guard let (fd, status) = try? HostileFiles.openRegular(entry.name, in: entry.parent) else { return nil }
        defer { fd.close() }
        let shown = String(decoding: entry.path, as: UTF8.self)
        do {
            try fd.setMode(status.mode & 0o777, path: shown)
            return try fd.status(path: shown)
        } catch let error as PosixError {
            throw GitError(error, function: "snapshot: removing the setuid bit", base: root)
        }
    }

    /// Reads a file or link and writes its blob; returns the blob and the status of what was read.
    private func store(_ entry: WalkEntry, _ status: FileStatus) throws -> (ObjectID, FileStatus) {
        let location = String(decoding: entry.path, as: UTF8.self)
        if status.kind == .symlink {
            let target = try entry.parent.linkTarget(of: entry.name, limit: 65536)
            return (try target.withUnsafeBytes { try repository.writeObject($0, type: GIT_OBJECT_BLOB, location: location) }, status)
        }
        guard let (fd, opened) = try HostileFiles.openRegular(entry.name, in: entry.parent) else {
            throw PosixError(.systemCall, function: "openat", errno: .noEntry, path: location, hint: "the file vanished during the snapshot")
        }
        defer { fd.close() }
        if opened.size > SnapshotBudget.streamingThreshold {
            return (try repository.streamBlob(from: fd, size: opened.size, location: location), opened)
        }
        let bytes = try HostileFiles.readAll(fd, limit: Int(SnapshotBudget.streamingThreshold), path: location)
        return (try bytes.withUnsafeBytes { try repository.writeObject($0, type: GIT_OBJECT_BLOB, location: location) }, opened)
    }

    /// The index mode of a file or link with this status.
    static func mode(_ status: FileStatus) -> UInt32 {
        status.kind == .symlink ? 0o120000 : (status.isOwnerExecutable ? 0o100755 : 0o100644)
    }

    /// Adds or replaces the index entry of `path`, with the file's status as stat cache.
    static func add(_ path: [UInt8], status: FileStatus, mode: UInt32, blob: ObjectID, to index: IndexHandle) throws {
        try withCPath(path) { cPath in
            var record = git_index_entry()
            record.ctime = git_index_time(seconds: Int32(truncatingIfNeeded: status.changed.seconds), nanoseconds: UInt32(truncatingIfNeeded: status.changed.nanoseconds))
            record.mtime = git_index_time(seconds: Int32(truncatingIfNeeded: status.modified.seconds), nanoseconds: UInt32(truncatingIfNeeded: status.modified.nanoseconds))
            record.dev = UInt32(truncatingIfNeeded: status.device)
            record.ino = UInt32(truncatingIfNeeded: status.inode)
            record.mode = mode
            record.uid = status.user
            record.gid = status.group
            record.file_size = UInt32(truncatingIfNeeded: status.size)
            record.id = blob.oid
            record.path = cPath
            try check("git_index_add", git_index_add(index.pointer, &record), location: String(decoding: path, as: UTF8.self))
        }
    }

    /// The index position of `path` (nil when absent) and whether its entry matches this status
    /// exactly and was written after it.
    private func lookUp(_ path: [UInt8], _ status: FileStatus) -> (Int?, Bool) {
        var position = 0
        let found = withCPath(path) { git_index_find(&position, index.pointer, $0) }
        guard found == 0, position < seen.count, let entry = git_index_get_byindex(index.pointer, position)?.pointee else { return (nil, false) }
        guard entry.mode == Self.mode(status),
              entry.file_size == UInt32(truncatingIfNeeded: status.size),
              entry.ino == UInt32(truncatingIfNeeded: status.inode),
              entry.uid == status.user, entry.gid == status.group,
              Self.same(entry.mtime, status.modified), Self.same(entry.ctime, status.changed),
              let stamp = indexStamp
        else { return (position, false) }
        // Racily clean: modified in the same tick as the index was written.
        return (position, status.modified < stamp)
    }

    /// Index times keep 32-bit seconds and, when libgit2 records them, nanoseconds.
    private static func same(_ time: git_index_time, _ stamp: TimeStamp) -> Bool {
        time.seconds == Int32(truncatingIfNeeded: stamp.seconds)
            && (time.nanoseconds == 0 || time.nanoseconds == UInt32(truncatingIfNeeded: stamp.nanoseconds))
    }

    static let gitName = Array(".git".utf8)

    /// True when `bytes` are valid UTF-8 (checked quickly for plain ASCII).
    static func isUTF8(_ bytes: [UInt8]) -> Bool {
        if !bytes.contains(where: { $0 >= 0x80 }) { return true }
        return String(validating: bytes, as: UTF8.self) != nil
    }

    /// A long path cut to its first 200 and last 50 characters, for findings.
    static func shortened(_ path: String) -> String {
        path.count <= 256 ? path : String(path.prefix(200)) + "…(\(path.utf8.count) bytes)…" + String(path.suffix(50))
    }
}

/// Calls `body` with `path` as a NUL-terminated C string.
func withCPath<T>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
    try withUnsafeTemporaryAllocation(of: CChar.self, capacity: path.count + 1) { buffer in
        path.withUnsafeBytes { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: $0) }
        buffer[path.count] = 0
        return try body(UnsafePointer(buffer.baseAddress!))
    }
}
