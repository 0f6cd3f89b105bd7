import CGit2
import Foundation
import Posix

// Every loose object costs a file (and often a folder) on disk, which is what makes commits slow.
// While writes are buffered, new objects go to an in-memory store and reach the disk as one pack.

extension Repository {
    /// Sends every new object to memory until `writeBufferedObjects()` is called.
    func bufferObjects() throws {
        guard objectBuffer == nil else { return }
        let database = ObjectDatabaseHandle(try make("git_repository_odb", location: gitDirectory) { git_repository_odb(&$0, pointer) })
        var backend: UnsafeMutablePointer<git_odb_backend>?
        try check("git_mempack_new", git_mempack_new(&backend))
        // The database owns the backend from here on; the highest priority makes it take the writes.
        try check("git_odb_add_backend", git_odb_add_backend(database.pointer, backend, 1000), location: gitDirectory)
        objectBuffer = backend
    }

    /// Writes the objects of the first-parent chain from `tip` back to `known` to disk as one pack
    /// (with its index); the buffer keeps them until `forgetBufferedObjects`.
    ///
    /// Each commit contributes itself, its root tree, and the blobs and trees along the paths its
    /// diff against its parent touches, so a step in a large tree packs only what changed.
    /// - Parameters:
    ///   - tip: the newest commit written since the last call.
    ///   - known: the newest commit already on disk; nil to write the whole history of `tip`.
    func writeBufferedObjects(tip: ObjectID, known: ObjectID?) throws {
        guard objectBuffer != nil else { return }
        let builder = PackBuilderHandle(try make("git_packbuilder_new", location: gitDirectory) { git_packbuilder_new(&$0, pointer) })
        git_packbuilder_set_threads(builder.pointer, 1)
        var current: ObjectID? = tip
        while let commit = current, commit != known {
            let handle = try commitHandle(commit)
            let parent = git_commit_parentcount(handle.pointer) > 0 ? ObjectID(git_commit_parent_id(handle.pointer, 0).pointee) : nil
            if let parent, known != nil {
                try insertChanges(of: commit, parent: parent, into: builder)
            } else {
                var oid = commit.oid
                try check("git_packbuilder_insert_commit", git_packbuilder_insert_commit(builder.pointer, &oid), location: gitDirectory)
            }
            current = parent
        }
        try writePack(builder, into: self, durable: false)
    }

    /// Empties the object buffer. Its objects stay there after `writeBufferedObjects` (they are
    /// then on disk too), so reading a commit just written, as its diff does, needs no pack
    /// access; call this before writing anew, once every buffered object is on disk.
    func forgetBufferedObjects() throws {
        guard let backend = objectBuffer else { return }
        try check("git_mempack_reset", git_mempack_reset(backend))
    }

    /// Writes one object and returns its id: straight into the buffer while writes are buffered
    /// (libgit2's own write first looks for the object in every pack and, not finding a new
    /// object, rescans the pack folder, once per object), otherwise into the object database.
    func writeObject(_ bytes: UnsafeRawBufferPointer, type: git_object_t, location: String) throws -> ObjectID {
        var oid = git_oid()
        if let backend = objectBuffer, let write = backend.pointee.write {
            try check("git_odb_hash", git_odb_hash(&oid, bytes.baseAddress, bytes.count, type), location: location)
            try check("git_odb_backend.write", write(backend, &oid, bytes.baseAddress, bytes.count, type), location: location)
        } else {
            let database = ObjectDatabaseHandle(try make("git_repository_odb", location: gitDirectory) { git_repository_odb(&$0, pointer) })
            try check("git_odb_write", git_odb_write(&oid, database.pointer, bytes.baseAddress, bytes.count, type), location: location)
        }
        return ObjectID(oid)
    }

    /// Writes a large blob from an open file straight to a loose object, reading and compressing
    /// it in chunks, so it never sits whole in memory; it is then left out of the step packs.
    /// - Parameters:
    ///   - fd: the open regular file, read from offset 0.
    ///   - size: the number of bytes to store (the file's size when it was opened).
    ///   - location: the file's path, for errors.
    /// - Returns: the blob's id.
    /// - Throws: `PosixError` when the file cannot be read or holds fewer bytes than `size`;
    ///   `GitError` when the object cannot be written.
    func streamBlob(from fd: FileDescriptor, size: Int64, location: String) throws -> ObjectID {
        if streamDatabase == nil {
            var backend: UnsafeMutablePointer<git_odb_backend>?
            // Fastest zlib level: streamed blobs are large, and the run repository repacks anyway.
            try check("git_odb_backend_loose", git_odb_backend_loose(&backend, gitDirectory + "objects", 1, 0, 0, 0), location: gitDirectory)
            let database = ObjectDatabaseHandle(try make("git_odb_new", location: gitDirectory) { git_odb_new(&$0) })
            try check("git_odb_add_backend", git_odb_add_backend(database.pointer, backend, 1), location: gitDirectory)
            streamDatabase = database
        }
        var stream: UnsafeMutablePointer<git_odb_stream>?
        try check("git_odb_open_wstream", git_odb_open_wstream(&stream, streamDatabase!.pointer, git_object_size_t(size), GIT_OBJECT_BLOB), location: location)
        defer { git_odb_stream_free(stream) }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var offset: Int64 = 0
        while offset < size {
            let n = try fd.read(into: &chunk, at: offset, path: location)
            guard n > 0 else {
                throw PosixError(.systemCall, function: "pread", errno: nil, path: location, hint: "the file shrank while it was read; it is left out")
            }
            let count = Int(min(Int64(n), size - offset))
            _ = try chunk.withUnsafeBytes { raw in
                try check("git_odb_stream_write", git_odb_stream_write(stream, raw.baseAddress!.assumingMemoryBound(to: CChar.self), count), location: location)
            }
            offset += Int64(count)
        }
        var oid = git_oid()
        try check("git_odb_stream_finalize_write", git_odb_stream_finalize_write(&oid, stream), location: location)
        streamedBlobs.insert(ObjectID(oid))
        return ObjectID(oid)
    }

