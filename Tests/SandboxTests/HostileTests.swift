import Foundation
import Glibc
import Testing
@testable import Sandbox

/// Host-side things a hostile case aims at: an outside folder, listening sockets.
struct HostTargets {
    let escape: String
    let tcp: Int32
    let port: UInt16
    let abstract: (fd: Int32, name: String)
    let pathname: (fd: Int32, dir: TempDir, path: String)

    init() throws {
        escape = try outsideFolder("escape")
        try "secret".write(toFile: escape + "/secret", atomically: false, encoding: .utf8)
        (tcp, port) = try Self.listenTCP()
        let name = "driftbox-\(UUID().uuidString)"
        abstract = (try Self.listenUnix("\0" + name), name)
        let dir = try TempDir("sock")
        pathname = (try Self.listenUnix(dir.file("s")), dir, dir.file("s"))
    }

    /// The case program's argv after the program name.
    var arguments: [String] {
        [String(getpid()), Sandbox.runnerHome(), escape, String(port), abstract.name, pathname.path, Self.blockDevice]
    }

    /// A block device of this host (a disk or loop device), or /dev/null-disk if there is none.
    static let blockDevice: String = {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: "/dev")) ?? []).sorted()
        for name in names {
            var st = stat()
            if stat("/dev/" + name, &st) == 0 && (st.st_mode & S_IFMT) == S_IFBLK { return "/dev/" + name }
        }
        return "/dev/null-disk"
    }()

    /// The outside folder still holds only what the test put there.
    func escapeUntouched() -> Bool {
        (try? FileManager.default.contentsOfDirectory(atPath: escape)) == ["secret"]
    }

    func cleanup() {
        for fd in [tcp, abstract.fd, pathname.fd] { close(fd) }
        pathname.dir.cleanup()
        try? FileManager.default.removeItem(atPath: escape)
    }

    static func listenTCP() throws -> (Int32, UInt16) {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &a) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) == 0 && listen(s, 4) == 0 && getsockname(s, $0, &len) == 0 }
        }
        guard ok else { throw SandboxError(.system, "bind failed while listening on loopback", errno: errno) }
        return (s, UInt16(bigEndian: a.sin_port))
    }

    static func listenUnix(_ path: String) throws -> Int32 {
        let s = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var a = sockaddr_un()
        a.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &a.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let len = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (path.hasPrefix("\0") ? 0 : 1))
        let ok = withUnsafePointer(to: &a) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) == 0 && listen(s, 4) == 0 }
        }
        guard ok else { throw SandboxError(.system, "bind failed while listening on unix socket \(path)", errno: errno) }
        return s
    }
}

/// A workspace that is a git repository with two commits (first: a.txt, second: b.txt).
func gitWorkspace(with binary: String?) throws -> TempDir {
    let ws = try workspace(with: binary)
    let git = ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main", "-C", ws.path]
    try runGit(git + ["init", "-q"])
    try ws.write("a.txt", "a\n")
    try runGit(git + ["add", "a.txt"])
    try runGit(git + ["commit", "-q", "-m", "first"])
    try ws.write("b.txt", "b\n")
    try runGit(git + ["add", "b.txt"])
    try runGit(git + ["commit", "-q", "-m", "second"])
    return ws
}

