import Foundation
import Runner
import Testing

/// Two writers of one run, in separate `driftbox` processes.
///
/// The first writer is stopped (SIGSTOP) the moment its lock record names it, so the second
/// certainly starts while the first holds the lock, with no timing guess; then the first goes on.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct OneWriterTests {
    enum Pair: String, CaseIterable, Sendable {
        case runRun = "run+run", runResume = "run+resume", resumeResume = "resume+resume", rescoreRescore = "rescore+rescore", resumeRescore = "resume+rescore"
    }

    /// Trials per pair.
    static let trials = 10

    @Test(arguments: Pair.allCases)
    func theSecondWriterIsRefusedNamingTheFirstAndTheRecordIsUndisturbed(_ pair: Pair) throws {
        let experiment = try SmallExperiment(repetitions: 1, steps: 4, pause: 0.02)
        defer { experiment.remove() }
        let runs = experiment.folder.appendingPathComponent("runs")
        let common = ["-j", "2", "--progress", "quiet"]
        func runArguments(_ id: String) -> [String] { ["run", experiment.suiteFile.path, "--run-id", id, "--out", runs.path] + common }

        #expect(try DriftboxProcess.run(runArguments("reference")).status == 2)  // one episode fails by design
        let reference = runs.appendingPathComponent("reference")
        let expected = RecordFingerprint(try RunRecord(folder: reference))

        // An interrupted run to resume: killed once a few lines are in its log.
        let interrupted = runs.appendingPathComponent("interrupted")
        // The killed run's scratch: its copies live elsewhere, so no resume of them removes it.
        defer { if let scratch = lockRecord(interrupted)?.scratch { try? FileManager.default.removeItem(atPath: scratch) } }
        if pair == .resumeResume || pair == .resumeRescore {
            let first = try DriftboxProcess(runArguments("interrupted"))
            while first.process.isRunning, lineCount(interrupted.appendingPathComponent("events.jsonl").path) < 6 { usleep(500) }
            if first.process.isRunning { kill(first.pid, SIGKILL) }  // never a pid that may have been reused
            first.finish()
            let ended = try RunRecord(folder: interrupted).ends.count
            try #require(ended < expected.lines.filter { $0.contains(" end ") }.count, "the run was not interrupted")
        }

        var done = 0, attempts = 0
        while done < Self.trials, attempts < Self.trials * 3 {
            attempts += 1
            let id = "trial-\(attempts)"
            let folder = runs.appendingPathComponent(id)
            let first: DriftboxProcess
            switch pair {
            case .runRun, .runResume:
                first = try DriftboxProcess(runArguments(id))
            case .resumeResume, .resumeRescore:
                try copyRun(interrupted, to: folder)
                first = try DriftboxProcess(["resume", folder.path] + common)
            case .rescoreRescore:
                try copyRun(reference, to: folder)
                first = try DriftboxProcess(["rescore", folder.path])
            }
            guard stop(first, when: { lockRecord(folder)?.pid == first.pid }) else {
                first.finish()  // it ended before it could be caught holding the lock: not a trial
                continue
            }
            let second: [String] = switch pair {
            case .runRun: runArguments(id)
            case .runResume, .resumeResume: ["resume", folder.path] + common
            case .rescoreRescore, .resumeRescore: ["rescore", folder.path]
            }
            let refused = try DriftboxProcess.run(second)
            kill(first.pid, SIGCONT)
            let winner = first.finish()
            #expect(refused.status == 1 && !refused.signaled, "\(pair) trial \(attempts): \(refused)")
            #expect(refused.err.contains("the run is being written by process \(first.pid) (`driftbox "), "\(pair): \(refused.err)")
            #expect(winner.status == (pair == .rescoreRescore ? 0 : 2), "\(pair) trial \(attempts): \(winner.err)")
            let record = try RunRecord(folder: folder)
            #expect(RecordFingerprint(record) == expected, "\(pair) trial \(attempts)")
            if pair == .rescoreRescore {
                #expect(record.manifest.verdictSets.map(\.file) == ["events.jsonl", "verdicts-2.jsonl"])
            }
            // Neither process left scratch behind (the refused one made none).
            let prefix = "tmp-\(ContentHash.sha256(Array(folder.standardizedFileURL.path.utf8)).prefix(8))-"
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path).filter { $0.hasPrefix(prefix) }
            #expect(leftovers.isEmpty, "\(pair): \(leftovers)")
            try? FileManager.default.removeItem(at: folder)
            done += 1
        }
        #expect(done == Self.trials, "\(pair): only \(done) of \(attempts) attempts caught the first writer holding the lock")
    }
}

extension OneWriterTests {
    @Test func aResumeOfARunStillBeingAssembledNamesItsWriter() throws {
        let experiment = try SmallExperiment(repetitions: 1, steps: 2)
        defer { experiment.remove() }
        let runs = experiment.folder.appendingPathComponent("runs")
        let first = try DriftboxProcess(["run", experiment.suiteFile.path, "--run-id", "early", "--out", runs.path, "--progress", "quiet"])
        func assembling() -> Bool {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: runs.path)) ?? []
            return names.contains { $0.hasPrefix(".early.creating-") && lockRecord(runs.appendingPathComponent($0))?.pid == first.pid }
        }
        try #require(stop(first, when: assembling))
        let refused = try DriftboxProcess.run(["resume", runs.appendingPathComponent("early").path])
        kill(first.pid, SIGCONT)
        #expect(first.finish().status == 2)
        #expect(refused.status == 1 && refused.err.contains("the run is being written by process \(first.pid)"), "\(refused)")
    }
}

