import ArgumentParser
import Checks
import Foundation
import Report
import Runner

/// `driftbox export`: one row per step, for pandas or R.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write one row per step of a run (every field the figures use) as CSV or JSON lines.")

    /// The file formats.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case csv, jsonl
    }

    @Argument(help: "The run folder.")
    var run: String

    @Option(help: "csv or jsonl.")
    var format: Format

    @Option(help: "Write to this file instead of standard output.")
    var to: String?

    @Flag(help: "Replace the --to file if it exists.")
    var force = false

    func validate() throws {
        if to == nil, force { throw ValidationError("--force applies to --to only") }
    }

    func run() async throws {
        try await failing("export") {
            let record = try RunRecord(folder: URL(fileURLWithPath: run, relativeTo: currentDirectory).standardizedFileURL)
            let rows = try Export.rows(record)
            let text = format == .csv ? Export.csv(rows) : try Export.jsonl(rows)
            if let to {
                try OutputFile.write(Data(text.utf8), to: URL(fileURLWithPath: to, relativeTo: currentDirectory).standardizedFileURL, force: force)
            } else {
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }
    }
}

/// A file a command writes: never over an existing one without `--force`, never over a folder.
enum OutputFile {
    static func write(_ data: Data, to file: URL, force: Bool) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: file.path, isDirectory: &isFolder) {
            if isFolder.boolValue {
                throw CommandError(path: file.path, reason: "a folder is there", hint: "give a file name")
            }
            guard force else { throw CommandError(path: file.path, reason: "a file is there", hint: "give a new file name, or pass --force to replace it") }
        }
        do { try data.write(to: file, options: .atomic) } catch {
            throw CommandError(path: file.path, reason: "cannot be written (\(error.localizedDescription))", hint: "check that its folder exists and is writable")
        }
    }
}
