import Glibc
import Posix

/// The user a reduced-mode command runs as when the runner is root.
///
/// Without a mount namespace the agent sees the host's files, and Landlock does not cover
/// `chmod`, `chown` or `utimes`: as uid 0 it would own (and could re-mode or re-date) every
/// root-owned file of the host. So a root runner's reduced-mode commands run as this uid and gid
/// (no supplementary groups), which should own no file on the host. The workspace must then be
/// writable to it: see ``Sandbox/agentUser`` and ``Sandbox/handOver(workspace:)``.
public struct AgentUser: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The uid commands run as (not 0).
    public var uid: UInt32
    /// The gid commands run as (not 0).
    public var gid: UInt32

    /// Creates an identity.
    /// - Parameters:
    ///   - uid: a uid other than 0 that owns no host file.
    ///   - gid: a gid other than 0.
    public init(uid: UInt32, gid: UInt32) {
        self.uid = uid
        self.gid = gid
    }

    /// `nobody:nogroup` (65534:65534), the default.
    public static let nobody = AgentUser(uid: 65534, gid: 65534)

    /// `UID:GID`, the launcher's `--user` argument.
    public var description: String { "\(uid):\(gid)" }
}

extension Sandbox {
    /// The identity reduced-mode commands run as, or nil when they run as the runner's own user
    /// (full mode, where the user namespace maps the runner's uid; a runner that is not root; a
    /// root whose uid 0 is an ordinary user of the host, as in a rootless container).
    ///
    /// When it is not nil, the runner must hand each workspace to it before a command runs there,
    /// and again after the runner itself writes files into the workspace (seeds, restores):
    /// ``handOver(workspace:)`` does that. ``run(_:)`` hands a workspace over by itself when its
    /// top folder is not yet owned by this user, so only later runner writes need the call.
    public var agentUser: AgentUser? {
        mode == .reduced && capabilities.uid == 0 && uidZeroIsHostRoot ? options.reducedModeUser : nil
    }

    /// Gives the workspace (every file and folder in it, never following a symlink) to
    /// ``agentUser``; does nothing when that is nil. The walk is iterative, holds a bounded number
    /// of descriptors at any depth, and never opens a FIFO or device.
    /// - Parameter workspace: the workspace's absolute path.
    /// - Throws: ``SandboxError`` `.system` naming the path that could not be changed.
    public func handOver(workspace: String) throws {
        guard let user = agentUser else { return }
        try changeOwner(of: workspace, to: user)
    }

    /// Gives folders on the way to a workspace (each folder itself, not its content) to
    /// ``agentUser``, so that user can reach a workspace below folders only their owner may enter
    /// (the runner's scratch is mode 0700); does nothing when that is nil.
    /// - Parameter folders: absolute paths of folders the runner made.
    /// - Throws: ``SandboxError`` `.system` naming the folder that could not be changed.
    public func handOver(folders: [String]) throws {
        guard let user = agentUser else { return }
        try changeOwner(ofFolders: folders, to: user)
    }
}

/// Whether uid 0 here is uid 0 of the host (`/proc/self/uid_map` maps 0 to 0). In a user
/// namespace that maps uid 0 to an ordinary user (a rootless container), root owns only that
/// user's files, as a runner that is not root does, and other uids are often not mapped at all.
let uidZeroIsHostRoot: Bool = {
    guard let text = readTextFile("/proc/self/uid_map") else { return true }
    return text.split(separator: "\n").contains { line in
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        return fields.count == 3 && fields[0] == "0" && fields[1] == "0"
    }
}()

/// Changes the owner of `root` and everything below it to `user`, without following links or
/// opening anything but folders: the Posix layer's walk (iterative, descriptor-relative, a bounded
/// number of open descriptors at any depth).
func changeOwner(of root: String, to user: AgentUser) throws {
    let top = try openFolderNoFollow(root, for: user)
    defer { top.close() }
    try changeOwner(top.rawValue, name: nil, shown: root, to: user)
    do {
        try TreeWalk.walk(top) { entry in
            try changeOwner(entry.parent.rawValue, name: entry.name, shown: root + "/" + String(decoding: entry.path, as: UTF8.self), to: user)
            return .descend
        }
    } catch let error as PosixError {
        throw SandboxError(.system, "handing \(root) to \(user) failed: \(error)")
    }
}

/// Changes the owner of each folder (not what is in it) to `user`, without following links.
func changeOwner(ofFolders folders: [String], to user: AgentUser) throws {
    for folder in folders {
        let fd = try openFolderNoFollow(folder, for: user)
        defer { fd.close() }
        try changeOwner(fd.rawValue, name: nil, shown: folder, to: user)
    }
}

private func openFolderNoFollow(_ path: String, for user: AgentUser) throws -> FileDescriptor {
    try SandboxError.calling("handing \(path) to \(user)") { try FileDescriptor.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK) }
}

/// `fchown` of an open folder (`name` nil) or `fchownat` of one entry of it, links not followed.
private func changeOwner(_ folder: Int32, name: [UInt8]?, shown: String, to user: AgentUser) throws {
    do {
        if let name {
            try FileDescriptor(rawValue: folder).changeOwner(of: name, user: user.uid, group: user.gid)
        } else {
            try FileDescriptor(rawValue: folder).changeOwner(user: user.uid, group: user.gid)
        }
    } catch let error as PosixError {
        let hint = error.errno == .invalidArgument
            ? "uid or gid is not mapped in this user namespace; set SandboxOptions.reducedModeUser to a mapped pair"
            : "run the runner as root or hand the workspace to \(user) yourself"
        throw SandboxError(.system, "changing the owner of \(shown) to \(user) failed: \(hint)", errno: error.errno?.rawValue)
    }
}
