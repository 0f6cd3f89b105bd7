import Foundation
import Posix
import Testing
@testable import GitStore

/// Builds a chain of `depth` folders named `name` below `root` (descriptor-relative, so past
/// PATH_MAX), with `file` written in the deepest one; returns nothing, the chain stays.
func makeChain(under root: String, depth: Int, name: String = "d", file: String? = nil) throws {
    var current = try FileDescriptor.openDirectory(path: root)
    for _ in 0..<depth {
        let next = try #require(try HostileFiles.openDirectory(Array(name.utf8), in: current, create: true))
        current.close()
        current = next
    }
    if let file { try HostileFiles.write(Array("deep\n".utf8), to: [Array(file.utf8)], under: current) }
    current.close()
}

/// Creates folder `side` holding file `f.txt` at `depth` levels down a chain made by `makeChain`.
func addSideBranch(under root: String, depth: Int, name: String = "d", side: String) throws {
    var current = try FileDescriptor.openDirectory(path: root)
    for _ in 0..<depth {
        let next = try #require(try HostileFiles.openDirectory(Array(name.utf8), in: current))
        current.close()
        current = next
    }
    let folder = try #require(try HostileFiles.openDirectory(Array(side.utf8), in: current, create: true))
    try HostileFiles.write(Array("side\n".utf8), to: [Array("f.txt".utf8)], under: folder)
    folder.close()
    current.close()
}

/// Removes a folder chain made by `makeChain` (and anything one level inside each folder), without
/// recursion and without paths: walk down holding one descriptor, then remove bottom-up through `..`.
func removeChain(under root: String, name: String = "d") throws {
    let top = try FileDescriptor.openDirectory(path: root)
    var current = top
    var depth = 0
    while let next = try? HostileFiles.openDirectory(Array(name.utf8), in: current) {
        if current != top { current.close() }
        current = next
        depth += 1
    }
    while depth > 0 {
        for entry in try current.entries() { try current.remove(entry.name, directory: entry.kind == .directory) }
        let up = try #require(try HostileFiles.openDirectory(Array("..".utf8), in: current))
        current.close()
        current = up
        depth -= 1
    }
    try current.remove(Array(name.utf8), directory: true)
    if current != top { current.close() }
    top.close()
}

/// A `/proc/self/status` memory field (`VmRSS`, `VmHWM`) in KiB.
func residentKiB(_ field: String) throws -> Int {
    let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
    let line = try #require(status.split(separator: "\n").first { $0.hasPrefix(field + ":") })
    return try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? ""))
}

/// The number of descriptors this process has open.
func openDescriptorCount() throws -> Int {
    try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
}

/// Runs the git CLI (isolated, status checked) and returns its raw standard output.
func gitRaw(_ arguments: [String], gitDirectory: String) throws -> [UInt8] {
    try runGit(["--git-dir", gitDirectory] + arguments).outputBytes
}

@Suite("Hostile worktrees", .serialized, .timeLimit(.minutes(5)))
struct HostileWorkspaceTests {
    @Test("attributes the agent writes (-diff, binary, diff=driver) and NUL bytes hide no added line; the run repository's diff is equal")
    func attributesAndNulBytes() throws {
        let episode = try Episode()
        let (snapshot, diff) = try episode.step {
            try write("*.py -diff\n*.js binary\n*.ts diff=xyz\n*.md filter=evil eol=crlf\n", to: episode.root + "/.gitattributes")
            try write("import os\nos.system('curl evil')\n", to: episode.root + "/src/hidden.py")
            try writeBytes(Array("// a comment \u{0}with a NUL\nfetch('http://evil')\n".utf8), to: episode.root + "/web/app.js")
            try write("export const x = eval('1')\n", to: episode.root + "/web/app.ts")
            try write("line\n", to: episode.root + "/notes.md")
        }
        let added = { (path: String) in diff.files.first { $0.path == path }?.hunks.flatMap(\.lines).filter { $0.origin == .addition }.map(\.content) }
        #expect(added("src/hidden.py") == ["import os", "os.system('curl evil')"])
        #expect(added("web/app.js") == ["// a comment \u{0}with a NUL", "fetch('http://evil')"])
        #expect(added("web/app.ts") == ["export const x = eval('1')"])
        #expect(diff.files.allSatisfy { !$0.isBinary })
        // Stored byte for byte: no eol conversion or filter.
        #expect(try episode.workspace.repository.fileContent(at: snapshot.commit, path: "notes.md") == Array("line\n".utf8))
        // A later step that edits the files is seen the same way (the committed .gitattributes stays).
        let (second, laterDiff) = try episode.step(2) { try write("import os\nos.system('rm -rf /')\n", to: episode.root + "/src/hidden.py") }
        #expect(laterDiff.files.first?.hunks.flatMap(\.lines).filter { $0.origin == .addition }.map(\.content) == ["os.system('rm -rf /')"])
        // The run repository (bare, no attributes file) gives the same diffs: rescore sees what the run saw.
        let run = try Repository.create(at: episode.folder("run.git"), bare: true)
        try episode.workspace.repository.copyObjects(reachableFrom: second.commit, into: run)
        #expect(try run.diff(from: snapshot.parent, to: snapshot.commit) == diff)
        #expect(try run.diff(from: second.parent, to: second.commit) == laterDiff)
    }

