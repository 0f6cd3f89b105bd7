import Glibc

/// One entry met by a `TreeWalk`.
public struct WalkEntry {
    /// The folder that holds the entry, open; valid only during the visit.
    public let parent: FileDescriptor
    /// The entry's name (bytes, not necessarily UTF-8).
    public let name: [UInt8]
    /// Its path relative to the walk's root, components joined by `/`.
    public let path: [UInt8]
    /// Its status (links not followed).
    public let status: FileStatus
    /// Its depth: 1 for the root's own entries.
    public let depth: Int
}

/// What a visit asks the walk to do with a folder.
public enum WalkDecision: Sendable {
    /// Walk the folder's entries too.
    case descend
    /// Leave the folder's entries out.
    case skip
}

/// A depth-first walk of a folder tree that an untrusted program may have built.
///
/// Iterative (an explicit stack, no recursion: any depth is fine), descriptor-relative (no
/// `PATH_MAX`, no link followed: a folder is entered with `O_NOFOLLOW | O_DIRECTORY`), and with a
/// bounded number of open descriptors at any depth: folders deeper than `retainedDepth` give up
/// their descriptor when a subfolder is entered and are reopened through the subfolder's `..` on
/// the way back, after checking that `..` is still the same folder (device and inode). Entries
/// come in name-byte order.
public struct TreeWalk {
    /// Folders up to this depth keep their descriptor while their subfolders are walked.
    public static let retainedDepth = 16

    private struct Frame {
        var fd: FileDescriptor?
        var status: FileStatus
        var entries: [(name: [UInt8], kind: FileKind)]
        var next = 0
        var pathLength: Int
    }

    /// Walks the tree below `root` (which stays open), calling `visit` for every entry below it;
    /// a folder's entries are walked when `visit` returns `.descend`. An entry removed during
    /// the walk is passed over.
    /// - Throws: what `visit` throws, or `PosixError` when a folder cannot be read or changed
    ///   during the walk.
    public static func walk(_ root: FileDescriptor, visit: (WalkEntry) throws -> WalkDecision) throws {
        let rootStatus = try root.status(path: ".")
        var stack = [Frame(fd: nil, status: rootStatus, entries: try root.entries(path: "."), pathLength: 0)]
        var path: [UInt8] = []
        path.reserveCapacity(4096)
        defer { for frame in stack { frame.fd?.close() } }
        func descriptor(_ frame: Frame) -> FileDescriptor { frame.fd ?? root }
        while !stack.isEmpty {
            let top = stack.count - 1
            guard stack[top].next < stack[top].entries.count else {
                // Back up one level; the parent gets its descriptor back through `..` when it gave it up.
                let finished = stack.removeLast()
                if let parentIndex = stack.indices.last, parentIndex > 0, stack[parentIndex].fd == nil, let child = finished.fd {
                    let parentPath = displayPath(Array(path[0..<stack[parentIndex].pathLength]))
                    let up: FileDescriptor?
                    do { up = try HostileFiles.openDirectory(Array("..".utf8), in: child) } catch { child.close(); throw error }
                    guard let up else { child.close(); throw PosixError(.changedDuringWalk, function: "openat ..", path: parentPath, hint: "leave the tree alone while it is walked") }
                    let status = try up.status(path: parentPath)
                    guard status.isSameFile(as: stack[parentIndex].status) else {
                        up.close(); child.close()
                        throw PosixError(.changedDuringWalk, function: "openat ..", path: parentPath, hint: "leave the tree alone while it is walked")
                    }
                    stack[parentIndex].fd = up
                }
                finished.fd?.close()
                if let last = stack.last { path.removeSubrange(last.pathLength...) }
                continue
            }
            let (name, _) = stack[top].entries[stack[top].next]
            stack[top].next += 1
            let parent = descriptor(stack[top])
            guard let status = try parent.status(of: name) else { continue }  // removed meanwhile
            path.removeSubrange(stack[top].pathLength...)
            if !path.isEmpty { path.append(UInt8(ascii: "/")) }
            path.append(contentsOf: name)
            let decision = try visit(WalkEntry(parent: parent, name: name, path: path, status: status, depth: stack.count))
            guard status.kind == .directory, decision == .descend else { continue }
            let child: FileDescriptor?
            do {
                child = try HostileFiles.openDirectory(name, in: parent)
            } catch let error as PosixError where error.kind == .wrongKind {
                continue  // replaced by something else meanwhile
            }
            guard let child else { continue }
            let childStatus: FileStatus
            let entries: [(name: [UInt8], kind: FileKind)]
            do {
                childStatus = try child.status(path: displayPath(path))
                guard childStatus.isSameFile(as: status) else { child.close(); continue }
                entries = try child.entries(path: displayPath(path))
            } catch {
                child.close()
                throw error
            }
            if top >= retainedDepth, let fd = stack[top].fd {
                fd.close()
                stack[top].fd = nil
            }
            stack.append(Frame(fd: child, status: childStatus, entries: entries, pathLength: path.count))
        }
    }
}
