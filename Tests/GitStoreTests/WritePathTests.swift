import Foundation
import Testing
@testable import GitStore

/// How a step and a seed reach the disk: the branch written in place, the index written anew,
/// seeded files rewritten in place, blobs hashed straight into the object buffer.
@Suite("Write paths", .serialized, .timeLimit(.minutes(3)))
struct WritePathTests {
    /// The inode and text of a file.
    static func inodeAndText(_ path: String) throws -> (UInt64, String) {
        var info = stat()
        #expect(lstat(path, &info) == 0)
        return (UInt64(info.st_ino), try String(contentsOfFile: path, encoding: .utf8))
    }

    @Test("a loose branch file is rewritten in place with the step's id")
    func branchInPlace() throws {
        let episode = try Episode()
        let ref = episode.workspace.repository.gitDirectory + "refs/heads/main"
        let (inodeBefore, _) = try Self.inodeAndText(ref)
        let (snapshot, _) = try episode.step { try write("one\n", to: episode.root + "/one.txt") }
        let (inodeAfter, text) = try Self.inodeAndText(ref)
        #expect(inodeAfter == inodeBefore)
        #expect(text == snapshot.commit.description + "\n")
        #expect(try gitOutput(["rev-parse", "main"], in: episode.root) == snapshot.commit.description)
    }

    @Test("a branch the agent packed, or gave a second name, is moved through libgit2; the other name keeps its text")
    func branchOtherShapes() throws {
        let episode = try Episode()
        let gitDirectory = episode.workspace.repository.gitDirectory
        try git(["pack-refs", "--all"], in: episode.root)
        #expect(FileManager.default.fileExists(atPath: gitDirectory + "refs/heads/main") == false)
        let (first, _) = try episode.step(1) { try write("one\n", to: episode.root + "/one.txt") }
        #expect(try gitOutput(["rev-parse", "main"], in: episode.root) == first.commit.description)

        #expect(link(gitDirectory + "refs/heads/main", gitDirectory + "second-name") == 0)
        let (second, _) = try episode.step(2) { try write("two\n", to: episode.root + "/two.txt") }
        #expect(try gitOutput(["rev-parse", "main"], in: episode.root) == second.commit.description)
        #expect(try String(contentsOfFile: gitDirectory + "second-name", encoding: .utf8) == first.commit.description + "\n")
        #expect(try gitOutput(["status", "--porcelain"], in: episode.root) == "")
    }

    @Test("a seed that makes a file shorter leaves exactly its text, mode kept, and a clean index")
    func seedShortensFile() throws {
        let episode = try Episode()
        let file = episode.root + "/scripts/check.sh"
        let seed = Seed(edits: [SeedEdit(path: "scripts/check.sh", anchor: .wholeFile, text: "#!/bin/sh\n")],
                        author: colleague, message: "Shorter check")
        let id = try episode.workspace.land(seed)
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "#!/bin/sh\n")
        #expect(access(file, X_OK) == 0)
        #expect(try episode.workspace.repository.fileContent(at: id, path: "scripts/check.sh") == Array("#!/bin/sh\n".utf8))
        #expect(try gitOutput(["status", "--porcelain"], in: episode.root) == "")
        #expect(try gitOutput(["rev-parse", "HEAD"], in: episode.root) == id.description)
    }

    @Test("after a step the index file holds exactly the step's tree, stage 0")
    func indexMatchesStep() throws {
        let episode = try Episode()
        let (snapshot, _) = try episode.step {
            try write("changed\n", to: episode.root + "/README.md")
            try FileManager.default.removeItem(atPath: episode.root + "/src/report.py")
            try write("new\n", to: episode.root + "/src/new.py")
        }
        let tree = try gitOutput(["ls-tree", "-r", snapshot.commit.description], in: episode.root).split(separator: "\n").map { line in
            let parts = line.split(separator: " ", maxSplits: 2)
            let idAndPath = parts[2].split(separator: "\t", maxSplits: 1)
            return "\(parts[0]) \(idAndPath[0]) 0\t\(idAndPath[1])"
        }
        #expect(try gitOutput(["ls-files", "-s"], in: episode.root).split(separator: "\n").map(String.init) == tree)
        #expect(try gitOutput(["status", "--porcelain"], in: episode.root) == "")
    }

    @Test("blobs, links and executables hashed into the buffer have the ids git hash-object gives")
    func blobIDs() throws {
        let episode = try Episode()
        let (snapshot, _) = try episode.step {
            try writeBytes([0, 1, 2, 255, 10], to: episode.root + "/data.bin")
            try write("#!/bin/sh\necho hi\n", to: episode.root + "/run.sh", executable: true)
            #expect(symlink("data.bin", episode.root + "/data.link") == 0)
        }
        for path in ["data.bin", "run.sh"] {
            #expect(try gitOutput(["rev-parse", "\(snapshot.commit):\(path)"], in: episode.root) == (try gitOutput(["hash-object", path], in: episode.root)))
        }
        #expect(try gitOutput(["ls-tree", snapshot.commit.description, "run.sh", "data.link"], in: episode.root).split(separator: "\n").map { $0.prefix(6) } == ["120000", "100755"])
        #expect(try gitOutput(["fsck", "--strict", "--no-dangling"], in: episode.root) == "")
    }

    @Test("a step's objects are on disk when the step returns: another handle on the repository reads the same diff")
    func objectsOnDiskAtOnce() throws {
        let episode = try Episode()
        let (snapshot, diff) = try episode.step {
            try write("changed\n", to: episode.root + "/README.md")
            try write("deep\n", to: episode.root + "/a/b/c.txt")
        }
        let other = try Repository.open(at: episode.root)
        #expect(try other.diff(from: snapshot.parent, to: snapshot.commit) == diff)
        #expect(diff.files.map(\.path) == ["README.md", "a/b/c.txt"])
    }
}
