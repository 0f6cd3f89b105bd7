import Checks
import Foundation
import GitStore
import Report
import Runner
import Sandbox
import Testing

/// A run folder written by hand with known verdicts:
/// regular r.0: C V V U (first violation 2); regular r.1: C C C V (first 4); baseline b.0: C C C, failed.
private func knownRun() throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("driftbox-report-\(UUID().uuidString)")
    func scenario(_ id: String, _ condition: String) -> RunManifest.ScenarioEntry {
        .init(id: id, path: "/\(id).yaml", sha256: "", valuePair: "efficiency-security", condition: condition, fixture: "payment-service",
              fixtureCommit: String(repeating: "0", count: 40), checks: [])
    }
    func episode(_ id: String, _ scenario: String, _ repetition: Int) -> RunManifest.EpisodeEntry {
        .init(id: id, scenario: scenario, agent: "a", repetition: repetition, seed: UInt64(repetition), steps: 4)
    }
    let manifest = RunManifest(
        format: 1, runID: "known", created: "2026-01-01T00:00:00Z", driftboxVersion: driftboxVersion,
        suite: .init(id: "known", path: "/known.yaml", sha256: "", baseSeed: 0, repetitions: 2, steps: 4, singleScenario: false, agentsBase: "/"),
        scenarios: [scenario("es-regular", "regular"), scenario("es-baseline", "baseline")], agents: [],
        episodes: [episode("r.0", "es-regular", 0), episode("r.1", "es-regular", 1), episode("b.0", "es-baseline", 0)],
        sandbox: .init(mode: "full", capabilities: HostCapabilities(userNamespaces: true, landlockABI: 3, seccomp: true, uid: 0), gaps: [],
                       policy: "default", filterInstructions: 0),
        stepTimeoutSeconds: 60, verdictSets: [.init(file: "events.jsonl", created: "2026-01-01T00:00:00Z", checks: nil)])
    let store = try RunStore(creating: folder, manifest: manifest)
    let log = try EventLog(path: store.eventsPath)
    var counter = 0
    func id() -> ObjectID {
        counter += 1
        return ObjectID(hex: String(repeating: "0", count: 34) + String(format: "%06x", counter) as String)!
    }
    for (episode, kinds, status) in [("r.0", "CVVU", EpisodeEnd.Status.completed), ("r.1", "CCCV", .completed), ("b.0", "CCC", .failed)] {
        for (index, letter) in kinds.enumerated() {
            let kind: Verdict.Kind = letter == "C" ? .compliant : letter == "V" ? .violation : .unscoreable
            try log.append(RunEvent.step(StepRecord(episode: episode, step: index + 1, task: "t\(index + 1)", targets: ["m.py"], tier: nil, parent: id(), commit: id(),
                                                    verdict: Verdict(kind: kind, reason: String(letter)), outcome: "completed", failure: nil, skipped: [],
                                                    agentSeconds: 0, harnessSeconds: 0)))
        }
        try log.append(RunEvent.end(EpisodeEnd(episode: episode, status: status, reason: status == .failed ? "agent crashed" : nil, steps: kinds.count, tip: nil)))
    }
    return folder
}

@Suite struct SummaryTests {
    @Test func numbersOfAKnownRun() throws {
        let folder = try knownRun()
        defer { try? FileManager.default.removeItem(at: folder) }
        let summary = RunSummary(try RunRecord(folder: folder))
        #expect(summary.byCondition.map(\.label) == ["regular", "baseline"])
        let regular = summary.byCondition[0], baseline = summary.byCondition[1]
        #expect(regular.episodes == 2 && regular.failedEpisodes == 0)
        #expect(regular.violations == Proportion(successes: 3, trials: 7))
        #expect(regular.unscoreable == 1)
        #expect(regular.firstViolation.mean == 3.0 && regular.firstViolation.count == 2)
        #expect(baseline.episodes == 1 && baseline.failedEpisodes == 1)
        #expect(baseline.violations == Proportion(successes: 0, trials: 3))
        #expect(baseline.firstViolation.mean == nil)
        #expect(summary.curves[0].points.map(\.violations) == [
            Proportion(successes: 0, trials: 2), Proportion(successes: 1, trials: 2), Proportion(successes: 1, trials: 2), Proportion(successes: 1, trials: 1),
        ])
        let text = summary.render()
        // Cluster bootstrap over the two episodes: r.0 (2 of 3) and r.1 (1 of 4) resample to 4/6,
        // 3/7 or 2/8; the baseline's single episode gives no interval.
        #expect(text.contains("regular           2       0          7           3  42.9%  [25.0%, 66.7%]            1  3.0 (n=2) [2.0, 4.0]"))
        #expect(text.contains("baseline          1       1          3           0   0.0%               -            0                     -"))
        #expect(text.contains("cluster bootstrap over episodes"))
        #expect(text.contains("  step  2      1/2   50.0%  |###############\n"))
        #expect(text.contains("  step  4      1/1  100.0%  |##############################\n"))
    }

    @Test func theNewestVerdictSetWins() throws {
        let folder = try knownRun()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try RunStore(existing: folder)
        let record = try RunRecord(folder: folder)
        let log = try EventLog(path: store.path(of: "verdicts-2.jsonl"))
        for step in record.steps {
            // r.1 step 1 becomes a violation: regular rises to 4 of 7, first violation (2 + 1) / 2.
            let kind: Verdict.Kind = step.episode == "r.1" && step.step == 1 ? .violation : step.verdict.kind
            try log.append(VerdictRecord(episode: step.episode, step: step.step, commit: step.commit, verdict: Verdict(kind: kind, reason: "rescored")))
        }
        var manifest = try store.manifest()
        manifest.verdictSets.append(.init(file: "verdicts-2.jsonl", created: "2026-01-02T00:00:00Z", checks: nil))
        try store.write(manifest)
        let summary = RunSummary(try RunRecord(folder: folder))
        #expect(summary.verdictSet == "verdicts-2.jsonl")
        #expect(summary.byCondition[0].violations == Proportion(successes: 4, trials: 7))
        #expect(summary.byCondition[0].firstViolation.mean == 1.5)
        #expect(summary.render().contains("[50.0%, 66.7%]"))
    }
}
