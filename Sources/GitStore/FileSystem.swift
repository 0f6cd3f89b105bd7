import Foundation
import Posix

/// One entry of a folder listing: its raw name bytes and kind.
struct DirectoryEntry {
    /// The name as the file system stores it (not necessarily UTF-8).
    let name: [UInt8]
    /// The kind from `readdir`; `unknown` when the file system does not say.
    let kind: FileKind

    /// The name as a string, or nil when it is not valid UTF-8.
    var utf8Name: String? { String(validating: name, as: UTF8.self) }
}

/// The file-system calls GitStore makes on the runner's own folders (git directories, packs,
/// fixtures), through the Posix layer (EINTR retried, errno captured once), each failure a
/// `GitError`. The agent's worktree is only ever touched through `Posix.HostileFiles` and
/// `Posix.TreeWalk`.
enum FileSystem {
    /// Lists a folder without `.` and `..`, sorted by name bytes.
    static func entries(of path: String) throws -> [DirectoryEntry] {
        do {
            let fd = try FileDescriptor.openDirectory(path: path)
            defer { fd.close() }
            return try fd.entries(path: path).map { DirectoryEntry(name: $0.name, kind: $0.kind) }
        } catch {
            throw GitError(error, function: "list folder")
        }
    }

    /// The kind of a file from its `lstat` mode.
    static func kind(mode: mode_t) -> FileKind {
        switch mode & S_IFMT {
        case S_IFREG: .regular
        case S_IFDIR: .directory
        case S_IFLNK: .symlink
        case S_IFIFO: .fifo
        case S_IFSOCK: .socket
        case S_IFCHR: .characterDevice
        case S_IFBLK: .blockDevice
        default: .unknown
        }
    }

    /// `lstat` of a path; nil when nothing exists there.
    static func status(_ path: String) throws -> stat? {
        var info = stat()
        switch retryingInterrupts({ lstat(path, &info) }) {
        case .success: return info
        case .failure(let error) where error == .noEntry || error == .notDirectory: return nil
        case .failure(let error): throw GitError.posix("lstat", path: path, error: error)
        }
    }

    /// The target of a symbolic link, as bytes.
    static func linkTarget(_ path: String) throws -> [UInt8] {
        let parent = (path as NSString).deletingLastPathComponent
        do {
            let fd = try FileDescriptor.openDirectory(path: parent.isEmpty ? "." : parent)
            defer { fd.close() }
            return try fd.linkTarget(of: Array((path as NSString).lastPathComponent.utf8))
        } catch {
            throw GitError(error, function: "readlink", base: parent)
        }
    }

    /// Creates a folder and its parents.
    static func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw GitError(kind: .fileSystem, function: "createDirectory", message: "cannot create the folder: \(error)", location: path,
                           hint: "check the parent folder's permissions")
        }
    }

    /// Creates a folder (and its parents) and makes it mode 0700, so no other user can reach
    /// what is below it.
    static func makePrivateDirectory(_ path: String) throws {
        try makeDirectory(path)
        switch retryingInterrupts({ chmod(path, 0o700) }) {
        case .success: return
        case .failure(let error): throw GitError.posix("chmod", path: path, error: error, hint: "check that the folder is the runner's own")
        }
    }

    /// The whole content of one of the runner's files, at most `limit` bytes.
    static func contents(of path: String, limit: Int = 1 << 30) throws -> [UInt8] {
        let parent = (path as NSString).deletingLastPathComponent
        do {
            let fd = try FileDescriptor.openDirectory(path: parent.isEmpty ? "." : parent)
            defer { fd.close() }
            guard let bytes = try HostileFiles.read([Array((path as NSString).lastPathComponent.utf8)], under: fd, limit: limit) else {
                throw GitError(kind: .fileSystem, function: "open", code: Errno.noEntry.rawValue, message: Errno.noEntry.description, location: path,
                               hint: "check that the file exists and is readable")
            }
            return bytes
        } catch {
            throw GitError(error, function: "read", base: parent)
        }
    }

    /// Replaces a file's content in place (its mode is kept; a new file gets 0644).
    ///
    /// The bytes are written over the old ones and the file is then cut to length, instead of
    /// truncating it first: on ext4 a truncation to zero (like a rename over an existing file)
    /// makes the kernel start writing the file back at once, which costs a few hundred
    /// microseconds per file; neither is more durable without an fsync.
    static func replaceContents(of path: String, with bytes: [UInt8]) throws {
        let parent = (path as NSString).deletingLastPathComponent
        do {
            let fd = try FileDescriptor.openDirectory(path: parent.isEmpty ? "." : parent)
            defer { fd.close() }
            try HostileFiles.write(bytes, to: [Array((path as NSString).lastPathComponent.utf8)], under: fd)
        } catch {
            throw GitError(error, function: "write", base: parent)
        }
    }

    /// Removes a file that is about to be written anew, so the new file is linked into place
    /// rather than renamed over the old one (on ext4 a rename over an existing file starts an
    /// immediate write-back); a missing file is fine.
    static func removeBeforeRewrite(_ path: String) throws {
        switch retryingInterrupts({ unlink(path) }) {
        case .success, .failure(.noEntry): return
        case .failure(let error): throw GitError.posix("unlink", path: path, error: error)
        }
    }

    /// Hard-links `source` to `destination`, or copies it when the two are on different file
    /// systems or links are refused.
    static func linkOrCopy(_ source: String, to destination: String) throws {
        switch retryingInterrupts({ link(source, destination) }) {
        case .success: return
        case .failure(let error) where error == .crossDevice || error == .notPermitted || error == .linkCount:
            try replaceContents(of: destination, with: try contents(of: source))
        case .failure(let error): throw GitError.posix("link", path: destination, error: error)
        }
    }
}
