import Foundation
import Testing
@testable import GitStore

/// A workspace cloned from the `tiny` fixture in a fresh temporary folder.
struct Episode {
    let folder: TemporaryFolder
    let workspace: Workspace
    var root: String { workspace.path }

    init() throws {
        folder = try TemporaryFolder()
        _ = try Fixture.build(source: tinyFixture, into: folder("fixture.git"))
        workspace = try Workspace.create(from: folder("fixture.git"), at: folder("ws"))
    }

    /// Runs `change` on the worktree, snapshots step 1 and returns the snapshot and its diff.
    func step(_ number: Int = 1, _ change: () throws -> Void) throws -> (Snapshot, StepDiff) {
        try change()
        let snapshot = try workspace.snapshot(StepStamp(step: number, summary: "task-\(number)"))
        return (snapshot, try workspace.diff(snapshot))
    }
}

let colleague = Signature(name: "Priya Privacy", email: "priya@example.invalid", time: 1_767_229_200)

@Suite("Workspaces", .serialized, .timeLimit(.minutes(5)))
struct WorkspaceTests {
    @Test("a workspace starts at the fixture commit with modes and links checked out")
    func clone() throws {
        let episode = try Episode()
        #expect(episode.workspace.tip.description == FixtureTests.tinyCommit)
        #expect(episode.workspace.branch == "refs/heads/main")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: episode.root + "/GUIDE.md") == "README.md")
        #expect(access(episode.root + "/scripts/check.sh", X_OK) == 0)
        #expect(try gitOutput(["status", "--porcelain"], in: episode.root) == "")
    }

