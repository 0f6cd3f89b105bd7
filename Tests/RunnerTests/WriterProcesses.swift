import Foundation
import Runner
import Testing

/// The `driftbox` executable built next to this test bundle.
let driftboxExecutable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("driftbox").path

/// A `driftbox` process whose standard error goes to a file (never a pipe nobody reads).
final class DriftboxProcess {
    let process = Process()
    let errorFile: URL

    /// Starts `driftbox arguments`; with `shell`, through `/bin/sh -c` with that prefix (e.g. limits).
    init(_ arguments: [String], shellPrefix: String? = nil) throws {
        errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("driftbox-stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        if let shellPrefix {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            let quoted = ([driftboxExecutable] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
            process.arguments = ["-c", "\(shellPrefix); exec \(quoted)"]
        } else {
            process.executableURL = URL(fileURLWithPath: driftboxExecutable)
            process.arguments = arguments
        }
        process.currentDirectoryURL = packageRoot
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: errorFile)
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    /// Waits for the end; returns the exit status (a signal shows as 128 + signal) and standard error.
    @discardableResult
    func finish() -> (status: Int32, signaled: Bool, err: String) {
        process.waitUntilExit()
        defer { try? FileManager.default.removeItem(at: errorFile) }
        let err = String(decoding: FileManager.default.contents(atPath: errorFile.path) ?? Data(), as: UTF8.self)
        let signaled = process.terminationReason == .uncaughtSignal
        return (signaled ? 128 + process.terminationStatus : process.terminationStatus, signaled, err)
    }

    /// Runs `driftbox arguments` to the end.
    static func run(_ arguments: [String], shellPrefix: String? = nil) throws -> (status: Int32, signaled: Bool, err: String) {
        try DriftboxProcess(arguments, shellPrefix: shellPrefix).finish()
    }
}

/// The holder record in a run folder's lock file (read without locking).
func lockRecord(_ folder: URL) -> RunLock.Holder? {
    guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(RunLock.fileName).path), !data.isEmpty else { return nil }
    return try? JSONDecoder().decode(RunLock.Holder.self, from: data)
}

/// The state letter of a process in /proc (`T` stopped, `Z` zombie), nil when it is gone.
func processState(_ pid: Int32) -> Character? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = text.lastIndex(of: ")") else { return nil }
    return text[text.index(close, offsetBy: 2)...].first
}

/// Stops `process` with SIGSTOP as soon as `ready` holds; false when it ended first.
func stop(_ process: DriftboxProcess, when ready: () -> Bool) -> Bool {
    while process.process.isRunning {
        if ready() {
            guard process.process.isRunning else { return false }  // never a pid that may have been reused
            kill(process.pid, SIGSTOP)
            // Stopped for sure (or it ended in between).
            while let state = processState(process.pid), state != "T" {
                if state == "Z" { return false }
                usleep(200)
            }
            return processState(process.pid) == "T"
        }
        usleep(500)
    }
    return false
}

/// Lines in a file (0 when absent).
func lineCount(_ path: String) -> Int {
    FileManager.default.contents(atPath: path)?.reduce(0) { $0 + ($1 == 10 ? 1 : 0) } ?? 0
}

/// Copies a run folder (a fresh copy for each trial).
func copyRun(_ folder: URL, to copy: URL) throws {
    try? FileManager.default.removeItem(at: copy)
    try FileManager.default.copyItem(at: folder, to: copy)
}
