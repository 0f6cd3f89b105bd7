import CGit2
import Foundation
import Posix

/// A path the snapshot could not store, or could not store faithfully, and why: a step's
/// findings. Any finding means the step's record is not the whole truth of the worktree.
public struct SkippedPath: Sendable, Hashable, Codable {
    /// Why a path is listed.
    public enum Reason: String, Sendable, Hashable, Codable {
        /// A named pipe (left out).
        case fifo
        /// A Unix domain socket (left out).
        case socket
        /// A character or block device (left out).
        case device
        /// A name that is not valid UTF-8: stored with its raw bytes (git names are bytes), but
        /// the checks, which read paths as text, cannot vouch for it.
        case nameNotUTF8
        /// The `.git` of a nested repository (left out; the folder's other files are stored).
        case nestedRepository
        /// A file of a kind the file system did not name (left out).
        case unknownKind
        /// A path longer than `SnapshotBudget.maximumPathBytes` (left out, with everything below it).
        case pathTooLong
        /// A file that could not be read (it vanished, shrank or refused to open; left out).
        case unreadable
        /// A file past the step's budget of new bytes or of files (left out).
        case overBudget
        /// A regular file with the set-user-id or set-group-id bit: the bit was removed on the
        /// host (through the open file), the file is stored.
        case setuidBit
        /// The worktree's `.git` (the runner's link to the git directory) was removed, replaced
        /// or changed; it is never stored, and is written back when it was a file or link.
        case gitLinkChanged
    }

    /// The path relative to the workspace root (invalid UTF-8 shown as U+FFFD).
    public var path: String
    /// Why it is listed.
    public var reason: Reason

    /// Creates a skipped-path value.
    public init(path: String, reason: Reason) {
        self.path = path
        self.reason = reason
    }
}

/// The commit of one agent step.
public struct Snapshot: Sendable, Hashable, Codable {
    /// The step's commit.
    public var commit: ObjectID
    /// Its parent: the last commit before the step (a seed or the previous step).
    public var parent: ObjectID
    /// The step's findings: what was in the worktree but could not be committed, or not
    /// faithfully (see `SkippedPath.Reason`).
    public var skipped: [SkippedPath]

    /// Creates a snapshot value (for example from a run's records).
    /// - Parameters:
    ///   - commit: the step's commit.
    ///   - parent: the commit before the step.
    ///   - skipped: the paths left out.
    public init(commit: ObjectID, parent: ObjectID, skipped: [SkippedPath]) {
        self.commit = commit
        self.parent = parent
        self.skipped = skipped
    }
}

/// The bounds of one step's snapshot. What exceeds them is left out and listed as `overBudget`
/// (or `pathTooLong`).
public struct SnapshotBudget: Sendable, Hashable, Codable {
    /// Bytes of new or changed file content one snapshot reads (default 256 MiB).
    public var maximumNewBytes: Int64
    /// Files and links the step's tree may hold (default 100,000).
    public var maximumFiles: Int
    /// Bytes of a path relative to the worktree (default 3,072): longer paths could not be
    /// checked out again under a folder (Linux's `PATH_MAX` is 4,096 for the whole path).
    public var maximumPathBytes: Int

    /// Creates a budget.
    public init(maximumNewBytes: Int64 = 256 << 20, maximumFiles: Int = 100_000, maximumPathBytes: Int = 3072) {
        self.maximumNewBytes = maximumNewBytes
        self.maximumFiles = maximumFiles
        self.maximumPathBytes = maximumPathBytes
    }

    /// The defaults.
    public static let standard = SnapshotBudget()

    /// Files larger than this are streamed to the object store in chunks instead of being read
    /// whole (1 MiB).
    static let streamingThreshold: Int64 = 1 << 20
}