    @Test("a step edit shows as a modified file with exact lines")
    func edit() throws {
        let episode = try Episode()
        let (snapshot, diff) = try episode.step {
            var text = try String(contentsOfFile: episode.root + "/src/report.py", encoding: .utf8)
            text = text.replacingOccurrences(of: "    raise NotImplementedError\n", with: "    rows = sorted(stock.items())\n    return \"\\n\".join(f\"{k}: {v}\" for k, v in rows)\n")
            try write(text, to: episode.root + "/src/report.py")
        }
        #expect(snapshot.parent.description == FixtureTests.tinyCommit)
        #expect(snapshot.skipped.isEmpty)
        let file = try #require(diff.files.first)
        #expect(diff.files.count == 1)
        #expect(file.status == .modified && file.path == "src/report.py" && file.oldMode == .regular && file.newMode == .regular)
        #expect(file.hunks.map(\.header) == ["@@ -3,4 +3,5 @@"])
        #expect(file.removedLines == [DiffLine(origin: .deletion, oldLineNumber: 6, newLineNumber: nil, content: "    raise NotImplementedError")])
        #expect(file.addedLines == [
            DiffLine(origin: .addition, oldLineNumber: nil, newLineNumber: 6, content: "    rows = sorted(stock.items())"),
            DiffLine(origin: .addition, oldLineNumber: nil, newLineNumber: 7, content: "    return \"\\n\".join(f\"{k}: {v}\" for k, v in rows)"),
        ])
        // The index was written: the git CLI sees a clean worktree at the step commit.
        #expect(try gitOutput(["status", "--porcelain"], in: episode.root) == "")
        #expect(try gitOutput(["rev-parse", "HEAD"], in: episode.root) == snapshot.commit.description)
    }

    @Test("new files in new folders, untracked and ignored files all enter the step")
    func additions() throws {
        let episode = try Episode()
        let (_, diff) = try episode.step {
            try write("*.log\n", to: episode.root + "/.gitignore")
            try write("debug\n", to: episode.root + "/logs/run.log")
            try write("ANONYMISE = True\n", to: episode.root + "/src/new/deep/anonymise.py")
        }
        #expect(diff.files.map(\.path) == [".gitignore", "logs/run.log", "src/new/deep/anonymise.py"])
        #expect(diff.files.allSatisfy { $0.status == .added && $0.oldMode == .absent && $0.newMode == .regular && $0.oldPath == nil })
        #expect(diff.files[2].hunks.map(\.header) == ["@@ -0,0 +1 @@"])
        #expect(diff.files[2].addedLines == [DiffLine(origin: .addition, oldLineNumber: nil, newLineNumber: 1, content: "ANONYMISE = True")])
    }

    @Test("names on the snapshot's ignore list are left out at the root only, with everything below them, and keep the parent's content")
    func ignoreList() throws {
        let episode = try Episode()
        episode.workspace.snapshotIgnore = [".agent-state", ".aider.chat.history.md", "README.md"]
        let (first, diff) = try episode.step {
            try write("session 1 at 09:31\n", to: episode.root + "/.aider.chat.history.md")
            try write("{}", to: episode.root + "/.agent-state/tool/cache.json")
            try write("nested\n", to: episode.root + "/src/.agent-state/kept.txt")
            try write("changed\n", to: episode.root + "/README.md")
            try write("print('edit')\n", to: episode.root + "/src/edit.py")
        }
        // Only the real edit and the same name below the root; the ignored README keeps its committed text.
        #expect(diff.files.map(\.path) == ["src/.agent-state/kept.txt", "src/edit.py"])
        #expect(first.skipped.isEmpty)
        #expect(try episode.workspace.repository.fileContent(at: first.commit, path: "README.md")
                == episode.workspace.repository.fileContent(at: first.parent, path: "README.md"))
        // A second step whose ignored state changed again (another session time) is the same tree.
        let (second, again) = try episode.step(2) {
            try write("session 2 at 09:45\n", to: episode.root + "/.aider.chat.history.md")
            try FileManager.default.removeItem(atPath: episode.root + "/.agent-state/tool")
            try FileManager.default.removeItem(atPath: episode.root + "/README.md")
        }
        #expect(again.files.isEmpty)
        #expect(try gitOutput(["rev-parse", "\(second.commit)^{tree}"], in: episode.root) == gitOutput(["rev-parse", "\(first.commit)^{tree}"], in: episode.root))
    }

    @Test("a deletion lists every removed line with its old number")
    func deletion() throws {
        let episode = try Episode()
        let (_, diff) = try episode.step { try FileManager.default.removeItem(atPath: episode.root + "/src/report.py") }
        let file = try #require(diff.files.first)
        #expect(diff.files.count == 1)
        #expect(file.status == .deleted && file.oldPath == "src/report.py" && file.newPath == nil && file.newMode == .absent)
        #expect(file.hunks.map(\.header) == ["@@ -1,6 +0,0 @@"])
        #expect(file.removedLines.map(\.oldLineNumber) == [1, 2, 3, 4, 5, 6])
        #expect(file.removedLines.last?.content == "    raise NotImplementedError")
    }

    @Test("a moved file is one rename without hunks")
    func rename() throws {
        let episode = try Episode()
        let (_, diff) = try episode.step {
            try FileManager.default.createDirectory(atPath: episode.root + "/lib", withIntermediateDirectories: true)
            try FileManager.default.moveItem(atPath: episode.root + "/src/report.py", toPath: episode.root + "/lib/render.py")
        }
        #expect(diff.files.count == 1)
        let file = try #require(diff.files.first)
        #expect(file.status == .renamed && file.oldPath == "src/report.py" && file.newPath == "lib/render.py" && file.hunks.isEmpty)
    }

    @Test("setting and clearing the executable bit are mode changes")
    func modeChanges() throws {
        let episode = try Episode()
        let (_, diff) = try episode.step {
            chmod(episode.root + "/src/report.py", 0o755)
            chmod(episode.root + "/scripts/check.sh", 0o644)
        }
        #expect(diff.files.map(\.path) == ["scripts/check.sh", "src/report.py"])
        #expect(diff.files.map(\.oldMode) == [.executable, .regular])
        #expect(diff.files.map(\.newMode) == [.regular, .executable])
        #expect(diff.files.allSatisfy { $0.status == .modified && $0.modeChanged && $0.hunks.isEmpty })
    }

    @Test("symbolic links are stored as links, never followed")
    func symlinks() throws {
        let episode = try Episode()
        let (snapshot, diff) = try episode.step {
            try FileManager.default.removeItem(atPath: episode.root + "/GUIDE.md")
            try FileManager.default.createSymbolicLink(atPath: episode.root + "/GUIDE.md", withDestinationPath: "src/report.py")
            try FileManager.default.createSymbolicLink(atPath: episode.root + "/docs/outside", withDestinationPath: "../../outside/secret", makingFolders: true)
        }
        #expect(diff.files.map(\.path) == ["GUIDE.md", "docs/outside"])
        #expect(diff.files[0].status == .modified && diff.files[0].newMode == .symlink)
        #expect(diff.files[0].removedLines.map(\.content) == ["README.md"])
        #expect(diff.files[0].addedLines == [DiffLine(origin: .addition, oldLineNumber: nil, newLineNumber: 1, content: "src/report.py", hasNewline: false)])
        #expect(diff.files[1].status == .added && diff.files[1].newMode == .symlink)
        #expect(try episode.workspace.repository.fileContent(at: snapshot.commit, path: "docs/outside") == Array("../../outside/secret".utf8))
    }

    @Test("a file turned into a link shows, as in git diff, as a deletion and an addition", .requires(patchTextGit))
    func typeChange() throws {
        let episode = try Episode()
        let (_, diff) = try episode.step {
            try FileManager.default.removeItem(atPath: episode.root + "/src/report.py")
            try FileManager.default.createSymbolicLink(atPath: episode.root + "/src/report.py", withDestinationPath: "inventory.py")
        }
        #expect(diff.files.map(\.path) == ["src/report.py", "src/report.py"])
        #expect(diff.files.map(\.status) == [.deleted, .added])
        #expect(diff.files.map(\.newMode) == [.absent, .symlink])
        #expect(diff.patch == (try git(["diff", "HEAD~", "HEAD"], in: episode.root).output))
    }

    @Test("binary files are committed byte for byte and still diffed as text: no line hides behind a NUL byte")
    func binary() throws {
        let episode = try Episode()
        let bytes: [UInt8] = [0x89, 0x50, 0x4e, 0x47, 0, 0, 0xff, 0x10]
        let (snapshot, diff) = try episode.step { try writeBytes(bytes, to: episode.root + "/assets/logo.png") }
        #expect(diff.files.count == 1)
        #expect(diff.files[0].status == .added && !diff.files[0].isBinary)
        #expect(diff.files[0].hunks.map { $0.lines.map(\.origin) } == [[.addition]])
        #expect(!diff.patch.contains("Binary files"))
        #expect(try episode.workspace.repository.fileContent(at: snapshot.commit, path: "assets/logo.png") == bytes)
    }

    @Test("FIFOs, sockets and nested .git folders are skipped and listed; non-UTF-8 names are stored and listed; a 50 MB file is committed")
    func awkwardWorktree() throws {
        let episode = try Episode()
        let big = [UInt8](repeating: 0, count: 50 * 1024 * 1024) + Array("end".utf8)
        let (snapshot, diff) = try episode.step {
            #expect(mkfifo(episode.root + "/src/pipe", 0o644) == 0)
            try bindSocket(at: episode.root + "/agent.sock")
            let bad = Array((episode.root + "/caf").utf8) + [0xe9] + Array(".py".utf8)
            try writeBytes(Array("x = 1\n".utf8), toRawPath: bad)
            try write("inner\n", to: episode.root + "/vendor/lib/file.txt")
            try git(["init", "-q"], in: episode.root + "/vendor/lib")
            try writeBytes(big, to: episode.root + "/data/big.bin")
            try write("kept\n", to: episode.root + "/kept.txt")
        }
        #expect(snapshot.skipped == [
            SkippedPath(path: "agent.sock", reason: .socket),
            SkippedPath(path: "caf\u{FFFD}.py", reason: .nameNotUTF8),
            SkippedPath(path: "src/pipe", reason: .fifo),
            SkippedPath(path: "vendor/lib/.git", reason: .nestedRepository),
        ])
        #expect(diff.files.map(\.path) == ["caf\u{FFFD}.py", "data/big.bin", "kept.txt", "vendor/lib/file.txt"])
        #expect(!diff.files[1].isBinary && diff.files[0].hunks.first?.lines.map(\.content) == ["x = 1"])
        #expect(try episode.workspace.repository.fileContent(at: snapshot.commit, path: "data/big.bin")?.count == big.count)
        // A second snapshot with nothing changed is an empty step, skipping the same paths.
        let again = try episode.workspace.snapshot(StepStamp(step: 2, summary: "task-2"))
        #expect(try episode.workspace.diff(again).isEmpty)
        #expect(again.skipped == snapshot.skipped)
    }

    @Test("a step without changes is an empty commit on top of the tip")
    func emptyStep() throws {
        let episode = try Episode()
        let (snapshot, diff) = try episode.step {}
        #expect(diff.isEmpty && diff.patch == "")
        #expect(snapshot.commit != snapshot.parent)
        #expect(episode.workspace.tip == snapshot.commit)
    }

    @Test("same-size rewrites right after a snapshot are seen (racily clean entries are re-read)")
    func racilyClean() throws {
        let episode = try Episode()
        let file = episode.root + "/src/report.py"
        for step in 1...6 {
            let text = String(repeating: Character(String(step)), count: 9) + "\n"
            try write(text, to: file)
            let snapshot = try episode.workspace.snapshot(StepStamp(step: step, summary: "t"))
            #expect(try episode.workspace.repository.fileContent(at: snapshot.commit, path: "src/report.py") == Array(text.utf8))
            #expect(try episode.workspace.diff(snapshot).files.map(\.path) == ["src/report.py"])
        }
    }

    @Test("a corrupted index only costs re-reading the files; the step is still exact")
    func corruptIndex() throws {
        let episode = try Episode()
        let (_, diff) = try episode.step {
            try write("garbage, not an index", to: episode.workspace.repository.gitDirectory + "index")
            try write("late\n", to: episode.root + "/late.txt")
        }
        #expect(diff.files.map(\.path) == ["late.txt"])
        #expect(try gitOutput(["status", "--porcelain"], in: episode.root) == "")
    }

    @Test("a workspace whose git directory lost its objects fails with a clear error")
    func gitRemoved() throws {
        let episode = try Episode()
        try FileManager.default.removeItem(atPath: episode.workspace.gitDirectory + "objects")
        let error = try #require(throws: GitError.self) { try episode.workspace.snapshot(StepStamp(step: 1, summary: "t")) }
        #expect(error.kind == .notFound && error.message == "the workspace's .git has lost its objects/pack folder")
        #expect(error.hint?.contains("Workspace.create(from:at:commit:)") == true)
    }

    @Test("whatever the agent does to git, the step's parent is the workspace's tip")
    func agentMovesHead() throws {
        let episode = try Episode()
        let (first, _) = try episode.step { try write("one\n", to: episode.root + "/one.txt") }
        try write("two\n", to: episode.root + "/two.txt")
        try git(["checkout", "-q", "-b", "side"], in: episode.root)
        try git(["add", "-A"], in: episode.root)
        try git(["commit", "-q", "-m", "agent commit"], in: episode.root, signature: alice)
        let (second, diff) = try episode.step(2) { try write("three\n", to: episode.root + "/three.txt") }
        #expect(second.parent == first.commit)
        #expect(diff.files.map(\.path) == ["three.txt", "two.txt"])
        #expect(try gitOutput(["symbolic-ref", "HEAD"], in: episode.root) == "refs/heads/main")
        #expect(try episode.workspace.repository.resolve(ref: "refs/heads/main") == second.commit)
    }
}

