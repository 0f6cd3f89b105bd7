import Foundation
import Glibc
import Testing

/// What a test needs from the host or from the identity it runs as. A test declares it with
/// `.requires(_:)`, so a host without it shows the test as skipped with the reason.
public enum HostRequirement: Sendable, CustomStringConvertible {
    /// The runner is root (uid 0), e.g. to change owners.
    case root
    /// The runner is not root, e.g. to be refused a file root could read.
    case notRoot
    /// An executable at this path (a tool the test drives).
    case executable(String)
    /// The installed git is at least this version (for texts older gits write differently).
    case gitVersion(atLeast: [Int])

    /// Whether the host and the runner meet it.
    public var isMet: Bool {
        switch self {
        case .root: return geteuid() == 0
        case .notRoot: return geteuid() != 0
        case .executable(let path): return access(path, X_OK) == 0
        case .gitVersion(let least): return !installedGitVersion.isEmpty && !installedGitVersion.lexicographicallyPrecedes(least)
        }
    }

    /// Whether it is something the host offers (a tool, a version), rather than who runs the
    /// tests. Under `CI`, a test skipped for a missing host feature is a failure: CI provides
    /// every feature the suite uses, so a skip there means a broken setup, not an honest gap.
    public var isHostFeature: Bool {
        switch self {
        case .root, .notRoot: return false
        case .executable, .gitVersion: return true
        }
    }

    /// What it is, in a few words (`root runner`, `/usr/bin/setpriv`, `git ≥ 2.28`).
    public var label: String {
        switch self {
        case .root: return "root runner"
        case .notRoot: return "non-root runner"
        case .executable(let path): return path
        case .gitVersion(let least): return "git ≥ \(least.map(String.init).joined(separator: "."))"
        }
    }

    /// Why a test with this requirement does not run here.
    public var description: String {
        switch self {
        case .root: return "needs a root runner (running as uid \(geteuid()))"
        case .notRoot: return "needs a runner that is not root (root reads and writes any file)"
        case .executable(let path): return "needs \(path), which is missing or not executable"
        case .gitVersion(let least):
            return "needs git \(least.map(String.init).joined(separator: ".")) or newer (installed: \(installedGitVersion.isEmpty ? "none" : installedGitVersion.map(String.init).joined(separator: ".")))"
        }
    }
}

/// Whether `CI` is set (to anything but the empty string).
public var isCI: Bool { ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty } ?? false }

extension Trait where Self == ConditionTrait {
    /// The test runs only where `requirement` is met; elsewhere it is skipped with the reason.
    /// Under `CI`, a missing host feature does not skip: the test runs and fails on it.
    public static func requires(_ requirement: HostRequirement) -> Self {
        .enabled(if: requirement.isMet || (isCI && requirement.isHostFeature), Comment(rawValue: requirement.description))
    }
}

/// Records a failure when `requirement` is not met (a test that got past `.requires` under `CI`).
public func expectMet(_ requirement: HostRequirement, sourceLocation: SourceLocation = #_sourceLocation) {
    if !requirement.isMet {
        Issue.record(Comment(rawValue: "CI is set: \(requirement.description)"), sourceLocation: sourceLocation)
    }
}
