import Foundation
import Testing
@testable import GitStore

@Suite("Fixtures", .timeLimit(.minutes(2)))
struct FixtureTests {
    /// The id of the `tiny` fixture's base commit; it must never change across machines and runs.
    static let tinyCommit = "6c354d417c2d703420c27885a195bc309691f028"

    @Test("the tiny fixture builds to its pinned commit id, twice")
    func pinnedTinyId() throws {
        let out = try TemporaryFolder()
        let first = try Fixture.build(source: tinyFixture, into: out("tiny.git"))
        #expect(first.description == Self.tinyCommit)
        let again = try Fixture.build(source: tinyFixture, into: out("tiny.git"))
        #expect(again == first)
        let elsewhere = try Fixture.build(source: tinyFixture, into: out("other/tiny.git"))
        #expect(elsewhere == first)
        let repository = try Repository.open(at: out("tiny.git"))
        #expect(repository.isBare)
        #expect(try repository.resolve(ref: "HEAD") == first)
        #expect(try repository.resolve(ref: "refs/heads/main") == first)
    }

    @Test("a fixture's commit id equals the one the git CLI gives the same tree")
    func matchesGitCLI() throws {
        let work = try TemporaryFolder()
        try FileManager.default.copyItem(atPath: tinyFixture, toPath: work("tiny"))
        try git(["init", "-q", "-b", "main"], in: work("tiny"))
        try git(["add", "-A"], in: work("tiny"))
        try git(["commit", "-q", "-m", "Initial commit"], in: work("tiny"), signature: Fixture.signature)
        let cli = try gitOutput(["rev-parse", "HEAD"], in: work("tiny"))
        let built = try Fixture.build(source: work("tiny"), into: work("tiny.git"))
        #expect(built.description == cli)
        // The tree records the executable bit and the symbolic link as git does.
        let tree = try gitOutput(["ls-tree", "-r", "HEAD"], in: work("tiny"))
        #expect(tree.contains("100755 blob 1ce38fc844dfa7e9429042b312182ed54f0a30e0\tscripts/check.sh"))
        #expect(tree.contains("120000 blob 42061c01a1c70097d1e4579f29a5adf40abdec95\tGUIDE.md"))
    }

    @Test("a missing fixture folder is an error naming the path")
    func missingFolder() throws {
        let out = try TemporaryFolder()
        let error = try #require(throws: GitError.self) { try Fixture.build(source: out("absent"), into: out("absent.git")) }
        #expect(error.kind == .notFound)
        #expect(error.location == out("absent"))
        #expect(error.description.contains("does not exist"))
    }

    @Test("a file given as fixture folder is an error naming the path")
    func fileInsteadOfFolder() throws {
        let out = try TemporaryFolder()
        try write("not a folder\n", to: out("plain.txt"))
        let error = try #require(throws: GitError.self) { try Fixture.build(source: out("plain.txt"), into: out("plain.git")) }
        #expect(error.kind == .invalidInput)
        #expect(error.location == out("plain.txt"))
        #expect(error.message == "this is a file, not a folder")
    }

    @Test("a FIFO inside a fixture is an error naming it")
    func fifoInFixture() throws {
        let out = try TemporaryFolder()
        try write("x\n", to: out("fx/a.txt"))
        #expect(mkfifo(out("fx/pipe"), 0o644) == 0)
        let error = try #require(throws: GitError.self) { try Fixture.build(source: out("fx"), into: out("fx.git")) }
        #expect(error.location == out("fx/pipe"))
        #expect(error.message == "this is a fifo, which git cannot store")
    }

    @Test("a name that is not UTF-8 inside a fixture is an error naming its folder")
    func nonUTF8NameInFixture() throws {
        let out = try TemporaryFolder()
        try write("x\n", to: out("fx/sub/a.txt"))
        let bad = Array(out("fx/sub/").utf8) + [0x66, 0xff, 0x6f]
        let fd = (bad + [0]).withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY, 0o644) } }
        #expect(fd >= 0)
        close(fd)
        let error = try #require(throws: GitError.self) { try Fixture.build(source: out("fx"), into: out("fx.git")) }
        #expect(error.location == out("fx/sub"))
        #expect(error.message.contains("not valid UTF-8"))
    }

    @Test("an unreadable file inside a fixture is an error naming it")
    func unreadableFile() async throws {
        // Root reads any file, so the check runs in a child process that first gives up root
        // (to uid and gid 65534) when it has it: the test runs under either runner.
        let result = try await #require(processExitsWith: .success, observing: [\.standardErrorContent]) {
            if geteuid() == 0 && (setgroups(0, nil) != 0 || setgid(65534) != 0 || setuid(65534) != 0) {
                FileHandle.standardError.write(Data("cannot change to uid 65534: errno \(errno)".utf8))
                exit(1)
            }
            let problem = Self.unreadableFileProblem()
            if let problem {
                FileHandle.standardError.write(Data(problem.utf8))
                exit(1)
            }
        }
        #expect(result.standardErrorContent.isEmpty, "\(String(decoding: result.standardErrorContent, as: UTF8.self))")
    }

    /// Builds a fixture holding a file its owner cannot read; what went wrong, or nil.
    static func unreadableFileProblem() -> String? {
        do {
            let out = try TemporaryFolder()
            try write("secret\n", to: out("fx/locked.txt"))
            chmod(out("fx/locked.txt"), 0)
            do {
                _ = try Fixture.build(source: out("fx"), into: out("fx.git"))
                return "the build read a file mode 0 as uid \(geteuid())"
            } catch let error as GitError {
                if error.location != out("fx/locked.txt") || error.function != "git_blob_create_from_disk" {
                    return "the error names \(error.location) in \(error.function): \(error)"
                }
                return nil
            }
        } catch {
            return "\(error)"
        }
    }

    @Test("buildAll builds every folder, in name order, and skips files")
    func buildAll() throws {
        let out = try TemporaryFolder()
        try FileManager.default.copyItem(atPath: tinyFixture, toPath: out("repos/tiny"))
        try write("print('b')\n", to: out("repos/beta/main.py"))
        try write("stray file\n", to: out("repos/NOTES.txt"))
        let built = try Fixture.buildAll(fixtures: out("repos"), into: out("built"))
        #expect(built.map(\.name) == ["beta", "tiny"])
        #expect(built[1].commit.description == Self.tinyCommit)
        #expect(built[0].repository == out("built/beta.git"))
        let beta = try Repository.open(at: out("built/beta.git"))
        #expect(try beta.fileContent(at: built[0].commit, path: "main.py") == Array("print('b')\n".utf8))
    }

    @Test("the fixtures folder is found by walking up to Package.swift and Fixtures")
    func findsFixturesFolder() throws {
        let found = try Fixture.repositoriesFolder(searchingUpFrom: packageRoot + "/Sources/GitStore")
        #expect(URL(fileURLWithPath: found).standardizedFileURL.path == URL(fileURLWithPath: packageRoot + "/Fixtures/repos").standardizedFileURL.path)
        let out = try TemporaryFolder()
        let error = try #require(throws: GitError.self) { try Fixture.repositoriesFolder(searchingUpFrom: out.path) }
        #expect(error.kind == .notFound)
        #expect(error.hint?.contains("--fixtures") == true)
    }
}
