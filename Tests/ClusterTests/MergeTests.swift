import Foundation
import Runner
import Testing

/// `driftbox merge` through the built program: shards of the smoke suite against the same suite
/// run on one machine.
@Suite(.serialized)
struct MergeTests {
    @Test func mergedShardsEqualTheSuiteRunOnOneMachine() throws {
        let smoke = try ShardedSmoke(repetitions: 3, count: 3)
        let merged = smoke.runs + "/merged"

        // One shard first: the run holds its episodes, the others are reported missing (status 4).
        let partial = try driftbox(["merge", smoke.shard(1), "--into", merged])
        #expect(partial.status == 4, "\(partial.errors)")
        #expect(partial.output.contains("missing shards: 0/3, 2/3"), "\(partial.output)")
        #expect(try driftbox(["check", merged, "--deep"]).status == 0)

        // Then all of them (shard 1 again): complete, status 0.
        let all = try driftbox(["merge", smoke.shard(2), smoke.shard(0), smoke.shard(1), "--into", merged])
        #expect(all.status == 0, "\(all.output)\(all.errors)")
        #expect(all.output.contains("shards: 3 of 3 merged; episodes: 6 of 6"), "\(all.output)")

        let expected = try RunFingerprint(smoke.whole)
        #expect(expected.lines.count > 12)
        #expect(try RunFingerprint(merged) == expected)
        let wholeManifest = try RunStore(existing: URL(fileURLWithPath: smoke.whole)).manifest()
        let mergedManifest = try RunStore(existing: URL(fileURLWithPath: merged)).manifest()
        #expect(mergedManifest.episodes == wholeManifest.episodes)
        #expect(mergedManifest.shard == nil)
        #expect(mergedManifest.merge?.shards.map(\.index) == [0, 1, 2])
        #expect(mergedManifest.merge?.pending == false)
        // The refs of the episodes are the whole run's.
        let episodeRefs = { (run: String) in try refs(of: run).split(separator: "\n").filter { $0.hasPrefix("refs/episodes/") } }
        #expect(try episodeRefs(merged) == episodeRefs(smoke.whole))
        #expect(try driftbox(["check", merged, "--deep"]).status == 0)
        #expect(try driftbox(["report", merged]).output == driftbox(["report", smoke.whole]).output)
        let episode = wholeManifest.episodes[0].id
        let verify = try driftbox(["replay", merged, episode, "--verify", "--progress", "quiet"])
        #expect(verify.status == 0, "\(verify.output)\(verify.errors)")

        // Merging again changes nothing but the time of the merge.
        let log = FileManager.default.contents(atPath: merged + "/events.jsonl")
        let refsBefore = try refs(of: merged)
        let again = try driftbox(["merge", smoke.shard(0), smoke.shard(1), smoke.shard(2), "--into", merged])
        #expect(again.status == 0, "\(again.errors)")
        #expect(FileManager.default.contents(atPath: merged + "/events.jsonl") == log)
        #expect(try refs(of: merged) == refsBefore)
        var repeated = try RunStore(existing: URL(fileURLWithPath: merged)).manifest()
        repeated.merge?.updated = mergedManifest.merge!.updated
        #expect(repeated == mergedManifest)

        // A merged run is not resumed; its shards are.
        let resume = try driftbox(["resume", merged])
        #expect(resume.status == 1)
        #expect(resume.errors.contains("merged from shards"), "\(resume.errors)")
    }

