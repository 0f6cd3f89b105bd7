import CGit2

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

    /// Writes the buffered objects reachable from `tip` but not from `known` to disk as one pack
    /// (with its index), then empties the buffer.
    ///
    /// - Parameters:
    ///   - tip: the newest commit written since the last call.
    ///   - known: commits whose objects are already on disk (the previous tip); their trees are
    ///     read to leave their objects out, so a step in a large tree packs only what changed.
    func writeBufferedObjects(tip: ObjectID, known: [ObjectID]) throws {
        guard let backend = objectBuffer else { return }
        try copyObjects(reachableFrom: tip, excluding: known, into: self)
        try check("git_mempack_reset", git_mempack_reset(backend))
    }

    /// Copies every object reachable from a commit into another repository, as one pack.
    ///
    /// This is how an episode's commits reach a run's repository: copy, then `updateRef` there.
    /// - Parameters:
    ///   - tip: the commit whose history to copy.
    ///   - known: commits the destination already holds; their objects are left out.
    ///   - destination: the repository to copy into (may be this one).
    /// - Throws: `GitError` when an object is missing or the pack cannot be written.
    public func copyObjects(reachableFrom tip: ObjectID, excluding known: [ObjectID] = [], into destination: Repository) throws {
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
        guard git_packbuilder_object_count(builder.pointer) > 0 else { return }
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
