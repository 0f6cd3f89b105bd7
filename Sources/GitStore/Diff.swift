import CGit2
import Foundation

extension Repository {
    /// The difference between two commits, as structured values plus `git diff` patch text.
    ///
    /// Uses git's indent heuristic, 3 lines of context and explicit rename detection (50 %
    /// similarity), whatever any configuration says. Every file is diffed as text
    /// (`GIT_DIFF_FORCE_TEXT`): no attribute (`-diff`, `binary`, `diff=driver`) and no NUL byte
    /// can hide a file's lines, and a tree-to-tree diff applies no filter or end-of-line
    /// conversion, so the same two commits give the same diff in any repository that holds
    /// them (a workspace at run time, the run repository at rescore). For text changes without
    /// renames the patch text equals what `git diff from to` prints.
    /// - Parameters:
    ///   - from: the older commit; nil compares against the empty tree (every file added).
    ///   - to: the newer commit.
    /// - Returns: the files that differ, in git's path order, with hunks and numbered lines.
    /// - Throws: `GitError` when a commit does not exist.
    public func diff(from: ObjectID?, to: ObjectID) throws -> StepDiff {
        let oldTree = try from.map { try treeHandle(ofCommit: $0) }
        let newTree = try treeHandle(ofCommit: to)
        var options = git_diff_options()
        try check("git_diff_options_init", git_diff_options_init(&options, UInt32(GIT_DIFF_OPTIONS_VERSION)))
        options.flags = GIT_DIFF_INDENT_HEURISTIC.rawValue | GIT_DIFF_FORCE_TEXT.rawValue
        options.context_lines = 3
        options.interhunk_lines = 0
        options.id_abbrev = 7
        // libgit2 walks every entry of both trees; git skips identical subtrees. Finding the
        // differing paths first (skipping identical subtrees) and diffing only those gives the
        // same result, much faster in a large tree with a small change.
        var paths = Set<String>()
        let listable = try collectChangedPaths(oldTree, newTree, prefix: "", into: &paths)
        if listable && paths.isEmpty { return StepDiff(files: [], patch: "") }
        let pathList = listable && paths.count <= Self.pathListLimit ? paths.sorted().map { strdup($0) } : []
        defer { pathList.forEach { free($0) } }
        var cPaths = pathList
        let diff = try cPaths.withUnsafeMutableBufferPointer { buffer in
            if !buffer.isEmpty {
                options.flags |= GIT_DIFF_DISABLE_PATHSPEC_MATCH.rawValue
                options.pathspec = git_strarray(strings: buffer.baseAddress, count: buffer.count)
            }
            return DiffHandle(try make("git_diff_tree_to_tree", location: gitDirectory) {
                git_diff_tree_to_tree(&$0, pointer, oldTree?.pointer, newTree.pointer, &options)
            })
        }
        var find = git_diff_find_options()
        try check("git_diff_find_options_init", git_diff_find_options_init(&find, UInt32(GIT_DIFF_FIND_OPTIONS_VERSION)))
        find.flags = GIT_DIFF_FIND_RENAMES.rawValue
        find.rename_threshold = 50
        try check("git_diff_find_similar", git_diff_find_similar(diff.pointer, &find))

        // Each file's patch is computed once and gives both its values and its text.
        var patchText: [UInt8] = []
        var files: [FileDiff] = []
        for index in 0..<git_diff_num_deltas(diff.pointer) {
            let patch = PatchHandle(try make("git_patch_from_diff") { git_patch_from_diff(&$0, diff.pointer, index) })
            files.append(try fileDiff(patch))
            var buffer = git_buf()
            defer { git_buf_dispose(&buffer) }
            try check("git_patch_to_buf", git_patch_to_buf(&buffer, patch.pointer))
            if buffer.size > 0 { patchText += UnsafeRawBufferPointer(start: buffer.ptr, count: buffer.size) }
        }
        return StepDiff(files: files, patch: String(decoding: patchText, as: UTF8.self))
    }

    /// Above this many differing paths the diff walks the whole trees instead of a path list.
    static let pathListLimit = 512

