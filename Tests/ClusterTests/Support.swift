import Foundation
@_exported import DriftboxTestSupport
import Runner

/// The built `driftbox`, next to the test bundle.
let driftboxExecutable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    .appendingPathComponent("driftbox").path

/// Runs `driftbox` to its end from the package root; any status is returned.
@discardableResult
func driftbox(_ arguments: [String]) throws -> HostRun {
    try runHost([driftboxExecutable] + arguments, in: packageRoot, allowFailure: true)
}

/// The bundled smoke suite (two scenarios, the scripted demo agent, four steps).
let smokeSuite = packageRoot + "/Fixtures/suites/smoke.yaml"

/// What must be equal between a suite run on one machine and its shards merged: per episode
/// (in manifest order), every seed and step commit, each step's parent, verdict, evidence and
/// outcome, and the end.
struct RunFingerprint: Equatable, CustomStringConvertible {
    var lines: [String]

    init(_ folder: String) throws {
        let record = try RunRecord(folder: URL(fileURLWithPath: folder))
        var lines: [String] = []
        for episode in record.manifest.episodes {
            for seed in record.seeds(of: episode.id) { lines.append("\(episode.id) seed \(seed.step)#\(seed.index) \(seed.block) \(seed.commit)") }
            for step in record.steps(of: episode.id) {
                lines.append("\(episode.id) step \(step.step) \(step.parent) \(step.commit) \(step.verdict.kind.rawValue) \(step.outcome) \(step.verdict.evidence.map(\.description))")
            }
            let end = record.ends[episode.id]
            lines.append("\(episode.id) end \(end?.status.rawValue ?? "-") \(end?.steps ?? -1) \(end?.tip?.description ?? "-")")
        }
        self.lines = lines
    }

    var description: String { lines.joined(separator: "\n") }
}

/// `git for-each-ref` of a run repository: every ref and the commit it names.
func refs(of run: String) throws -> String {
    try runHost(["git", "--git-dir", run + "/repo.git", "for-each-ref", "--format=%(refname) %(objectname)"], environment: isolatedGitEnvironment()).output
}

/// The shard runs of a suite and the same suite run whole, made once per test that needs them.
struct ShardedSmoke {
    let folder: TemporaryFolder
    let count: Int
    var runs: String { folder.path + "/runs" }
    var whole: String { runs + "/whole" }
    func shard(_ index: Int) -> String { runs + "/shard-\(index)" }

    /// Runs smoke with `repetitions` whole and as `count` shards; every run must finish.
    init(repetitions: Int, count: Int, label: String = "shards") throws {
        folder = try TemporaryFolder(label)
        self.count = count
        let common = [smokeSuite, "--repetitions", "\(repetitions)", "--out", folder.path + "/runs", "--progress", "quiet", "-j", "2"]
        let run = try driftbox(["run"] + common + ["--run-id", "whole"])
        guard run.status == 0 else { throw TestSupportError("the whole run failed", at: "driftbox run", run.errors) }
        for index in 0..<count {
            let shard = try driftbox(["run"] + common + ["--run-id", "shard-\(index)", "--shard", "\(index)/\(count)"])
            guard shard.status == 0 else { throw TestSupportError("shard \(index) failed", at: "driftbox run --shard", shard.errors) }
        }
    }
}
