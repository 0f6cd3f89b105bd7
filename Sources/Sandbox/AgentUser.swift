import Glibc

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
    /// ``agentUser``; does nothing when that is nil. The walk is iterative, holds one descriptor
    /// per level below `maximumDepth` levels, never blocks on a FIFO or device, and refuses deeper trees.
    /// - Parameters:
    ///   - workspace: the workspace's absolute path.
    ///   - maximumDepth: folders nested deeper than this are an error.
    /// - Throws: ``SandboxError`` `.system` naming the path that could not be changed, or
    ///   `.invalidCommand` for a tree deeper than `maximumDepth`.
    public func handOver(workspace: String, maximumDepth: Int = 512) throws {
        guard let user = agentUser else { return }
        try changeOwner(of: workspace, to: user, maximumDepth: maximumDepth)
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

/// Changes the owner of `root` and everything below it to `user`, without following links.
func changeOwner(of root: String, to user: AgentUser, maximumDepth: Int) throws {
    let flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC
    let top = open(root, flags)
    guard top >= 0 else { throw SandboxError.system("open", "handing \(root) to \(user)") }
    guard fchown(top, user.uid, user.gid) == 0 else {
        let e = errno
        close(top)
        let hint = e == EINVAL
            ? "uid or gid is not mapped in this user namespace; set SandboxOptions.reducedModeUser to a mapped pair"
            : "run the runner as root or hand the workspace to \(user) yourself"
        throw SandboxError(.system, "fchown of \(root) to \(user) failed: \(hint)", errno: e)
    }
    // A stack of open folders with the names walked to reach them (for messages).
    var stack: [(dir: OpaquePointer, path: String)] = []
    guard let first = fdopendir(top) else { close(top); throw SandboxError.system("fdopendir", "listing \(root)") }
    stack.append((first, root))
    defer { for entry in stack { closedir(entry.dir) } }
    while let (dir, path) = stack.last {
        guard let entry = readdir(dir) else {
            closedir(dir)
            stack.removeLast()
            continue
        }
        let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
        if name == [46] || name == [46, 46] { continue }
        let fd = dirfd(dir)
        let shown = path + "/" + String(decoding: name, as: UTF8.self)
        let cName = name.map { CChar(bitPattern: $0) } + [0]
        let changed = fchownat(fd, cName, user.uid, user.gid, AT_SYMLINK_NOFOLLOW)
        guard changed == 0 else { throw SandboxError.system("fchownat", "handing \(shown) to \(user)") }
        var isFolder = entry.pointee.d_type == UInt8(DT_DIR)
        if entry.pointee.d_type == UInt8(DT_UNKNOWN) {
            var st = stat()
            let rc = fstatat(fd, cName, &st, AT_SYMLINK_NOFOLLOW)
            isFolder = rc == 0 && (st.st_mode & S_IFMT) == S_IFDIR
        }
        guard isFolder else { continue }
        guard stack.count < maximumDepth else {
            throw SandboxError(.invalidCommand, "\(shown) lies deeper than \(maximumDepth) folders; flatten the tree before handing it to \(user)")
        }
        let child = openat(fd, cName, flags)
        guard child >= 0 else { throw SandboxError.system("openat", "handing \(shown) to \(user)") }
        guard let childDir = fdopendir(child) else { close(child); throw SandboxError.system("fdopendir", "listing \(shown)") }
        stack.append((childDir, shown))
    }
}
