import Foundation
import Testing
@testable import GitStore

/// The package root, found from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// The bundled `tiny` fixture folder.
let tinyFixture = packageRoot + "/Fixtures/repos/tiny"

/// A fresh folder under the system's temporary folder, removed when the value goes away.
final class TemporaryFolder {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("driftbox-gitstore-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// `path/relative`.
    func callAsFunction(_ relative: String) -> String { path + "/" + relative }
}

/// Writes a text file, creating its folders.
func write(_ text: String, to path: String, executable: Bool = false) throws {
    try writeBytes(Array(text.utf8), to: path, executable: executable)
}

/// Writes a file of bytes, creating its folders.
func writeBytes(_ bytes: [UInt8], to path: String, executable: Bool = false) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    try FileManager.default.setAttributes([.posixPermissions: executable ? 0o755 : 0o644], ofItemAtPath: path)
}

/// The result of a git CLI run.
struct GitRun {
    var status: Int32
    var output: String
}

/// Runs the git CLI with a configuration isolated from this machine's, and fixed identities and
/// dates when `signature` is given.
@discardableResult
func git(_ arguments: [String], in directory: String, signature: Signature? = nil, allowFailure: Bool = false) throws -> GitRun {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["git"] + arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    var environment = [
        "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
        "HOME": directory, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
        "LC_ALL": "C",
    ]
    if let signature {
        let date = "\(signature.time) \(signature.offsetMinutes >= 0 ? "+" : "-")\(String(format: "%02d%02d", abs(signature.offsetMinutes) / 60, abs(signature.offsetMinutes) % 60))"
        for role in ["AUTHOR", "COMMITTER"] {
            environment["GIT_\(role)_NAME"] = signature.name
            environment["GIT_\(role)_EMAIL"] = signature.email
            environment["GIT_\(role)_DATE"] = date
        }
    }
    process.environment = environment
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let run = GitRun(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    if !allowFailure && run.status != 0 {
        throw GitError(kind: .invalidInput, function: "git \(arguments.joined(separator: " "))", message: "git CLI failed: \(run.output)", location: directory)
    }
    return run
}

/// The trimmed standard output of a git CLI run.
func gitOutput(_ arguments: [String], in directory: String) throws -> String {
    try git(arguments, in: directory).output.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// A signature for tests.
let alice = Signature(name: "Alice Example", email: "alice@example.invalid", time: 1_767_300_000, offsetMinutes: 60)
