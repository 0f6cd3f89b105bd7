import Glibc
import Posix

/// A sandbox policy: which system calls are denied with which errno, which socket families may
/// be created, whether the network is open, and the resource limits of every command.
///
/// Policies are data: see ``Policy/parse(_:file:)`` for the text format (documented in
/// docs/sandbox.md) and `sandbox/policies/` for the profiles that ship with driftbox.
public struct Policy: Sendable, Equatable {
    /// The policy's name, from its `policy` line.
    public var name: String
    /// Whether commands reach the network.
    public var network: NetworkAccess
    /// The socket families a command may create (nil: no restriction).
    public var socketFamilies: Set<SocketFamily>?
    /// The deny rules, in file order.
    public var rules: [SyscallRule]
    /// Resource limits applied to every command.
    public var limits: ResourceLimits

    /// Creates a policy from its parts.
    /// - Parameters:
    ///   - name: the policy's name.
    ///   - network: whether the network is open.
    ///   - socketFamilies: allowed socket families, nil for no restriction.
    ///   - rules: deny rules.
    ///   - limits: resource limits.
    public init(name: String, network: NetworkAccess = .off, socketFamilies: Set<SocketFamily>? = nil,
                rules: [SyscallRule] = [], limits: ResourceLimits = ResourceLimits()) {
        self.name = name
        self.network = network
        self.socketFamilies = socketFamilies
        self.rules = rules
        self.limits = limits
    }
}

/// Whether a sandboxed command reaches the network.
public enum NetworkAccess: String, Sendable, Equatable {
    /// Loopback only (full mode: a private network namespace; reduced mode: INET sockets denied).
    case off
    /// The host's network; recorded as reduced isolation.
    case on
}

/// A socket address family a policy can allow.
public enum SocketFamily: String, Sendable, Hashable, CaseIterable {
    /// AF_UNIX.
    case unix
    /// AF_INET.
    case inet
    /// AF_INET6.
    case inet6
    /// AF_NETLINK with protocol NETLINK_ROUTE only.
    case netlinkRoute = "netlink-route"

    /// The AF_* number.
    public var number: UInt64 {
        switch self {
        case .unix: 1
        case .inet: 2
        case .inet6: 10
        case .netlinkRoute: 16
        }
    }
}

/// One deny rule: a system call (by name or number), optional argument conditions, an errno.
public struct SyscallRule: Sendable, Equatable {
    /// The system call this rule matches.
    public var syscall: SyscallName
    /// The errno the call fails with when the rule matches.
    public var errno: Int32
    /// All conditions must hold for the rule to match (at most one per argument).
    public var conditions: [ArgumentCondition]
    /// Where the rule was declared (`file:line`), for error messages.
    public var origin: String

    /// Creates a rule.
    /// - Parameters:
    ///   - syscall: the system call.
    ///   - errno: the errno returned when the rule matches.
    ///   - conditions: conditions on arguments, at most one per argument.
    ///   - origin: where the rule was declared, for messages.
    public init(syscall: SyscallName, errno: Int32, conditions: [ArgumentCondition] = [], origin: String = "<code>") {
        self.syscall = syscall
        self.errno = errno
        self.conditions = conditions
        self.origin = origin
    }
}

/// A system call named as in the kernel's table (`ptrace`) or by raw native number.
public enum SyscallName: Sendable, Equatable {
    /// A name libseccomp resolves for the native architecture.
    case named(String)
    /// A raw native system call number (used for numbers newer than the reviewed list).
    case number(Int32)
}

/// A comparison on one system call argument.
public struct ArgumentCondition: Sendable, Equatable {
    /// How the argument is compared.
    public enum Comparison: String, Sendable, Equatable {
        /// The low 32 bits equal the value (`argN == V`; masked with 0xffffffff).
        case equals32 = "=="
        /// Every bit of the value is set in the argument (`argN has V`).
        case hasBits = "has"
        /// The full 64-bit argument is greater than the value (`argN > V`).
        case greaterThan = ">"
        /// The full 64-bit argument differs from the value (`argN != V`).
        case notEqual = "!="
    }

    /// The argument index, 0...5.
    public var index: Int
    /// The comparison.
    public var comparison: Comparison
    /// The value compared against.
    public var value: UInt64