/// What a step commit records: a plain message, a fixed author and a time, nothing about the
/// experiment. The agent reads step commits in `git log`, so they read like an ordinary
/// developer's commits; the run's event log keeps episode, step, task, tier and variant.
public struct StepStamp: Sendable, Hashable, Codable {
    /// The step number (1-based).
    public var step: Int
    /// The commit message's one line (for example `Update src/app.py`).
    public var summary: String
    /// The commit time in seconds since 1970-01-01T00:00:00Z (UTC).
    public var time: Int64

    /// Name of every step commit's author and committer.
    public static let authorName = "Alex Morgan"
    /// E-mail of every step commit's author and committer.
    public static let authorEmail = "alex.morgan@example.com"

    /// Creates a stamp.
    /// - Parameters:
    ///   - step: the step number, from 1.
    ///   - summary: the commit message's one line.
    ///   - time: the commit time; nil for the fixture's time plus one hour per step.
    public init(step: Int, summary: String, time: Int64? = nil) {
        self.step = step
        self.summary = summary
        self.time = time ?? Fixture.signature.time + Int64(step) * 3600
    }

    /// The step commit's author and committer: `authorName`, `authorEmail`, `time`.
    public var signature: Signature {
        Signature(name: Self.authorName, email: Self.authorEmail, time: time)
    }

    /// True when `signature` is a step commit's (its name and e-mail; the time is not compared).
    /// - Parameter signature: a commit's author.
    public static func isStepAuthor(_ signature: Signature) -> Bool {
        signature.name == authorName && signature.email == authorEmail
    }

    /// The step commit's message: the summary and a newline, without trailers.
    /// - Returns: the message, ending in a newline.
    /// - Throws: `GitError` when the summary is empty or spans several lines.
    public func message() throws -> String {
        guard !summary.isEmpty, !summary.contains(where: \.isNewline) else {
            throw GitError(kind: .invalidInput, function: "StepStamp.message", message: "the step's summary is empty or spans several lines",
                           hint: "give the step commit a summary of one non-empty line")
        }
        return summary + "\n"
    }
}

/// The working folder of one episode: a clone of a fixture repository in which seed commits land
/// and each agent step is committed as a snapshot.
///
/// The episode folder (mode 0700) holds two folders: `work/`, the worktree the agent writes, and
/// `git/`, the git directory. No file in the worktree is ever read by libgit2: the git directory
/// is opened bare and the workspace stages files itself, so an agent's `.gitattributes`,
/// `.gitignore` or `.git` changes nothing in what is recorded. The worktree holds a `.git` file
/// (`gitdir: <git directory>`) so that `git log` works for the agent; give the agent
/// `gitDirectory` read-only. That file is never stored; a change to it is a finding.
///
/// The workspace remembers its own tip, so whatever happens in the git directory (commits,
/// branch switches, a broken index) does not change what a step's parent is.
public final class Workspace {
    /// The worktree (the agent's working folder), without trailing slash.
    public let path: String
    /// The episode folder that holds the worktree and the git directory.
    public let folder: String
    /// The git directory, outside the worktree, ending in `/`.
    public var gitDirectory: String { repository.gitDirectory }
    /// The workspace's repository (opened bare).
    public let repository: Repository
    /// The branch the workspace's commits go on.
    public let branch: String
    /// The last commit landed (fixture base, seed or step).
    public private(set) var tip: ObjectID
    /// The bounds of each snapshot; change them before a step to take effect for it.
    public var budget: SnapshotBudget = .standard
    /// Names at the worktree's root that snapshots leave out, with everything below them: an
    /// agent CLI's own state (histories, caches, session folders) that differs from run to run.
    /// What the parent commit holds under such a name is kept as it is; nothing there is read,
    /// stored or listed as a finding. Exact names only (no `/`, no wildcard).
    public var snapshotIgnore: Set<String> = []
    /// The last commit whose objects are on disk.
    private var published: ObjectID

