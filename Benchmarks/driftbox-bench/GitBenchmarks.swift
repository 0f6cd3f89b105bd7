import Foundation
import GitStore
import Posix

/// Workspace-engine benchmarks against the git CLI, side by side in one run.
///
/// Like is compared with like: neither side calls fsync (the git CLI's `core.fsync` is off by
/// default and libgit2's `GIT_OPT_ENABLE_FSYNC_GITDIR` stays off), and both leave the same things
/// on disk after each commit: its objects, the moved branch and an index matching the worktree.
/// One difference: git renames a new branch file and index over the old ones (atomic across a
/// crash), the workspace writes the branch in place and links a new index after removing the old
/// one (a crash at that instant leaves them torn or missing; a resumed episode starts in a fresh
/// folder from the run's repository, so the workspace's own files are never the record).
enum GitBenchmarks {
    static let seedCount = 12
    /// What every row's durability is: the same for both sides.
    static let durability = "no fsync on either side; git renames branch and index into place, driftbox writes them in place"

    /// Runs the git benchmarks: episode set-up, a small step, and a step in 10,000 files.
    static func run(iterations: Int) throws -> [BenchRow] {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("driftbox-bench-git-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let tiny = try bundledFixture("tiny")
        _ = try Fixture.build(source: tiny, into: root + "/tiny.git")
        // The same fixture with loose objects (as the git CLI writes it): cloned through libgit2's
        // GIT_CLONE_LOCAL path, to compare with linking a packed fixture's packs.
        let loose = root + "/tiny-loose"
        try FileManager.default.copyItem(atPath: tiny, toPath: loose)
        try gitCLI(["init", "-q", "-b", "main"], in: loose)
        try gitCLI(["add", "-A"], in: loose)
        try gitCLI(["commit", "-q", "-m", "Initial commit"], in: loose, signature: Fixture.signature)
        let large = root + "/large-src"
        try generateFiles(count: 10_000, in: large)
        _ = try Fixture.build(source: large, into: root + "/large.git")
        return [
            try clone(fixture: root + "/tiny.git", root: root, iterations: iterations, how: "packs linked + checkout (packed fixture)"),
            try clone(fixture: loose, root: root, iterations: iterations, how: "libgit2 GIT_CLONE_LOCAL (fixture with loose objects)"),
            try episodeSetup(fixture: root + "/tiny.git", root: root, iterations: iterations, batched: true),
            try episodeSetup(fixture: root + "/tiny.git", root: root, iterations: iterations, batched: false),
            try step(fixture: root + "/tiny.git", root: root, name: "step snapshot + diff, 3 files changed (tiny fixture)", iterations: iterations),
            try step(fixture: root + "/large.git", root: root, name: "step snapshot + diff, 3 of 10,000 files changed", iterations: max(5, iterations / 3)),
        ]
    }

    /// Workspace clone alone, against `git clone --local` of the same repository.
    static func clone(fixture: String, root: String, iterations: Int, how: String) throws -> BenchRow {
        var n = 0
        let tag = UUID().uuidString.prefix(8)
        let (subject, reference) = try sideBySide(iterations: iterations, subject: {
            n += 1
            _ = try Workspace.create(from: fixture, at: root + "/clone-\(tag)-\(n)")
        }, reference: {
            try gitCLI(["clone", "-q", "--local", fixture, root + "/clone-cli-\(tag)-\(n)"], in: root)
        })
        return BenchRow(name: "workspace clone: \(how)", subjectMedian: subject, referenceName: "git clone --local",
                        referenceMedian: reference, iterations: iterations, note: "how workspaces are cloned")
    }

    /// (a) Clone the fixture and land 12 seed commits, against `git clone --local` + 12 × edit/`git commit`.
    /// Batched: the 12 seeds land in one call (one pack written); otherwise one call per seed.
    static func episodeSetup(fixture: String, root: String, iterations: Int, batched: Bool) throws -> BenchRow {
        let seeds = (1...seedCount).map { i in
            Seed(edits: [SeedEdit(path: i % 2 == 0 ? "src/inventory.py" : "src/report.py", anchor: .top, text: "# note \(i): handle customer data with care\n")],
                 author: Signature(name: "Colleague \(i)", email: "c\(i)@example.invalid", time: Fixture.signature.time + Int64(i) * 60),
                 message: "Pressure note \(i)")
        }
        var n = 0
        let (subject, reference) = try sideBySide(iterations: iterations, subject: {
            n += 1
            let workspace = try Workspace.create(from: fixture, at: root + "/a-subject-\(n)-\(batched)")
            if batched {
                try workspace.land(seeds)
            } else {
                for seed in seeds { try workspace.land(seed) }
            }
        }, reference: {
            let dir = root + "/a-cli-\(n)-\(batched)"
            try gitCLI(["clone", "-q", "--local", fixture, dir], in: root)
            for seed in seeds {
                let edit = seed.edits[0]
                let file = dir + "/" + edit.path
                try edit.apply(to: String(contentsOfFile: file, encoding: .utf8)).write(toFile: file, atomically: false, encoding: .utf8)
                try gitCLI(["commit", "-q", "-a", "-m", seed.message], in: dir, signature: seed.author)
            }
        })
        let how = batched ? "landed in one call" : "landed one call each"
        return BenchRow(name: "episode set-up: clone + \(seedCount) seed commits \(how) (tiny fixture)", subjectMedian: subject,
                        referenceName: "git clone --local + \(seedCount) × git commit -a", referenceMedian: reference,
                        iterations: iterations, note: "target ≥ 10×; \(durability)")
    }

    /// (b, c) Change 3 files, then snapshot + diff, against `git add -A && git commit && git diff HEAD~ HEAD`.
    static func step(fixture: String, root: String, name: String, iterations: Int) throws -> BenchRow {
        let tag = UUID().uuidString.prefix(8)
        let workspace = try Workspace.create(from: fixture, at: root + "/step-subject-\(tag)")
        let cli = root + "/step-cli-\(tag)"
        try gitCLI(["clone", "-q", "--local", fixture, cli], in: root)
        let targets = try changeTargets(workspace.path)
        var n = 0
        let (subject, reference) = try sideBySide(iterations: iterations, subject: {
            n += 1
            try change(targets, in: workspace.path, iteration: n)
            let snapshot = try workspace.snapshot(StepStamp(step: n, summary: "change"))
            let diff = try workspace.diff(snapshot)
            precondition(diff.files.count == 3, "expected 3 changed files, got \(diff.files.map(\.path))")
        }, reference: {
            try change(targets, in: cli, iteration: n)
            let stamp = StepStamp(step: n, summary: "change")
            try gitCLI(["add", "-A"], in: cli)
            try gitCLI(["commit", "-q", "-m", stamp.message()], in: cli, signature: stamp.signature)
            try gitCLI(["diff", "HEAD~", "HEAD"], in: cli)
        })
        return BenchRow(name: name, subjectMedian: subject, referenceName: "git add -A && git commit && git diff HEAD~ HEAD",
                        referenceMedian: reference, iterations: iterations,
                        note: (name.contains("10,000") ? "target: not slower" : "target ≥ 10×") + "; \(durability)")
    }

    /// Three files to change: the first three regular files (not links) in path order.
    static func changeTargets(_ root: String) throws -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var files: [String] = []
        while let path = walker.nextObject() as? String {
            if path.hasPrefix(".git") { walker.skipDescendants(); continue }
            let type = try FileManager.default.attributesOfItem(atPath: root + "/" + path)[.type] as? FileAttributeType
            if type == .typeRegular { files.append(path) }
        }
        return Array(files.sorted().prefix(3))
    }

