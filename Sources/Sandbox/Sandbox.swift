import CSeccomp
import Glibc
import Posix

/// One command to run in the sandbox, as an agent's step runs it.
public struct SandboxedCommand: Sendable {
    /// The program (looked up in the sandbox's PATH when it has no slash).
    public var executable: String
    /// Arguments after the program name.
    public var arguments: [String]
    /// The workspace: an absolute directory, read-write inside, and the working directory.
    public var workspace: String
    /// Host paths made visible read-only at their own path, e.g. the git directory of a worktree
    /// workspace or an alternates object store (the workspace's own `.git` always is read-only).
    public var readOnlyPaths: [String]
    /// Variables set inside on top of the scrubbed HOME, TMPDIR, PATH and LANG.
    public var environment: [String: String]
    /// Names of the runner's variables passed through (nothing else is).
    public var passEnvironment: [String]
    /// Bytes written to the command's stdin (then closed).
    public var stdin: [UInt8]
    /// Wall-clock limit; the whole process tree is killed when it passes.
    public var timeout: Duration
    /// When set, a listening socket at `127.0.0.1:port` inside the command's network namespace is
    /// handed to the caller before the command starts (see ``GatewayListener``).
    public var gateway: GatewayListener?

    /// Creates a command.
    /// - Parameters:
    ///   - executable: the program.
    ///   - arguments: its arguments.
    ///   - workspace: absolute path of the workspace directory.
    ///   - readOnlyPaths: extra host paths visible read-only (git directories, object stores).
    ///   - environment: variables to set inside.
    ///   - passEnvironment: names of the runner's variables to pass through.
    ///   - stdin: bytes for stdin.
    ///   - timeout: wall-clock limit.
    public init(_ executable: String, _ arguments: [String] = [], workspace: String, readOnlyPaths: [String] = [],
                environment: [String: String] = [:], passEnvironment: [String] = [], stdin: [UInt8] = [],
                timeout: Duration = .seconds(60), gateway: GatewayListener? = nil) {
        self.gateway = gateway
        self.executable = executable
        self.arguments = arguments
        self.workspace = workspace
        self.readOnlyPaths = readOnlyPaths
        self.environment = environment
        self.passEnvironment = passEnvironment
        self.stdin = stdin
        self.timeout = timeout
    }
}

/// The one network endpoint a sandboxed command can reach: a TCP socket listening at
/// `127.0.0.1:port` inside the command's own network namespace, which the launcher creates after
/// bringing loopback up and sends to the runner (over a unix socket pair, `SCM_RIGHTS`) before the
/// command starts. Connections the command makes to that address arrive at whoever accepts on the
/// descriptor; no other address inside leads out. Full mode with the network off only: without a
/// private network namespace the port would be the host's, reachable by anyone on it.
public struct GatewayListener: Sendable {
    /// The port the model gateway usually listens on inside the sandbox.
    public static let defaultPort: UInt16 = 4000

    /// The port, inside the sandbox's network namespace.
    public var port: UInt16
    /// Called once with the listening descriptor, which the callee then owns (and must close),
    /// before the command starts. Runs on the command's waiting thread: keep it short (hand the
    /// descriptor on). Not called when the sandbox could not be set up.
    public var received: @Sendable (CInt) -> Void

    /// Creates a listener request.
    /// - Parameters:
    ///   - port: the port inside the sandbox.
    ///   - received: takes the listening descriptor.
    public init(port: UInt16 = GatewayListener.defaultPort, received: @escaping @Sendable (CInt) -> Void) {
        self.port = port
        self.received = received
    }
}

/// How a sandboxed command ended.
public enum Termination: Sendable, Equatable, CustomStringConvertible {
    /// It exited with this status.
    case exited(Int32)
    /// It was killed by this signal.
    case signaled(Int32)

    /// `exit N` or `signal N`.
    public var description: String {
        switch self {
        case .exited(let code): "exit \(code)"
        case .signaled(let signal): "signal \(signal)"
        }
    }

    /// The shell's view of the status: the exit code, or 128 + the signal.
    public var shellStatus: Int32 {
        switch self {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        }
    }
}

