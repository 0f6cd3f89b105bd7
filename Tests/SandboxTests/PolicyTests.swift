import Foundation
import Glibc
import Testing
@testable import Sandbox

@Suite("Policy format")
struct PolicyFormatTests {
    @Test("the shipped default policy parses into the documented rules")
    func defaultPolicy() throws {
        let policy = try shippedPolicy("default")
        #expect(policy.name == "default")
        #expect(policy.network == .off)
        // No unix sockets: connect() on a pathname socket is outside Landlock's reach.
        #expect(policy.socketFamilies == [.inet, .inet6, .netlinkRoute])
        #expect(policy.limits.core == 0)
        #expect(policy.limits.fileSize == 1 << 30)
        #expect(policy.limits.addressSpace == nil)
        let clone3 = try #require(policy.rules.first { $0.syscall == .named("clone3") })
        #expect(clone3.errno == ENOSYS)
        #expect(clone3.origin.hasSuffix("default.policy:63"))
        let cloneFlags = policy.rules.filter { $0.syscall == .named("clone") }.map { $0.conditions }
        #expect(cloneFlags.count == 7)
        #expect(cloneFlags.allSatisfy { $0.count == 1 && $0[0].index == 0 && $0[0].comparison == .hasBits })
        let tiocsti = try #require(policy.rules.first { $0.syscall == .named("ioctl") })
        #expect(tiocsti.conditions == [ArgumentCondition(index: 1, comparison: .equals32, value: 0x5412)])
        #expect(policy.rules.filter { if case .number = $0.syscall { true } else { false } }.count == 149)
        #expect(policy.rules.contains { $0.syscall == .named("openat2") && $0.errno == ENOSYS && $0.conditions.isEmpty })
    }