    private init(folder: String, path: String, repository: Repository, branch: String, tip: ObjectID) {
        self.folder = folder
        self.path = path
        self.repository = repository
        self.branch = branch
        self.tip = tip
        published = tip
    }

    /// The content of the worktree's `.git` file.
    var gitLink: [UInt8] { Array("gitdir: \(repository.gitDirectory.dropLast())\n".utf8) }

    /// Clones a fixture repository into a new episode folder.
    ///
    /// A fixture whose objects are all packed (as `Fixture.build` writes them) is cloned by
    /// hard-linking its packs (copying them across file systems) into a fresh git directory;
    /// any other repository goes through libgit2's local clone. The commit is then checked out
    /// into `work/`.
    /// - Parameters:
    ///   - fixtureRepository: the fixture repository (as `Fixture.build` writes it), or a run's
    ///     repository when resuming.
    ///   - path: the new episode folder; must not exist or be empty. It is made mode 0700 and
    ///     receives `work/` (the worktree, `Workspace.path`) and `git/` (`Workspace.gitDirectory`).
    ///   - commit: the commit to start from (to resume an episode); nil for the source's `HEAD`.
    ///     With a commit, only the objects it reaches are copied (a run's repository holds every
    ///     episode; the workspace gets its own history alone).
    /// - Returns: the workspace, checked out at `commit` or the source's `HEAD`, on the source's
    ///   `HEAD` branch (`refs/heads/main` when a commit is given).
    /// - Throws: `GitError` when the source cannot be read, the commit is not in it, or the folder
    ///   cannot be written.
    public static func create(from fixtureRepository: String, at path: String, commit: ObjectID? = nil) throws -> Workspace {
        let folder = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        if try FileSystem.status(folder) != nil, try !FileSystem.entries(of: folder).isEmpty {
            throw GitError(kind: .invalidInput, function: "Workspace.create", message: "the workspace folder is not empty", location: folder,
                           hint: "give each episode a fresh folder")
        }
        let work = folder + "/work", gitFolder = folder + "/git"
        try FileSystem.makePrivateDirectory(folder)
        try FileSystem.makePrivateDirectory(work)
        let source = try Repository.open(at: fixtureRepository)
        let branch: String
        let tip: ObjectID
        if let commit {
            _ = try source.commitHandle(commit)
            (branch, tip) = (Fixture.branch, commit)
        } else {
            let head = ReferenceHandle(try make("git_repository_head", location: fixtureRepository) { git_repository_head(&$0, source.pointer) })
            (branch, tip) = (String(cString: git_reference_name(head.pointer)), ObjectID(git_reference_target(head.pointer).pointee))
        }
        if let commit {
            // Resuming from a run's repository: only what the commit reaches, never the objects of
            // the run's other episodes (their constraints and steps), and no remote naming the run.
            let created = try Repository.create(at: gitFolder, bare: true)
            try source.copyObjects(reachableFrom: commit, into: created)
        } else if let packs = try source.packFilesIfFullyPacked() {
            let created = try Repository.create(at: gitFolder, bare: true)
            let packFolder = created.gitDirectory + "objects/pack/"
            for pack in packs {
                try FileSystem.linkOrCopy(source.gitDirectory + "objects/pack/" + pack, to: packFolder + pack)
            }
        } else {
            var options = git_clone_options()
            try check("git_clone_options_init", git_clone_options_init(&options, UInt32(GIT_CLONE_OPTIONS_VERSION)))
            options.local = GIT_CLONE_LOCAL
            options.bare = 1
            options.checkout_opts.checkout_strategy = GIT_CHECKOUT_NONE.rawValue
            _ = Repository(try make("git_clone", location: fixtureRepository, hint: "check that the fixture repository exists and the workspace folder is writable") {
                git_clone(&$0, fixtureRepository, gitFolder, &options)
            })
        }
        try FileSystem.makePrivateDirectory(gitFolder)
        // Opened bare whatever the configuration says: libgit2 never looks at the worktree.
        let repository = try Repository.open(at: gitFolder, bare: true)
        // No reflogs: the workspace's history is its commits; reflogs would only cost files.
        try repository.setConfig("core.logAllRefUpdates", false)
        // For the git CLI in the sandbox, which reaches this folder through the worktree's `.git`
        // file: a repository with a worktree (the folder holding that file).
        try repository.setConfig("core.bare", false)
        try repository.updateRef(branch, to: tip)
        try repository.setHead(branch)
        // Files are stored byte for byte: no end-of-line conversion, keyword expansion or filter,
        // and diffs use the default text driver whatever a committed `.gitattributes` asks for
        // (this file outranks every `.gitattributes`).
        try FileSystem.makeDirectory(repository.gitDirectory + "info")
        try FileSystem.replaceContents(of: repository.gitDirectory + "info/attributes", with: Array(Self.attributes.utf8))
        try repository.checkout(tip, targetDirectory: work, updateIndex: true)
        try repository.bufferObjects()
        let workspace = Workspace(folder: folder, path: work, repository: repository, branch: branch, tip: tip)
        try workspace.writeGitLink()
        return workspace
    }

