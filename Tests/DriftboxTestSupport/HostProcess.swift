import Foundation
import Glibc

/// The end of a host program run to completion.
public struct HostRun: Sendable {
    /// Its exit status (or 128 + the signal that ended it).
    public var status: Int32
    /// Its standard output.
    public var output: String
    /// Its standard error.
    public var errors: String
    /// Its standard output as bytes.
    public var outputBytes: [UInt8]
    /// The signal that ended it, nil when it exited.
    public var signal: Int32?
}

/// The environment every git CLI run of the tests gets: this machine's and the user's
/// configuration ignored (`GIT_CONFIG_GLOBAL=/dev/null`, `GIT_CONFIG_NOSYSTEM=1`), no hooks, no
/// prompts, the C locale, nothing inherited from the caller (no `GIT_DIR` and the like) but `PATH`.
public func isolatedGitEnvironment(home: String = "/nonexistent") -> [String: String] {
    [
        "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
        "HOME": home, "LC_ALL": "C", "TZ": "UTC",
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": "core.hooksPath", "GIT_CONFIG_VALUE_0": "/dev/null",
        "GIT_CONFIG_KEY_1": "commit.gpgSign", "GIT_CONFIG_VALUE_1": "false",
        "GIT_TERMINAL_PROMPT": "0",
    ]
}

/// Runs a host program (a compiler, git, the built `driftbox`) to completion and returns its status
/// and output. Unless `allowFailure`, a status other than 0 is an error naming the command and
/// its standard error.
/// - Parameters:
///   - argv: the program's path (or a name looked up in `PATH` through `/usr/bin/env`) and arguments.
///   - directory: its working directory (the current one when nil).
///   - environment: its whole environment (this process's when nil).
///   - input: bytes for its standard input (none: standard input is empty).
///   - allowFailure: whether a non-zero status is returned instead of thrown.
///   - combineOutput: standard error goes to ``HostRun/output`` too, in order (``HostRun/errors``
///     stays empty).
/// - Throws: ``TestSupportError`` when it cannot start, or ends with a non-zero status.
@discardableResult
public func runHost(_ argv: [String], in directory: String? = nil, environment: [String: String]? = nil,
                    input: [UInt8] = [], allowFailure: Bool = false, combineOutput: Bool = false) throws -> HostRun {
    let process = Process()
    if argv[0].hasPrefix("/") {
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
    } else {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = argv
    }
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe(), inPipe = Pipe()
    process.standardOutput = out
    process.standardError = combineOutput ? out : err
    process.standardInput = inPipe
    let command = argv.joined(separator: " ")
    do { try process.run() } catch {
        throw TestSupportError("cannot start a host program", at: command, "install it or fix the path: \(error)")
    }
    // Both pipes are drained at once so a program filling one cannot block on it.
    let errorData = LockedData()
    if combineOutput {
        try? err.fileHandleForWriting.close()
        errorData.set(Data())
    } else {
        Thread { errorData.set(err.fileHandleForReading.readDataToEndOfFile()) }.start()
    }
    if !input.isEmpty { try? inPipe.fileHandleForWriting.write(contentsOf: Data(input)) }
    try? inPipe.fileHandleForWriting.close()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let errData = errorData.wait()
    let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    let run = HostRun(status: status, output: String(decoding: outData, as: UTF8.self), errors: String(decoding: errData, as: UTF8.self),
                      outputBytes: Array(outData), signal: process.terminationReason == .uncaughtSignal ? process.terminationStatus : nil)
    if status != 0 && !allowFailure {
        throw TestSupportError("a host program failed with status \(status)", at: command + (directory.map { " in \($0)" } ?? ""),
                               "its output: \((combineOutput ? run.output : run.errors).suffix(2000))")
    }
    return run
}

/// Runs the git CLI with ``isolatedGitEnvironment(home:)`` (plus `extraEnvironment`, such as fixed
/// identities and dates) and checks its exit status unless `allowFailure`.
/// - Throws: ``TestSupportError`` when git cannot start or fails.
@discardableResult
public func runGit(_ arguments: [String], in directory: String? = nil, extraEnvironment: [String: String] = [:],
                   allowFailure: Bool = false) throws -> HostRun {
    let environment = isolatedGitEnvironment().merging(extraEnvironment) { $1 }
    return try runHost(["git"] + arguments, in: directory, environment: environment, allowFailure: allowFailure)
}

/// The installed git's version as numbers (`git version 2.43.0` → [2, 43, 0]); empty when git
/// cannot run.
public let installedGitVersion: [Int] = {
    guard let run = try? runGit(["--version"]) else { return [] }
    let words = run.output.split(separator: " ")
    guard words.count >= 3 else { return [] }
    return words[2].split(separator: ".").prefix(3).compactMap { Int($0.prefix { $0.isNumber }) }
}()

/// The processes whose command line has `argument` as one of its words (from /proc, at most
/// 64 KiB of each command line read).
public func processes(withArgument argument: String) -> [Int32] {
    processes { words in words.contains { $0 == Array(argument.utf8) } }
}

/// The processes whose command line contains `text` anywhere.
public func processes(containing text: String) -> [Int32] {
    processes { words in String(decoding: Array(words.joined(separator: [0])), as: UTF8.self).contains(text) }
}

private func processes(matching test: ([[UInt8]]) -> Bool) -> [Int32] {
    guard let dir = opendir("/proc") else { return [] }
    defer { closedir(dir) }
    var found: [Int32] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard let pid = Int32(name), pid != getpid() else { continue }
        let fd = open("/proc/\(name)/cmdline", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { continue }
        let n = read(fd, &buffer, buffer.count)
        close(fd)
        guard n > 0 else { continue }
        if test(buffer[0..<n].split(separator: 0, omittingEmptySubsequences: false).map(Array.init)) { found.append(pid) }
    }
    return found
}

/// Data handed from one thread to another.
private final class LockedData: @unchecked Sendable {
    private let condition = NSCondition()
    private var data: Data?
    func set(_ value: Data) { condition.lock(); data = value; condition.signal(); condition.unlock() }
    func wait() -> Data {
        condition.lock()
        defer { condition.unlock() }
        while data == nil { condition.wait() }
        return data!
    }
}