    /// Creates a condition.
    /// - Parameters:
    ///   - index: argument index 0...5.
    ///   - comparison: how to compare.
    ///   - value: the value compared against.
    public init(index: Int, comparison: Comparison, value: UInt64) {
        self.index = index
        self.comparison = comparison
        self.value = value
    }
}

/// Resource limits (soft = hard) set by the launcher before exec; nil means unlimited.
public struct ResourceLimits: Sendable, Equatable {
    /// RLIMIT_CORE in bytes.
    public var core: UInt64? = 0
    /// RLIMIT_NOFILE.
    public var openFiles: UInt64? = 1024
    /// RLIMIT_FSIZE in bytes.
    public var fileSize: UInt64? = 1 << 30
    /// RLIMIT_NPROC (per user namespace in full mode).
    public var processes: UInt64? = 512
    /// RLIMIT_CPU in seconds.
    public var cpuSeconds: UInt64? = 600
    /// RLIMIT_AS in bytes.
    public var addressSpace: UInt64?

    /// Creates limits with driftbox's defaults.
    public init() {}

    /// The launcher's `--rlimit NAME=VALUE` arguments.
    var launcherArguments: [String] {
        let pairs: [(String, UInt64?)] = [("core", core), ("nofile", openFiles), ("fsize", fileSize),
                                           ("nproc", processes), ("cpu", cpuSeconds), ("as", addressSpace)]
        return pairs.flatMap { ["--rlimit", "\($0.0)=\($0.1.map(String.init) ?? "inf")"] }
    }
}

extension Policy {
    /// The errno names a policy may use.
    static let errnoNames: [String: Int32] = [
        "EPERM": EPERM, "EACCES": EACCES, "ENOSYS": ENOSYS, "EAFNOSUPPORT": EAFNOSUPPORT,
        "EINVAL": EINVAL, "EOPNOTSUPP": EOPNOTSUPP, "ENOTSUP": ENOTSUP,
    ]

    /// Parses a policy's text.
    ///
    /// The format is line based; `#` starts a comment; the first word of a line is a directive:
    /// ```
    /// policy NAME
    /// network off|on
    /// socket-families unix inet inet6 netlink-route
    /// deny ERRNO SYSCALL...                       deny these calls outright
    /// deny ERRNO SYSCALL if argN OP VALUE [and argM OP VALUE]
    /// deny ERRNO numbers FIRST-LAST               raw syscall numbers (newer than the reviewed list)
    /// limit core|nofile|fsize|nproc|cpu|as VALUE|unlimited    (VALUE may end in K, M or G)
    /// ```
    /// OP is `==` (32-bit, masked), `has` (all bits set), `>` or `!=` (64-bit).
    /// - Parameters:
    ///   - text: the policy text.
    ///   - file: the file name used in error messages.
    /// - Returns: the policy.
    /// - Throws: ``SandboxError`` with code `.invalidPolicy` and a `file:line: what; what to do` message.
    public static func parse(_ text: String, file: String) throws -> Policy {
        var parser = PolicyParser(file: file)
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            try parser.consume(line: raw, number: index + 1)
        }
        return try parser.finish()
    }

    /// Loads a policy file.
    /// - Parameter path: the file's path.
    /// - Returns: the parsed policy.
    /// - Throws: ``SandboxError`` if the file cannot be read or is invalid.
    public static func load(path: String) throws -> Policy {
        let text: String
        do { text = try readTextFileOrThrow(path) } catch {
            throw SandboxError(.invalidPolicy, "\(path): cannot read the policy file; check the path", errno: (error as? PosixError)?.errno?.rawValue)
        }
        return try parse(text, file: path)
    }

    /// Loads one of the named profiles (`default`, `network`) from the policy directory.
    ///
    /// The directory is `$DRIFTBOX_POLICY_DIR` when set, else the first `sandbox/policies` found
    /// walking up from the running executable (a checkout with its `.build`).
    /// - Parameter name: the profile's name (the file is `NAME.policy`).
    /// - Returns: the parsed policy.
    /// - Throws: ``SandboxError`` if no policy directory holds the file or it is invalid.
    public static func named(_ name: String) throws -> Policy {
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }), !name.isEmpty else {
            throw SandboxError(.invalidPolicy, "policy name '\(name)' may only hold letters, digits, '-' and '_'")
        }
        for dir in policyDirectories() {
            let path = dir + "/" + name + ".policy"
            if access(path, R_OK) == 0 { return try load(path: path) }
        }
        throw SandboxError(.invalidPolicy, "no policy '\(name)' in \(policyDirectories().joined(separator: ", ")); set DRIFTBOX_POLICY_DIR to the folder holding \(name).policy")
    }

    /// Candidate policy directories, most specific first.
    static func policyDirectories() -> [String] {
        if let env = getenv("DRIFTBOX_POLICY_DIR") { return [String(cString: env)] }
        var dirs: [String] = []
        var dir = executableDirectory()
        while dir.count > 1 {
            dirs.append(dir + "/sandbox/policies")
            dir = parentDirectory(dir)
        }
        return dirs
    }
}