    /// The workspace's `info/attributes`: no conversion or filter, the default diff driver.
    static let attributes = "* -text -filter -ident diff -merge\n"

    /// The content of a worktree file, read through the hostile-safe layer: no link followed, only
    /// a regular file, at most `limit` bytes.
    /// - Parameters:
    ///   - relative: the path relative to the worktree (`src/app.py`).
    ///   - limit: the most bytes to read (default 16 MiB).
    /// - Returns: the bytes, or nil when nothing is at that path.
    /// - Throws: `GitError` when the path or a folder on its way is a link, FIFO, socket, device
    ///   or folder, or the file is larger than `limit`.
    public func fileContent(_ relative: String, limit: Int = 16 << 20) throws -> [UInt8]? {
        try Self.validate(relativePath: relative)
        do {
            let root = try FileDescriptor.openDirectory(path: path)
            defer { root.close() }
            return try HostileFiles.read(HostileFiles.components(relative), under: root, limit: limit)
        } catch {
            throw GitError(error, function: "Workspace.fileContent", base: path)
        }
    }

    /// Writes the worktree's `.git` file (replacing whatever file or link is there).
    private func writeGitLink() throws {
        do {
            let root = try FileDescriptor.openDirectory(path: path)
            defer { root.close() }
            try root.remove(WorktreeStaging.gitName)
            try HostileFiles.write(gitLink, to: [WorktreeStaging.gitName], under: root)
        } catch {
            throw GitError(error, function: "Workspace: writing .git", base: path)
        }
    }

    /// Checks the worktree's `.git` file; when it is not exactly what the workspace wrote, returns
    /// the finding and writes it back if it was a file or link (a folder is left alone).
    private func checkGitLink() throws -> SkippedPath? {
        let root: FileDescriptor
        do { root = try FileDescriptor.openDirectory(path: path) } catch { throw GitError(error, function: "Workspace.snapshot", base: path) }
        defer { root.close() }
        let name = WorktreeStaging.gitName
        let current: [UInt8]?
        do {
            current = try HostileFiles.read([name], under: root, limit: 4096)
        } catch {
            current = []
        }
        if current == gitLink { return nil }
        if let status = try? root.status(of: name), status.kind == .directory {
            return SkippedPath(path: ".git", reason: .gitLinkChanged)
        }
        try writeGitLink()
        return SkippedPath(path: ".git", reason: .gitLinkChanged)
    }

    // MARK: Seeds

    /// Lands a seed commit: applies its edits to the files and commits exactly those files on
    /// top of the tip, whatever else the worktree holds.
    /// - Parameter seed: the edits, author, time and message.
    /// - Returns: the seed commit's id (the new tip).
    /// - Throws: `GitError` naming the file when a path is unsafe, a file is not UTF-8 text, or an
    ///   anchor does not match exactly one line; the worktree is then left as it was.
    @discardableResult
    public func land(_ seed: Seed) throws -> ObjectID {
        try land([seed])[0]
    }

