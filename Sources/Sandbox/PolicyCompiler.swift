import CSeccomp
import Glibc
import Posix

/// A policy compiled once into a classic BPF program, held in a sealed memfd that every launcher
/// reads (with pread, so concurrent spawns never race on a file offset).
final class CompiledPolicy: Sendable {
    /// The sealed memfd holding the program; kept at fd >= 10 so spawning can dup2 it freely.
    let fd: Int32
    /// The program's size in BPF instructions.
    let instructionCount: Int

    /// Compiles `policy` for the native architecture.
    /// - Parameters:
    ///   - policy: the policy.
    ///   - networkNamespace: whether commands get a private network namespace; without one and
    ///     with the network off, INET and INET6 sockets are denied too.
    /// - Throws: ``SandboxError`` `.policyCompilation` naming the rule libseccomp refused.
    init(_ policy: Policy, networkNamespace: Bool) throws {
        guard let ctx = seccomp_init(cseccomp_act_allow()) else {
            throw SandboxError(.policyCompilation, "seccomp_init failed; is libseccomp installed correctly?")
        }
        defer { seccomp_release(ctx) }
        try Self.check(seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, cseccomp_act_kill_process()), "setting the bad-architecture action to kill")
        try Self.check(seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2), "enabling the binary-tree layout")
        for rule in policy.rules + Self.socketRules(policy, networkNamespace: networkNamespace) {
            try Self.add(rule, to: ctx)
        }
        let memfd = try SandboxError.calling("storing the compiled policy") { try FileDescriptor.memoryFile(name: "driftbox-policy-\(policy.name)") }
        let high = try SandboxError.calling("moving the policy fd") { try memfd.closeAfter { try $0.duplicate(atLeast: 10) } }
        let rc = seccomp_export_bpf(ctx, high.rawValue)
        guard rc == 0 else {
            high.close()
            throw SandboxError(.policyCompilation, "seccomp_export_bpf failed for policy '\(policy.name)'", errno: -rc)
        }
        let size: Int64
        do {
            try high.sealAgainstChanges()
            size = try high.status().size
        } catch {
            high.close()
            throw SandboxError.system(error, "sealing the compiled policy")
        }
        fd = high.rawValue
        instructionCount = Int(size) / 8
    }

    deinit { close(fd) }

    /// The compiled program's bytes (for inspection and tests).
    func programBytes() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: instructionCount * 8)
        let n = try? FileDescriptor(rawValue: fd).read(into: &bytes, at: 0)
        return n == bytes.count ? bytes : []
    }

    private static func check(_ rc: Int32, _ what: String) throws {
        guard rc == 0 else { throw SandboxError(.policyCompilation, "libseccomp failed \(what)", errno: -rc) }
    }

    private static func add(_ rule: SyscallRule, to ctx: scmp_filter_ctx) throws {
        let number: Int32
        switch rule.syscall {
        case .number(let n): number = n
        case .named(let name):
            number = seccomp_syscall_resolve_name(name)
            guard number != __NR_SCMP_ERROR else {
                throw SandboxError(.policyCompilation, "\(rule.origin): unknown system call '\(name)' for this architecture; check the spelling against the kernel's syscall table")
            }
        }
        let comparisons = rule.conditions.map { c -> scmp_arg_cmp in
            switch c.comparison {
            case .equals32: scmp_arg_cmp(arg: UInt32(c.index), op: SCMP_CMP_MASKED_EQ, datum_a: 0xffff_ffff, datum_b: c.value & 0xffff_ffff)
            case .hasBits: scmp_arg_cmp(arg: UInt32(c.index), op: SCMP_CMP_MASKED_EQ, datum_a: c.value, datum_b: c.value)
            case .greaterThan: scmp_arg_cmp(arg: UInt32(c.index), op: SCMP_CMP_GT, datum_a: c.value, datum_b: 0)
            case .notEqual: scmp_arg_cmp(arg: UInt32(c.index), op: SCMP_CMP_NE, datum_a: c.value, datum_b: 0)
            }
        }
        let rc = comparisons.withUnsafeBufferPointer {
            seccomp_rule_add_exact_array(ctx, cseccomp_act_errno(UInt32(rule.errno)), number, UInt32($0.count), $0.baseAddress)
        }
        guard rc == 0 else {
            throw SandboxError(.policyCompilation, "\(rule.origin): libseccomp rejected the rule for \(rule.syscall) (rc \(rc)); fix or split the rule", errno: -rc)
        }
    }

    /// Rules that implement the policy's socket-family list and the network switch.
    static func socketRules(_ policy: Policy, networkNamespace: Bool) -> [SyscallRule] {
        let deny = EAFNOSUPPORT
        let origin = "socket-families"
        let inetDenied = policy.network == .off && !networkNamespace
        func familyIs(_ n: UInt64) -> [ArgumentCondition] { [ArgumentCondition(index: 0, comparison: .equals32, value: n)] }
        guard let families = policy.socketFamilies else {
            guard inetDenied else { return [] }
            return [SocketFamily.inet, .inet6].map { SyscallRule(syscall: .named("socket"), errno: deny, conditions: familyIs($0.number), origin: origin) }
        }
        var allowed = Set(families.map(\.number))
        if inetDenied { allowed.subtract([SocketFamily.inet.number, SocketFamily.inet6.number]) }
        let afMax: UInt64 = 46
        var rules = (0..<afMax).filter { !allowed.contains($0) }.map {
            SyscallRule(syscall: .named("socket"), errno: deny, conditions: familyIs($0), origin: origin)
        }
        rules.append(SyscallRule(syscall: .named("socket"), errno: deny,
                                 conditions: [ArgumentCondition(index: 0, comparison: .greaterThan, value: afMax - 1)], origin: origin))
        if families.contains(.netlinkRoute) {
            rules.append(SyscallRule(syscall: .named("socket"), errno: deny,
                                     conditions: familyIs(SocketFamily.netlinkRoute.number) + [ArgumentCondition(index: 2, comparison: .notEqual, value: 0)],
                                     origin: origin))
        }
        rules.append(SyscallRule(syscall: .named("socketpair"), errno: deny,
                                 conditions: [ArgumentCondition(index: 0, comparison: .notEqual, value: SocketFamily.unix.number)], origin: origin))
        return rules
    }
}