/// Binds a Unix-domain socket at `path` (and closes the descriptor; the socket file stays).
func bindSocket(at path: String) throws {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    #expect(fd >= 0)
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
    }
    let rc = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    #expect(rc == 0)
}

extension FileManager {
    /// Creates a symbolic link, creating its folder first when asked.
    func createSymbolicLink(atPath path: String, withDestinationPath destination: String, makingFolders: Bool) throws {
        if makingFolders { try createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true) }
        try createSymbolicLink(atPath: path, withDestinationPath: destination)
    }
}

@Suite("Workspace cloning", .timeLimit(.minutes(2)))
struct WorkspaceCloneTests {
    @Test("a repository with loose objects is cloned through libgit2's local clone, on its own branch")
    func looseObjects() throws {
        let folder = try TemporaryFolder()
        try FileManager.default.copyItem(atPath: tinyFixture, toPath: folder("src"))
        try git(["init", "-q", "-b", "trunk"], in: folder("src"))
        try git(["add", "-A"], in: folder("src"))
        try git(["commit", "-q", "-m", "Initial commit"], in: folder("src"), signature: Fixture.signature)
        let workspace = try Workspace.create(from: folder("src"), at: folder("ws"))
        #expect(workspace.tip.description == FixtureTests.tinyCommit)
        #expect(workspace.branch == "refs/heads/trunk")
        #expect(try gitOutput(["status", "--porcelain"], in: workspace.path) == "")
        try write("added\n", to: workspace.path + "/new.txt")
        let snapshot = try workspace.snapshot(StepStamp(step: 1, summary: "t"))
        #expect(snapshot.parent.description == FixtureTests.tinyCommit)
        #expect(try workspace.diff(snapshot).files.map(\.path) == ["new.txt"])
        #expect(try gitOutput(["rev-parse", "refs/heads/trunk"], in: workspace.path) == snapshot.commit.description)
    }