    /// Adds a commit, its root tree and the blobs and trees its diff against `parent` touches.
    private func insertChanges(of commit: ObjectID, parent: ObjectID, into builder: PackBuilderHandle) throws {
        var commitOid = commit.oid
        try check("git_packbuilder_insert", git_packbuilder_insert(builder.pointer, &commitOid, nil), location: gitDirectory)
        try insertTrees(try treeHandle(ofCommit: commit), changedFrom: try treeHandle(ofCommit: parent), into: builder)
    }

    /// Adds a tree, then each blob and subtree it holds that `old` does not hold under the same
    /// name with the same id (recursively): the objects a commit adds on top of its parent.
    private func insertTrees(_ new: TreeHandle, changedFrom old: TreeHandle?, into builder: PackBuilderHandle) throws {
        try check("git_packbuilder_insert", git_packbuilder_insert(builder.pointer, git_tree_id(new.pointer), nil), location: gitDirectory)
        for i in 0..<git_tree_entrycount(new.pointer) {
            guard let entry = git_tree_entry_byindex(new.pointer, i), let id = git_tree_entry_id(entry) else { continue }
            let before = old.flatMap { git_tree_entry_byname($0.pointer, git_tree_entry_name(entry)) }
            if let before, git_oid_equal(git_tree_entry_id(before), id) != 0 { continue }
            switch git_tree_entry_type(entry) {
            case GIT_OBJECT_TREE:
                let subtree = TreeHandle(try make("git_tree_lookup", location: gitDirectory) { git_tree_lookup(&$0, pointer, id) })
                let oldSubtree = try before.flatMap { before in
                    git_tree_entry_type(before) == GIT_OBJECT_TREE
                        ? TreeHandle(try make("git_tree_lookup", location: gitDirectory) { git_tree_lookup(&$0, pointer, git_tree_entry_id(before)) })
                        : nil
                }
                try insertTrees(subtree, changedFrom: oldSubtree, into: builder)
            case GIT_OBJECT_BLOB:
                // Streamed blobs stay loose: packing would read each one whole into memory.
                if streamedBlobs.contains(ObjectID(id.pointee)) { continue }
                try check("git_packbuilder_insert", git_packbuilder_insert(builder.pointer, id, nil), location: gitDirectory)
            default:
                continue  // a nested repository's commit is not stored here
            }
        }
    }

    /// Copies every object reachable from a commit into another repository, as one pack.
    ///
    /// This is how an episode's commits reach a run's repository: copy, then `updateRef` there.
    /// - Parameters:
    ///   - tip: the commit whose history to copy.
    ///   - known: commits the destination already holds; their objects are left out.
    ///   - destination: the repository to copy into (may be this one).
    ///   - durable: when true, the new pack, its index and their folder are `fsync`ed before
    ///     returning, so a record written afterwards never names objects a power loss could take.
    /// - Throws: `GitError` when an object is missing or the pack cannot be written or synced.
    public func copyObjects(reachableFrom tip: ObjectID, excluding known: [ObjectID] = [], into destination: Repository, durable: Bool = false) throws {
        let walk = RevwalkHandle(try make("git_revwalk_new", location: gitDirectory) { git_revwalk_new(&$0, pointer) })
        var start = tip.oid
        try check("git_revwalk_push", git_revwalk_push(walk.pointer, &start), location: tip.description)
        for commit in known {
            var hidden = commit.oid
            try check("git_revwalk_hide", git_revwalk_hide(walk.pointer, &hidden), location: commit.description)
        }
        let builder = PackBuilderHandle(try make("git_packbuilder_new", location: gitDirectory) { git_packbuilder_new(&$0, pointer) })
        git_packbuilder_set_threads(builder.pointer, 1)
        try check("git_packbuilder_insert_walk", git_packbuilder_insert_walk(builder.pointer, walk.pointer), location: gitDirectory)
        try writePack(builder, into: destination, durable: durable)
    }