/// Captured bytes of one output stream, bounded.
public struct CapturedOutput: Sendable, Equatable {
    /// The first bytes, up to the cap.
    public var bytes: [UInt8]
    /// How many bytes the command wrote in total.
    public var totalBytes: Int
    /// Whether bytes were dropped because of the cap.
    public var truncated: Bool { totalBytes > bytes.count }
    /// The bytes as UTF-8 text (invalid sequences replaced).
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// The outcome of one sandboxed command. A non-zero exit is a result, not an error.
public struct SandboxResult: Sendable {
    /// How the command ended (a timeout shows as the kill signal).
    public var termination: Termination
    /// Whether the wall-clock timeout killed it.
    public var timedOut: Bool
    /// Its stdout.
    public var stdout: CapturedOutput
    /// Its stderr.
    public var stderr: CapturedOutput
    /// Wall-clock time from spawn to return.
    public var wallTime: Duration
    /// User plus system CPU time of the whole reaped tree.
    public var cpuTime: Duration
    /// Peak resident set size of the largest process, in bytes; 0 when unknown (the launcher was
    /// killed before it could report, as after a timeout).
    public var peakRSSBytes: Int
    /// The mode it ran in.
    public var mode: SandboxMode
    /// The Landlock ABI applied (0: none).
    public var landlockABI: Int
    /// Whether the command was cut off from the host network.
    public var networkIsolated: Bool
    /// Protections the launcher could not apply to this command (empty when all held).
    public var isolationWarnings: [String]
}

/// Which mode to ask for.
public enum ModeRequest: String, Sendable {
    /// Full when the host allows it, else reduced (declared in every result).
    case automatic
    /// Full or an error.
    case full
    /// Reduced even when full is possible (for comparison and testing).
    case reduced
}

/// Options of a ``Sandbox``.
public struct SandboxOptions: Sendable {
    /// The policy.
    public var policy: Policy
    /// The requested mode.
    public var mode: ModeRequest
    /// Run without any sandbox when seccomp is missing instead of refusing. Never the default.
    public var unsafeNoSandbox: Bool
    /// The launcher's path; nil: `$DRIFTBOX_LAUNCHER` or next to the executable.
    public var launcherPath: String?
    /// Words put before the launcher, e.g. a `setpriv` call to run it as another user.
    public var launcherPrefix: [String]
    /// Host directories hidden behind an empty tmpfs in full mode (e.g. the run directory).
    public var hiddenPaths: [String]
    /// Bytes kept per output stream; the rest is counted and dropped.
    public var outputLimit: Int
    /// Host folders commands may read (and execute from) through Landlock, besides the workspace,
    /// its `.git`, `readOnlyPaths` and their private /tmp, /run and home. Everything else on the host
    /// (other users' homes, /srv, /mnt, other checkouts and runs) stays unreadable even to a root runner.
    public var readablePaths: [String]

    /// Host files and folders hidden in full mode (an empty file or folder takes their place),
    /// by default ``secretPaths``: uid 0 inside is uid 0 to file permissions when the runner is root.
    public var maskedPaths: [String]

    /// The identity a root runner's reduced-mode commands run as (see ``AgentUser``), by
    /// default ``AgentUser/nobody``. Pick a uid and gid that own no file on the host.
    public var reducedModeUser: AgentUser

    /// Secrets of the system inside the readable folders: password hashes, sudo rules and the SSH
    /// host keys present on this host. ``maskedPaths``'s default.
    public static var secretPaths: [String] {
        let hostKeys = (try? directoryEntries("/etc/ssh").filter { $0.hasPrefix("ssh_host_") && $0.hasSuffix("_key") }) ?? []
        return ["/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/sudoers", "/etc/sudoers.d"]
            + hostKeys.sorted().map { "/etc/ssh/" + $0 }
    }

    /// The system folders tools need: ``readablePaths``'s default.
    public static let systemPaths = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt",
                                     "/proc", "/sys", "/var/lib"]

    /// Creates options.
    /// - Parameters:
    ///   - policy: the policy.
    ///   - mode: the requested mode.
    ///   - unsafeNoSandbox: allow running unsandboxed when seccomp is missing.
    ///   - launcherPath: the launcher's path, if not the default.
    ///   - launcherPrefix: words put before the launcher.
    ///   - hiddenPaths: host folders to hide in full mode.
    ///   - outputLimit: bytes kept per stream.
    ///   - readablePaths: host folders readable inside (Landlock), by default ``systemPaths``.
    ///   - maskedPaths: host files and folders hidden in full mode, by default ``secretPaths``.
    ///   - reducedModeUser: who a root runner's reduced-mode commands run as.
    public init(policy: Policy, mode: ModeRequest = .automatic, unsafeNoSandbox: Bool = false,
                launcherPath: String? = nil, launcherPrefix: [String] = [], hiddenPaths: [String] = [],
                outputLimit: Int = 1 << 20, readablePaths: [String] = SandboxOptions.systemPaths,
                maskedPaths: [String] = SandboxOptions.secretPaths, reducedModeUser: AgentUser = .nobody) {
        self.reducedModeUser = reducedModeUser
        self.policy = policy
        self.mode = mode
        self.unsafeNoSandbox = unsafeNoSandbox
        self.launcherPath = launcherPath
        self.launcherPrefix = launcherPrefix
        self.hiddenPaths = hiddenPaths
        self.outputLimit = outputLimit
        self.readablePaths = readablePaths
        self.maskedPaths = maskedPaths
    }
}

