import Glibc
import Posix

/// Finding the launcher executable and turning a command into its argument list.
public enum Launcher {
    /// The launcher's file name.
    public static let executableName = "driftbox-launcher"

    /// Finds the launcher: `override`, else `$DRIFTBOX_LAUNCHER`, else next to the running
    /// executable (which, under `swift test`, is the test bundle in the build folder).
    /// - Parameter override: an explicit path, if any.
    /// - Returns: the launcher's absolute path.
    /// - Throws: ``SandboxError`` `.launcherUnavailable` if there is no executable file there.
    public static func locate(override: String? = nil) throws -> String {
        let candidate: String
        if let override { candidate = override }
        else if let env = getenv("DRIFTBOX_LAUNCHER") { candidate = String(cString: env) }
        else { candidate = executableDirectory() + "/" + executableName }
        if case .failure(let error) = retryingInterrupts({ access(candidate, X_OK) }) {
            throw SandboxError(.launcherUnavailable, "no executable launcher at \(candidate); build it with 'swift build --product driftbox-launcher' or set DRIFTBOX_LAUNCHER", errno: error.rawValue)
        }
        return candidate
    }
}

/// The launcher's phase timestamps: with `DRIFTBOX_LAUNCHER_TRACE=1` in its environment (the
/// runner's, or a command's ``SandboxedCommand/environment``) every launcher process writes lines
/// `driftbox-launcher trace PID PHASE SECONDS.MICROSECONDS` (CLOCK_MONOTONIC) to the command's stderr.
public enum LauncherTrace {
    /// The environment variable that turns tracing on (value `1`).
    public static let variable = "DRIFTBOX_LAUNCHER_TRACE"

    /// One timestamp of a launcher process.
    public struct Mark: Sendable, Equatable {
        /// The launcher process (outer launcher, pid 1 of the sandbox, or the command before exec).
        public var pid: Int
        /// The phase that just ended, e.g. `namespaces`, `root`, `exec`.
        public var phase: String
        /// CLOCK_MONOTONIC time in microseconds.
        public var microseconds: Int
    }

    /// The trace lines in `stderr`, in the order written (other lines are skipped).
    /// - Parameter stderr: a command's stderr text.
    /// - Returns: the marks.
    public static func marks(in stderr: String) -> [Mark] {
        stderr.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            guard words.count == 5, words[0] == "driftbox-launcher", words[1] == "trace", let pid = Int(words[2]) else { return nil }
            let time = words[4].split(separator: ".")
            guard time.count == 2, let seconds = Int(time[0]), let micros = Int(time[1]) else { return nil }
            return Mark(pid: pid, phase: String(words[3]), microseconds: seconds * 1_000_000 + micros)
        }
    }
}

/// The fixed fd numbers the launcher receives.
enum LauncherFD {
    static let seccomp: Int32 = 3
    static let report: Int32 = 4
    static let lifeline: Int32 = 5
    static let gateway: Int32 = 6
}

/// The read end of a pipe whose write end lives as long as this process: when the runner dies,
/// every launcher sees the pipe hang up and kills its sandbox.
let lifelineReadFD: Int32 = {
    guard let fds = try? FileDescriptor.makePipe() else { return -1 }
    let high = (try? fds.read.duplicate(atLeast: 10))?.rawValue ?? -1
    fds.read.close()
    _ = try? fds.write.duplicate(atLeast: 10)  // the write end, kept open (close-on-exec) forever
    fds.write.close()
    return high
}()

/// Calls `body` with a NULL-terminated C array of the strings.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Without a private /dev (reduced mode), Landlock grants only these device files: never /dev as
/// a whole, where uid 0 could open host disks or /dev/kmsg.
let deviceFiles = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/ptmx", "/dev/pts"]

/// The mounts and Landlock rules the launcher is told to set up for one command.
struct LaunchPlan: Equatable {
    var arguments: [String]
    var environment: [String]

    /// Builds the launcher's arguments for `command` in `mode`.
    static func make(command: SandboxedCommand, workspace: String, mode: SandboxMode, policy: Policy,
                     home: String, scratch: String?, hiddenPaths: [String], readOnlyPaths: [String],
                     readablePaths: [String] = SandboxOptions.systemPaths, maskedPaths: [String] = [],
                     user: AgentUser? = nil) -> LaunchPlan {
        var args = ["--mode", mode == .unsandboxed ? "none" : mode.rawValue, "--workdir", workspace]
        var env: [String: String] = ["PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"]
        let workspaceGit = workspace + "/.git"
        let readOnly = (access(workspaceGit, F_OK) == 0 ? [workspaceGit] : []) + readOnlyPaths
        switch mode {
        case .full:
            if policy.network == .on { args.append("--host-net") }
            var tmpfs = ["/tmp", "/run"]  // the launcher builds a private /dev with its own /dev/shm
            if home != "/" && !tmpfs.contains(home) { tmpfs.append(home) }
            for hidden in hiddenPaths where !tmpfs.contains(hidden) { tmpfs.append(hidden) }
            for path in tmpfs { args += ["--tmpfs", path] }
            args += ["--bind-rw", workspace]
            for git in readOnly { args += ["--bind-ro", git] }
            for path in maskedPaths { args += ["--mask", path] }
            for path in readablePaths + readOnly { args += ["--landlock-ro", path] }
            for path in [workspace, "/tmp", "/run", "/dev"] + (home == "/" ? [] : [home]) { args += ["--landlock-rw", path] }
            env["HOME"] = home == "/" ? "/tmp" : home
            env["TMPDIR"] = "/tmp"
        case .reduced, .unsandboxed:
            for path in readablePaths + readOnly { args += ["--landlock-ro", path] }
            for path in [workspace] + deviceFiles + [scratch].compactMap({ $0 }) { args += ["--landlock-rw", path] }
            env["HOME"] = scratch ?? workspace
            env["TMPDIR"] = scratch ?? workspace
            if let user, mode == .reduced { args += ["--user", user.description] }
        }
        args += policy.limits.launcherArguments
        if mode != .unsandboxed { args += ["--seccomp-fd", String(LauncherFD.seccomp)] }
        args += ["--report-fd", String(LauncherFD.report), "--lifeline-fd", String(LauncherFD.lifeline)]
        if let gateway = command.gateway { args += ["--gateway-port", String(gateway.port), "--gateway-fd", String(LauncherFD.gateway)] }
        args += ["--", command.executable] + command.arguments
        // Debugging the launcher's own cost: the runner's DRIFTBOX_LAUNCHER_TRACE reaches the
        // launcher (which removes it before the exec), so traces need no code change.
        if let trace = getenv(LauncherTrace.variable) { env[LauncherTrace.variable] = String(cString: trace) }
        for name in command.passEnvironment {
            if let value = getenv(name) { env[name] = String(cString: value) }
        }
        for (name, value) in command.environment { env[name] = value }
        return LaunchPlan(arguments: args, environment: env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
    }
}