    /// Writes what a pack builder holds into a repository's object database, with its index.
    /// - Parameter durable: `fsync` the pack, then its index, then their folder.
    /// - Returns: the new pack's base name (`pack-<checksum>`), or nil when there was nothing to write.
    @discardableResult
    private func writePack(_ builder: PackBuilderHandle, into destination: Repository, durable: Bool) throws -> String? {
        guard git_packbuilder_object_count(builder.pointer) > 0 else { return nil }
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        try check("git_packbuilder_write_buf", git_packbuilder_write_buf(&buffer, builder.pointer), location: gitDirectory)
        let target = destination.gitDirectory
        let database = ObjectDatabaseHandle(try make("git_repository_odb", location: target) { git_repository_odb(&$0, destination.pointer) })
        var writer: UnsafeMutablePointer<git_odb_writepack>?
        try check("git_odb_write_pack", git_odb_write_pack(&writer, database.pointer, nil, nil), location: target)
        guard let writer else { throw GitError(kind: .libgit2, function: "git_odb_write_pack", message: "no pack writer returned", location: target) }
        defer { writer.pointee.free(writer) }
        var progress = git_indexer_progress()
        try check("git_odb_writepack.append", writer.pointee.append(writer, buffer.ptr, buffer.size, &progress), location: target)
        try check("git_odb_writepack.commit", writer.pointee.commit(writer, &progress), location: target)
        // A pack is named after its checksum, the SHA-1 that ends the pack data.
        let trailer = UnsafeRawBufferPointer(start: UnsafeRawPointer(buffer.ptr) + (buffer.size - 20), count: 20)
        let name = "pack-" + trailer.map { String(format: "%02x", $0) }.joined()
        if durable {
            // The pack before its index: an index is only ever trusted with its pack on disk.
            let folder = target + "objects/pack"
            for path in [folder + "/" + name + ".pack", folder + "/" + name + ".idx", folder] {
                try Self.fsync(path: path)
            }
        }
        return name
    }

    /// Flushes one file or folder to disk.
    private static func fsync(path: String) throws {
        do { try FileDescriptor.sync(path: path) } catch { throw GitError(error, function: "fsync") }
    }

    /// Rewrites everything reachable from the references into one pack and deletes the packs
    /// that were there before (each copy or step adds a pack; many packs slow every lookup).
    ///
    /// Meant for a run's repository between episodes: no other process may write to it
    /// meanwhile. Loose objects are left where they are.
    /// - Returns: the number of objects in the new pack.
    /// - Throws: `GitError` when an object is missing or a file cannot be written or removed.
    @discardableResult
    public func consolidatePacks() throws -> Int {
        let packFolder = gitDirectory + "objects/pack"
        let before = try FileSystem.entries(of: packFolder).compactMap(\.utf8Name).filter { $0.hasPrefix("pack-") }
        let walk = RevwalkHandle(try make("git_revwalk_new", location: gitDirectory) { git_revwalk_new(&$0, pointer) })
        try check("git_revwalk_push_glob", git_revwalk_push_glob(walk.pointer, "*"), location: gitDirectory)
        let builder = PackBuilderHandle(try make("git_packbuilder_new", location: gitDirectory) { git_packbuilder_new(&$0, pointer) })
        git_packbuilder_set_threads(builder.pointer, 1)
        try check("git_packbuilder_insert_walk", git_packbuilder_insert_walk(builder.pointer, walk.pointer), location: gitDirectory)
        let count = git_packbuilder_object_count(builder.pointer)
        // The new pack is on disk before any old one goes, so a crash at any point leaves every
        // object reachable.
        guard let kept = try writePack(builder, into: self, durable: true) else { return 0 }
        // Old indexes before old packs: a pack without its index is ignored, an index without its
        // pack is an error for every reader.
        let old = before.filter { !$0.hasPrefix(kept + ".") }
        for file in old.filter({ !$0.hasSuffix(".pack") }) + old.filter({ $0.hasSuffix(".pack") }) {
            if case .failure(let error) = retryingInterrupts({ unlink(packFolder + "/" + file) }) {
                throw GitError.posix("unlink", path: packFolder + "/" + file, error: error)
            }
        }
        let database = ObjectDatabaseHandle(try make("git_repository_odb", location: gitDirectory) { git_repository_odb(&$0, pointer) })
        try check("git_odb_refresh", git_odb_refresh(database.pointer), location: gitDirectory)
        return count
    }

    /// The files of `objects/pack` when every object of the repository is in a pack (no loose
    /// objects, no alternates); nil otherwise.
    func packFilesIfFullyPacked() throws -> [String]? {
        let objects = gitDirectory + "objects"
        for entry in try FileSystem.entries(of: objects) where entry.utf8Name != "pack" && entry.utf8Name != "info" {
            return nil
        }
        if try FileSystem.status(objects + "/info/alternates") != nil { return nil }
        let packs = try FileSystem.entries(of: objects + "/pack").compactMap(\.utf8Name)
        return packs.contains { $0.hasSuffix(".pack") } ? packs : nil
    }
}