    @Test("the shipped policies refuse the setuid and setgid bits on every call that sets a mode", arguments: ["default", "network"])
    func setuidRules(name: String) throws {
        let policy = try shippedPolicy(name)
        // (system call, argument holding the mode, argument holding the open flags, if any)
        let calls: [(String, Int, Int?)] = [("chmod", 1, nil), ("fchmod", 1, nil), ("fchmodat", 2, nil), ("creat", 1, nil),
                                             ("mknod", 1, nil), ("mknodat", 2, nil), ("open", 2, 1), ("openat", 3, 2)]
        for (call, modeArg, flagsArg) in calls {
            for bit: UInt64 in [0o4000, 0o2000] {
                let modeCondition = ArgumentCondition(index: modeArg, comparison: .hasBits, value: bit)
                let flagSets: [UInt64?] = flagsArg == nil ? [nil] : [0o100, 0x400000]  // O_CREAT, __O_TMPFILE
                for flags in flagSets {
                    let expected = (flags.map { [ArgumentCondition(index: flagsArg!, comparison: .hasBits, value: $0)] } ?? []) + [modeCondition]
                    #expect(policy.rules.contains { $0.syscall == .named(call) && $0.errno == EPERM && $0.conditions == expected },
                            "\(name): no rule for \(call) with \(expected)")
                }
            }
        }
    }

    @Test("the shipped network policy differs from the default only in name and network")
    func networkPolicy() throws {
        var network = try shippedPolicy("network")
        let base = try shippedPolicy("default")
        #expect(network.network == .on)
        network.name = base.name
        network.network = base.network
        // The network policy keeps unix sockets: it opens the host network anyway.
        #expect(network.socketFamilies == base.socketFamilies.map { $0.union([.unix]) })
        #expect(network.rules.map(\.syscall) == base.rules.map(\.syscall))
        #expect(network.limits == base.limits)
    }

    @Test("malformed lines are reported with file:line, what is wrong and what to do", arguments: [
        ("policy p\nfrobnicate x", "p.policy:2: unknown directive 'frobnicate'; use policy, network, socket-families, deny or limit"),
        ("policy p\ndeny EWHAT ptrace", "p.policy:2: unknown errno 'EWHAT'; use one of EACCES, EAFNOSUPPORT, EINVAL, ENOSYS, ENOTSUP, EOPNOTSUPP, EPERM"),
        ("policy p\n\ndeny EPERM ioctl if arg1 > 5 and arg1 == 6", "p.policy:3: two comparisons on arg1 in one rule; libseccomp rejects that (the rule would silently vanish): write two rules"),
        ("policy p\ndeny EPERM ioctl if arg7 == 1", "p.policy:2: 'arg7' is not an argument; use arg0 … arg5"),
        ("policy p\ndeny EPERM ioctl if arg1 ~ 1", "p.policy:2: unknown comparison '~'; use ==, has, > or !="),
        ("policy p\ndeny EPERM ioctl if arg1 == 0xZZ", "p.policy:2: '0xZZ' is not a number; write decimal or 0x-prefixed hex"),
        ("policy p\ndeny ENOSYS numbers 500-400", "p.policy:2: 'deny ENOSYS numbers' wants a range FIRST-LAST of system call numbers below 4096, e.g. 451-549"),
        ("policy p\nnetwork maybe", "p.policy:2: 'network' wants 'off' or 'on', got 'maybe'"),
        ("policy p\nsocket-families unix ax25", "p.policy:2: unknown socket family 'ax25'; use unix, inet, inet6, netlink-route"),
        ("policy p\nlimit nofile lots", "p.policy:2: 'lots' is not a limit; write a number (K, M, G suffixes allowed) or 'unlimited'"),
        ("policy p\nlimit nofile 1\nlimit nofile 2", "p.policy:3: limit 'nofile' set twice; keep one"),
        ("network off", "p.policy:1: no 'policy NAME' line; add one at the top"),
    ])
    func errors(text: String, message: String) throws {
        let error = try #require(throws: SandboxError.self) { try Policy.parse(text, file: "p.policy") }
        #expect(error.code == .invalidPolicy)
        #expect(error.message == message)
    }

    @Test("comments, blank lines and size suffixes")
    func syntax() throws {
        let policy = try Policy.parse("# header\n\npolicy small   # trailing\nlimit fsize 3M\nlimit as unlimited\ndeny EPERM ptrace kcmp\n", file: "s.policy")
        #expect(policy.name == "small")
        #expect(policy.limits.fileSize == 3 << 20)
        #expect(policy.rules.map(\.syscall) == [.named("ptrace"), .named("kcmp")])
        #expect(policy.rules.map(\.origin) == ["s.policy:6", "s.policy:6"])
    }
}

@Suite("Policy compiling")
struct PolicyCompilingTests {
    @Test("the shipped policies compile to a BPF program that starts with the architecture check")
    func compiles() throws {
        for name in ["default", "network"] {
            let compiled = try CompiledPolicy(try shippedPolicy(name), networkNamespace: true)
            let bytes = compiled.programBytes()
            #expect(bytes.count == compiled.instructionCount * 8)
            #expect(compiled.instructionCount > 100 && compiled.instructionCount < 4096)
            // First instruction: load seccomp_data.arch (offset 4).
            #expect(bytes[0] == 0x20 && bytes[4] == 4)
        }
    }

    @Test("an unknown system call names the policy line")
    func unknownSyscall() throws {
        let policy = try Policy.parse("policy p\ndeny EPERM ptrace not_a_syscall", file: "p.policy")
        let error = try #require(throws: SandboxError.self) { try CompiledPolicy(policy, networkNamespace: true) }
        #expect(error.code == .policyCompilation)
        #expect(error.message == "p.policy:2: unknown system call 'not_a_syscall' for this architecture; check the spelling against the kernel's syscall table")
    }

    @Test("a rule libseccomp refuses is an error, never silently absent")
    func refusedRule() throws {
        let rule = SyscallRule(syscall: .named("ioctl"), errno: EPERM,
                               conditions: [ArgumentCondition(index: 1, comparison: .greaterThan, value: 1),
                                            ArgumentCondition(index: 1, comparison: .equals32, value: 2)],
                               origin: "code:1")
        let error = try #require(throws: SandboxError.self) { try CompiledPolicy(Policy(name: "p", rules: [rule]), networkNamespace: true) }
        #expect(error.code == .policyCompilation)
        #expect(error.message.hasPrefix("code:1: libseccomp rejected the rule for named(\"ioctl\")"))
    }

