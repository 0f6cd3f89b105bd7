import Checks
import GitStore

/// Hand-built diff values for unit tests that do not need a repository.
enum HandBuiltDiff {
    /// A file diff whose single hunk shows the whole new file: the listed new line numbers as
    /// additions, every other line as context, and `removed` as deletions before them.
    static func file(
        _ path: String, status: FileDiff.Status = .modified, oldPath: String? = nil, after: String,
        added: [Int], removed: [String] = []
    ) -> FileDiff {
        let lines = CodeText(source: after, language: .plain).sourceLines
        var oldNumber = 0
        var diffLines = removed.enumerated().map { offset, text in
            DiffLine(origin: .deletion, oldLineNumber: offset + 1, newLineNumber: nil, content: text)
        }
        oldNumber = removed.count
        for (offset, text) in lines.enumerated() {
            let number = offset + 1
            if added.contains(number) {
                diffLines.append(DiffLine(origin: .addition, oldLineNumber: nil, newLineNumber: number, content: text))
            } else {
                oldNumber += 1
                diffLines.append(DiffLine(origin: .context, oldLineNumber: oldNumber, newLineNumber: number, content: text))
            }
        }
        let hunk = Hunk(
            oldStart: oldNumber == 0 ? 0 : 1, oldLines: oldNumber, newStart: lines.isEmpty ? 0 : 1,
            newLines: lines.count, header: "@@ -1,\(oldNumber) +1,\(lines.count) @@", lines: diffLines)
        return FileDiff(
            status: status, oldPath: status == .added ? nil : (oldPath ?? path), newPath: path,
            oldMode: status == .added ? .absent : .regular, newMode: .regular, isBinary: false, hunks: [hunk])
    }

    /// A deleted file.
    static func deleted(_ path: String, removed: [String]) -> FileDiff {
        let lines = removed.enumerated().map { offset, text in
            DiffLine(origin: .deletion, oldLineNumber: offset + 1, newLineNumber: nil, content: text)
        }
        let hunk = Hunk(oldStart: 1, oldLines: removed.count, newStart: 0, newLines: 0, header: "@@ -1,\(removed.count) +0,0 @@", lines: lines)
        return FileDiff(status: .deleted, oldPath: path, newPath: nil, oldMode: .regular, newMode: .absent, isBinary: false, hunks: [hunk])
    }

    /// Readers over in-memory file maps.
    static func files(after: [String: String], before: [String: String] = [:]) -> StepFiles {
        StepFiles(after: { after[$0] }, before: { before[$0] }, pathsAfter: { after.keys.sorted() })
    }
}
