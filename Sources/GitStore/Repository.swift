import CGit2
import Foundation
import Posix

/// A git repository on disk, opened through libgit2.
///
/// Owns its libgit2 handle: use one `Repository` from one thread (or task) at a time, and hand
/// the values it returns (`ObjectID`, `StepDiff`, `CommitInfo`) to other threads instead.
public final class Repository {
    let pointer: OpaquePointer
    /// The repository's git folder (`.../.git/` or the bare repository itself), ending in `/`.
    public let gitDirectory: String
    /// The working tree, ending in `/`; nil for a bare repository.
    public let workingDirectory: String?
    /// The in-memory object store new objects go to while writes are buffered (owned by the
    /// repository's object database once added).
    var objectBuffer: UnsafeMutablePointer<git_odb_backend>?
    /// An object database of the loose backend alone, for blobs streamed from large files.
    var streamDatabase: ObjectDatabaseHandle?
    /// Blobs written through `streamBlob` (kept loose, never packed by the step writes).
    var streamedBlobs: Set<ObjectID> = []

    init(_ pointer: OpaquePointer) {
        self.pointer = pointer
        gitDirectory = String(cString: git_repository_path(pointer))
        workingDirectory = git_repository_workdir(pointer).map { String(cString: $0) }
    }

    deinit { git_repository_free(pointer) }

    /// True when the repository has no working tree.
    public var isBare: Bool { workingDirectory == nil }

    /// Creates a new, empty repository whose initial branch is `main`.
    /// - Parameters:
    ///   - path: the repository folder (the working tree, or the bare repository itself).
    ///   - bare: true for a repository without working tree.
    ///   - workdir: a working tree elsewhere than `path` (non-bare only).
    /// - Returns: the opened repository.
    /// - Throws: `GitError` when the folder cannot be created or initialised.
    public static func create(at path: String, bare: Bool = false, workdir: String? = nil) throws -> Repository {
        Libgit2.ensure()
        var options = git_repository_init_options()
        try check("git_repository_init_options_init", git_repository_init_options_init(&options, UInt32(GIT_REPOSITORY_INIT_OPTIONS_VERSION)))
        // An empty template folder: no sample hooks or description files to write.
        options.flags = GIT_REPOSITORY_INIT_MKPATH.rawValue | GIT_REPOSITORY_INIT_EXTERNAL_TEMPLATE.rawValue
            | (bare ? GIT_REPOSITORY_INIT_BARE.rawValue : 0)
        // C copies of the strings, alive for the whole call.
        let template = strdup(Libgit2.emptyFolder), head = strdup("main"), workdirCopy = workdir.map { strdup($0) }
        defer { free(template); free(head); workdirCopy.map { free($0) } }
        options.template_path = UnsafePointer(template)
        options.initial_head = UnsafePointer(head)
        if let workdirCopy { options.workdir_path = UnsafePointer(workdirCopy) }
        return Repository(try make("git_repository_init_ext", location: path, hint: "check that the parent folder exists and is writable") { git_repository_init_ext(&$0, path, &options) })
    }

    /// Opens an existing repository.
    /// - Parameter path: the working tree, its `.git` folder, or a bare repository.
    /// - Returns: the opened repository.
    /// - Throws: `GitError` when `path` is not a git repository.
    /// - Parameter bare: open it as a bare repository whatever its configuration says (no working
    ///   tree: libgit2 then reads no file outside the git folder).
    public static func open(at path: String, bare: Bool = false) throws -> Repository {
        Libgit2.ensure()
        let flags = GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue | (bare ? GIT_REPOSITORY_OPEN_BARE.rawValue : 0)
        let pointer = try make("git_repository_open_ext", location: path, hint: "pass a working tree, its .git folder or a bare repository (build fixtures with `driftbox fixtures build`)") {
            git_repository_open_ext(&$0, path, flags, nil)
        }
        return Repository(pointer)
    }

    // MARK: References

    /// The commit a reference or revision names, or nil when it does not exist.
    /// - Parameter ref: a reference (`HEAD`, `refs/heads/main`, `main`) or revision (`HEAD~1`).
    /// - Returns: the commit id, or nil when nothing of that name exists (for example the `HEAD`
    ///   of an empty repository).
    /// - Throws: `GitError` when the name is malformed or does not lead to a commit.
    public func resolve(ref: String) throws -> ObjectID? {
        var object: OpaquePointer?
        let rc = git_revparse_single(&object, pointer, ref)
        if rc == GIT_ENOTFOUND.rawValue || rc == GIT_EUNBORNBRANCH.rawValue { return nil }
        try check("git_revparse_single", rc, location: gitDirectory, hint: "check the reference name '\(ref)'")
        let owned = ObjectHandle(object!)
        let commit = ObjectHandle(try make("git_object_peel", location: ref) { git_object_peel(&$0, owned.pointer, GIT_OBJECT_COMMIT) })
        return ObjectID(git_object_id(commit.pointer).pointee)
    }

