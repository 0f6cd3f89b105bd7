import Foundation
import GitStore

/// Builds a step diff by committing two folders with the git command line and parsing
/// `git diff -M` output.
enum GitCLIDiff {
    /// Commits `before` then `after` into a new repository under `scratch` and diffs them.
    static func diff(before: URL, after: URL, scratch: URL) throws -> StepDiff {
        let gitDir = scratch.appendingPathComponent("repo.git").path
        _ = try git(["init", "-q", "--bare", gitDir])
        var commits: [String] = []
        for tree in [before, after] {
            let base = ["--git-dir", gitDir, "--work-tree", tree.path]
            _ = try git(base + ["add", "-A", "."])
            _ = try git(base + ["commit", "-q", "--allow-empty", "-m", "step"])
            commits.append(try git(base + ["rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let patch = try git(["--git-dir", gitDir, "diff", "-M", "--no-color", "--indent-heuristic", commits[0], commits[1]])
        return StepDiff(files: parse(patch), patch: patch)
    }

    private static func git(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = ["-c", "user.name=Corpus", "-c", "user.email=corpus@example.com", "-c", "core.autocrlf=false"] + arguments
        process.environment = ["GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "HOME": "/nonexistent",
                               "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CorpusError("git \(arguments.joined(separator: " ")) exited \(process.terminationStatus)") }
        return String(decoding: data, as: UTF8.self)
    }

    /// Parses the unified output of `git diff` into file diffs.
    static func parse(_ patch: String) -> [FileDiff] {
        var files: [FileDiff] = []
        var oldLine = 0
        var newLine = 0
        func strip(_ path: Substring) -> String? { path == "/dev/null" ? nil : String(path.dropFirst(2)) }
        for line in patch.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("diff --git ") {
                let parts = line.dropFirst("diff --git ".count).split(separator: " ")
                files.append(FileDiff(status: .modified, oldPath: strip(parts[0]), newPath: strip(parts[1]),
                                      oldMode: .regular, newMode: .regular, isBinary: false, hunks: []))
                continue
            }
            guard !files.isEmpty else { continue }
            let index = files.count - 1
            if files[index].hunks.isEmpty || !(line.hasPrefix(" ") || line.hasPrefix("+") || line.hasPrefix("-") || line.hasPrefix("\\") || line.hasPrefix("@@")) {
                if line.hasPrefix("new file mode") { files[index].status = .added; files[index].oldPath = nil; files[index].oldMode = .absent }
                if line.hasPrefix("deleted file mode") { files[index].status = .deleted; files[index].newPath = nil; files[index].newMode = .absent }
                if line.hasPrefix("rename from ") { files[index].status = .renamed; files[index].oldPath = String(line.dropFirst(12)) }
                if line.hasPrefix("rename to ") { files[index].newPath = String(line.dropFirst(10)) }
                if line.hasPrefix("Binary files") { files[index].isBinary = true }
            }
            if line.hasPrefix("@@") {
                let numbers = line.split(separator: " ")
                func range(_ text: Substring) -> (Int, Int) {
                    let parts = text.dropFirst().split(separator: ",")
                    return (Int(parts[0]) ?? 0, parts.count > 1 ? Int(parts[1]) ?? 0 : 1)
                }
                let old = range(numbers[1])
                let new = range(numbers[2])
                oldLine = old.0
                newLine = new.0
                files[index].hunks.append(Hunk(oldStart: old.0, oldLines: old.1, newStart: new.0, newLines: new.1, header: String(line), lines: []))
                continue
            }
            guard var hunk = files[index].hunks.popLast() else { continue }
            let content = String(line.dropFirst())
            switch line.first {
            case " ":
                hunk.lines.append(DiffLine(origin: .context, oldLineNumber: oldLine, newLineNumber: newLine, content: content))
                oldLine += 1; newLine += 1
            case "+":
                hunk.lines.append(DiffLine(origin: .addition, oldLineNumber: nil, newLineNumber: newLine, content: content))
                newLine += 1
            case "-":
                hunk.lines.append(DiffLine(origin: .deletion, oldLineNumber: oldLine, newLineNumber: nil, content: content))
                oldLine += 1
            case "\\":
                if !hunk.lines.isEmpty { hunk.lines[hunk.lines.count - 1].hasNewline = false }
            default: break
            }
            files[index].hunks.append(hunk)
        }
        return files
    }
}
