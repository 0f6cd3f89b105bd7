import Glibc
import Posix
import Synchronization

/// What the host offers the sandbox, as measured by running the launcher's probe.
public struct HostCapabilities: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Whether an unprivileged process can create user, mount, pid and net namespaces and mount in them.
    public var userNamespaces: Bool
    /// The Landlock ABI version (0: no Landlock).
    public var landlockABI: Int
    /// Whether seccomp filters are available.
    public var seccomp: Bool
    /// The uid the launcher ran as.
    public var uid: UInt32

    /// Creates a capability record.
    /// - Parameters:
    ///   - userNamespaces: namespaces usable.
    ///   - landlockABI: Landlock ABI, 0 for none.
    ///   - seccomp: seccomp filters usable.
    ///   - uid: the launcher's uid.
    public init(userNamespaces: Bool, landlockABI: Int, seccomp: Bool, uid: UInt32) {
        self.userNamespaces = userNamespaces
        self.landlockABI = landlockABI
        self.seccomp = seccomp
        self.uid = uid
    }

    /// One line per capability, e.g. `user namespaces: yes`.
    public var description: String {
        """
        user namespaces: \(userNamespaces ? "yes" : "no")
        landlock ABI: \(landlockABI)
        seccomp: \(seccomp ? "yes" : "no")
        uid: \(uid)
        """
    }

    /// The best mode this host supports.
    public var bestMode: SandboxMode? {
        guard seccomp else { return nil }
        return userNamespaces ? .full : .reduced
    }

    /// Probes the host by running `launcher --probe` (as the launcher will run for real commands).
    /// The answer is kept for the life of the process, per launcher and prefix: what the kernel
    /// offers does not change while the runner runs, and a probe costs a few milliseconds.
    /// - Parameters:
    ///   - launcher: the launcher's path (see ``Launcher/locate(override:)``).
    ///   - prefix: words put before the launcher (e.g. a `setpriv` invocation).
    /// - Returns: the capabilities.
    /// - Throws: ``SandboxError`` if the launcher cannot run or prints something unexpected
    ///   (failures are not kept: the next call probes again).
    public static func probe(launcher: String, prefix: [String] = []) throws -> HostCapabilities {
        let key = prefix + [launcher]
        if let known = probeCache.withLock({ $0[key] }) { return known }
        let capabilities = try probeUncached(launcher: launcher, prefix: prefix)
        probeCache.withLock { $0[key] = capabilities }
        return capabilities
    }

    /// Runs the probe every time (see ``probe(launcher:prefix:)``).
    static func probeUncached(launcher: String, prefix: [String]) throws -> HostCapabilities {
        probeCounter.withLock { $0 += 1 }
        let output = try runToCompletion(prefix + [launcher, "--probe"])
        var values: [String: Int] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let v = Int(parts[1]) { values[String(parts[0])] = v }
        }
        guard let seccomp = values["seccomp"], let landlock = values["landlock"], let userns = values["userns"], let uid = values["uid"] else {
            throw SandboxError(.launcherUnavailable, "\(launcher) --probe printed '\(output)'; rebuild the launcher (swift build --product driftbox-launcher)")
        }
        return HostCapabilities(userNamespaces: userns == 1, landlockABI: landlock, seccomp: seccomp == 1, uid: UInt32(uid))
    }
}

/// How many probes ran the launcher (for tests: a cached answer runs none).
private let probeCounter = Mutex(0)

extension HostCapabilities {
    /// How many times this process has run the launcher's probe.
    static var uncachedProbeCount: Int { probeCounter.withLock { $0 } }
}

/// Probe answers by launcher invocation (prefix words + launcher path).
private let probeCache = Mutex<[[String]: HostCapabilities]>([:])

/// How strongly commands are isolated.
public enum SandboxMode: String, Sendable, Equatable, Codable, CaseIterable {
    /// Namespaces (user, mount, pid, net, ipc, uts), private root, Landlock, seccomp, rlimits.
    case full
    /// No namespaces (host refuses them): seccomp, Landlock and rlimits only; declared.
    case reduced
    /// Nothing but rlimits: only when seccomp is missing and the caller explicitly allowed it.
    case unsandboxed

    /// What this mode gives up compared with `full`, one line each.
    public var givenUp: [String] {
        switch self {
        case .full: []
        case .reduced: [
            "no private root: the file system view is the host's, restricted by Landlock only (best effort)",
            "the repository's .git is writable if it lies inside the workspace",
            "no pid namespace: processes are reaped through a subreaper; a killed runner can leave orphans",
            "no network namespace: INET/INET6 sockets are denied outright (no loopback)",
            "signals and abstract unix sockets are scoped only with Landlock ABI 6 or newer",
            "host pathname unix sockets stay connectable unless the policy refuses AF_UNIX sockets (the default policy does)",
            "no masks: a runner's commands can read what the runner can in the readable folders (a root runner's run as nobody)",
            "a root runner's commands run as another user (SandboxOptions.reducedModeUser), so the runner hands the workspace to it",
            "a runner that is not root: its own files outside the workspace can be re-moded and re-dated (Landlock does not cover chmod or utimes)",
            "as another user than root, RLIMIT_NPROC counts all of that user's processes on the host",
        ]
        case .unsandboxed: ["no isolation at all: rlimits only"]
        }
    }
}

/// Runs argv to completion and returns its stdout (for the probe).
func runToCompletion(_ argv: [String]) throws -> String {
    let pipe = try SandboxError.calling("probing the host") { try FileDescriptor.makePipe() }
    let fds = [pipe.read.rawValue, pipe.write.rawValue]
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
    var pid: pid_t = 0
    let rc = withCStrings(argv) { cargv in posix_spawn(&pid, argv[0], &actions, nil, cargv, Glibc.environ) }
    close(fds[1])
    defer { close(fds[0]) }
    guard rc == 0 else { throw SandboxError(.launcherUnavailable, "cannot start \(argv[0]); build it or set DRIFTBOX_LAUNCHER", errno: rc) }
    let bytes = (try? pipe.read.readToEnd(limit: 1 << 20)) ?? []
    _ = try? Processes.wait(for: pid)
    return String(decoding: bytes, as: UTF8.self)
}