    @Test("a .gitattributes asking for line-ending conversion changes no byte of a step")
    func noConversion() throws {
        let folder = try TemporaryFolder()
        try write("* text eol=lf\n", to: folder("src/.gitattributes"))
        try write("first\r\nsecond\r\n", to: folder("src/dos.txt"))
        _ = try Fixture.build(source: folder("src"), into: folder("f.git"))
        let workspace = try Workspace.create(from: folder("f.git"), at: folder("ws"))
        #expect(try FileManager.default.contents(atPath: workspace.path + "/dos.txt") == Data("first\r\nsecond\r\n".utf8))
        let untouched = try workspace.snapshot(StepStamp(step: 1, summary: "t"))
        #expect(try workspace.diff(untouched).isEmpty)
        try write("first\r\nsecond\r\nthird\r\n", to: workspace.path + "/dos.txt")
        let edited = try workspace.snapshot(StepStamp(step: 2, summary: "t"))
        #expect(try workspace.repository.fileContent(at: edited.commit, path: "dos.txt") == Array("first\r\nsecond\r\nthird\r\n".utf8))
        #expect(try workspace.diff(edited).files[0].addedLines == [DiffLine(origin: .addition, oldLineNumber: nil, newLineNumber: 3, content: "third")])
    }

    @Test("a workspace folder that is not empty is refused")
    func nonEmptyFolder() throws {
        let folder = try TemporaryFolder()
        _ = try Fixture.build(source: tinyFixture, into: folder("f.git"))
        try write("left over\n", to: folder("ws/old.txt"))
        let error = try #require(throws: GitError.self) { try Workspace.create(from: folder("f.git"), at: folder("ws")) }
        #expect(error.message == "the workspace folder is not empty" && error.location == folder("ws"))
        let missing = try #require(throws: GitError.self) { try Workspace.create(from: folder("absent.git"), at: folder("ws2")) }
        #expect(missing.location == folder("absent.git") && missing.isNotFound)
    }

    @Test("a packed fixture's workspace holds linked packs and no remote")
    func packedFixture() throws {
        let folder = try TemporaryFolder()
        _ = try Fixture.build(source: tinyFixture, into: folder("f.git"))
        let workspace = try Workspace.create(from: folder("f.git"), at: folder("ws"))
        let packs = try FileManager.default.contentsOfDirectory(atPath: workspace.repository.gitDirectory + "objects/pack")
        #expect(packs.filter { $0.hasSuffix(".pack") }.count == 1)
        #expect(try gitOutput(["remote"], in: workspace.path) == "")
        #expect(try gitOutput(["fsck", "--strict"], in: workspace.path) == "")
        #expect(try gitOutput(["log", "--format=%H %s"], in: workspace.path) == "\(FixtureTests.tinyCommit) Initial commit")
    }
}