/// Runs commands under one policy; the policy is compiled once, then any number of commands may
/// run concurrently (each spawn costs a posix_spawn of the small C launcher, nothing more).
public final class Sandbox: Sendable {
    /// The options it was made with.
    public let options: SandboxOptions
    /// What the host offers.
    public let capabilities: HostCapabilities
    /// The mode every command runs in.
    public let mode: SandboxMode
    /// The launcher in use.
    public let launcherPath: String
    let compiled: CompiledPolicy?
    let home: String

    /// Probes the host, picks the mode and compiles the policy.
    /// - Parameter options: the options.
    /// - Throws: ``SandboxError`` if the launcher is missing, the host cannot give the requested
    ///   mode, seccomp is missing (without `unsafeNoSandbox`), or the policy does not compile.
    public init(_ options: SandboxOptions) throws {
        self.options = options
        launcherPath = try Launcher.locate(override: options.launcherPath)
        capabilities = try HostCapabilities.probe(launcher: launcherPath, prefix: options.launcherPrefix)
        mode = try Self.resolveMode(options, capabilities)
        compiled = mode == .unsandboxed ? nil : try CompiledPolicy(options.policy, networkNamespace: mode == .full && options.policy.network == .off)
        home = Self.runnerHome()
    }

    /// What this sandbox gives up compared with full isolation, one line each (empty: nothing);
    /// for the run manifest and `driftbox sandbox check`.
    public var isolationGaps: [String] {
        mode.givenUp + (options.policy.network == .on ? ["the host network is reachable (policy '\(options.policy.name)' opens it)"] : [])
    }

    /// The number of BPF instructions of the compiled policy (0 when unsandboxed).
    public var filterInstructionCount: Int { compiled?.instructionCount ?? 0 }

    /// The compiled seccomp program (an array of `struct sock_filter`, native byte order), as
    /// the launcher installs it; empty when unsandboxed. Useful to audit or to hand to other tools.
    public var filterProgram: [UInt8] { compiled?.programBytes() ?? [] }

    /// Picks the mode for `options` on a host with `caps`.
    static func resolveMode(_ options: SandboxOptions, _ caps: HostCapabilities) throws -> SandboxMode {
        guard caps.seccomp else {
            if options.unsafeNoSandbox { return .unsandboxed }
            throw SandboxError(.unsupportedHost, "seccomp is unavailable on this host; refusing to run agents unsandboxed (pass unsafeNoSandbox only if you accept that)")
        }
        let reducedAllowed = caps.landlockABI > 0 || options.unsafeNoSandbox
        let noLandlock = SandboxError(.unsupportedHost, "reduced mode needs Landlock to confine files (without it a command could write wherever the runner can); enable Landlock or user namespaces, or pass unsafeNoSandbox to accept seccomp and rlimits alone")
        switch options.mode {
        case .reduced:
            guard reducedAllowed else { throw noLandlock }
            return .reduced
        case .automatic:
            if caps.userNamespaces { return .full }
            guard reducedAllowed else { throw noLandlock }
            return .reduced
        case .full:
            guard caps.userNamespaces else {
                throw SandboxError(.unsupportedHost, "full mode needs user namespaces, which this host refuses (container or AppArmor userns restriction); request reduced or automatic mode")
            }
            return .full
        }
    }

    /// The runner's home folder (hidden behind a tmpfs in full mode), or "/" when it has none
    /// that exists (e.g. nobody's /nonexistent): commands then get /tmp as HOME.
    static func runnerHome() -> String {
        guard let pw = getpwuid(getuid()), let dir = pw.pointee.pw_dir, let real = realPath(String(cString: dir)) else { return "/" }
        return real
    }

