import Foundation

/// What a finished program left: its status and its output.
public struct ProgramResult: Sendable {
    /// The exit status (for a killed program, what `Process` reports).
    public var status: Int32
    /// Standard output, as text.
    public var out: String
    /// Standard error, as text.
    public var err: String
}

/// A program started by ``startProgram(_:_:in:label:)``, its output going to files (neither can
/// fill up and stall it, as a pipe would).
public struct StartedProgram: @unchecked Sendable {
    /// The running process.
    public let process: Process
    let done: DispatchSemaphore
    let scratch: URL

    /// Waits for it to end, killing it after `limit` seconds (a guard against a hang only, never
    /// a measurement), and returns what it left; its output files are removed.
    public func finish(limit: Double = 300) -> ProgramResult {
        if done.wait(timeout: .now() + limit) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            done.wait()
        }
        defer { try? FileManager.default.removeItem(at: scratch) }
        func text(_ name: String) -> String {
            String(decoding: (try? Data(contentsOf: scratch.appendingPathComponent(name))) ?? Data(), as: UTF8.self)
        }
        return ProgramResult(status: process.terminationStatus, out: text("out"), err: text("err"))
    }
}

/// Starts `program` with `arguments` in `folder`, standard input empty, standard output and error
/// in files of a temporary folder named after `label`.
/// - Throws: ``TestSupportError`` when the folder cannot be made; the error of `Process.run`.
public func startProgram(_ program: String, _ arguments: [String], in folder: URL, label: String = "out") throws -> StartedProgram {
    let scratch = try temporaryFolder(label)
    let outFile = scratch.appendingPathComponent("out"), errFile = scratch.appendingPathComponent("err")
    FileManager.default.createFile(atPath: outFile.path, contents: nil)
    FileManager.default.createFile(atPath: errFile.path, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    process.currentDirectoryURL = folder
    process.standardOutput = try FileHandle(forWritingTo: outFile)
    process.standardError = try FileHandle(forWritingTo: errFile)
    process.standardInput = FileHandle.nullDevice
    let done = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in done.signal() }
    try process.run()
    return StartedProgram(process: process, done: done, scratch: scratch)
}
