import CGit2
import Foundation

/// One file of a commit's tree, as listed by `Repository.treeFiles(at:limit:)`.
public struct TreeFile: Sendable, Hashable {
    /// The repository path (`src/app.py`).
    public let path: String
    /// The blob's size in bytes (for a symbolic link, the length of its target); 0 for a nested
    /// repository (gitlink), which has no blob here.
    public let size: Int
    /// True for a symbolic link, whose blob is the link's target, not a file's text.
    public let isLink: Bool
}

/// The files of a commit's tree, listed up to a bound.
public struct TreeListing: Sendable, Hashable {
    /// The files listed, in the tree's own order (git's path order), at most the limit.
    public let files: [TreeFile]
    /// False when the tree holds more files than the limit; `files` are then the first ones.
    public let complete: Bool
    /// How many entries were left out because their name is not UTF-8 (the snapshot never
    /// stores such a name, so a tree written by it has none).
    public let unnamed: Int
}

/// A file's content read up to a bound.
public enum BoundedContent: Sendable, Hashable {
    /// The commit has no such file.
    case absent
    /// The file's bytes (for a symbolic link: its target).
    case bytes([UInt8])
    /// The file holds `size` bytes, more than the bound; nothing was read.
    case tooLarge(size: Int)
}

extension Repository {
    /// Lists the files (blobs, links and nested repositories) of a commit's tree, depth first in
    /// path order, without reading any blob's content.
    ///
    /// Read-only. Sizes come from the object database's headers, so a huge blob costs nothing
    /// to list.
    /// - Parameters:
    ///   - commit: the commit whose tree is listed.
    ///   - limit: the most files to list; the listing says when it stopped there.
    /// - Returns: the files, whether the listing is complete, and how many non-UTF-8 names were
    ///   left out.
    /// - Throws: `GitError` when the commit or an object of its tree is missing.
    public func treeFiles(at commit: ObjectID, limit: Int) throws -> TreeListing {
        let root = try treeHandle(ofCommit: commit)
        let database = try make("git_repository_odb", location: gitDirectory) { git_repository_odb(&$0, pointer) }
        defer { git_odb_free(database) }
        var files: [TreeFile] = []
        var unnamed = 0
        // An explicit stack, so a deeply nested tree cannot exhaust the call stack.
        var stack: [(TreeHandle, String, Int)] = [(root, "", 0)]
        while let (tree, prefix, start) = stack.popLast() {
            let count = git_tree_entrycount(tree.pointer)
            var index = start
            while index < count {
                guard let entry = git_tree_entry_byindex(tree.pointer, index) else { index += 1; continue }
                index += 1
                guard let name = String(validatingCString: git_tree_entry_name(entry)) else { unnamed += 1; continue }
                let path = prefix + name
                let mode = git_tree_entry_filemode(entry)
                switch git_tree_entry_type(entry) {
                case GIT_OBJECT_TREE:
                    let subtree = TreeHandle(try make("git_tree_lookup", location: path) { git_tree_lookup(&$0, pointer, git_tree_entry_id(entry)) })
                    stack.append((tree, prefix, index))
                    stack.append((subtree, path + "/", 0))
                    index = count
                case GIT_OBJECT_BLOB:
                    guard files.count < limit else { return TreeListing(files: files, complete: false, unnamed: unnamed) }
                    var size = 0
                    var type = GIT_OBJECT_ANY
                    try check("git_odb_read_header", git_odb_read_header(&size, &type, database, git_tree_entry_id(entry)), location: path)
                    files.append(TreeFile(path: path, size: size, isLink: mode == GIT_FILEMODE_LINK))
                default:
                    guard files.count < limit else { return TreeListing(files: files, complete: false, unnamed: unnamed) }
                    files.append(TreeFile(path: path, size: 0, isLink: false))
                }
            }
        }
        return TreeListing(files: files, complete: true, unnamed: unnamed)
    }

    /// The content of a file as recorded in a commit, read only when it is at most `maxBytes`.
    ///
    /// Read-only; the size is read from the object's header first, so a blob over the bound is
    /// never inflated.
    /// - Parameters:
    ///   - commit: the commit.
    ///   - path: the file's path relative to the repository root.
    ///   - maxBytes: the most bytes to read.
    /// - Returns: `absent`, the bytes, or `tooLarge` with the blob's size.
    /// - Throws: `GitError` when the commit does not exist or `path` names a folder or a nested
    ///   repository.
    public func fileContent(at commit: ObjectID, path: String, maxBytes: Int) throws -> BoundedContent {
        let tree = try treeHandle(ofCommit: commit)
        var entryPointer: OpaquePointer?
        let rc = git_tree_entry_bypath(&entryPointer, tree.pointer, path)
        if rc == GIT_ENOTFOUND.rawValue { return .absent }
        try check("git_tree_entry_bypath", rc, location: path)
        let entry = TreeEntryHandle(entryPointer!)
        guard git_tree_entry_type(entry.pointer) == GIT_OBJECT_BLOB else {
            throw GitError(kind: .invalidInput, function: "fileContent", message: "'\(path)' is not a file in commit \(commit)",
                           location: path, hint: "ask for a file path")
        }
        let database = try make("git_repository_odb", location: gitDirectory) { git_repository_odb(&$0, pointer) }
        defer { git_odb_free(database) }
        var size = 0
        var type = GIT_OBJECT_ANY
        try check("git_odb_read_header", git_odb_read_header(&size, &type, database, git_tree_entry_id(entry.pointer)), location: path)
        guard size <= maxBytes else { return .tooLarge(size: size) }
        let blob = BlobHandle(try make("git_blob_lookup", location: path) { git_blob_lookup(&$0, pointer, git_tree_entry_id(entry.pointer)) })
        let read = Int(git_blob_rawsize(blob.pointer))
        guard read > 0, let raw = git_blob_rawcontent(blob.pointer) else { return .bytes([]) }
        return .bytes(Array(UnsafeRawBufferPointer(start: raw, count: min(read, maxBytes))))
    }
}