    /// Runs one command and waits for it, without blocking Swift's cooperative threads.
    /// - Parameter command: the command.
    /// - Returns: its result (exit status or signal, bounded output, resource usage, mode).
    /// - Throws: ``SandboxError`` if the command is invalid or the sandbox could not be set up
    ///   (the launcher fails closed: the command then never ran).
    ///   If the calling task is cancelled, the process tree is killed and `CancellationError` thrown.
    public func run(_ command: SandboxedCommand) async throws -> SandboxResult {
        let execution = try start(command)
        let result = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                execution.runOnDedicatedThread { continuation.resume(with: $0) }
            }
        } onCancel: {
            execution.terminate()
        }
        try Task.checkCancellation()
        return result
    }

    /// Runs one command on the calling thread (blocking it until the command ends).
    /// - Parameter command: the command.
    /// - Returns: its result.
    /// - Throws: ``SandboxError`` as ``run(_:)``.
    public func runBlocking(_ command: SandboxedCommand) throws -> SandboxResult {
        try start(command).waitForCompletion().get()
    }

    func start(_ command: SandboxedCommand) throws -> Execution {
        guard command.workspace.hasPrefix("/"), let workspace = realPath(command.workspace) else {
            throw SandboxError(.invalidCommand, "workspace '\(command.workspace)' must be an existing absolute directory")
        }
        guard !command.executable.isEmpty else { throw SandboxError(.invalidCommand, "empty executable; name the program to run") }
        let readOnly = try command.readOnlyPaths.map { path -> String in
            guard path.hasPrefix("/"), let real = realPath(path) else {
                throw SandboxError(.invalidCommand, "read-only path '\(path)' must be an existing absolute path")
            }
            return real
        }
        if let gateway = command.gateway {
            guard mode == .full, options.policy.network == .off else {
                throw SandboxError(.invalidCommand, mode != .full
                    ? "the model gateway needs full mode (a private network namespace); in \(mode.rawValue) mode a listening port would be the host's. Enable user namespaces, or give the agent `network: host` or `network: none`"
                    : "the model gateway needs the network off (policy '\(options.policy.name)' opens the host network); use the default policy")
            }
            guard gateway.port > 0 else { throw SandboxError(.invalidCommand, "the gateway port must be 1-65535") }
        }
        let user = agentUser
        if let user {
            // One stat per spawn; the walk runs only when the workspace is not the agent's yet.
            let st = try SandboxError.calling("checking the owner of \(workspace)") { try fileStatus(atPath: workspace) }
            if st.user != user.uid || st.group != user.gid { try changeOwner(of: workspace, to: user) }
        }
        let scratch: String? = mode == .full ? nil : try makeScratchDirectory()
        let hidden = options.hiddenPaths.compactMap(realPath)
        let plan = LaunchPlan.make(command: command, workspace: workspace, mode: mode, policy: options.policy,
                                   home: home, scratch: scratch, hiddenPaths: hidden, readOnlyPaths: readOnly,
                                   readablePaths: options.readablePaths, maskedPaths: options.maskedPaths, user: user)
        do {
            return try Execution.spawn(argv: options.launcherPrefix + [launcherPath] + plan.arguments, environment: plan.environment,
                                       policyFD: compiled?.fd, stdin: command.stdin, timeout: command.timeout,
                                       outputLimit: options.outputLimit, mode: mode,
                                       networkIsolated: mode != .unsandboxed && options.policy.network == .off, scratch: scratch,
                                       gateway: command.gateway)
        } catch {
            if let scratch { removeTree(scratch) }
            throw error
        }
    }

    /// A fresh HOME/TMPDIR for one reduced-mode command: on /dev/shm when it is writable (tmpfs:
    /// creating and removing it costs no disk I/O), else /tmp.
    func makeScratchDirectory() throws -> String {
        let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        // A neutral name: the command sees it as HOME and TMPDIR.
        let made = try SandboxError.calling("creating the command's scratch folder") { try makeTemporaryDirectory("\(base)/home-XXXXXX") }
        // The launcher may run as another user (launcherPrefix); the folder must be theirs.
        if let user = agentUser {
            _ = try? systemCall("chown", path: made) { chown(made, user.uid, user.gid) }
            // git refuses repositories another user owns (safe.directory): a worktree's git
            // directory and other read-only paths stay the runner's, so trust them in HOME's config.
            if let fd = try? FileDescriptor.open(made + "/.gitconfig", O_WRONLY | O_CREAT | O_EXCL) {
                try? fd.write(Array("[safe]\n\tdirectory = *\n".utf8))
                try? fd.changeOwner(user: user.uid, group: user.gid)
                fd.close()
            }
        }
        else if capabilities.uid != getuid() { _ = try? systemCall("chown", path: made) { chown(made, capabilities.uid, gid_t.max) } }
        return made
    }
}

/// The names in a folder (without `.` and `..`).
func directoryEntries(_ path: String) throws -> [String] {
    try SandboxError.calling("listing \(path)") {
        try FileDescriptor.openDirectory(path: path).closeAfter { try $0.entries(path: path) }.map { String(decoding: $0.name, as: UTF8.self) }
    }
}

/// The canonical absolute path of an existing file, or nil.
func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}