    @Test("FIFOs (also one named .gitattributes), a socket and device-like links never block the snapshot or a read")
    func fifosAndLinks() throws {
        let episode = try Episode()
        let (snapshot, diff) = try episode.step {
            #expect(mkfifo(episode.root + "/.gitattributes", 0o644) == 0)
            #expect(mkfifo(episode.root + "/src/.gitignore", 0o644) == 0)
            try FileManager.default.createSymbolicLink(atPath: episode.root + "/zero", withDestinationPath: "/dev/zero")
            try FileManager.default.createSymbolicLink(atPath: episode.root + "/escape", withDestinationPath: episode.folder.path)
            try bindSocket(at: episode.root + "/s.sock")
        }
        #expect(snapshot.skipped == [
            SkippedPath(path: ".gitattributes", reason: .fifo), SkippedPath(path: "s.sock", reason: .socket),
            SkippedPath(path: "src/.gitignore", reason: .fifo),
        ])
        #expect(diff.files.map(\.path) == ["escape", "zero"])
        #expect(diff.files.allSatisfy { $0.newMode == .symlink })
        #expect(try episode.workspace.repository.fileContent(at: snapshot.commit, path: "zero") == Array("/dev/zero".utf8))
        // The runner's reads of agent files (pressure targets, seeds) refuse FIFOs and links at once.
        for path in [".gitattributes", "zero", "escape/fixture.git/HEAD"] {
            let error = try #require(throws: GitError.self) { try episode.workspace.fileContent(path) }
            #expect(error.kind == .fileSystem && error.message == "not a file of the expected kind")
        }
        let seed = Seed(edits: [SeedEdit(path: ".gitattributes", anchor: .bottom, text: "x\n")], author: colleague, message: "onto a FIFO")
        #expect(throws: GitError.self) { try episode.workspace.land(seed) }
        // A large regular file is read no further than asked.
        try writeBytes([UInt8](repeating: 0x61, count: 5000), to: episode.root + "/big.txt")
        let tooLarge = try #require(throws: GitError.self) { try episode.workspace.fileContent("big.txt", limit: 4096) }
        #expect(tooLarge.message == "larger than allowed")
    }

    @Test("a 30,000-level folder chain: no crash, the deep part is one pathTooLong finding, the rest is stored")
    func deepChain() throws {
        let episode = try Episode()
        try makeChain(under: episode.root, depth: 30_000, file: "bottom.py")
        defer { try? removeChain(under: episode.root) }
        let (snapshot, diff) = try episode.step { try write("kept\n", to: episode.root + "/kept.txt") }
        #expect(snapshot.skipped.map(\.reason) == [.pathTooLong])
        #expect(snapshot.skipped.first?.path.hasPrefix("d/d/d/") == true)
        #expect(diff.files.map(\.path) == ["kept.txt"])
        // Paths up to the bound are stored, longer ones are a finding, not a failed snapshot.
        let name = String(repeating: "n", count: 250)
        let (second, secondDiff) = try episode.step(2) {
            try write("ok\n", to: episode.root + "/" + Array(repeating: name, count: 12).joined(separator: "/") + "/ok.py")
            try makeChain(under: episode.root, depth: 17, name: name, file: "far.py")
        }
        defer { try? removeChain(under: episode.root, name: name) }
        #expect(secondDiff.files.map { $0.path.utf8.count } == [12 * 251 + 5])
        #expect(second.skipped.map(\.reason) == [.pathTooLong, .pathTooLong])
    }

    @Test("the walk holds a bounded number of descriptors at any depth and finds every entry of a 30,000-level chain")
    func walkBoundedDescriptors() async throws {
        // Counted in a child process of its own: in this one, other suites open and close
        // descriptors while the walk runs, and the count would be theirs too.
        let result = try await #require(processExitsWith: .success, observing: [\.standardErrorContent]) {
            let problems = (try? Self.walkDescriptorProblems()) ?? ["the chain could not be built or walked"]
            if !problems.isEmpty {
                FileHandle.standardError.write(Data(problems.joined(separator: "\n").utf8))
                exit(1)
            }
        }
        #expect(result.standardErrorContent.isEmpty, "\(String(decoding: result.standardErrorContent, as: UTF8.self))")
    }

    /// Walks a 30,000-level chain with side folders and returns what went wrong (nothing: the
    /// walk found every entry and never held more than its retained depth of descriptors).
    static func walkDescriptorProblems() throws -> [String] {
        let folder = try TemporaryFolder()
        try makeChain(under: folder.path, depth: 30_000, file: "bottom.py")
        defer { try? removeChain(under: folder.path) }
        // Side folders deep down make the walk come back up through `..` and go down again
        // ("a" sorts before "d", "e" after it).
        for (depth, side) in [(3, "e"), (20, "a"), (20, "e"), (12_345, "e"), (29_000, "a")] {
            try addSideBranch(under: folder.path, depth: depth, side: side)
        }
        var deepest = 0, most = 0, files = 0
        let root = try FileDescriptor.openDirectory(path: folder.path)
        defer { root.close() }
        let before = try openDescriptorCount()
        try TreeWalk.walk(root) { entry in
            deepest = max(deepest, entry.depth)
            if entry.depth % 5000 == 0 || entry.status.kind == .regular { most = max(most, try openDescriptorCount() - before) }
            if entry.status.kind == .regular { files += 1 }
            return .descend
        }
        var problems: [String] = []
        if deepest != 30_001 || files != 6 { problems.append("deepest \(deepest) (expected 30001), files \(files) (expected 6)") }
        if most > TreeWalk.retainedDepth + 4 { problems.append("held \(most) descriptors at once (bound \(TreeWalk.retainedDepth + 4))") }
        let after = try openDescriptorCount()
        if after != before { problems.append("\(after - before) descriptors left open after the walk") }
        return problems
    }

    @Test("names that are not UTF-8 are stored with their raw bytes and listed")
    func rawNames() throws {
        let episode = try Episode()
        let folderName: [UInt8] = Array("pkg".utf8) + [0xff, 0xfe]
        let fileName: [UInt8] = Array("mod".utf8) + [0xe9] + Array(".py".utf8)
        let (snapshot, diff) = try episode.step {
            #expect((Array(episode.root.utf8) + [UInt8(ascii: "/")] + folderName + [0]).withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { mkdir($0.baseAddress!, 0o755) } } == 0)
            try writeBytes(Array("import os\n".utf8), toRawPath: Array(episode.root.utf8) + [UInt8(ascii: "/")] + folderName + [UInt8(ascii: "/")] + fileName)
        }
        #expect(snapshot.skipped.map(\.reason) == [.nameNotUTF8, .nameNotUTF8])
        #expect(diff.files.count == 1 && diff.files[0].hunks.first?.lines.map(\.content) == ["import os"])
        let listing = try gitRaw(["ls-tree", "-r", "-z", "--name-only", snapshot.commit.description], gitDirectory: episode.workspace.gitDirectory)
        let expected = folderName + [UInt8(ascii: "/")] + fileName
        #expect(listing.split(separator: 0).contains { Array($0) == expected })
        // The next snapshot finds the file unchanged through the index (same raw path).
        let again = try episode.workspace.snapshot(StepStamp(step: 2, summary: "task-2"))
        #expect(try episode.workspace.diff(again).isEmpty)
    }

    @Test("setuid and setgid bits are removed on the host, through the open file, and listed")
    func setuidBits() throws {
        let episode = try Episode()
        let (snapshot, diff) = try episode.step {
            try write("#!/bin/sh\nid\n", to: episode.root + "/tool.sh")
            #expect(chmod(episode.root + "/tool.sh", 0o4755) == 0)
            #expect(chmod(episode.root + "/src/inventory.py", 0o2644) == 0)
        }
        #expect(snapshot.skipped == [SkippedPath(path: "src/inventory.py", reason: .setuidBit), SkippedPath(path: "tool.sh", reason: .setuidBit)])
        for (path, mode) in [("tool.sh", 0o755), ("src/inventory.py", 0o644)] {
            let attributes = try FileManager.default.attributesOfItem(atPath: episode.root + "/" + path)
            #expect((attributes[.posixPermissions] as? Int) == mode)
        }
        #expect(diff.files.map(\.path) == ["tool.sh"] && diff.files[0].newMode == .executable)
    }

    @Test("what exceeds the step's budget of new bytes or files is left out and listed")
    func budgets() throws {
        let episode = try Episode()
        episode.workspace.budget = SnapshotBudget(maximumNewBytes: 1000, maximumFiles: 100)
        let (snapshot, diff) = try episode.step {
            try writeBytes([UInt8](repeating: 0x61, count: 600), to: episode.root + "/a.txt")
            try writeBytes([UInt8](repeating: 0x62, count: 600), to: episode.root + "/b.txt")
            try writeBytes([UInt8](repeating: 0x63, count: 300), to: episode.root + "/c.txt")
        }
        #expect(snapshot.skipped == [SkippedPath(path: "b.txt", reason: .overBudget)])
        #expect(diff.files.map(\.path) == ["a.txt", "c.txt"])
        let tracked = try gitRaw(["ls-tree", "-r", "--name-only", snapshot.commit.description], gitDirectory: episode.workspace.gitDirectory)
        let count = tracked.split(separator: UInt8(ascii: "\n")).count
        episode.workspace.budget = SnapshotBudget(maximumFiles: count + 1)
        let (second, secondDiff) = try episode.step(2) {
            try write("1\n", to: episode.root + "/x1.txt")
            try write("2\n", to: episode.root + "/x2.txt")
        }
        // b.txt now fits the byte budget and takes the last file place; x1 and x2 do not fit.
        #expect(second.skipped == [SkippedPath(path: "x1.txt", reason: .overBudget), SkippedPath(path: "x2.txt", reason: .overBudget)])
        #expect(secondDiff.files.map(\.path) == ["b.txt"])
        // Past 10,000 findings the rest are counted, not listed: the list stays bounded.
        episode.workspace.budget = SnapshotBudget(maximumFiles: count + 1)
        for n in 0..<10_005 { try write("", to: episode.root + "/many/\(n)") }
        let crowded = try episode.workspace.snapshot(StepStamp(step: 3, summary: "t"))
        #expect(crowded.skipped.count == 10_001)
        #expect(crowded.skipped.last == SkippedPath(path: "(7 more findings not listed)", reason: .overBudget))
        try FileManager.default.removeItem(atPath: episode.root + "/many")
        // A 1 GiB sparse file under the default budget is left out without being read.
        episode.workspace.budget = .standard
        let fd = open(episode.root + "/huge.bin", O_CREAT | O_WRONLY, 0o644)
        #expect(fd >= 0 && ftruncate(fd, 1 << 30) == 0)
        close(fd)
        let third = try episode.workspace.snapshot(StepStamp(step: 4, summary: "t"))
        #expect(third.skipped.contains(SkippedPath(path: "huge.bin", reason: .overBudget)))
    }

    @Test("the git directory is outside the worktree; the worktree's .git file is never stored and a change to it is a finding")
    func gitLink() throws {
        let episode = try Episode()
        let workspace = episode.workspace
        #expect(workspace.path == episode.folder("ws/work") && workspace.gitDirectory == episode.folder("ws/git/"))
        #expect(try String(contentsOfFile: workspace.path + "/.git", encoding: .utf8) == "gitdir: \(episode.folder("ws/git"))\n")
        for folder in [episode.folder("ws"), workspace.path, workspace.gitDirectory] {
            #expect((try FileManager.default.attributesOfItem(atPath: folder)[.posixPermissions] as? Int) == 0o700)
        }
        // The git CLI reaches the history through the .git file, as an agent would.
        let (first, diff) = try episode.step { try write("new\n", to: episode.root + "/new.txt") }
        #expect(first.skipped.isEmpty && diff.files.map(\.path) == ["new.txt"])
        #expect(try gitOutput(["log", "-1", "--format=%H"], in: workspace.path) == first.commit.description)
        #expect(try gitOutput(["status", "--porcelain"], in: workspace.path) == "")
        // Pointed elsewhere: a finding, and written back; never stored.
        try write("gitdir: /elsewhere\n", to: workspace.path + "/.git")
        let (second, secondDiff) = try episode.step(2) {}
        #expect(second.skipped == [SkippedPath(path: ".git", reason: .gitLinkChanged)] && secondDiff.isEmpty)
        #expect(try String(contentsOfFile: workspace.path + "/.git", encoding: .utf8) == "gitdir: \(episode.folder("ws/git"))\n")
        // Replaced by a folder with a config and a .gitattributes: a finding, nothing from it stored or read.
        try FileManager.default.removeItem(atPath: workspace.path + "/.git")
        try write("[core]\n\tbare = true\n", to: workspace.path + "/.git/config")
        try write("* -diff\n", to: workspace.path + "/.git/info/attributes")
        let (third, thirdDiff) = try episode.step(3) { try write("x = 1\n", to: episode.root + "/src/extra.py") }
        #expect(third.skipped == [SkippedPath(path: ".git", reason: .gitLinkChanged)])
        #expect(thirdDiff.files.map(\.path) == ["src/extra.py"] && !thirdDiff.files[0].isBinary)
        // A link in its place (to another repository) is a finding too, and written back.
        try FileManager.default.removeItem(atPath: workspace.path + "/.git")
        try FileManager.default.createSymbolicLink(atPath: workspace.path + "/.git", withDestinationPath: episode.folder("fixture.git"))
        let (fourth, _) = try episode.step(4) {}
        #expect(fourth.skipped == [SkippedPath(path: ".git", reason: .gitLinkChanged)])
        #expect(try FileManager.default.destinationOfSymbolicLinkIfAny(workspace.path + "/.git") == nil)
    }

    @Test("snapshotting three sparse 1 GiB files streams them: the process's peak memory grows by far less than their size")
    func sparseFilesMemory() async {
        let result = await #expect(processExitsWith: .success, observing: [\.standardOutputContent]) {
            let folder = try TemporaryFolder()
            _ = try Fixture.build(source: tinyFixture, into: folder("fixture.git"))
            let workspace = try Workspace.create(from: folder("fixture.git"), at: folder("ws"))
            workspace.budget = SnapshotBudget(maximumNewBytes: 8 << 30)
            for n in 1...3 {
                let fd = open(workspace.path + "/sparse\(n).bin", O_CREAT | O_WRONLY, 0o644)
                guard fd >= 0, ftruncate(fd, 1 << 30) == 0 else { exit(2) }
                close(fd)
            }
            // Reset the kernel's high-water mark (VmHWM) so it measures the snapshot alone.
            try "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
            let before = try residentKiB("VmRSS")
            let snapshot = try workspace.snapshot(StepStamp(step: 1, summary: "t"))
            let growth = (try residentKiB("VmHWM") - before) * 1024
            print("snapshot of 3 sparse 1 GiB files: resident \(before >> 10) MiB before, peak \(try residentKiB("VmHWM") >> 10) MiB during (getrusage peak \(peakResidentBytes() >> 20) MiB)")
            guard snapshot.skipped.isEmpty else { exit(3) }
            for n in 1...3 {
                let size = try gitRaw(["cat-file", "-s", "\(snapshot.commit):sparse\(n).bin"], gitDirectory: workspace.gitDirectory)
                guard String(decoding: size, as: UTF8.self) == "\(1 << 30)\n" else { exit(4) }
            }
            exit(growth < 128 << 20 ? 0 : 5)
        }
        print(String(decoding: result?.standardOutputContent ?? [], as: UTF8.self))
    }
}

extension FileManager {
    /// The target of a symbolic link, or nil when `path` is not a link.
    func destinationOfSymbolicLinkIfAny(_ path: String) throws -> String? {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFLNK else { return nil }
        return try destinationOfSymbolicLink(atPath: path)
    }
}
