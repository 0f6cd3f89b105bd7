import Foundation
import Testing
@testable import GitStore

@Suite("Diffs", .timeLimit(.minutes(2)))
struct DiffTests {
    /// A CLI-made repository with two commits; returns their ids.
    private func cliRepository(_ folder: TemporaryFolder, before: () throws -> Void, after: () throws -> Void) throws -> (ObjectID, ObjectID) {
        let dir = folder("repo")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try git(["init", "-q", "-b", "main"], in: dir)
        try before()
        try git(["add", "-A"], in: dir)
        try git(["commit", "-q", "-m", "before"], in: dir, signature: alice)
        let first = try #require(ObjectID(hex: gitOutput(["rev-parse", "HEAD"], in: dir)))
        try after()
        try git(["add", "-A"], in: dir)
        try git(["commit", "-q", "-m", "after"], in: dir, signature: alice)
        let second = try #require(ObjectID(hex: gitOutput(["rev-parse", "HEAD"], in: dir)))
        return (first, second)
    }

    @Test("patch text equals `git diff --text A B` for edits, additions, deletions, modes, links, binaries and missing newlines", .requires(patchTextGit))
    func patchMatchesGitCLI() throws {
        let folder = try TemporaryFolder()
        let dir = folder("repo")
        let (a, b) = try cliRepository(folder, before: {
            try write((1...40).map { "line \($0)" }.joined(separator: "\n") + "\n", to: dir + "/long.txt")
            try write("def f():\n    if x:\n        a()\n\n    b()\n", to: dir + "/code.py")
            try write("gone\n", to: dir + "/old.txt")
            try write("#!/bin/sh\necho hi\n", to: dir + "/run.sh")
            try writeBytes([0, 1, 2, 3, 255], to: dir + "/blob.bin")
            try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: "long.txt")
            try write("no newline", to: dir + "/tail.txt")
        }, after: {
            var lines = (1...40).map { "line \($0)" }
            lines[4] = "line five"
            lines.insert("inserted", at: 30)
            try write(lines.joined(separator: "\n") + "\n", to: dir + "/long.txt")
            // The indent heuristic decides where this added block's hunk lines go.
            try write("def f():\n    if x:\n        a()\n\n    if y:\n        c()\n\n    b()\n", to: dir + "/code.py")
            try FileManager.default.removeItem(atPath: dir + "/old.txt")
            chmod(dir + "/run.sh", 0o755)
            try writeBytes([0, 1, 2, 3, 254], to: dir + "/blob.bin")
            try FileManager.default.removeItem(atPath: dir + "/link")
            try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: "tail.txt")
            try write("no newline, still", to: dir + "/tail.txt")
            try write("fresh\n", to: dir + "/new/deep/file.txt")
        })
        let repository = try Repository.open(at: dir)
        let diff = try repository.diff(from: a, to: b)
        let cli = try git(["diff", "--text", a.description, b.description], in: dir).output
        #expect(diff.patch == cli)
        #expect(diff.files.map(\.path) == ["blob.bin", "code.py", "link", "long.txt", "new/deep/file.txt", "old.txt", "run.sh", "tail.txt"])
        let fromEmpty = try repository.diff(from: nil, to: a)
        let cliFromEmpty = try git(["diff", "--text", "4b825dc642cb6eb9a060e54bf8d69288fbee4904", a.description], in: dir).output
        #expect(fromEmpty.patch == cliFromEmpty)
        #expect(fromEmpty.files.allSatisfy { $0.status == .added })
    }

    @Test("in a large tree, a few changes and more changes than the path list holds both diff as `git diff` does", .requires(patchTextGit))
    func largeTree() throws {
        let folder = try TemporaryFolder()
        let dir = folder("repo")
        let (a, b) = try cliRepository(folder, before: {
            for i in 0..<700 { try write("value \(i)\n", to: dir + "/d\(i % 7)/sub/f\(i).txt") }
        }, after: {
            try write("value 3, changed\n", to: dir + "/d3/sub/f3.txt")
            try FileManager.default.removeItem(atPath: dir + "/d4")
            try FileManager.default.removeItem(atPath: dir + "/d5")
            try write("a file where a folder was\n", to: dir + "/d5")
            chmod(dir + "/d6/sub/f6.txt", 0o755)
        })
        let repository = try Repository.open(at: dir)
        let few = try repository.diff(from: a, to: b)
        #expect(few.patch == (try git(["diff", a.description, b.description], in: dir).output))
        #expect(few.files.count == 1 + 100 + 101 + 1)
        #expect(few.files.filter { $0.path == "d6/sub/f6.txt" }.map(\.modeChanged) == [true])
        let many = try repository.diff(from: b, to: a)
        #expect(many.patch == (try git(["diff", b.description, a.description], in: dir).output))
        #expect(many.files.count == few.files.count)
        // 700 added files: more than the path list holds, so the whole trees are walked.
        let all = try repository.diff(from: nil, to: a)
        #expect(all.files.count == 700 && Repository.pathListLimit < 700)
        #expect(all.patch == (try git(["diff", "4b825dc642cb6eb9a060e54bf8d69288fbee4904", a.description], in: dir).output))
        #expect(try repository.diff(from: a, to: a) == StepDiff(files: [], patch: ""))
    }

    @Test("a file whose name is not UTF-8 still shows in the diff (the whole trees are walked then)")
    func nonUTF8Name() throws {
        let folder = try TemporaryFolder()
        let dir = folder("repo")
        let (a, b) = try cliRepository(folder, before: { try write("x\n", to: dir + "/keep.txt") }, after: {
            let path = Array((dir + "/bad-").utf8) + [0xFF] + Array(".txt".utf8) + [0]
            let fd = path.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT, 0o644) } }
            #expect(fd >= 0)
            #expect("y\n".withCString { Glibc.write(fd, $0, 2) } == 2)
            close(fd)
        })
        let diff = try Repository.open(at: dir).diff(from: a, to: b)
        #expect(diff.files.count == 1)
        #expect(diff.files.first?.status == .added)
        #expect(diff.files.first?.addedLines.map(\.content) == ["y"])
    }

    @Test("a diff's hunks carry exact line numbers, origins and missing-newline marks")
    func structuredLines() throws {
        let folder = try TemporaryFolder()
        let dir = folder("repo")
        let (a, b) = try cliRepository(folder, before: {
            try write("1\n2\n3\n4\n5\n", to: dir + "/a.txt")
        }, after: {
            try write("1\n2\nX\n4\n5\n6", to: dir + "/a.txt")
        })
        let diff = try Repository.open(at: dir).diff(from: a, to: b)
        let file = try #require(diff.files.first)
        #expect(diff.files.count == 1)
        #expect(file.status == .modified)
        #expect(file.oldPath == "a.txt" && file.newPath == "a.txt")
        #expect(file.oldMode == .regular && file.newMode == .regular && !file.modeChanged && !file.isBinary)
        #expect(file.hunks.count == 1)
        let hunk = file.hunks[0]
        #expect(hunk.header == "@@ -1,5 +1,6 @@")
        #expect([hunk.oldStart, hunk.oldLines, hunk.newStart, hunk.newLines] as [Int] == [1, 5, 1, 6])
        #expect(hunk.lines == [
            DiffLine(origin: .context, oldLineNumber: 1, newLineNumber: 1, content: "1"),
            DiffLine(origin: .context, oldLineNumber: 2, newLineNumber: 2, content: "2"),
            DiffLine(origin: .deletion, oldLineNumber: 3, newLineNumber: nil, content: "3"),
            DiffLine(origin: .addition, oldLineNumber: nil, newLineNumber: 3, content: "X"),
            DiffLine(origin: .context, oldLineNumber: 4, newLineNumber: 4, content: "4"),
            DiffLine(origin: .context, oldLineNumber: 5, newLineNumber: 5, content: "5"),
            DiffLine(origin: .addition, oldLineNumber: nil, newLineNumber: 6, content: "6", hasNewline: false),
        ])
        #expect(file.addedLines.map(\.content) == ["X", "6"])
        #expect(file.removedLines.map(\.content) == ["3"])
    }

    @Test("renames are detected explicitly, whatever the configuration")
    func renames() throws {
        let folder = try TemporaryFolder()
        let dir = folder("repo")
        let body = (1...20).map { "row \($0)" }.joined(separator: "\n") + "\n"
        let (a, b) = try cliRepository(folder, before: {
            try write(body, to: dir + "/before.txt")
        }, after: {
            try FileManager.default.removeItem(atPath: dir + "/before.txt")
            try write(body + "row 21\n", to: dir + "/moved/after.txt")
        })
        let diff = try Repository.open(at: dir).diff(from: a, to: b)
        #expect(diff.files.count == 1)
        let file = try #require(diff.files.first)
        #expect(file.status == .renamed)
        #expect(file.oldPath == "before.txt" && file.newPath == "moved/after.txt")
        #expect(file.addedLines == [DiffLine(origin: .addition, oldLineNumber: nil, newLineNumber: 21, content: "row 21")])
        #expect(diff.patch.contains("rename from before.txt\nrename to moved/after.txt\n"))
    }
}
