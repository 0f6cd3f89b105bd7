import Foundation
import Glibc
import Testing
@_exported import DriftboxTestSupport
@testable import Sandbox

/// The shipped policies.
func shippedPolicy(_ name: String) throws -> Policy {
    try Policy.load(path: packageRoot + "/sandbox/policies/\(name).policy")
}

/// The temporary folders of these tests.
typealias TempDir = TemporaryFolder

/// Sandboxes shared by the tests, one per mode (the policy is compiled once each). A mode the host
/// cannot give is not silently dropped: its cases are cancelled (shown as skipped) with the reason,
/// and where `CI` is set that is a failure unless the host probe says the feature is truly absent.
enum Sandboxes {
    static let policy: Policy = { try! shippedPolicy("default") }()

    static func make(_ mode: ModeRequest, policy: Policy = policy, outputLimit: Int = 1 << 20) throws -> Sandbox {
        try Sandbox(SandboxOptions(policy: policy, mode: mode, outputLimit: outputLimit))
    }

    /// Every mode the suite tests; parameterised tests take all of them and skip what is missing.
    static let modes: [SandboxMode] = [.full, .reduced]

    static let fullAttempt: Result<Sandbox, any Error> = Result { try make(.full) }
    static let reducedAttempt: Result<Sandbox, any Error> = Result { try make(.reduced) }

    /// The shared full-mode sandbox, or nil when the host cannot give it.
    static var full: Sandbox? { try? fullAttempt.get() }

    /// Why `mode` cannot run here, or nil when it can.
    static func unavailableReason(_ mode: SandboxMode) -> String? {
        let attempt = mode == .full ? fullAttempt : reducedAttempt
        guard case .failure(let error) = attempt else { return nil }
        return "\(mode.rawValue) mode is unavailable on this host: \(error)"
    }

    /// What the launcher's probe (`driftbox sandbox check`) says, or nil when it cannot run.
    static let probe: HostCapabilities? = try? HostCapabilities.probe(launcher: Launcher.locate())

    /// Whether the host probe says the host has what `mode` needs. A probe that cannot run (no
    /// launcher) proves nothing is missing from the host, so it counts as supported.
    static func hostSupports(_ mode: SandboxMode) -> Bool {
        guard let probe else { return true }
        switch mode {
        case .full: return probe.seccomp && probe.userNamespaces
        case .reduced: return probe.seccomp && probe.landlockABI > 0
        case .unsandboxed: return true
        }
    }

    /// Whether `CI` is set (to anything but the empty string).
    static var isCI: Bool { DriftboxTestSupport.isCI }

    /// The shared sandbox of `mode`. When the host cannot give it, the current test case is
    /// cancelled with the reason (a skip); under `CI` that is a recorded failure unless the host
    /// probe says the feature is missing.
    static func get(_ mode: SandboxMode) throws -> Sandbox {
        switch mode == .full ? fullAttempt : reducedAttempt {
        case .success(let sandbox): return sandbox
        case .failure(let error):
            let reason = unavailableReason(mode) ?? "\(error)"
            if isCI && hostSupports(mode) {
                Issue.record("CI is set and the host probe says \(mode.rawValue) mode should work here: \(reason)")
                throw error
            }
            try Test.cancel(Comment(rawValue: reason))
        }
    }

    /// A sandbox of `mode` with its own policy; skips as ``get(_:)`` does when the mode is missing.
    static func make(for mode: SandboxMode, policy: Policy) throws -> Sandbox {
        _ = try get(mode)
        return try make(mode == .full ? .full : .reduced, policy: policy)
    }
}

/// C programs compiled once per test process, keyed by source.
final class CompiledPrograms: @unchecked Sendable {
    static let shared = CompiledPrograms()
    private let lock = NSLock()
    private var cache: [String: String] = [:]
    private static let dir: TempDir = {
        let dir = try! TempDir("cc")
        atexit { CompiledPrograms.dir.cleanup() }
        return dir
    }()
    private var dir: TempDir { Self.dir }

    /// The prelude every hostile C case starts with: headers and `show(r)`, which prints `ok`
    /// or the errno's name.
    static let prelude = """
    #define _GNU_SOURCE
    #include <dirent.h>
    #include <errno.h>
    #include <fcntl.h>
    #include <pthread.h>
    #include <sched.h>
    #include <signal.h>
    #include <spawn.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    #include <time.h>
    #include <unistd.h>
    #include <arpa/inet.h>
    #include <netinet/in.h>
    #include <sys/ioctl.h>
    #include <sys/mman.h>
    #include <sys/mount.h>
    #include <sys/personality.h>
    #include <sys/socket.h>
    #include <sys/stat.h>
    #include <sys/syscall.h>
    #include <sys/uio.h>
    #include <sys/un.h>
    #include <sys/wait.h>
    #include <stddef.h>
    #include <sys/ptrace.h>
    #include <linux/sched.h>
    extern char **environ;
    #define RUNNER atoi(argv[1])
    #define HOME_DIR argv[2]
    #define ESCAPE argv[3]
    #define PORT atoi(argv[4])
    #define ABSTRACT argv[5]
    #define SOCKPATH argv[6]
    #define BLOCK_DEVICE argv[7]
    static void *noop(void *a) { return a; }
    static void show(long r) { if (r < 0) printf("%s\\n", strerrorname_np(errno)); else printf("ok\\n"); fflush(stdout); }

    """

    /// Compiles `body` (statements of `main(int argc, char **argv)`) and returns the binary's path.
    func binary(_ body: String) throws -> String {
        let source = Self.prelude + "int main(int argc, char **argv) {\n" + body + "\nreturn 0; }\n"
        lock.lock()
        defer { lock.unlock() }
        if let path = cache[source] { return path }
        let name = "case\(cache.count)"
        try source.write(toFile: dir.file(name + ".c"), atomically: false, encoding: .utf8)
        let result = try runHost(["/usr/bin/cc", "-O1", "-pthread", "-o", dir.file(name), dir.file(name + ".c")])
        guard result.status == 0 else { throw SandboxError(.invalidCommand, "cc failed: \(result.output)") }
        cache[source] = dir.file(name)
        return dir.file(name)
    }
}

/// A workspace folder with a copy of `binary` in it as `./prog`.
func workspace(with binary: String? = nil) throws -> TempDir {
    let ws = try TempDir("ws")
    if let binary { try FileManager.default.copyItem(atPath: binary, toPath: ws.file("prog")) }
    return ws
}

/// Whether the runner is root and the host has no writable cgroup v1 pids hierarchy: root is
/// exempt from RLIMIT_NPROC, so no process limit holds and every run carries a warning.
let rootRunnerWithoutPidsCgroup = getuid() == 0 && access("/sys/fs/cgroup/pids/cgroup.procs", W_OK) != 0

/// The warning of such a run.
let noProcessLimitWarning = "no process limit: the launcher runs as root (exempt from RLIMIT_NPROC) and no pids cgroup is available"
