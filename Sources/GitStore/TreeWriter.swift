import CGit2
import Foundation

extension Repository {
    /// Commits the content of any folder as one commit.
    ///
    /// Every regular file becomes a blob with mode 100644, or 100755 when its owner may execute
    /// it; symbolic links are stored as links (never followed); `.git` entries and empty folders
    /// are left out, as git leaves them out. File order is git's tree order, so the same content,
    /// signatures and message give the same commit id on every machine.
    /// - Parameters:
    ///   - directory: the folder whose content to commit.
    ///   - message: the commit message.
    ///   - author: who wrote the content.
    ///   - committer: who committed it; the author when nil.
    ///   - parents: the parent commits, first parent first.
    ///   - updateRef: a reference to move to the new commit, or nil.
    /// - Returns: the new commit's id.
    /// - Throws: `GitError` naming the path when the folder is missing or is a file, or holds an
    ///   unreadable file, a FIFO, socket or device, or a name that is not valid UTF-8.
    public func commit(
        directory: String, message: String, author: Signature, committer: Signature? = nil,
        parents: [ObjectID], updateRef: String?
    ) throws -> ObjectID {
        let tree = try writeTree(directory: directory)
        return try commit(tree: tree, message: message, author: author, committer: committer, parents: parents, updateRef: updateRef)
    }

    /// Writes the content of a folder as a tree (see `commit(directory:…)` for the rules).
    /// - Parameter directory: the folder to store.
    /// - Returns: the id of the tree (the empty tree for a folder without files).
    /// - Throws: `GitError` as `commit(directory:…)` does.
    public func writeTree(directory: String) throws -> ObjectID {
        guard let info = try FileSystem.status(directory) else {
            throw GitError(kind: .notFound, function: "writeTree", message: "the folder does not exist", location: directory,
                           hint: "pass the path of an existing folder")
        }
        guard FileSystem.kind(mode: info.st_mode) == .directory else {
            throw GitError(kind: .invalidInput, function: "writeTree", message: "this is a file, not a folder", location: directory,
                           hint: "pass the path of a folder")
        }
        let root = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        return try writeSubtree(root, allowEmpty: true)!
    }

    private func writeSubtree(_ path: String, allowEmpty: Bool) throws -> ObjectID? {
        let builder = TreeBuilderHandle(try make("git_treebuilder_new", location: path) { git_treebuilder_new(&$0, pointer, nil) })
        for entry in try FileSystem.entries(of: path) {
            guard let name = entry.utf8Name else {
                throw GitError(kind: .invalidInput, function: "writeTree", message: "a file name in this folder is not valid UTF-8 (\(entry.name))",
                               location: path, hint: "rename the file so its name is UTF-8")
            }
            if name == ".git" { continue }
            let full = path + "/" + name
            guard let info = try FileSystem.status(full) else { continue }  // removed meanwhile
            var oid = git_oid()
            let mode: git_filemode_t
            switch FileSystem.kind(mode: info.st_mode) {
            case .directory:
                guard let sub = try writeSubtree(full, allowEmpty: false) else { continue }
                oid = sub.oid
                mode = GIT_FILEMODE_TREE
            case .regular:
                try check("git_blob_create_from_disk", git_blob_create_from_disk(&oid, pointer, full), location: full,
                          hint: "make the file readable")
                mode = info.st_mode & S_IXUSR != 0 ? GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB
            case .symlink:
                let target = try FileSystem.linkTarget(full)
                try check("git_blob_create_from_buffer", target.withUnsafeBytes {
                    git_blob_create_from_buffer(&oid, pointer, $0.baseAddress, $0.count)
                }, location: full)
                mode = GIT_FILEMODE_LINK
            case let kind:
                throw GitError(kind: .invalidInput, function: "writeTree", message: "this is a \(kind), which git cannot store",
                               location: full, hint: "remove it or replace it with a regular file")
            }
            try check("git_treebuilder_insert", git_treebuilder_insert(nil, builder.pointer, name, &oid, mode), location: full)
        }
        if !allowEmpty && git_treebuilder_entrycount(builder.pointer) == 0 { return nil }
        var oid = git_oid()
        try check("git_treebuilder_write", git_treebuilder_write(&oid, builder.pointer), location: path)
        return ObjectID(oid)
    }
}
