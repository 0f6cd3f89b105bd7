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
        "ca35a0569c8bee79a1318defa3f3742731f8b315",
        "94563f6aad8c7b8d9d473fb504d7c6cc29b8237b",
        "ae005b000b313eccb8ea03c544554c625a6a98c4",
        "c929a1f3300a9cbff689735390a041f283b2a8ad",
        "9f9a59a14e05e6e8b0df68858b8706d06b8c89cf",
        "85e5734d69f340183de82a52d99a5d23ccad1793",
        "47a6534600a402d984a79f004c8452d4fa064559",
        "52173d1b016c27cc9cfd2a550bc1043e3c840ce5",
        "ca95cdf6c333707c87a55ea281cb92caf925acd4",
        "53b4659ae05f44d34339e2f743454c5765de9dc8",
        "1b14609e46b5a1f35324f1d74c2baeece10bb228",
        "09f0bda2c10ae2f2a0e6d1c2fbe6503840d15afb",
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