@Suite("Hostile agent", .serialized, .timeLimit(.minutes(10)))
struct HostileAgentTests {
    @Test("each hostile case ends exactly as expected", arguments: Sandboxes.modes, hostileCases)
    func hostileCase(mode: SandboxMode, hostile: HostileCase) async throws {
        guard let expected = mode == .full ? hostile.full : hostile.reduced else {
            try Test.cancel("'\(hostile)' has no expectation in \(mode.rawValue) mode")
        }
        guard hostile.missingTools.isEmpty else {
            Issue.record("host lacks \(hostile.missingTools) for this case; install them (see .ci/run)")
            return
        }
        let targets = try HostTargets()
        defer { targets.cleanup() }
        let leaked = open("/dev/null", O_RDONLY)  // deliberately not close-on-exec
        defer { close(leaked) }
        let binary: String?
        if case .c(let body) = hostile.program { binary = try CompiledPrograms.shared.binary(body) } else { binary = nil }
        let ws = try gitWorkspace(with: binary)
        defer { ws.cleanup() }
        let command: SandboxedCommand
        switch hostile.program {
        case .c: command = SandboxedCommand("./prog", targets.arguments, workspace: ws.path, timeout: .seconds(30))
        case .sh(let script): command = SandboxedCommand("/bin/sh", ["-c", script], workspace: ws.path, timeout: .seconds(30))
        }
        let result = try await try Sandboxes.get(mode).run(command)
        #expect(!result.timedOut)
        #expect(result.mode == mode)
        switch expected {
        case .prints(let text):
            #expect(result.termination == .exited(0), "stderr: \(result.stderr.text)")
            #expect(result.stdout.text.trimmingCharacters(in: .newlines) == text, "stderr: \(result.stderr.text)")
        case .signal(let signal):
            #expect(result.termination == .signaled(signal))
            #expect(result.stdout.text == "")
        case .exit(let code, let text):
            #expect(result.termination == .exited(code))
            #expect(result.stdout.text.contains(text))
        }
        #expect(targets.escapeUntouched(), "the outside folder changed")
    }