    /// Points a reference at a commit, creating or overwriting it.
    ///
    /// `HEAD` updates the branch `HEAD` points to (or detaches `HEAD` when it is detached).
    /// - Parameters:
    ///   - name: the full reference name (`refs/heads/main`, `refs/episodes/e1`) or `HEAD`.
    ///   - id: the commit it shall point to.
    /// - Throws: `GitError` when the name is invalid or the commit does not exist.
    public func updateRef(_ name: String, to id: ObjectID) throws {
        var target = name
        if name == "HEAD" {
            let head = ReferenceHandle(try make("git_reference_lookup", location: gitDirectory) { git_reference_lookup(&$0, pointer, "HEAD") })
            if git_reference_type(head.pointer) == GIT_REFERENCE_SYMBOLIC {
                target = String(cString: git_reference_symbolic_target(head.pointer))
            }
        }
        var oid = id.oid
        _ = ReferenceHandle(try make("git_reference_create", location: target) {
            git_reference_create(&$0, pointer, target, &oid, 1, "driftbox: update \(target)")
        })
    }

    /// Points a branch at a commit by writing over its loose reference file in place: one
    /// 41-byte write instead of a lock file renamed over the old one (on ext4 a rename over an
    /// existing file starts an immediate write-back). Any other shape of reference (packed,
    /// missing, a link, a file with several names or of another size) goes through `updateRef`.
    /// The commit must already be in the object database.
    func overwriteLooseRef(_ name: String, to id: ObjectID) throws {
        let file = gitDirectory + name
        guard let fd = try? FileDescriptor.open(file, O_WRONLY | O_NOFOLLOW) else { return try updateRef(name, to: id) }
        defer { fd.close() }
        guard let info = try? fd.status(), info.kind == .regular, info.linkCount == 1, info.size == 41 else {
            return try updateRef(name, to: id)
        }
        let line = Array((id.description + "\n").utf8)
        guard line.count == 41 else { return try updateRef(name, to: id) }
        do { try fd.write(line, at: 0, path: file) } catch { throw GitError(error, function: "overwriteLooseRef") }
    }

    /// Sets a boolean in the repository's own configuration file.
    /// - Parameters:
    ///   - name: the variable (for example `core.logAllRefUpdates`).
    ///   - value: its value.
    /// - Throws: `GitError` when the configuration cannot be written.
    public func setConfig(_ name: String, _ value: Bool) throws {
        let config = ConfigHandle(try make("git_repository_config", location: gitDirectory) { git_repository_config(&$0, pointer) })
        try check("git_config_set_bool", git_config_set_bool(config.pointer, name, value ? 1 : 0), location: gitDirectory + "config")
    }

    /// Reads a configuration variable as libgit2 sees it for this repository. User-level and
    /// system files are never consulted, so only the repository's own file can set it.
    /// - Parameter name: the variable (for example `core.filemode`).
    /// - Returns: its value as a string, or nil when it is not set.
    /// - Throws: `GitError` when the configuration cannot be read.
    public func config(_ name: String) throws -> String? {
        let config = ConfigHandle(try make("git_repository_config_snapshot", location: gitDirectory) { git_repository_config_snapshot(&$0, pointer) })
        var value: UnsafePointer<CChar>?
        let rc = git_config_get_string(&value, config.pointer, name)
        if rc == GIT_ENOTFOUND.rawValue { return nil }
        try check("git_config_get_string", rc, location: gitDirectory + "config")
        return value.map { String(cString: $0) }
    }

    /// Makes `HEAD` a symbolic reference to `branch` (for example `refs/heads/main`).
    /// - Parameter branch: the full name of the branch.
    /// - Throws: `GitError` when the name is invalid.
    public func setHead(_ branch: String) throws {
        try check("git_repository_set_head", git_repository_set_head(pointer, branch), location: gitDirectory)
    }

    // MARK: Objects