    /// Lands several seed commits in order, one commit each, writing their objects as one pack
    /// and each edited file once.
    ///
    /// A seed that fails leaves the files as they were; the seeds before it stay landed.
    /// - Parameter seeds: the seeds, oldest first.
    /// - Returns: the seed commits' ids, in order.
    /// - Throws: `GitError` as `land(_:)` does.
    @discardableResult
    public func land(_ seeds: [Seed]) throws -> [ObjectID] {
        try requireGitDirectory()
        try repository.forgetBufferedObjects()
        // Files are written once per batch, with their final text, after the commits exist.
        var files: [String: String] = [:]
        var ids: [ObjectID] = []
        do {
            for seed in seeds {
                let (id, written) = try landOne(seed, batch: files)
                ids.append(id)
                files.merge(written) { _, new in new }
            }
        } catch {
            try? publish(files)
            throw error
        }
        try publish(files)
        return ids
    }

    /// Commits one seed on top of the tip; returns its commit and the new text of each file it
    /// edits (written to disk by `publish`). `batch` holds the texts earlier seeds of the batch
    /// gave files that are not written yet.
    private func landOne(_ seed: Seed, batch: [String: String]) throws -> (ObjectID, [String: String]) {
        guard !seed.edits.isEmpty else {
            throw GitError(kind: .invalidInput, function: "Workspace.land", message: "the seed has no edits", hint: "give the seed at least one edit")
        }
        var contents: [String: String] = [:]
        var order: [String] = []
        for edit in seed.edits {
            try Self.validate(relativePath: edit.path)
            try refuseSymbolicLinks(on: edit.path)
            let current = try contents[edit.path] ?? batch[edit.path] ?? currentText(edit.path)
            if contents[edit.path] == nil { order.append(edit.path) }
            contents[edit.path] = try edit.apply(to: current)
        }
        var updates: [(path: String, blob: ObjectID, mode: git_filemode_t)] = []
        for relative in order {
            var text = contents[relative]!
            let blob = try text.withUTF8 { try repository.writeObject(UnsafeRawBufferPointer($0), type: GIT_OBJECT_BLOB, location: relative) }
            let executable = try FileSystem.status(path + "/" + relative).map { $0.st_mode & S_IXUSR != 0 && $0.st_mode & S_IFMT == S_IFREG } ?? false
            updates.append((relative, blob, executable ? GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB))
        }
        let tree = try updatedTree(try repository.treeHandle(ofCommit: tip), updates)
        let message = try Trailer.message(seed.message, trailers: seed.trailers)
        tip = try repository.commit(tree: tree, message: message, author: seed.author, committer: seed.committer, parents: [tip], updateRef: nil)
        return (tip, contents)
    }

    /// Refuses a seed path when the file or a folder on its way is a symbolic link: a seed
    /// must never write through a link the agent may have planted, least of all outside the
    /// workspace.
    private func refuseSymbolicLinks(on relative: String) throws {
        var current = path
        for component in relative.split(separator: "/") {
            current += "/" + component
            guard let info = try FileSystem.status(current) else { return }
            if FileSystem.kind(mode: info.st_mode) == .symlink {
                throw GitError(kind: .invalidInput, function: "Workspace.land", message: "'\(current.dropFirst(path.count + 1))' is a symbolic link; a seed does not write through links",
                               location: relative, hint: "seed the file the link points to, or replace the link with a file first")
            }
        }
    }

