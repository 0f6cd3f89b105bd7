import Foundation

/// The package's root folder.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The folder of the built products (the `driftbox` executable is built next to the test bundle).
let buildFolder = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()

/// A new empty temporary folder.
func temporaryFolder(_ name: String) -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("driftbox-\(name)-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

/// What a finished process left.
struct Finished {
    var status: Int32
    var out: String
    var err: String
}

/// Runs a program to the end with its output in files (neither pipe can fill up and stall it),
/// killing it after `limit` seconds.
func execute(_ program: String, _ arguments: [String], in folder: URL = packageRoot, limit: Double = 300) throws -> Finished {
    let scratch = temporaryFolder("out")
    defer { try? FileManager.default.removeItem(at: scratch) }
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
    if done.wait(timeout: .now() + limit) == .timedOut {
        kill(process.processIdentifier, SIGKILL)
        done.wait()
    }
    return Finished(status: process.terminationStatus,
                    out: String(decoding: (try? Data(contentsOf: outFile)) ?? Data(), as: UTF8.self),
                    err: String(decoding: (try? Data(contentsOf: errFile)) ?? Data(), as: UTF8.self))
}

/// Runs the built `driftbox`.
func driftbox(_ arguments: [String], in folder: URL = packageRoot) throws -> Finished {
    try execute(buildFolder.appendingPathComponent("driftbox").path, arguments, in: folder)
}