    @Test("a symlink planted in one step does not widen the next step", arguments: Sandboxes.modes)
    func plantedRootLink(mode: SandboxMode) async throws {
        let targets = try HostTargets()
        defer { targets.cleanup() }
        let ws = try workspace()
        defer { ws.cleanup() }
        let sandbox = try Sandboxes.get(mode)
        let plant = try await sandbox.run(SandboxedCommand("/bin/ln", ["-s", "/", "x"], workspace: ws.path))
        #expect(plant.termination == .exited(0))
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: ws.file("x"))) == "/")
        let write = try await sandbox.run(SandboxedCommand("/bin/sh", ["-c", "echo pwned > x\(targets.escape)/escaped; echo $?"], workspace: ws.path))
        #expect(write.stdout.text == "2\n")
        #expect(write.stderr.text.contains(mode == .full ? "Read-only file system" : "Permission denied"))
        #expect(targets.escapeUntouched())
    }

    // Root is exempt from RLIMIT_NPROC; the launcher then needs the pids cgroup. Never run an
    // unbounded bomb on a shared host.
    @Test("a fork bomb stops at the process limit and dies with the command", arguments: Sandboxes.modes)
    func forkBomb(mode: SandboxMode) async throws {
        if rootRunnerWithoutPidsCgroup {
            try Test.cancel("running as root without a cgroup v1 pids hierarchy: the process limit cannot be enforced on this host (the run warns: \(noProcessLimitWarning))")
        }
        var policy = Sandboxes.policy
        policy.limits.processes = 64
        let sandbox = try Sandboxes.make(for: mode, policy: policy)
        let binary = try CompiledPrograms.shared.binary("""
            int n = 0; for (;;) { pid_t p = fork(); if (p == 0) { pause(); _exit(0); }
            if (p < 0) { printf("%s after %d forks\\n", strerrorname_np(errno), n); return 0; } n++; }
            """)
        let ws = try workspace(with: binary)
        defer { ws.cleanup() }
        let result = try await sandbox.run(SandboxedCommand("./prog", workspace: ws.path, timeout: .seconds(20)))
        #expect(result.termination == .exited(0))
        // 64 processes in all: the outer launcher, (full mode) the namespace's init, the bomb, its children.
        // A non-root runner's reduced commands share RLIMIT_NPROC with every other process and
        // thread of the runner's uid (this test process among them), so fewer forks remain.
        if mode == .reduced && getuid() != 0 {
            let forks = result.stdout.text.hasPrefix("EAGAIN after ") ? Int(result.stdout.text.dropFirst(13).prefix { $0.isNumber }) : nil
            #expect(forks.map { (1...62).contains($0) } == true, "\(result.stdout.text)")
        } else {
            #expect(result.stdout.text == "EAGAIN after \(mode == .full ? 61 : 62) forks\n")
        }
        #expect(!result.timedOut, "the bomb's children outlived the command")
    }

    @Test("a huge file stops at the file-size limit with SIGXFSZ", arguments: Sandboxes.modes)
    func hugeFile(mode: SandboxMode) async throws {
        var policy = Sandboxes.policy
        policy.limits.fileSize = 10 << 20
        let sandbox = try Sandboxes.make(for: mode, policy: policy)
        let binary = try CompiledPrograms.shared.binary(#"static char b[65536]; int fd = open("big", O_CREAT|O_WRONLY, 0644); for (int i = 0; i < 1000; i++) write(fd, b, sizeof b); printf("not stopped\n");"#)
        let ws = try workspace(with: binary)
        defer { ws.cleanup() }
        let result = try await sandbox.run(SandboxedCommand("./prog", workspace: ws.path))
        #expect(result.termination == .signaled(SIGXFSZ))
        let size = try FileManager.default.attributesOfItem(atPath: ws.file("big"))[.size] as? Int
        #expect(size == 10 << 20)
    }

    @Test("a memory balloon fails at the address-space limit", arguments: Sandboxes.modes)
    func memoryBalloon(mode: SandboxMode) async throws {
        var policy = Sandboxes.policy
        policy.limits.addressSpace = 256 << 20
        let sandbox = try Sandboxes.make(for: mode, policy: policy)
        let binary = try CompiledPrograms.shared.binary(#"char *p = malloc(1UL << 30); if (!p) { show(-1); return 0; } memset(p, 1, 1UL << 30); printf("allocated\n");"#)
        let ws = try workspace(with: binary)
        defer { ws.cleanup() }
        let result = try await sandbox.run(SandboxedCommand("./prog", workspace: ws.path))
        #expect(result.termination == .exited(0))
        #expect(result.stdout.text == "ENOMEM\n")
        #expect(result.peakRSSBytes < 64 << 20)
    }

    @Test("background jobs and double-forked daemons die with the command", arguments: Sandboxes.modes)
    func daemonsDie(mode: SandboxMode) async throws {
        let token = UUID().uuidString
        let ws = try workspace()
        defer { ws.cleanup() }
        try FileManager.default.copyItem(atPath: "/bin/sleep", toPath: ws.file("sleeper-\(token)"))
        let script = """
        ./sleeper-\(token) 1000 &
        python3 -c 'import os
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execv("./sleeper-\(token)", ["./sleeper-\(token)", "1001"])
            os._exit(0)
        os.wait()'
        echo started
        """
        let result = try await try Sandboxes.get(mode).run(SandboxedCommand("/bin/sh", ["-c", script], workspace: ws.path, timeout: .seconds(30)))
        #expect(result.termination == .exited(0))
        #expect(result.stdout.text == "started\n")
        // The event: the call returned when sh ended, not at the 30 s timeout the daemons hold out for.
        #expect(!result.timedOut)
        #expect(processes(containing: token).isEmpty)
    }

    @Test("a CPU spin, a detached daemon and an output flood are killed at the timeout", arguments: Sandboxes.modes)
    func timeoutKillsEverything(mode: SandboxMode) async throws {
        let token = UUID().uuidString
        // The spinner marks the event "100 ms of CPU time used" in a file, then spins on; the flood
        // starts only after that, so the CPU assertion below does not depend on the host's load.
        let spinner = try CompiledPrograms.shared.binary("""
            struct timespec t; int marked = 0;
            for (;;) { clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
              if (!marked && (t.tv_sec > 0 || t.tv_nsec >= 100000000L)) { close(open("spun", O_CREAT|O_WRONLY, 0644)); marked = 1; } }
            """)
        let ws = try workspace(with: spinner)
        defer { ws.cleanup() }
        try FileManager.default.copyItem(atPath: "/bin/sleep", toPath: ws.file("sleeper-\(token)"))
        let script = "./prog & setsid ./sleeper-\(token) 1000 & while [ ! -e spun ]; do sleep 0.01; done; yes flood"
        // Generous: the spinner needs 100 ms of CPU before the flood starts, even on a saturated host.
        let result = try await Sandboxes.get(mode).run(SandboxedCommand("/bin/sh", ["-c", script], workspace: ws.path, timeout: .seconds(10)))
        #expect(result.timedOut)
        #expect(result.termination == .signaled(SIGKILL))
        #expect(FileManager.default.fileExists(atPath: ws.file("spun")))
        #expect(result.stdout.truncated)
        #expect(result.stdout.bytes.count == 1 << 20)
        #expect(result.stdout.totalBytes > 1 << 20)
        #expect(result.stdout.text.hasPrefix("flood\nflood\n"))
        #expect(processes(containing: token).isEmpty)
        if mode == .full {  // init reaps the whole namespace, so the spin's CPU time is counted
            #expect(result.cpuTime >= .milliseconds(100))
        }
    }
}

@Suite("Resource usage", .serialized, .timeLimit(.minutes(2)))
struct ResourceUsageTests {
    @Test("CPU time and peak RSS of the command are reported", arguments: Sandboxes.modes)
    func usage(mode: SandboxMode) async throws {
        let binary = try CompiledPrograms.shared.binary("""
            size_t n = 200UL << 20; char *p = malloc(n); memset(p, 1, n);
            struct timespec t0, t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
            do { clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); } while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 300000000L);
            printf("%d\\n", p[n - 1]);
            """)
        let ws = try workspace(with: binary)
        defer { ws.cleanup() }
        let result = try await try Sandboxes.get(mode).run(SandboxedCommand("./prog", workspace: ws.path))
        #expect(result.termination == .exited(0))
        #expect(result.stdout.text == "1\n")
        #expect(result.cpuTime >= .milliseconds(300))
        #expect(result.peakRSSBytes >= 200 << 20)
        #expect(result.peakRSSBytes < 300 << 20)
    }
}

@Suite("Git directories", .serialized, .timeLimit(.minutes(2)))
struct GitDirectoryTests {
    @Test("a worktree workspace reads its history through a read-only git dir inside a hidden run folder", arguments: Sandboxes.modes)
    func worktree(mode: SandboxMode) async throws {
        let run = try TempDir("run")
        defer { run.cleanup() }
        try run.write("events.jsonl", "{}\n")
        let main = try gitWorkspace(with: nil)
        defer { main.cleanup() }
        let runRepo = run.file("repo")
        try runGit(["clone", "-q", main.path, runRepo])
        try runGit(["-C", runRepo, "worktree", "add", "-q", run.file("ws"), "HEAD"])
        let shared = try Sandboxes.get(mode)
        let sandbox = mode == .full ? try Sandbox(SandboxOptions(policy: Sandboxes.policy, mode: .full, hiddenPaths: [run.path])) : shared
        let script = "git log --format=%s; echo x >> \(runRepo)/.git/config && echo wrote-config; ls \(run.path)"
        let result = try await sandbox.run(SandboxedCommand("/bin/sh", ["-c", script], workspace: run.file("ws"), readOnlyPaths: [runRepo + "/.git"]))
        let listing = mode == .full ? "repo\nws" : ""  // full: the hidden folder holds only the mount points
        #expect(result.stdout.text == "second\nfirst\n" + (listing.isEmpty ? "" : listing + "\n"))
        #expect(result.stderr.text.contains(mode == .full ? "Read-only file system" : "Permission denied"))
        #expect(try String(contentsOfFile: runRepo + "/.git/config", encoding: .utf8).contains("x\n") == false)
    }
}