    func commitHandle(_ id: ObjectID) throws -> CommitHandle {
        var oid = id.oid
        return CommitHandle(try make("git_commit_lookup", location: id.description, hint: "check the commit id, or copy the objects into this repository first") { git_commit_lookup(&$0, pointer, &oid) })
    }

    func treeHandle(ofCommit id: ObjectID) throws -> TreeHandle {
        let commit = try commitHandle(id)
        return TreeHandle(try make("git_commit_tree", location: id.description) { git_commit_tree(&$0, commit.pointer) })
    }

    func treeHandle(_ id: ObjectID) throws -> TreeHandle {
        var oid = id.oid
        return TreeHandle(try make("git_tree_lookup", location: id.description, hint: "check the tree id") { git_tree_lookup(&$0, pointer, &oid) })
    }

    /// Writes a commit of an existing tree.
    ///
    /// The message is cleaned as `git commit` cleans a message given with `-m` (trailing
    /// whitespace and surplus blank lines removed, one final newline) and stored without an
    /// encoding header, so the id equals the one the git CLI gives the same commit.
    /// - Parameters:
    ///   - tree: the tree to record.
    ///   - message: the commit message.
    ///   - author: who wrote the change.
    ///   - committer: who committed it; the author when nil.
    ///   - parents: the parent commits, first parent first.
    ///   - updateRef: a reference to move to the new commit (`HEAD` moves the current branch);
    ///     libgit2 refuses when the reference exists and does not point to the first parent.
    /// - Returns: the new commit's id.
    /// - Throws: `GitError` when an object is missing or the reference cannot be updated.
    public func commit(
        tree: ObjectID, message: String, author: Signature, committer: Signature? = nil,
        parents: [ObjectID], updateRef: String?
    ) throws -> ObjectID {
        let treeHandle = try treeHandle(tree)
        let parentHandles = try parents.map(commitHandle)
        let authorHandle = try author.handle()
        let committerHandle = try (committer ?? author).handle()
        let cleaned = try Self.cleanMessage(message)
        var parentPointers: [OpaquePointer?] = parentHandles.map(\.pointer)
        guard let updateRef else {
            // The commit's bytes are built, then written like any other object (straight into
            // the buffer while writes are buffered).
            var buffer = git_buf()
            defer { git_buf_dispose(&buffer) }
            try check("git_commit_create_buffer", git_commit_create_buffer(
                &buffer, pointer, authorHandle.pointer, committerHandle.pointer, nil, cleaned,
                treeHandle.pointer, parentPointers.count, &parentPointers), location: gitDirectory)
            return try withExtendedLifetime(parentHandles) {
                try writeObject(UnsafeRawBufferPointer(start: buffer.ptr, count: buffer.size), type: GIT_OBJECT_COMMIT, location: gitDirectory)
            }
        }
        var oid = git_oid()
        try check("git_commit_create", git_commit_create(
            &oid, pointer, updateRef, authorHandle.pointer, committerHandle.pointer, nil, cleaned,
            treeHandle.pointer, parentPointers.count, &parentPointers), location: gitDirectory)
        return withExtendedLifetime(parentHandles) { ObjectID(oid) }
    }

    /// Cleans a message like `git commit --cleanup=whitespace`.
    static func cleanMessage(_ message: String) throws -> String {
        var buffer = git_buf()
        defer { git_buf_dispose(&buffer) }
        try check("git_message_prettify", git_message_prettify(&buffer, message, 0, CChar(UInt8(ascii: "#"))))
        guard buffer.size > 0 else {
            throw GitError(kind: .invalidInput, function: "commit", message: "the commit message is empty", hint: "give the commit a message")
        }
        return String(cString: buffer.ptr)
    }

    /// The content of a file as recorded in a commit.
    /// - Parameters:
    ///   - commit: the commit.
    ///   - path: the file's path relative to the repository root (`src/app.py`).
    /// - Returns: the bytes (for a symbolic link: its target), or nil when the commit has no such
    ///   file.
    /// - Throws: `GitError` when the commit does not exist or `path` names a folder.
    public func fileContent(at commit: ObjectID, path: String) throws -> [UInt8]? {
        let tree = try treeHandle(ofCommit: commit)
        var entryPointer: OpaquePointer?
        let rc = git_tree_entry_bypath(&entryPointer, tree.pointer, path)
        if rc == GIT_ENOTFOUND.rawValue { return nil }
        try check("git_tree_entry_bypath", rc, location: path)
        let entry = TreeEntryHandle(entryPointer!)
        guard git_tree_entry_type(entry.pointer) == GIT_OBJECT_BLOB else {
            throw GitError(kind: .invalidInput, function: "fileContent", message: "'\(path)' is a folder in commit \(commit), not a file",
                           location: path, hint: "ask for a file path")
        }
        let blob = BlobHandle(try make("git_blob_lookup", location: path) { git_blob_lookup(&$0, pointer, git_tree_entry_id(entry.pointer)) })
        let size = Int(git_blob_rawsize(blob.pointer))
        guard size > 0, let raw = git_blob_rawcontent(blob.pointer) else { return [] }
        return Array(UnsafeRawBufferPointer(start: raw, count: size))
    }

