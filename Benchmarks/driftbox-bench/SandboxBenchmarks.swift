import Foundation
import Glibc
import Posix
import Sandbox

/// Sandbox spawn benchmarks against bare spawn, unshare and bubblewrap, and the per-syscall
/// cost of the seccomp filter.
enum SandboxBenchmarks {
    static func run(iterations: Int) async throws -> [BenchRow] {
        let policy = try Policy.named("default")
        let full = try Sandbox(SandboxOptions(policy: policy, mode: .full))
        let reduced = try Sandbox(SandboxOptions(policy: policy, mode: .reduced))
        let ws = FileManager.default.temporaryDirectory.appendingPathComponent("driftbox-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: ws, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: ws) }
        let trueCommand = SandboxedCommand("/bin/true", workspace: ws)
        func sandboxed(_ sandbox: Sandbox) throws {
            let r = try sandbox.runBlocking(trueCommand)
            guard r.termination == .exited(0) else { throw BenchFailure("sandboxed /bin/true ended with \(r.termination): \(r.stderr.text)") }
        }
        for _ in 0..<3 { try sandboxed(full); try sandboxed(reduced) }  // warm caches

        var rows: [BenchRow] = []
        let (fullBare, bare) = try sideBySide(iterations: iterations, subject: { try sandboxed(full) }, reference: { try spawnAndWait(["/bin/true"]) })
        rows.append(BenchRow(name: "spawn+exit /bin/true, full mode", subjectMedian: fullBare, referenceName: "bare posix_spawn", referenceMedian: bare,
                             iterations: iterations, note: "the price of isolation"))
        let unshare = ["/usr/bin/unshare", "--user", "--map-root-user", "--net", "--mount", "--pid", "--fork", "/bin/true"]
        let (fullU, unshareMedian) = try sideBySide(iterations: iterations, subject: { try sandboxed(full) }, reference: { try spawnAndWait(unshare) })
        rows.append(BenchRow(name: "spawn+exit /bin/true, full mode", subjectMedian: fullU, referenceName: "unshare user+net+mount+pid", referenceMedian: unshareMedian,
                             iterations: iterations, note: "target: within 1.25× (ratio ≥ 0.8); driftbox also mounts, Landlock, seccomp"))
        let bwrap = try bwrapArguments(workspace: ws)
        let programPath = ws + ".bpf"
        try Data(full.filterProgram).write(to: URL(fileURLWithPath: programPath))
        defer { try? FileManager.default.removeItem(atPath: programPath) }
        let (fullB, bwrapMedian) = try sideBySide(iterations: iterations, subject: { try sandboxed(full) },
                                                  reference: { try spawnAndWait(bwrap, fd3: programPath) })
        rows.append(BenchRow(name: "spawn+exit /bin/true, full mode", subjectMedian: fullB, referenceName: "bwrap, same mounts + same seccomp program", referenceMedian: bwrapMedian,
                             iterations: iterations, note: "target: ≥ 2× faster"))
        let (red, bare2) = try sideBySide(iterations: iterations, subject: { try sandboxed(reduced) }, reference: { try spawnAndWait(["/bin/true"]) })
        rows.append(BenchRow(name: "spawn+exit /bin/true, reduced mode", subjectMedian: red, referenceName: "bare posix_spawn", referenceMedian: bare2,
                             iterations: iterations, note: "no namespaces: Landlock + seccomp + rlimits"))
        rows.append(try syscallCost(full, workspace: ws))
        return rows
    }

    /// bwrap with the isolation driftbox's full mode sets up (and the same BPF program on fd 3).
    static func bwrapArguments(workspace: String) throws -> [String] {
        let home = NSHomeDirectory()
        return ["/usr/bin/bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--ro-bind", "/", "/", "--dev-bind", "/dev", "/dev",
                "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/run", "--tmpfs", "/dev/shm", "--tmpfs", home,
                "--bind", workspace, workspace,
                "--chdir", workspace, "--seccomp", "3", "/bin/true"]
    }

    /// ns per getppid() with the filter (inside the sandbox) and without (same binary on the host).
    static func syscallCost(_ sandbox: Sandbox, workspace: String) throws -> BenchRow {
        let source = """
        #include <stdio.h>
        #include <time.h>
        #include <unistd.h>
        #include <sys/syscall.h>
        int main(void) {
            struct timespec a, b; const long n = 2000000;
            clock_gettime(CLOCK_MONOTONIC, &a);
            for (long i = 0; i < n; i++) syscall(SYS_getppid);
            clock_gettime(CLOCK_MONOTONIC, &b);
            printf("%.3f\\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
            return 0;
        }
        """
        try source.write(toFile: workspace + "/loop.c", atomically: false, encoding: .utf8)
        try spawnAndWait(["/usr/bin/cc", "-O2", "-o", workspace + "/loop", workspace + "/loop.c"])
        var filtered: [Double] = [], bare: [Double] = []
        for _ in 0..<5 {
            let r = try sandbox.runBlocking(SandboxedCommand("./loop", workspace: workspace))
            filtered.append((Double(r.stdout.text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? .nan) / 1e9)
            bare.append((Double(try capture([workspace + "/loop"]).trimmingCharacters(in: .whitespacesAndNewlines)) ?? .nan) / 1e9)
        }
        let (f, b) = (median(filtered), median(bare))
        return BenchRow(name: "getppid() per call, \(sandbox.filterInstructionCount)-instruction filter", subjectMedian: f,
                        referenceName: "same loop, no filter", referenceMedian: b, iterations: 5,
                        note: String(format: "%.0f ns vs %.0f ns: the filter costs %.0f ns per syscall (2M calls per run)", f * 1e9, b * 1e9, (f - b) * 1e9))
    }

    /// posix_spawns argv (stdout/stderr to /dev/null) and waits; `fd3` is opened read-only as fd 3.
    static func spawnAndWait(_ argv: [String], fd3: String? = nil) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        if let fd3 { posix_spawn_file_actions_addopen(&actions, 3, fd3, O_RDONLY, 0) }
        var pid: pid_t = 0
        let cargs = argv.map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) } }
        let rc = posix_spawn(&pid, argv[0], &actions, nil, cargs, environ)
        guard rc == 0 else { throw BenchFailure("posix_spawn \(argv[0]) failed: \(String(cString: strerror(rc)))") }
        let status = try Processes.wait(for: pid)?.rawValue ?? -1
        guard status == 0 else { throw BenchFailure("\(argv.joined(separator: " ")) exited with wait status \(status)") }
    }

    static func capture(_ argv: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}

/// A benchmark that could not run as intended.
struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
