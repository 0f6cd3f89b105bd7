import Glibc
import Posix

/// One line of the sandbox self-check.
public struct SelfCheckResult: Sendable, Equatable {
    /// What was checked.
    public var name: String
    /// Whether the sandbox behaved as required; nil when the check could not run (tool missing).
    public var passed: Bool?
    /// What was observed.
    public var detail: String
}

extension Sandbox {
    /// Runs a quick self-test through the real launcher: a command runs, no privileges remain,
    /// the filter is active, writes outside the workspace and namespace creation are refused,
    /// clone3 falls back, the network is closed (when the policy says so) and a timeout kills.
    /// - Parameter workspace: an existing, writable scratch directory used as the workspace.
    /// - Returns: one result per check, in order.
    /// - Throws: ``SandboxError`` if a command could not be started at all.
    public func selfCheck(workspace: String) async throws -> [SelfCheckResult] {
        func sh(_ script: String, timeout: Duration = .seconds(20)) async throws -> SandboxResult {
            try await run(SandboxedCommand("/bin/sh", ["-c", script], workspace: workspace, timeout: timeout))
        }
        func check(_ name: String, _ script: String, expect: String) async throws -> SelfCheckResult {
            let r = try await sh(script)
            let out = r.stdout.text.trimmingCharacters(in: "\n")
            let detail = out == expect ? out : "expected '\(expect)', got '\(out)' (\(r.termination); \(r.stderr.text.trimmingCharacters(in: "\n")))"
            return SelfCheckResult(name: name, passed: out == expect, detail: detail.split(separator: "\n").joined(separator: " | "))
        }
        var results: [SelfCheckResult] = []
        results.append(try await check("a command runs in the workspace", "echo ok; pwd", expect: "ok\n\(realPath(workspace) ?? workspace)"))
        if mode != .unsandboxed {
            // The bounding set is emptied too when the launcher may (root, or full mode); with
            // no_new_privs and no permitted capabilities it can grant nothing anyway.
            results.append(try await check("no capabilities, no_new_privs, seccomp filter on",
                                            "grep -E '^(CapPrm|CapEff|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status | tr -s '\\t' ' '",
                                            expect: "CapPrm: 0000000000000000\nCapEff: 0000000000000000\nCapAmb: 0000000000000000\nNoNewPrivs: 1\nSeccomp: 2"))
            results.append(try await check("writes outside the workspace are refused", "touch /etc/driftbox-self-check 2>/dev/null; echo $?", expect: "1"))
        }
        let python = access("/usr/bin/python3", X_OK) == 0
        if mode != .unsandboxed && python {
            let script = """
            import ctypes, errno
            libc = ctypes.CDLL(None, use_errno=True)
            def err(r): return "ok" if r >= 0 else errno.errorcode[ctypes.get_errno()]
            print(err(libc.unshare(0x10000000)), err(libc.syscall(435, 0, 0)), err(libc.syscall(101, 16, 1, 0, 0)))
            """
            results.append(try await check("unshare EPERM, clone3 ENOSYS, ptrace EPERM", "python3 -c '\(script)'", expect: "EPERM ENOSYS EPERM"))
        } else {
            results.append(SelfCheckResult(name: "unshare EPERM, clone3 ENOSYS, ptrace EPERM", passed: nil, detail: python ? "unsandboxed" : "python3 missing"))
        }
        if options.policy.network == .off && mode != .unsandboxed && python {
            let script = """
            import socket
            try:
                socket.create_connection(("1.1.1.1", 80), timeout=3); print("connected")
            except OSError as e:
                print("refused")
            """
            results.append(try await check("the network is closed", "python3 -c '\(script)'", expect: "refused"))
        }
        // A timeout ends the whole tree: the shell and a background subshell, both carrying a
        // marker as their $0, must be gone once the run returns. Judged by these events, not by
        // time: a tree left alive would keep the run waiting for `sleep 1000`. The time taken is
        // shown; the only time bound is far above any scheduling delay of a loaded host (the
        // timeout is 1 s, the launcher's grace before SIGKILL 0.5 s) and far below the 1000 s a
        // missed kill would take.
        let marker = "driftbox-self-check-\(getpid())-\(monotonicNanos())"
        let slow = try await run(SandboxedCommand("/bin/sh", ["-c", "(while :; do sleep 1; done) & echo started; sleep 1000", marker],
                                                  workspace: workspace, timeout: .seconds(1)))
        // The command's own wall time (measured on the thread that waits for it), not the time
        // until this task resumes, which a busy task pool can delay.
        let took = Double(slow.wallTime.components.seconds) + Double(slow.wallTime.components.attoseconds) / 1e18
        let survivors = processes(withArgument: marker)
        let signaled = if case .signaled = slow.termination { true } else { false }
        let started = slow.stdout.text == "started\n"
        results.append(SelfCheckResult(name: "a timeout kills the process tree promptly",
                                       passed: slow.timedOut && signaled && started && survivors.isEmpty && took < 60,
                                       detail: "returned after \(Int(took * 1000)) ms, \(slow.termination)"
                                           + (started ? "" : ", the command did not start")
                                           + (survivors.isEmpty ? ", no process of the tree left" : ", still running: pids \(survivors)")))
        return results
    }
}

/// The processes whose command line has `argument` as one of its words (read from /proc, at
/// most 64 KiB each).
func processes(withArgument argument: String) -> [Int32] {
    guard let entries = try? FileDescriptor.openDirectory(path: "/proc").closeAfter({ try $0.entries() }) else { return [] }
    var found: [Int32] = []
    let wanted = Array(argument.utf8)
    var buffer = [UInt8](repeating: 0, count: 65536)
    for entry in entries {
        let name = String(decoding: entry.name, as: UTF8.self)
        guard let pid = Int32(name), let fd = try? FileDescriptor.open("/proc/\(name)/cmdline", O_RDONLY) else { continue }
        let n = (try? fd.closeAfter { fd in try buffer.withUnsafeMutableBytes { try fd.read(into: $0) } }) ?? 0
        guard n > 0 else { continue }
        if buffer[0..<n].split(separator: 0).contains(where: { Array($0) == wanted }) { found.append(pid) }
    }
    return found
}

extension String {
    /// The string without leading and trailing characters from `set`.
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}