    /// Reads one commit.
    /// - Parameter id: the commit's id.
    /// - Returns: its parents, signatures, message and trailers.
    /// - Throws: `GitError` when the commit does not exist.
    public func commitInfo(_ id: ObjectID) throws -> CommitInfo {
        let commit = try commitHandle(id)
        let message = String(cString: git_commit_message(commit.pointer))
        let parents = (0..<git_commit_parentcount(commit.pointer)).map { ObjectID(git_commit_parent_id(commit.pointer, $0).pointee) }
        return CommitInfo(
            id: id, tree: ObjectID(git_commit_tree_id(commit.pointer).pointee), parents: parents,
            author: Signature(git_commit_author(commit.pointer)), committer: Signature(git_commit_committer(commit.pointer)),
            message: message, trailers: try Trailer.parse(message))
    }

    /// The history reachable from a commit, newest first (topological order, like `git log`).
    /// - Parameter from: the commit to start from.
    /// - Returns: every commit reachable from `from`, each before its parents.
    /// - Throws: `GitError` when a commit is missing.
    public func log(from: ObjectID) throws -> [CommitInfo] {
        let walk = RevwalkHandle(try make("git_revwalk_new", location: gitDirectory) { git_revwalk_new(&$0, pointer) })
        try check("git_revwalk_sorting", git_revwalk_sorting(walk.pointer, GIT_SORT_TOPOLOGICAL.rawValue | GIT_SORT_TIME.rawValue))
        var start = from.oid
        try check("git_revwalk_push", git_revwalk_push(walk.pointer, &start), location: from.description)
        var ids: [ObjectID] = []
        var oid = git_oid()
        while true {
            let rc = git_revwalk_next(&oid, walk.pointer)
            if rc == GIT_ITEROVER.rawValue { break }
            try check("git_revwalk_next", rc, location: gitDirectory)
            ids.append(ObjectID(oid))
        }
        return try ids.map(commitInfo)
    }

    /// Writes a commit's files into a folder (replay): the folder then holds exactly that tree.
    ///
    /// The repository's own index and `HEAD` are not touched.
    /// - Parameters:
    ///   - commit: the commit to materialise.
    ///   - directory: the destination folder; created when missing, and should be empty.
    /// - Throws: `GitError` when the commit is missing or a file cannot be written.
    public func checkout(_ commit: ObjectID, into directory: String) throws {
        try FileSystem.makeDirectory(directory)
        try checkout(commit, targetDirectory: directory)
    }

    /// Writes a commit's files into `targetDirectory`, or into the working tree (updating the
    /// index) when nil; an empty baseline makes every file a creation, whatever `HEAD` holds.
    /// - Parameter updateIndex: with a target directory, still record the written files in the
    ///   repository's index (a bare-opened workspace).
    func checkout(_ commit: ObjectID, targetDirectory: String?, updateIndex: Bool = false) throws {
        let tree = try treeHandle(ofCommit: commit)
        let emptyIndex = IndexHandle(try make("git_index_new") { git_index_new(&$0) })
        var options = git_checkout_options()
        try check("git_checkout_options_init", git_checkout_options_init(&options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)))
        options.checkout_strategy = GIT_CHECKOUT_FORCE.rawValue | GIT_CHECKOUT_RECREATE_MISSING.rawValue
            | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH.rawValue
            | (targetDirectory == nil || updateIndex ? 0 : GIT_CHECKOUT_DONT_UPDATE_INDEX.rawValue)
        options.baseline_index = emptyIndex.pointer
        let location = targetDirectory ?? workingDirectory ?? gitDirectory
        try (targetDirectory ?? "").withCString { target in
            if targetDirectory != nil { options.target_directory = target }
            try check("git_checkout_tree", git_checkout_tree(pointer, tree.pointer, &options), location: location)
        }
    }
}