    @Test("socket rules follow the network switch and the namespace")
    func socketRules() throws {
        let policy = try shippedPolicy("default")
        let inet: [ArgumentCondition] = [ArgumentCondition(index: 0, comparison: .equals32, value: 2)]
        let withNamespace = CompiledPolicy.socketRules(policy, networkNamespace: true)
        let without = CompiledPolicy.socketRules(policy, networkNamespace: false)
        #expect(!withNamespace.contains { $0.conditions == inet })
        #expect(without.contains { $0.conditions == inet })
        // 46 families minus 3 allowed (inet, inet6, netlink), the > 45 rule, netlink protocol, socketpair.
        #expect(withNamespace.count == 43 + 3)
        #expect(without.count == 45 + 3)
        let unix: [ArgumentCondition] = [ArgumentCondition(index: 0, comparison: .equals32, value: 1)]
        #expect(withNamespace.contains { $0.syscall == .named("socket") && $0.conditions == unix && $0.errno == EAFNOSUPPORT })
        // socketpair is refused for every family but AF_UNIX, which stays allowed.
        #expect(withNamespace.filter { $0.syscall == .named("socketpair") }.map(\.conditions)
                == [[ArgumentCondition(index: 0, comparison: .notEqual, value: 1)]])
    }
}

// The time limit only stops a hang. It is generous: on a loaded 2-core host, synchronous suites
// of other targets can hold the task pool's threads for a minute before this test resumes.
@Suite("Modes", .serialized, .timeLimit(.minutes(5)))
struct ModeTests {
    static let options = SandboxOptions(policy: Policy(name: "p"))

    @Test("automatic picks full with namespaces and reduced without")
    func automatic() throws {
        #expect(try Sandbox.resolveMode(Self.options, HostCapabilities(userNamespaces: true, landlockABI: 6, seccomp: true, uid: 0)) == .full)
        #expect(try Sandbox.resolveMode(Self.options, HostCapabilities(userNamespaces: false, landlockABI: 1, seccomp: true, uid: 0)) == .reduced)
    }

    @Test("full is refused without namespaces; no seccomp, or reduced without Landlock, is refused unless unsafeNoSandbox")
    func refusals() throws {
        var full = Self.options
        full.mode = .full
        let noNS = HostCapabilities(userNamespaces: false, landlockABI: 3, seccomp: true, uid: 0)
        #expect(try #require(throws: SandboxError.self) { try Sandbox.resolveMode(full, noNS) }.code == .unsupportedHost)
        let noSeccomp = HostCapabilities(userNamespaces: true, landlockABI: 3, seccomp: false, uid: 0)
        #expect(try #require(throws: SandboxError.self) { try Sandbox.resolveMode(Self.options, noSeccomp) }.code == .unsupportedHost)
        var unsafe = Self.options
        unsafe.unsafeNoSandbox = true
        #expect(try Sandbox.resolveMode(unsafe, noSeccomp) == .unsandboxed)
        let noLandlock = HostCapabilities(userNamespaces: false, landlockABI: 0, seccomp: true, uid: 0)
        let refused = try #require(throws: SandboxError.self) { try Sandbox.resolveMode(Self.options, noLandlock) }
        #expect(refused.code == .unsupportedHost)
        #expect(refused.message.hasPrefix("reduced mode needs Landlock to confine files"))
        #expect(try Sandbox.resolveMode(unsafe, noLandlock) == .reduced)
    }

    @Test("the probe of this host reports seccomp and a Landlock ABI")
    func probe() throws {
        let caps = try HostCapabilities.probe(launcher: try Launcher.locate())
        #expect(caps.seccomp)
        #expect(caps.uid == getuid())
        #expect(caps.landlockABI >= 0)
        #expect(caps.bestMode == (caps.userNamespaces ? .full : .reduced))
    }