/// Harness faults in the middle of a run: each stops the run with what to do, records nothing
/// permanent, and `resume` then completes the run to the record of an undisturbed run.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct HarnessFaultTests {
    @Test func scratchRemovedDiskFullAndObjectsDeletedThenResumeCompletesTheRecord() throws {
        let experiment = try SmallExperiment(repetitions: 2, steps: 6, pause: 0.02)
        defer { experiment.remove() }
        let runs = experiment.folder.appendingPathComponent("runs")
        let common = ["-j", "2", "--progress", "quiet"]
        #expect(try DriftboxProcess.run(["run", experiment.suiteFile.path, "--run-id", "reference", "--out", runs.path] + common).status == 2)
        let expected = RecordFingerprint(try RunRecord(folder: runs.appendingPathComponent("reference")))
        let folder = runs.appendingPathComponent("faulty")
        let log = folder.appendingPathComponent("events.jsonl").path
        let total = expected.lines.filter { $0.contains(" step ") }.count
        func steps() throws -> Int { try EventLog.read(RunEvent.self, from: log).filter { $0.type == .step }.count }

        // 1. The scratch folder is removed mid-run.
        let first = try DriftboxProcess(["run", experiment.suiteFile.path, "--run-id", "faulty", "--out", runs.path] + common)
        try #require(stop(first, when: { lineCount(log) >= 6 }))
        let scratch = try #require(lockRecord(folder)?.scratch)
        try FileManager.default.removeItem(atPath: scratch)
        kill(first.pid, SIGCONT)
        let stopped = first.finish()
        #expect(stopped.status == 1, "\(stopped)")
        #expect(stopped.err.contains("scratch folder \(scratch) was removed") && stopped.err.contains("then `driftbox resume \(folder.path)`"), "\(stopped.err)")
        #expect(try RunRecord(folder: folder).ends.values.allSatisfy { $0.reason?.contains("scratch") != true })
        let afterScratch = try steps()
        #expect(afterScratch < total)

        // 2. The disk fills up mid-resume: a file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored) set
        //    on the running process just above the log's size makes the next growth fail with EFBIG.
        let second = try DriftboxProcess(["resume", folder.path] + common, shellPrefix: "trap '' XFSZ")
        let linesBefore = lineCount(log)
        try #require(stop(second, when: { lineCount(log) > linesBefore }))
        let size = try FileManager.default.attributesOfItem(atPath: log)[.size] as! Int
        // util-linux's prlimit (Debian essential) sets it on the stopped process.
        try runHost(["/usr/bin/prlimit", "--pid", String(second.pid), "--fsize=\(size + 600):\(size + 600)"])
        kill(second.pid, SIGCONT)
        let full = second.finish()
        #expect(full.status == 1, "\(full)")
        #expect(full.err.contains("the disk is full") && full.err.contains("then `driftbox resume \(folder.path)`"), "\(full.err)")
        #expect(try RunRecord(folder: folder).ends.values.allSatisfy { $0.reason?.contains("too large") != true })
        #expect(try steps() < total)

        // 3. The run repository's fixture objects are deleted mid-resume.
        let third = try DriftboxProcess(["resume", folder.path] + common)
        let linesThen = lineCount(log)
        try #require(stop(third, when: { lineCount(log) > linesThen }))
        let fixtureCommit = try RunStore(existing: folder).manifest().scenarios[0].fixtureCommit
        let deleted = try deletePacks(containing: fixtureCommit, in: folder.appendingPathComponent("repo.git"))
        #expect(deleted > 0)
        kill(third.pid, SIGCONT)
        let objects = third.finish()
        // The merge of packs at the end needs the fixture's objects: the run stops, naming repo.git.
        #expect(objects.status == 1 && objects.err.contains("repo.git") && objects.err.contains("then `driftbox resume"), "\(objects)")

        let last = try DriftboxProcess.run(["resume", folder.path] + common)
        #expect(last.status == 2, "\(last)")
        #expect(RecordFingerprint(try RunRecord(folder: folder)) == expected)
        #expect(RunCheck.findings(folder, deep: true).isEmpty, "\(RunCheck.findings(folder, deep: true))")
    }
}

/// Deletes every pack (and its index) of `repository` whose index lists `commit`; returns how many.
func deletePacks(containing commit: String, in repository: URL) throws -> Int {
    let packs = repository.appendingPathComponent("objects/pack")
    var wanted = [UInt8]()
    var hex = commit[...]
    while hex.count >= 2 { wanted.append(UInt8(hex.prefix(2), radix: 16)!); hex = hex.dropFirst(2) }
    var deleted = 0
    for name in try FileManager.default.contentsOfDirectory(atPath: packs.path) where name.hasSuffix(".idx") {
        let index = [UInt8](try Data(contentsOf: packs.appendingPathComponent(name)))
        // Index v2: magic, version, 256 fan-out counts, then the sorted object ids.
        let count = Int(index[8 + 255 * 4]) << 24 | Int(index[8 + 255 * 4 + 1]) << 16 | Int(index[8 + 255 * 4 + 2]) << 8 | Int(index[8 + 255 * 4 + 3])
        let ids = 8 + 256 * 4
        let found = (0..<count).contains { i in Array(index[(ids + i * 20)..<(ids + i * 20 + 20)]) == wanted }
        if found {
            let base = String(name.dropLast(4))
            try FileManager.default.removeItem(at: packs.appendingPathComponent(base + ".idx"))
            try FileManager.default.removeItem(at: packs.appendingPathComponent(base + ".pack"))
            deleted += 1
        }
    }
    return deleted
}