/// Reads a whole text file, or nil.
func readTextFile(_ path: String) -> String? { try? readTextFileOrThrow(path) }

/// The whole of a small text file (policy files, `/proc` entries), at most 16 MiB.
/// - Throws: `PosixError` naming the call that failed.
func readTextFileOrThrow(_ path: String) throws -> String {
    let bytes = try FileDescriptor.open(path, O_RDONLY).closeAfter { try $0.readToEnd(limit: 16 << 20, path: path) }
    return String(decoding: bytes, as: UTF8.self)
}

/// The folder of the running executable (tests: the test bundle's folder).
func executableDirectory() -> String {
    guard let target = try? FileDescriptor.openDirectory(path: "/proc/self").closeAfter({ try $0.linkTarget(of: Array("exe".utf8)) }),
          !target.isEmpty else { return "/" }
    return parentDirectory(String(decoding: target, as: UTF8.self))
}

/// The parent of an absolute path.
func parentDirectory(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
    return String(path[..<slash])
}

/// Line-by-line policy parser with `file:line` errors.
struct PolicyParser {
    let file: String
    var name: String?
    var network: NetworkAccess?
    var families: Set<SocketFamily>?
    var rules: [SyscallRule] = []
    var limits = ResourceLimits()
    var seenLimits: Set<String> = []

    init(file: String) { self.file = file }

    func error(_ line: Int, _ message: String) -> SandboxError {
        SandboxError(.invalidPolicy, "\(file):\(line): \(message)")
    }