    /// Adds the path of every file (blob, link or nested repository commit) that differs between
    /// two trees; subtrees with the same id are skipped, a subtree on one side only adds all of
    /// its files.
    /// - Returns: false when a differing name is not UTF-8 (it cannot go in a path list as a
    ///   `String`); the caller then walks the whole trees.
    private func collectChangedPaths(_ old: TreeHandle?, _ new: TreeHandle?, prefix: String, into paths: inout Set<String>) throws -> Bool {
        /// Adds one side's entry: a file's path, or every file below a folder.
        func addSide(_ entry: OpaquePointer, _ path: String) throws -> Bool {
            guard git_tree_entry_type(entry) == GIT_OBJECT_TREE else { paths.insert(path); return true }
            return try collectChangedPaths(nil, try subtree(entry), prefix: path + "/", into: &paths)
        }
        for (tree, other, isNew) in [(new, old, true), (old, new, false)] {
            guard let tree else { continue }
            for i in 0..<git_tree_entrycount(tree.pointer) {
                guard let entry = git_tree_entry_byindex(tree.pointer, i) else { continue }
                let counterpart = other.flatMap { git_tree_entry_byname($0.pointer, git_tree_entry_name(entry)) }
                if let counterpart, git_oid_equal(git_tree_entry_id(entry), git_tree_entry_id(counterpart)) != 0
                    && git_tree_entry_filemode(entry) == git_tree_entry_filemode(counterpart) { continue }
                guard let name = String(validatingCString: git_tree_entry_name(entry)) else { return false }
                let path = prefix + name
                guard let counterpart else {
                    guard try addSide(entry, path) else { return false }
                    continue
                }
                // Entries on both sides are compared once, from the new side.
                guard isNew else { continue }
                let listable = git_tree_entry_type(entry) == GIT_OBJECT_TREE && git_tree_entry_type(counterpart) == GIT_OBJECT_TREE
                    ? try collectChangedPaths(try subtree(counterpart), try subtree(entry), prefix: path + "/", into: &paths)
                    : try addSide(counterpart, path) && addSide(entry, path)
                guard listable else { return false }
            }
        }
        return true
    }

    /// The tree a tree entry names.
    private func subtree(_ entry: OpaquePointer) throws -> TreeHandle {
        TreeHandle(try make("git_tree_lookup", location: gitDirectory) { git_tree_lookup(&$0, pointer, git_tree_entry_id(entry)) })
    }

    private func fileDiff(_ patch: PatchHandle) throws -> FileDiff {
        let delta = git_patch_get_delta(patch.pointer)!.pointee
        let status: FileDiff.Status
        switch delta.status {
        case GIT_DELTA_ADDED: status = .added
        case GIT_DELTA_DELETED: status = .deleted
        case GIT_DELTA_RENAMED: status = .renamed
        case GIT_DELTA_COPIED: status = .copied
        case GIT_DELTA_TYPECHANGE: status = .typeChanged
        default: status = .modified
        }
        let oldPath = status == .added ? nil : String(cString: delta.old_file.path)
        let newPath = status == .deleted ? nil : String(cString: delta.new_file.path)
        let isBinary = delta.flags & GIT_DIFF_FLAG_BINARY.rawValue != 0
        var hunks: [Hunk] = []
        for h in 0..<git_patch_num_hunks(patch.pointer) {
            var hunkPointer: UnsafePointer<git_diff_hunk>?
            var lineCount = 0
            try check("git_patch_get_hunk", git_patch_get_hunk(&hunkPointer, &lineCount, patch.pointer, h))
            let hunk = hunkPointer!.pointee
            var lines: [DiffLine] = []
            for l in 0..<lineCount {
                var linePointer: UnsafePointer<git_diff_line>?
                try check("git_patch_get_line_in_hunk", git_patch_get_line_in_hunk(&linePointer, patch.pointer, h, l))
                if let line = Self.diffLine(linePointer!.pointee) { lines.append(line) }
            }
            let header = withUnsafeBytes(of: hunk.header) { raw in
                String(decoding: raw.prefix(hunk.header_len).prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
            }
            hunks.append(Hunk(oldStart: Int(hunk.old_start), oldLines: Int(hunk.old_lines), newStart: Int(hunk.new_start),
                              newLines: Int(hunk.new_lines), header: header, lines: lines))
        }
        return FileDiff(status: status, oldPath: oldPath, newPath: newPath,
                        oldMode: FileMode(rawValue: status == .added ? 0 : UInt32(delta.old_file.mode)),
                        newMode: FileMode(rawValue: status == .deleted ? 0 : UInt32(delta.new_file.mode)),
                        isBinary: isBinary, hunks: hunks)
    }

    /// A line value, or nil for libgit2's "no newline at end of file" markers (the line before
    /// them already says so through `hasNewline`).
    private static func diffLine(_ line: git_diff_line) -> DiffLine? {
        let origin: DiffLine.Origin
        switch UInt8(bitPattern: line.origin) {
        case UInt8(ascii: " "): origin = .context
        case UInt8(ascii: "+"): origin = .addition
        case UInt8(ascii: "-"): origin = .deletion
        default: return nil
        }
        var bytes = UnsafeRawBufferPointer(start: line.content, count: line.content_len)[...]
        let hasNewline = bytes.last == UInt8(ascii: "\n")
        if hasNewline { bytes = bytes.dropLast() }
        if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
        return DiffLine(origin: origin, oldLineNumber: line.old_lineno > 0 ? Int(line.old_lineno) : nil,
                        newLineNumber: line.new_lineno > 0 ? Int(line.new_lineno) : nil,
                        content: String(decoding: bytes, as: UTF8.self), hasNewline: hasNewline)
    }
}