    @Test func shardsThatDisagreeAreRefusedNamingTheShardAndTheField() throws {
        let smoke = try ShardedSmoke(repetitions: 2, count: 2, label: "disagree")
        let folder = smoke.folder
        func refused(_ shards: [String], into target: String? = nil, field: String, naming named: String,
                     sourceLocation: SourceLocation = #_sourceLocation) throws {
            let target = target ?? folder.file("merged-\(UUID().uuidString.prefix(6))")
            let result = try driftbox(["merge"] + shards + ["--into", target])
            #expect(result.status == 1, "\(result.output)", sourceLocation: sourceLocation)
            #expect(result.errors.contains(field), "\(result.errors)", sourceLocation: sourceLocation)
            #expect(result.errors.contains(named), "\(result.errors)", sourceLocation: sourceLocation)
        }
        func copy(_ shard: String, to name: String, editing edit: (inout RunManifest) -> Void) throws -> String {
            let target = folder.file(name)
            try runHost(["cp", "-a", shard, target])
            let store = try RunStore(existing: URL(fileURLWithPath: target))
            var manifest = try store.manifest()
            edit(&manifest)
            try store.write(manifest)
            return target
        }

        // A shard of another suite file: the same scenarios, one more comment line.
        let otherSuite = folder.file("smoke.yaml")
        let text = try String(contentsOfFile: smokeSuite, encoding: .utf8)
            .replacingOccurrences(of: "../", with: packageRoot + "/Fixtures/") + "# a copy\n"
        try folder.write("smoke.yaml", text)
        let other = try driftbox(["run", otherSuite, "--repetitions", "2", "--shard", "1/2", "--out", folder.file("runs"), "--run-id", "other-1", "--progress", "quiet"])
        #expect(other.status == 0, "\(other.errors)")
        try refused([smoke.shard(0), folder.file("runs/other-1")], field: "suite.sha256", naming: folder.file("runs/other-1"))

        // A shard made by another driftbox version.
        let older = try copy(smoke.shard(1), to: "older-1") { $0.driftboxVersion = "0.0.9" }
        try refused([smoke.shard(0), older], field: "driftboxVersion is 0.0.9", naming: older)

        // A shard of another partition: 1/3 beside 0/2.
        let third = try driftbox(["run", smokeSuite, "--repetitions", "2", "--shard", "1/3", "--out", folder.file("runs"), "--run-id", "third-1", "--progress", "quiet"])
        #expect(third.status == 0, "\(third.errors)")
        try refused([smoke.shard(0), folder.file("runs/third-1")], field: "shard.count is 3", naming: folder.file("runs/third-1"))

        // Overlapping episodes: shard 0 relabelled as shard 1; and one shard named twice.
        let relabelled = try copy(smoke.shard(0), to: "relabelled") { $0.shard?.index = 1 }
        let firstEpisode = try RunStore(existing: URL(fileURLWithPath: smoke.shard(0))).manifest().episodes[0].id
        try refused([smoke.shard(0), relabelled], field: "episodes: episode '\(firstEpisode)'", naming: relabelled)
        try refused([smoke.shard(0), smoke.shard(0)], field: "shard.index", naming: smoke.shard(0))

        // A run that is not a shard.
        try refused([smoke.whole], field: "not a shard", naming: smoke.whole)

        // A merged run of one partition takes no shard of another, nor a shard re-run since.
        let merged = folder.file("merged")
        #expect(try driftbox(["merge", smoke.shard(0), "--into", merged]).status == 4)
        try refused([folder.file("runs/third-1")], into: merged, field: "shard.count is 3 here and 2 in the merged run", naming: folder.file("runs/third-1"))
        let rerun = try driftbox(["run", smokeSuite, "--repetitions", "2", "--shard", "0/2", "--out", folder.file("runs"), "--run-id", "rerun-0", "--progress", "quiet"])
        #expect(rerun.status == 0)
        try refused([folder.file("runs/rerun-0")], into: merged, field: "runID", naming: folder.file("runs/rerun-0"))
        // The refusals changed nothing: the merged run is sound and still holds shard 0 only.
        #expect(try driftbox(["check", merged, "--deep"]).status == 0)
        #expect(try RunStore(existing: URL(fileURLWithPath: merged)).manifest().merge?.shards.map(\.runID) == ["shard-0"])
    }