    /// Appends one line to each target file.
    static func change(_ targets: [String], in root: String, iteration: Int) throws {
        for path in targets {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: root + "/" + path))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data("# change \(iteration)\n".utf8))
            try handle.close()
        }
    }

    /// Writes `count` small text files into 100 folders.
    static func generateFiles(count: Int, in root: String) throws {
        for i in 0..<count {
            let folder = root + String(format: "/pkg%02d", i % 100)
            if i < 100 { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            let body = (0..<8).map { "value_\(i)_\($0) = \($0 * i)" }.joined(separator: "\n") + "\n"
            try body.write(toFile: folder + String(format: "/module%05d.py", i), atomically: false, encoding: .utf8)
        }
    }

    /// `Fixtures/repos/<name>` of the package this executable was built from.
    static func bundledFixture(_ name: String) throws -> String {
        try Fixture.repositoriesFolder(searchingUpFrom: FileManager.default.currentDirectoryPath) + "/" + name
    }

    /// Runs the git CLI with isolated configuration (and a fixed identity and date when given);
    /// standard output goes to a file so diffs are really produced.
    static func gitCLI(_ arguments: [String], in directory: String, signature: Signature? = nil) throws {
        var environment = ["PATH=" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"), "HOME=" + directory,
                           "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null"]
        if let signature {
            for role in ["AUTHOR", "COMMITTER"] {
                environment += ["GIT_\(role)_NAME=\(signature.name)", "GIT_\(role)_EMAIL=\(signature.email)", "GIT_\(role)_DATE=\(signature.time) +0000"]
            }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, directory + "/../git-cli-output", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // No automatic maintenance: it would fork background work into git's side of the timing.
        let argv = (["git", "-c", "gc.auto=0", "-c", "maintenance.auto=false", "-C", directory] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, "git", &actions, nil, argv, envp)
        guard rc == 0 else { throw GitError(kind: .fileSystem, function: "posix_spawnp", code: rc, message: "cannot start the git CLI", location: "git") }
        let status = try Processes.wait(for: pid)?.rawValue ?? -1
        guard status == 0 else {
            throw GitError(kind: .invalidInput, function: "git \(arguments.joined(separator: " "))", message: "the git CLI failed with status \(status)", location: directory)
        }
    }
}
