import Foundation
import Scenarios
import Report
import Runner
import Testing

/// Starts `driftbox` with arguments, output discarded.
private func spawn(_ arguments: [String]) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: driftboxExecutable)
    process.arguments = arguments
    process.currentDirectoryURL = packageRoot
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

/// Runs `driftbox` to the end; returns its status, standard output and standard error.
private func runToEnd(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    let run = try runHost([driftboxExecutable] + arguments, in: packageRoot.path, allowFailure: true)
    return (run.status, run.output, run.errors)
}

@Suite(.serialized, .timeLimit(.minutes(3)))
struct CommandLineTests {
    @Test func killedTwentyTimesAndResumedTheRecordEqualsAnUninterruptedRun() async throws {
        let experiment = try SmallExperiment(repetitions: 3, steps: 8, pause: 0.05)
        defer { experiment.remove() }
        let runs = experiment.folder.appendingPathComponent("runs")
        let common = ["-j", "2", "--progress", "quiet"]
        func start(_ id: String) -> [String] { ["run", experiment.suiteFile.path, "--run-id", id, "--out", runs.path] + common }

        let reference = try spawn(start("reference"))
        reference.waitUntilExit()
        #expect(reference.terminationStatus == 2)  // one episode fails by design
        let expected = RecordFingerprint(try RunRecord(folder: runs.appendingPathComponent("reference")))

        // Deterministic from the seed every expectation prints; DRIFTBOX_TEST_SEED replays a
        // failing sequence of kill moments.
        let seed = try TestSeed()
        var random = seed.generator
        let crashed = runs.appendingPathComponent("crashed")
        let log = crashed.appendingPathComponent("events.jsonl").path
        func lines() -> Int { FileManager.default.contents(atPath: log)?.reduce(0) { $0 + ($1 == 10 ? 1 : 0) } ?? 0 }
        var kills: [String] = []
        var stepsAfterKill: [Int] = []
        // The kill moments are timed by blocking this thread (usleep), not by Task.sleep: under the
        // whole test suite the shared task pool is busy, and a sleeping task wakes up too late.
        for _ in 0..<20 {
            let exists = FileManager.default.fileExists(atPath: crashed.path)
            let process = try spawn(exists ? ["resume", crashed.path] + common : start("crashed"))
            if Double.random(in: 0...1, using: &random) < 0.25 {
                // A kill during start-up or the first step, at a random time.
                let delay = Int.random(in: 5...150, using: &random)
                kills.append("\(delay)ms")
                usleep(UInt32(delay) * 1000)
            } else {
                // A kill a random number of log lines in, then a random instant later (mid-step).
                let target = lines() + Int.random(in: 1...2, using: &random)
                let extra = Int.random(in: 0...40, using: &random)
                kills.append("+\(target) lines +\(extra)ms")
                // Bounded only so a run that stops writing cannot hang the test; not asserted on.
                let deadline = ContinuousClock.now + .seconds(120)
                while process.isRunning, lines() < target, ContinuousClock.now < deadline { usleep(2000) }
                usleep(UInt32(extra) * 1000)
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            stepsAfterKill.append(FileManager.default.fileExists(atPath: log) ? try EventLog.read(RunEvent.self, from: log).filter { $0.type == .step }.count : 0)
        }
        // The kills must land in the middle of the run, not only before or after it.
        let total = expected.lines.filter { $0.contains(" step ") }.count
        #expect(stepsAfterKill.filter { $0 > 0 && $0 < total }.count >= 6, "steps recorded after each kill: \(stepsAfterKill); \(seed)")
        let exists = FileManager.default.fileExists(atPath: crashed.path)
        let last = try spawn(exists ? ["resume", crashed.path] + common : start("crashed"))
        last.waitUntilExit()
        #expect(last.terminationStatus == 2, "kill moments (\(seed)): \(kills)")

        let record = try RunRecord(folder: crashed)
        let actual = RecordFingerprint(record)
        // What killed invocations left in the temporary folder was removed by the next one.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path)
            .filter { $0.hasPrefix("tmp-\(ContentHash.sha256(Array(crashed.standardizedFileURL.path.utf8)).prefix(8))-") }
        #expect(leftovers.isEmpty, "\(leftovers); kill moments (\(seed)): \(kills)")
        #expect(actual == expected, "kill moments (\(seed)): \(kills)")
        // Exactly once: no step or seed line twice, one end per episode, transcripts without repeats.
        let events = try record.store.events()
        let stepKeys = events.compactMap(\.step).map { "\($0.episode)#\($0.step)" }
        #expect(Set(stepKeys).count == stepKeys.count)
        let seedKeys = events.compactMap(\.seed).map { "\($0.episode)#\($0.step)#\($0.index)" }
        #expect(Set(seedKeys).count == seedKeys.count)
        #expect(events.compactMap(\.end).count == record.manifest.episodes.count)
        for episode in record.manifest.episodes {
            let transcript = try EventLog.read(TranscriptEntry.self, from: record.store.transcriptPath(episode.id))
            #expect(transcript.map(\.step) == record.steps(of: episode.id).map(\.step))
        }
    }

    @Test func commandsPrintWhatTheLibrariesComputeAndFailWithAMessage() throws {
        let experiment = try SmallExperiment(repetitions: 1)
        defer { experiment.remove() }
        let runs = experiment.folder.appendingPathComponent("runs")
        let run = try runToEnd(["run", experiment.suiteFile.path, "--out", runs.path, "--run-id", "cli", "-j", "2"])
        let folder = runs.appendingPathComponent("cli")
        let record = try RunRecord(folder: folder)
        let summary = RunSummary(record).render()
        #expect(run.status == 2)  // the failing task fails its episode
        #expect(run.out == "run: \(folder.path)\n" + summary)
        #expect(run.err.contains("episode(s) failed"))
        #expect(run.err.contains("episodes \(record.manifest.episodes.count)/\(record.manifest.episodes.count)"))  // plain progress lines
        // A line per finished step, as it finishes, and every event line stamped with its time.
        for step in record.steps {
            let outcome = step.outcome == "completed" ? "" : " (\(step.outcome))"
            #expect(run.err.contains("Z step \(step.episode) \(step.step): \(step.verdict.kind.rawValue)\(outcome)"), "\(run.err)")
        }
        let events = try EventLog.read(RunEvent.self, from: folder.appendingPathComponent("events.jsonl").path)
        #expect(!events.isEmpty)
        for event in events {
            let at = try #require(event.at)
            #expect(at.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "\(at)")
        }

        #expect(try runToEnd(["report", folder.path]) == (0, summary, ""))
        #expect(try runToEnd(["audit", folder.path]).out == Audit.render(try Audit.items(record), colour: false))
        let episode = record.manifest.episodes[0].id
        let verify = try runToEnd(["replay", folder.path, episode, "--verify"])
        #expect(verify.status == 0 && verify.out.hasPrefix("verified: "))

        let unknown = try runToEnd(["replay", folder.path, "no-such-episode"])
        #expect(unknown.status == 1)
        #expect(unknown.err.contains("the run has no episode 'no-such-episode'; use one of its episode ids"))
        let missing = try runToEnd(["report", experiment.folder.path])
        #expect(missing.status == 1 && missing.err.contains("no run.json here"))
    }
}
