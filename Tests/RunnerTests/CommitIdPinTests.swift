import Foundation
import Testing

/// The documented claim that the same suite, seed and agent outputs give the same commit ids on
/// every machine (docs/architecture.md, docs/run-format.md), pinned with literal ids: a bundled
/// scenario's first episode (fixture, constraint, seeds, steps), made by two separate `driftbox
/// run` processes, read back and checked by the git CLI.
@Suite("Commit id pins", .serialized, .timeLimit(.minutes(5)))
struct CommitIdPinTests {
    /// The first episode of the bundled `efficiency-security` regular scenario, base seed 42, three
    /// steps, the bundled demo trajectories: every commit of `refs/episodes/<episode>`, oldest
    /// first (fixture, AGENTS.md, then each step's seeds and the step).
    static let pinned: [String] = [
        "45eb363a33f1ce9ba67fe2364d0d618a65f64b01",
        "8fa31df02b21de0c6f9f6357706bf1590ce41691",
        "29bf179a7a95779edb7cf8391c3410539592dd9a",
        "7545c09327aa5fc772a527fdf79b0c65f67c3d20",
        "ae06bbd56ae9f992b246a9faed07ffdfba0711e9",
        "97c3c67ebbf0b604a007540a8b0d053171e055ef",
        "448cd9a70d67073e6f24768c082604b733020452",
        "8c64fb975790753eeab47a2206b0099ba4c1d062",
        "8ba42b2f3b24c005f4fb69471bf27883ee1e5c24",
        "83efa8be4c626c307bd1476382169064dfe8de0a",
        "0315ef0ae75c3ba1ac9a406168dfc3889dae85a3",
        "947e90e54d7878a9d1ce1e7f343675c0ad8aec2f",
    ]

    /// A suite of that one episode, written into `folder`.
    static func writeSuite(in folder: URL) throws -> URL {
        let file = folder.appendingPathComponent("pin.yaml")
        try """
        id: pin
        base_seed: 42
        repetitions: 1
        steps: 3
        scenarios:
          - \(packageRoot.appendingPathComponent("Fixtures/scenarios/efficiency-security/regular.yaml").path)
        agents:
          - id: demo
            kind: scripted
            trajectory: \(packageRoot.appendingPathComponent("Fixtures/trajectories/demo").path)
        """.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    /// Runs the suite in a `driftbox` process of its own and returns the episode's commit ids,
    /// oldest first, as the git CLI lists them.
    static func episodeCommits(suite: URL, runs: URL, runID: String) throws -> [String] {
        let driftbox = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("driftbox").path
        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DRIFTBOX_") }
        try runHost([driftbox, "run", suite.path, "--run-id", runID, "--out", runs.path, "--progress", "quiet", "-j", "1"],
                    in: packageRoot.path, environment: environment)
        let repository = runs.appendingPathComponent(runID).appendingPathComponent("repo.git").path
        let refs = try runGit(["--git-dir", repository, "for-each-ref", "--format=%(refname)", "refs/episodes/"]).output
            .split(separator: "\n").map(String.init)
        try #require(refs.count == 1, "one episode ref expected: \(refs)")
        // The git CLI checks every object (each id is the hash git computes for its content).
        try runGit(["--git-dir", repository, "fsck", "--strict", "--no-dangling"])
        let ids = try runGit(["--git-dir", repository, "rev-list", "--reverse", "--topo-order", refs[0]]).output
            .split(separator: "\n").map(String.init)
        for id in ids {
            let content = try runGit(["--git-dir", repository, "cat-file", "commit", id]).outputBytes
            let hashed = try runHost(["git", "hash-object", "-t", "commit", "--stdin"], environment: isolatedGitEnvironment(), input: content)
            #expect(hashed.output.trimmingCharacters(in: .whitespacesAndNewlines) == id, "git hashes commit \(id) differently")
        }
        return ids
    }

    @Test("a bundled scenario's first episode has the pinned commit ids, in two separate processes, as the git CLI reads them")
    func pinnedIds() throws {
        let folder = try temporaryFolder("pin")
        defer { try? FileManager.default.removeItem(at: folder) }
        let suite = try Self.writeSuite(in: folder)
        let runs = folder.appendingPathComponent("runs")
        let first = try Self.episodeCommits(suite: suite, runs: runs, runID: "first")
        let second = try Self.episodeCommits(suite: suite, runs: runs, runID: "second")
        #expect(first == second, "two processes made different commits")
        // fixture, AGENTS.md, and per step its seeds and the step: at least 1 + 1 + 3.
        #expect(first.count >= 5)
        let pasteable = "static let pinned: [String] = [\n" + first.map { "    \"\($0)\",\n" }.joined() + "]"
        #expect(first == Self.pinned, "the episode's commit ids changed; if the change is intended, paste:\n\(pasteable)")
    }
}
