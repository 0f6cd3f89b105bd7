import DriftboxTestSupport
import Foundation

/// The folder of the built products (the `driftbox` executable is built next to the test bundle).
let buildFolder = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()

/// What a finished process left.
typealias Finished = ProgramResult

/// Runs a program to the end with its output in files (neither pipe can fill up and stall it),
/// killing it after `limit` seconds (a guard against a hang only).
func execute(_ program: String, _ arguments: [String], in folder: URL = packageRootURL, limit: Double = 300) throws -> Finished {
    try startProgram(program, arguments, in: folder).finish(limit: limit)
}

/// Runs the built `driftbox`.
func driftbox(_ arguments: [String], in folder: URL = packageRootURL) throws -> Finished {
    try execute(buildFolder.appendingPathComponent("driftbox").path, arguments, in: folder)
}