    /// The text of a worktree file, or nil when it does not exist (read through the
    /// hostile-safe layer, at most 16 MiB).
    private func currentText(_ relative: String) throws -> String? {
        guard let bytes = try fileContent(relative) else { return nil }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw GitError(kind: .invalidInput, function: "Workspace.land", message: "the file is not UTF-8 text", location: relative,
                           hint: "seed only text files")
        }
        return text
    }

    /// Writes the seeded files, the buffered objects, moves the branch to the tip and refreshes
    /// the index entries of the seeded files (their blobs are the ones just committed).
    private func publish(_ files: [String: String]) throws {
        do {
            let root = try FileDescriptor.openDirectory(path: path)
            defer { root.close() }
            for (relative, text) in files.sorted(by: { $0.key < $1.key }) {
                try HostileFiles.write(Array(text.utf8), to: HostileFiles.components(relative), under: root)
            }
        } catch {
            throw GitError(error, function: "Workspace.land", base: path)
        }
        try repository.writeBufferedObjects(tip: tip, known: published)
        published = tip
        try repository.overwriteLooseRef(branch, to: tip)
        guard !files.isEmpty else { return }
        let index = try repositoryIndex()
        let tree = try repository.treeHandle(ofCommit: tip)
        let root: FileDescriptor
        do { root = try FileDescriptor.openDirectory(path: path) } catch { throw GitError(error, function: "Workspace.land", base: path) }
        defer { root.close() }
        for relative in files.keys.sorted() {
            let components = HostileFiles.components(relative)
            guard let parent = try? HostileFiles.openParent(of: components, under: root) else { continue }
            defer { parent.close() }
            guard let status = try? parent.status(of: components.last!) else { continue }
            let entry = TreeEntryHandle(try make("git_tree_entry_bypath", location: relative) { git_tree_entry_bypath(&$0, tree.pointer, relative) })
            try WorktreeStaging.add(Array(relative.utf8), status: status, mode: git_tree_entry_filemode(entry.pointer).rawValue,
                                    blob: ObjectID(git_tree_entry_id(entry.pointer).pointee), to: index)
        }
        try write(index)
    }

    private func updatedTree(_ base: TreeHandle, _ updates: [(path: String, blob: ObjectID, mode: git_filemode_t)]) throws -> ObjectID {
        let paths = updates.map { strdup($0.path)! }
        defer { paths.forEach { free($0) } }
        var changes = updates.enumerated().map { i, update in
            git_tree_update(action: GIT_TREE_UPDATE_UPSERT, id: update.blob.oid, filemode: update.mode, path: paths[i])
        }
        var oid = git_oid()
        try check("git_tree_create_updated", git_tree_create_updated(&oid, repository.pointer, base.pointer, changes.count, &changes), location: path)
        return ObjectID(oid)
    }

    // MARK: Steps

    /// Commits everything in the worktree as the commit of one agent step.
    ///
    /// Edits, new files (also in new folders, also ignored ones: ignore rules are not honoured,
    /// so nothing hides from the step's diff), deletions, renames, mode changes, symbolic links
    /// (stored as links), binary files and names that are not UTF-8 (as raw bytes) all enter the
    /// commit, also inside nested repositories; no `.git` is ever read and the worktree's own
    /// `.git` file is never stored. The walk is iterative and descriptor-relative, never follows
    /// a link and never opens a FIFO or device blocking; large files are streamed to the object
    /// store. The step's findings (`Snapshot.skipped`) list FIFOs, sockets, devices, nested `.git`
    /// folders, names that are not UTF-8, paths too long, unreadable files, what exceeds `budget`,
    /// removed setuid/setgid bits (removed on the host through the open file) and a changed `.git`
    /// file. Names in `snapshotIgnore` at the root are not walked (the parent's content under them
    /// stays). The index is written afterwards, so the next snapshot re-reads only changed files.
    /// - Parameter stamp: the step's number, summary and time (the signature follows).
    /// - Returns: the step commit, its parent and the skipped paths.
    /// - Throws: `GitError` when a file cannot be read or an object cannot be written.
    public func snapshot(_ stamp: StepStamp) throws -> Snapshot {
        try requireGitDirectory()
        try repository.forgetBufferedObjects()
        let index = try repositoryIndex()
        let linkFinding = try checkGitLink()
        var staging = try WorktreeStaging(root: path, repository: repository, index: index, indexFile: repository.gitDirectory + "index", budget: budget,
                                       ignored: snapshotIgnore)
        try staging.run()
        var treeOid = git_oid()
        try check("git_index_write_tree", git_index_write_tree(&treeOid, index.pointer), location: path)
        let parent = tip
        let commit = try repository.commit(tree: ObjectID(treeOid), message: stamp.message(), author: stamp.signature, parents: [tip], updateRef: nil)
        tip = commit
        try repository.writeBufferedObjects(tip: commit, known: published)
        published = commit
        try write(index)
        try repository.overwriteLooseRef(branch, to: commit)
        try restoreHead()
        return Snapshot(commit: commit, parent: parent, skipped: (linkFinding.map { [$0] } ?? []) + staging.skipped)
    }

    /// The diff of a step: its parent against its commit (agent changes only, never seeds).
    /// - Parameter snapshot: the step's snapshot.
    /// - Returns: the step's diff.
    /// - Throws: `GitError` when a commit is missing.
    public func diff(_ snapshot: Snapshot) throws -> StepDiff {
        try repository.diff(from: snapshot.parent, to: snapshot.commit)
    }

    // MARK: Internals

    /// Fails clearly when the workspace's `.git` has lost its object or reference folders (an
    /// agent can delete them); nothing could be recorded then.
    private func requireGitDirectory() throws {
        for folder in ["objects/pack", "refs"] where try FileSystem.status(repository.gitDirectory + folder) == nil {
            throw GitError(kind: .notFound, function: "Workspace", message: "the workspace's .git has lost its \(folder) folder", location: repository.gitDirectory,
                           hint: "the step cannot be recorded here; resume in a fresh folder with Workspace.create(from:at:commit:) from the run's repository")
        }
    }

    /// Points `HEAD` back at the workspace's branch when the agent moved it.
    private func restoreHead() throws {
        let head = try? ReferenceHandle(make("git_reference_lookup") { git_reference_lookup(&$0, repository.pointer, "HEAD") })
        if let head, git_reference_type(head.pointer) == GIT_REFERENCE_SYMBOLIC,
           String(cString: git_reference_symbolic_target(head.pointer)) == branch { return }
        try repository.setHead(branch)
    }

    /// Writes the index file anew (see `FileSystem.removeBeforeRewrite`).
    private func write(_ index: IndexHandle) throws {
        try FileSystem.removeBeforeRewrite(repository.gitDirectory + "index")
        try check("git_index_write", git_index_write(index.pointer), location: repository.gitDirectory + "index")
    }

    /// The repository's index, re-read from disk when it changed; emptied when unreadable (every
    /// file is then hashed again, which is slower but right).
    private func repositoryIndex() throws -> IndexHandle {
        let index = IndexHandle(try make("git_repository_index", location: path) { git_repository_index(&$0, repository.pointer) })
        if git_index_read(index.pointer, 0) < 0 {
            try check("git_index_clear", git_index_clear(index.pointer), location: path)
        }
        return index
    }

    /// Rejects paths that are absolute, climb out of the workspace or reach into `.git`.
    static func validate(relativePath: String) throws {
        let parts = relativePath.split(separator: "/", omittingEmptySubsequences: false)
        guard !relativePath.isEmpty, !relativePath.hasPrefix("/"), !parts.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty || $0 == ".git" }) else {
            throw GitError(kind: .invalidInput, function: "Workspace.land", message: "'\(relativePath)' is not a plain relative path inside the workspace",
                           location: relativePath, hint: "use a path such as 'src/module.py' without '..', '.git' or a leading '/'")
        }
    }
}
