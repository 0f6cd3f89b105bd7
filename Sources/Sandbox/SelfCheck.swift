import Glibc

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
        let start = monotonicNanos()
        let slow = try await sh("sleep 1000 & sleep 1000", timeout: .seconds(1))
        let took = Double(monotonicNanos() - start) / 1e9
        results.append(SelfCheckResult(name: "a timeout kills the process tree promptly", passed: slow.timedOut && took < 2.5,
                                       detail: "returned after \(Int(took * 1000)) ms, \(slow.termination)"))
        return results
    }
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