    @Test func aMergeKilledAtAnyMomentAndRepeatedGivesTheSameRun() throws {
        let smoke = try ShardedSmoke(repetitions: 4, count: 4, label: "killed")
        let shards = (0..<4).map(smoke.shard)
        let reference = smoke.runs + "/reference"
        // How long a whole merge takes here, so the kill moments spread over all of it (not a
        // measurement anything is checked against).
        let clock = ContinuousClock()
        let started = clock.now
        #expect(try driftbox(["merge"] + shards + ["--into", reference]).status == 0)
        let span = (clock.now - started) / .microseconds(1)
        let expectedLog = FileManager.default.contents(atPath: reference + "/events.jsonl")
        let expectedRefs = try refs(of: reference)
        let expected = try RunFingerprint(reference)

        var killed = 0
        let attempts = 14
        for attempt in 0..<attempts {
            let target = smoke.runs + "/attempt-\(attempt)"
            // Half of the attempts kill a merge into a run that already holds shard 0.
            if attempt % 2 == 1 { #expect(try driftbox(["merge", shards[0], "--into", target]).status == 4) }
            let started = try startProgram(driftboxExecutable, ["merge"] + shards + ["--into", target], in: URL(fileURLWithPath: packageRoot), label: "merge")
            usleep(UInt32(min(span * Double(attempt + 1) / Double(attempts), 5_000_000)))
            kill(started.process.processIdentifier, SIGKILL)
            let ended = started.finish()
            if ended.status != 0 { killed += 1 }
            let repeated = try driftbox(["merge"] + shards + ["--into", target])
            #expect(repeated.status == 0, "attempt \(attempt): \(repeated.errors)")
            #expect(FileManager.default.contents(atPath: target + "/events.jsonl") == expectedLog, "attempt \(attempt)")
            #expect(try refs(of: target) == expectedRefs, "attempt \(attempt)")
            #expect(try RunFingerprint(target) == expected, "attempt \(attempt)")
            let check = try driftbox(["check", target, "--deep"])
            #expect(check.status == 0, "attempt \(attempt): \(check.output)")
        }
        #expect(killed > 0, "no merge was killed before it ended")
    }

    @Test func aShardKilledMidRunMergesAsFarAsItGotAndAgainOnceResumed() throws {
        let smoke = try ShardedSmoke(repetitions: 3, count: 2, label: "midrun")
        let runs = smoke.runs
        // Shard 0 once more, killed in its second episode or later while its log ends with a seed
        // (seeds logged, the step not yet): the merged run must keep those seeds' commits, which
        // no ref reaches yet.
        let started = try startProgram(driftboxExecutable, ["run", smokeSuite, "--repetitions", "3", "--shard", "0/2", "--out", runs, "--run-id", "killed-0",
                                                            "--progress", "quiet", "-j", "1"], in: URL(fileURLWithPath: packageRoot), label: "killed")
        let log = runs + "/killed-0/events.jsonl"
        for _ in 0..<30_000 {
            let text = FileManager.default.contents(atPath: log).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let lines = text.split(separator: "\n")
            if lines.count >= 12, text.hasSuffix("\n"), lines.last?.contains("\"type\":\"seed\"") == true { break }
            usleep(1_000)
        }
        kill(started.process.processIdentifier, SIGKILL)
        _ = started.finish()
        let killedManifest = try RunStore(existing: URL(fileURLWithPath: runs + "/killed-0")).manifest()
        let killedEnds = try EventLog.read(RunEvent.self, from: log).compactMap(\.end).count
        try #require(killedEnds < killedManifest.episodes.count, "shard 0 ended before it was killed")

        let merged = runs + "/merged"
        let partial = try driftbox(["merge", runs + "/killed-0", smoke.shard(1), "--into", merged])
        #expect(partial.status == 4)
        #expect(partial.output.contains("unfinished episodes: "), "\(partial.output)")
        let check = try driftbox(["check", merged, "--deep"])
        #expect(check.status == 0, "\(check.output)")

        #expect(try driftbox(["resume", runs + "/killed-0", "--progress", "quiet"]).status == 0)
        let complete = try driftbox(["merge", runs + "/killed-0", "--into", merged])
        #expect(complete.status == 0, "\(complete.output)\(complete.errors)")
        #expect(try RunFingerprint(merged) == RunFingerprint(smoke.whole))
        #expect(try driftbox(["check", merged, "--deep"]).status == 0)
    }

    @Test func anInterruptedMergeIsDamageUntilItIsRepeated() throws {
        let smoke = try ShardedSmoke(repetitions: 2, count: 2, label: "pending")
        let merged = smoke.runs + "/merged"
        #expect(try driftbox(["merge", smoke.shard(0), "--into", merged]).status == 4)
        // The state a kill leaves after run.json is marked and before the merge ends: the new
        // episodes listed, the log and refs not yet written.
        let store = try RunStore(existing: URL(fileURLWithPath: merged))
        var manifest = try store.manifest()
        manifest.merge?.pending = true
        manifest.episodes += try RunStore(existing: URL(fileURLWithPath: smoke.shard(1))).manifest().episodes
        try store.write(manifest)
        let check = try driftbox(["check", merged])
        #expect(check.status == 1)
        #expect(check.output.contains("a merge into this run was interrupted"), "\(check.output)")
        #expect(try driftbox(["rescore", merged]).status == 1)

        #expect(try driftbox(["merge", smoke.shard(0), smoke.shard(1), "--into", merged]).status == 0)
        #expect(try driftbox(["check", merged, "--deep"]).status == 0)
        #expect(try RunFingerprint(merged) == RunFingerprint(smoke.whole))
    }

    @Test func aShardIsRecordedAndResumedAsThatShardOnly() throws {
        let folder = try TemporaryFolder("shard-resume")
        let runs = folder.file("runs")
        let run = try driftbox(["run", smokeSuite, "--shard", "1/2", "--out", runs, "--run-id", "s1", "--progress", "quiet"])
        #expect(run.status == 0, "\(run.errors)")
        let manifest = try RunStore(existing: URL(fileURLWithPath: runs + "/s1")).manifest()
        #expect(manifest.shard == RunManifest.ShardEntry(index: 1, count: 2, rule: ShardSpec.rule, suiteEpisodes: 2))
        // smoke's episode ids sorted: efficiency-security-inverted.demo.0, utility-privacy-regular.demo.0.
        #expect(manifest.episodes.map(\.id) == ["utility-privacy-regular.demo.0"])

        let other = try driftbox(["resume", runs + "/s1", "--shard", "0/2"])
        #expect(other.status == 1)
        #expect(other.errors.contains("recorded as shard 1/2, not as shard 0/2"), "\(other.errors)")
        #expect(try driftbox(["resume", runs + "/s1", "--shard", "1/2", "--progress", "quiet"]).status == 0)

        let empty = try driftbox(["run", smokeSuite, "--shard", "2/3", "--out", runs, "--run-id", "s2", "--progress", "quiet"])
        #expect(empty.status == 1)
        #expect(empty.errors.contains("shard 2/3 has no episode"), "\(empty.errors)")
        #expect(!FileManager.default.fileExists(atPath: runs + "/s2"))
        let bad = try driftbox(["run", smokeSuite, "--shard", "2/2"])
        #expect(bad.status == 1)
        #expect(bad.errors.contains("shards are numbered from 0 to 1"), "\(bad.errors)")
    }
}
