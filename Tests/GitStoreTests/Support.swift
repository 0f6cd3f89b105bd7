import Foundation
import Testing
@_exported import DriftboxTestSupport
@testable import GitStore

/// The bundled `tiny` fixture folder.
let tinyFixture = packageRoot + "/Fixtures/repos/tiny"

/// Runs the git CLI with a configuration isolated from this machine's (``runGit``), and fixed
/// identities and dates when `signature` is given; its output holds standard output and error.
@discardableResult
func git(_ arguments: [String], in directory: String, signature: Signature? = nil, allowFailure: Bool = false) throws -> HostRun {
    var environment: [String: String] = [:]
    if let signature {
        let date = "\(signature.time) \(signature.offsetMinutes >= 0 ? "+" : "-")\(String(format: "%02d%02d", abs(signature.offsetMinutes) / 60, abs(signature.offsetMinutes) % 60))"
        for role in ["AUTHOR", "COMMITTER"] {
            environment["GIT_\(role)_NAME"] = signature.name
            environment["GIT_\(role)_EMAIL"] = signature.email
            environment["GIT_\(role)_DATE"] = date
        }
    }
    return try runHost(["git"] + arguments, in: directory, environment: isolatedGitEnvironment().merging(environment) { $1 },
                       allowFailure: allowFailure, combineOutput: true)
}

/// The trimmed standard output of a git CLI run.
func gitOutput(_ arguments: [String], in directory: String) throws -> String {
    try git(arguments, in: directory).output.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// A signature for tests.
let alice = Signature(name: "Alice Example", email: "alice@example.invalid", time: 1_767_300_000, offsetMinutes: 60)

/// The git CLI whose patch text the diff tests compare byte for byte: the indent heuristic is the
/// default from 2.14 on and `git init -b` exists from 2.28 on (checked against git 2.39). An
/// older git is a skip with this reason, not a failure of the diff.
let patchTextGit = HostRequirement.gitVersion(atLeast: [2, 28])

/// Whether `git fsck` found nothing but notices (their wording differs between git versions).
func onlyNotices(_ fsckOutput: String) -> Bool {
    fsckOutput.split(separator: "\n").allSatisfy { $0.hasPrefix("notice:") }
}
