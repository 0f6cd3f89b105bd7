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

    /// Writes the buffered objects to disk as one pack (with its index) and empties the buffer.
    func writeBufferedObjects() throws {
        guard let backend = objectBuffer else { return }
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        try check("git_mempack_dump", git_mempack_dump(&buffer, pointer, backend), location: gitDirectory)
        // A pack without objects is a 12-byte header and a 20-byte checksum: nothing to write.
        if buffer.size > 32 {
            let database = ObjectDatabaseHandle(try make("git_repository_odb", location: gitDirectory) { git_repository_odb(&$0, pointer) })
            var writer: UnsafeMutablePointer<git_odb_writepack>?
            try check("git_odb_write_pack", git_odb_write_pack(&writer, database.pointer, nil, nil), location: gitDirectory)
            guard let writer else { throw GitError(kind: .libgit2, function: "git_odb_write_pack", message: "no pack writer returned", location: gitDirectory) }
            defer { writer.pointee.free(writer) }
            var progress = git_indexer_progress()
            try check("git_odb_writepack.append", writer.pointee.append(writer, buffer.ptr, buffer.size, &progress), location: gitDirectory)
            try check("git_odb_writepack.commit", writer.pointee.commit(writer, &progress), location: gitDirectory)
        }
        try check("git_mempack_reset", git_mempack_reset(backend))
    }
}