    @Test("a missing launcher is reported with what to do")
    func missingLauncher() throws {
        let error = try #require(throws: SandboxError.self) { try Launcher.locate(override: "/nonexistent/driftbox-launcher") }
        #expect(error.code == .launcherUnavailable)
        #expect(error.message == "no executable launcher at /nonexistent/driftbox-launcher; build it with 'swift build --product driftbox-launcher' or set DRIFTBOX_LAUNCHER")
    }
}

@Suite("Launch plan")
struct LaunchPlanTests {
    @Test("full mode hides home and hidden paths before binding the workspace and its git dir read-only")
    func fullPlan() throws {
        let ws = try TempDir("plan")
        defer { ws.cleanup() }
        try FileManager.default.createDirectory(atPath: ws.file(".git"), withIntermediateDirectories: true)
        let command = SandboxedCommand("make", ["test"], workspace: ws.path, environment: ["CI": "1"])
        let plan = LaunchPlan.make(command: command, workspace: ws.path, mode: .full, policy: Sandboxes.policy, home: "/home/runner",
                                   scratch: nil, hiddenPaths: ["/srv/runs"], readOnlyPaths: ["/srv/cache.git"])
        let args = plan.arguments.joined(separator: " ")
        #expect(args.hasPrefix("--mode full --workdir \(ws.path) --tmpfs /tmp --tmpfs /run --tmpfs /home/runner --tmpfs /srv/runs --bind-rw \(ws.path) --bind-ro \(ws.path)/.git --bind-ro /srv/cache.git --landlock-ro /usr "))
        #expect(args.contains("--landlock-ro /var/lib --landlock-ro \(ws.path)/.git --landlock-ro /srv/cache.git --landlock-rw \(ws.path) --landlock-rw /tmp --landlock-rw /run --landlock-rw /dev --landlock-rw /home/runner "))
        #expect(args.contains("--rlimit core=0 --rlimit nofile=1024 --rlimit fsize=1073741824 --rlimit nproc=512 --rlimit cpu=600 --rlimit as=inf"))
        #expect(args.hasSuffix("--seccomp-fd 3 --report-fd 4 --lifeline-fd 5 -- make test"))
        #expect(!args.contains("--host-net"))
        #expect(plan.environment == ["CI=1", "HOME=/home/runner", "LANG=C.UTF-8", "PATH=/usr/local/bin:/usr/bin:/bin", "TMPDIR=/tmp"])
    }

    @Test("reduced mode grants device files one by one, never /dev as a whole")
    func reducedPlan() throws {
        let command = SandboxedCommand("true", workspace: "/w")
        let plan = LaunchPlan.make(command: command, workspace: "/w", mode: .reduced, policy: Sandboxes.policy, home: "/root",
                                   scratch: "/dev/shm/s", hiddenPaths: [], readOnlyPaths: [])
        let rw = zip(plan.arguments, plan.arguments.dropFirst()).filter { $0.0 == "--landlock-rw" }.map(\.1)
        #expect(rw == ["/w"] + deviceFiles + ["/dev/shm/s"])
        #expect(!plan.arguments.contains("--tmpfs"))
        #expect(plan.environment.contains("HOME=/dev/shm/s"))
    }
}

@Suite("Launch plan without a home")
struct HomelessPlanTests {
    @Test("a runner without an existing home gets /tmp as HOME and no tmpfs over /")
    func homeless() {
        let plan = LaunchPlan.make(command: SandboxedCommand("true", workspace: "/w"), workspace: "/w", mode: .full, policy: Sandboxes.policy,
                                   home: "/", scratch: nil, hiddenPaths: [], readOnlyPaths: [])
        #expect(!plan.arguments.joined(separator: " ").contains("--tmpfs / "))
        #expect(!plan.arguments.joined(separator: " ").contains("--landlock-rw / "))
        #expect(plan.environment.contains("HOME=/tmp"))
    }
}
