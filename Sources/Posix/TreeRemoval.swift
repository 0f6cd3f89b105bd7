import Glibc

/// Removes folder trees an untrusted program may have built: any depth, any path length, no link
/// followed, nothing opened but folders.
///
/// The removal is descriptor-relative (`unlinkat`), so neither `PATH_MAX` nor a link planted in the
/// tree matters. It holds at most `maximumDepth` folder descriptors: a folder met deeper than that
/// is first renamed to the top of the tree (a rename within one file system moves the whole
/// subtree at once) and removed from there later, so a chain of 30,000 folders costs 30,000 / 16
/// renames, not 30,000 descriptors.
public enum TreeRemoval {
    /// Folders deeper than this below the top are moved up before they are entered.
    public static let maximumDepth = 16

    /// Removes `path` and everything below it; a missing path is fine.
    /// - Parameter path: an absolute path the caller trusts (its own scratch folder); its last
    ///   component may be a folder or anything else (a file or a link is unlinked, not followed).
    /// - Throws: `PosixError` when something cannot be removed (permissions, a busy mount).
    public static func remove(_ path: String) throws {
        var components = Array(path.utf8)
        while components.count > 1, components.last == UInt8(ascii: "/") { components.removeLast() }
        guard let slash = components.lastIndex(of: UInt8(ascii: "/")) else {
            throw PosixError(.systemCall, function: "TreeRemoval.remove", errno: Errno(rawValue: EINVAL), path: path, hint: "give an absolute path")
        }
        let parentPath = slash == 0 ? "/" : String(decoding: components[..<slash], as: UTF8.self)
        let name = Array(components[(slash + 1)...])
        guard !name.isEmpty else { return }
        let parent: FileDescriptor
        do { parent = try FileDescriptor.openDirectory(path: parentPath) } catch let error as PosixError where error.errno == .noEntry {
            return
        }
        defer { parent.close() }
        guard let status = try parent.status(of: name) else { return }
        guard status.kind == .directory else {
            try parent.remove(name)
            return
        }
        guard let top = try HostileFiles.openDirectory(name, in: parent) else { return }
        do {
            try empty(top, display: path)
        } catch {
            top.close()
            throw error
        }
        top.close()
        try parent.remove(name, directory: true)
    }

    /// Empties the folder `top` (which stays open). Subtrees deeper than ``maximumDepth`` are moved
    /// into `top` under fresh names and emptied in later rounds.
    static func empty(_ top: FileDescriptor, display: String) throws {
        var moved = 0
        func freshName() throws -> [UInt8] {
            while true {
                moved += 1
                let name = Array(".driftbox-removing-\(moved)".utf8)
                if try top.status(of: name) == nil { return name }
            }
        }
        // Each round walks the top folder's tree to at most `maximumDepth` levels; a round that
        // moved nothing up has emptied the folder.
        while true {
            var movedThisRound = false
            // A frame: an open folder (nil: `top` itself), its entries, the next one to look at,
            // and its name in its parent.
            var stack: [(fd: FileDescriptor?, entries: [[UInt8]], next: Int, name: [UInt8])] = []
            stack.append((nil, try top.entries(path: display).map(\.name), 0, []))
            defer { for frame in stack { frame.fd?.close() } }
            while let last = stack.indices.last {
                let folder = stack[last].fd ?? top
                guard stack[last].next < stack[last].entries.count else {
                    let finished = stack.removeLast()
                    if let fd = finished.fd {
                        fd.close()
                        try (stack.last?.fd ?? top).remove(finished.name, directory: true)
                    }
                    continue
                }
                let name = stack[last].entries[stack[last].next]
                stack[last].next += 1
                guard let status = try folder.status(of: name) else { continue }
                guard status.kind == .directory else {
                    try folder.remove(name)
                    continue
                }
                if stack.count > maximumDepth {
                    // Too deep to enter with one more descriptor: move the subtree to the top.
                    let target = try freshName()
                    let renamed = withCName(name) { from in
                        withCName(target) { to in retryingInterrupts { renameat(folder.rawValue, from, top.rawValue, to) } }
                    }
                    if case .failure(let error) = renamed {
                        throw PosixError(.systemCall, function: "renameat", errno: error, path: display, hint: "check the folder's permissions")
                    }
                    movedThisRound = true
                    continue
                }
                guard let child = try HostileFiles.openDirectory(name, in: folder) else { continue }
                let entries: [[UInt8]]
                do { entries = try child.entries(path: display).map(\.name) } catch { child.close(); throw error }
                stack.append((child, entries, 0, name))
            }
            if !movedThisRound { return }
        }
    }
}