    mutating func consume(line raw: Substring, number: Int) throws {
        let content = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let words = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
        guard let directive = words.first else { return }
        let rest = Array(words.dropFirst())
        switch directive {
        case "policy":
            guard rest.count == 1 else { throw error(number, "'policy' wants one name, got \(rest.count) words; write 'policy NAME'") }
            guard name == nil else { throw error(number, "second 'policy' line; a file holds one policy") }
            name = rest[0]
        case "network":
            guard rest.count == 1, let value = NetworkAccess(rawValue: rest[0]) else {
                throw error(number, "'network' wants 'off' or 'on', got '\(rest.joined(separator: " "))'")
            }
            guard network == nil else { throw error(number, "second 'network' line; keep one") }
            network = value
        case "socket-families":
            guard families == nil else { throw error(number, "second 'socket-families' line; list all families on one line") }
            var set: Set<SocketFamily> = []
            for word in rest {
                guard let family = SocketFamily(rawValue: word) else {
                    throw error(number, "unknown socket family '\(word)'; use \(SocketFamily.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                set.insert(family)
            }
            families = set
        case "deny":
            rules += try parseDeny(rest, line: number)
        case "limit":
            try parseLimit(rest, line: number)
        default:
            throw error(number, "unknown directive '\(directive)'; use policy, network, socket-families, deny or limit")
        }
    }

    func parseDeny(_ words: [String], line: Int) throws -> [SyscallRule] {
        guard words.count >= 2 else { throw error(line, "'deny' wants an errno and at least one system call; write 'deny EPERM ptrace'") }
        guard let errnoValue = Policy.errnoNames[words[0]] else {
            throw error(line, "unknown errno '\(words[0])'; use one of \(Policy.errnoNames.keys.sorted().joined(separator: ", "))")
        }
        let origin = "\(file):\(line)"
        if words[1] == "numbers" {
            let bounds = words.count == 3 ? words[2].split(separator: "-").compactMap { Int32($0) } : []
            guard bounds.count == 2, bounds[0] >= 0, bounds[0] <= bounds[1], bounds[1] < 4096 else {
                throw error(line, "'deny \(words[0]) numbers' wants a range FIRST-LAST of system call numbers below 4096, e.g. 451-549")
            }
            return (bounds[0]...bounds[1]).map { SyscallRule(syscall: .number($0), errno: errnoValue, origin: origin) }
        }
        guard let ifIndex = words.firstIndex(of: "if") else {
            return words.dropFirst().map { SyscallRule(syscall: .named($0), errno: errnoValue, origin: origin) }
        }
        guard ifIndex == 2 else { throw error(line, "a conditional rule names exactly one system call before 'if'") }
        let conditions = try parseConditions(Array(words[(ifIndex + 1)...]), line: line)
        return [SyscallRule(syscall: .named(words[1]), errno: errnoValue, conditions: conditions, origin: origin)]
    }

    func parseConditions(_ words: [String], line: Int) throws -> [ArgumentCondition] {
        var result: [ArgumentCondition] = []
        var index = 0
        while index < words.count {
            if !result.isEmpty {
                guard words[index] == "and" else { throw error(line, "expected 'and' between conditions, got '\(words[index])'") }
                index += 1
            }
            guard index + 3 <= words.count else { throw error(line, "incomplete condition; write 'argN OP VALUE' with OP one of ==, has, >, !=") }
            let argWord = words[index]
            guard argWord.hasPrefix("arg"), let arg = Int(argWord.dropFirst(3)), (0...5).contains(arg) else {
                throw error(line, "'\(argWord)' is not an argument; use arg0 … arg5")
            }
            guard let comparison = ArgumentCondition.Comparison(rawValue: words[index + 1]) else {
                throw error(line, "unknown comparison '\(words[index + 1])'; use ==, has, > or !=")
            }
            guard let value = parseNumber(words[index + 2]) else {
                throw error(line, "'\(words[index + 2])' is not a number; write decimal or 0x-prefixed hex")
            }
            if result.contains(where: { $0.index == arg }) {
                throw error(line, "two comparisons on \(argWord) in one rule; libseccomp rejects that (the rule would silently vanish): write two rules")
            }
            result.append(ArgumentCondition(index: arg, comparison: comparison, value: value))
            index += 3
        }
        guard !result.isEmpty else { throw error(line, "'if' without a condition") }
        return result
    }

    mutating func parseLimit(_ words: [String], line: Int) throws {
        guard words.count == 2 else { throw error(line, "'limit' wants a name and a value; write 'limit nofile 1024'") }
        guard !seenLimits.contains(words[0]) else { throw error(line, "limit '\(words[0])' set twice; keep one") }
        seenLimits.insert(words[0])
        let value: UInt64?
        if words[1] == "unlimited" { value = nil } else {
            guard let v = parseSize(words[1]) else { throw error(line, "'\(words[1])' is not a limit; write a number (K, M, G suffixes allowed) or 'unlimited'") }
            value = v
        }
        switch words[0] {
        case "core": limits.core = value
        case "nofile": limits.openFiles = value
        case "fsize": limits.fileSize = value
        case "nproc": limits.processes = value
        case "cpu": limits.cpuSeconds = value
        case "as": limits.addressSpace = value
        default: throw error(line, "unknown limit '\(words[0])'; use core, nofile, fsize, nproc, cpu or as")
        }
    }

    func finish() throws -> Policy {
        guard let name else { throw SandboxError(.invalidPolicy, "\(file):1: no 'policy NAME' line; add one at the top") }
        return Policy(name: name, network: network ?? .off, socketFamilies: families, rules: rules, limits: limits)
    }

    func parseNumber(_ word: String) -> UInt64? {
        word.hasPrefix("0x") ? UInt64(word.dropFirst(2), radix: 16) : UInt64(word)
    }

    func parseSize(_ word: String) -> UInt64? {
        let multipliers: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        if let last = word.last, let m = multipliers[last] {
            return UInt64(word.dropLast()).map { $0 * m }
        }
        return UInt64(word)
    }
}
