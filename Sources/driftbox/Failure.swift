import ArgumentParser
import Checks
import Foundation
import Runner
import Scenarios

/// The exit statuses of every driftbox command (documented in the README).
enum ExitStatus {
    /// Done.
    static let ok: Int32 = 0
    /// Any error: bad input, a file that cannot be read or written, a refused request.
    static let error: Int32 = 1
    /// `run` or `resume` finished, and an episode of the run failed.
    static let episodeFailed: Int32 = 2
    /// `run` or `resume` finished, no episode failed, and an episode of a model-driven agent made
    /// no model exchange at all.
    static let modelUnreached: Int32 = 3
    /// `merge` finished, and the merged run still misses shards or has unfinished episodes.
    static let mergeIncomplete: Int32 = 4
    /// `sandbox exec` only: driftbox itself failed before or around the command, whose own status
    /// is passed through otherwise (as `env` and container runners do).
    static let execFailed: Int32 = 125
}

/// The one place where a command's error becomes a message on standard error and an exit status.
///
/// - Parameters:
///   - command: the command's words, e.g. `run` or `scenarios validate`.
///   - failureStatus: the status for an error (``ExitStatus/error``, or ``ExitStatus/execFailed``).
///   - body: the command's work.
/// - Returns: what `body` returns.
/// - Throws: an `ExitCode`: `body`'s own, or `failureStatus` after printing the error.
func failing<T>(_ command: String, status failureStatus: Int32 = ExitStatus.error, _ body: () async throws -> T) async throws -> T {
    do { return try await body() } catch let exit as ExitCode { throw exit } catch {
        printError(message(for: error, command: command))
        throw ExitCode(failureStatus)
    }
}

/// The synchronous form of ``failing(_:status:_:)``.
func failing<T>(_ command: String, status failureStatus: Int32 = ExitStatus.error, _ body: () throws -> T) throws -> T {
    do { return try body() } catch let exit as ExitCode { throw exit } catch {
        printError(message(for: error, command: command))
        throw ExitCode(failureStatus)
    }
}

/// Writes one message (one or more lines) to standard error, its control characters escaped: an
/// error may quote agent-made paths or content.
func printError(_ text: String) {
    let safe = TerminalText.escaped(text, keepingNewlines: true)
    FileHandle.standardError.write(Data((safe.hasSuffix("\n") ? safe : safe + "\n").utf8))
}

/// A message for the user: what failed, where, and what to do.
func message(for error: Error, command: String) -> String {
    switch error {
    case let error as ScenarioError:
        // Compiler-style `file:line:col: error: …` lines, so editors can jump to them.
        return error.description
    case let RunStoreError.missing(path, what) where !path.hasSuffix("/run.json") && isInsideRunFolder(path):
        // A file of an existing run folder is missing: the folder is a run, say which file and what to do.
        let file = URL(fileURLWithPath: path)
        let folder = file.deletingLastPathComponent().path
        let kind = file.lastPathComponent.hasPrefix("verdicts-") ? "verdict set" : what
        return "driftbox \(command): \(path): the run in \(folder) needs this \(kind), and it is missing; "
            + "restore the file from a copy of the run folder"
    default:
        return "driftbox \(command): \(error)"
    }
}

/// True when the file's folder is a run folder (it holds `run.json`).
private func isInsideRunFolder(_ path: String) -> Bool {
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
    return FileManager.default.fileExists(atPath: folder.appendingPathComponent("run.json").path)
}
