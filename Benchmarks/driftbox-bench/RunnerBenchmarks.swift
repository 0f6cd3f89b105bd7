import Foundation
import GitStore
import Runner

/// Harness overhead per step of real episodes (scripted demo agent, bundled fixtures) against a
/// bare step: the same file writes, then `git add -A && git commit` through the git CLI.
enum RunnerBenchmarks {
    static let scenarios = ["utility-privacy", "convenience-security", "efficiency-security"]

    static func run(iterations: Int) async throws -> [BenchRow] {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("driftbox-bench-runner-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let fixtures = URL(fileURLWithPath: try Fixture.repositoriesFolder(searchingUpFrom: FileManager.default.currentDirectoryPath)).deletingLastPathComponent()
        let paper = fixtures.appendingPathComponent("suites/paper.yaml")
        let episodes = max(1, iterations / 10)
        var rows: [BenchRow] = []
        // The first run of a process pays for lazy set-up (libgit2, the sandbox policy, caches);
        // one unmeasured run first keeps that out of the first scenario's figures.
        for (index, pair) in ([scenarios[0]] + scenarios).enumerated() {
            let warmUp = index == 0
            let file = fixtures.appendingPathComponent("scenarios/\(pair)/regular.yaml")
            let definition = try RunDefinition.load(file, agentsSuite: paper, repetitions: warmUp ? 1 : episodes)
            let started = DispatchTime.now().uptimeNanoseconds
            let outcome = try await Runner.start(definition, runsFolder: root.appendingPathComponent("runs"), runID: warmUp ? "warm-up" : pair,
                                                 options: RunOptions(jobs: 1, progress: .quiet), makeAgent: Runner.standardAgents)
            if warmUp { continue }
            let wall = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            let record = try RunRecord(folder: outcome.folder)
            let steps = record.steps
            let reference = try bareSteps(record, scratch: root.appendingPathComponent("cli-\(pair)"))
            let agent = steps.reduce(0) { $0 + $1.agentSeconds }
            let eventAppend = try appendCost(root.appendingPathComponent("append-\(pair).jsonl").path, step: steps[0])
            let referenceName = "write the step's files + git add -A && git commit (CLI)"
            rows.append(BenchRow(name: "harness per step: seeds, snapshot, diff, checks (\(pair)-regular, median)",
                                 subjectMedian: median(steps.map(\.harnessSeconds)), referenceName: referenceName, referenceMedian: median(reference),
                                 iterations: steps.count, note: "part of the next row"))
            rows.append(BenchRow(name: "harness per step: the above + object copy, ref, transcript, fsync'd event (\(pair)-regular, median)",
                                 subjectMedian: median(steps.map { $0.harnessSeconds + $0.recordSeconds }) + eventAppend,
                                 referenceName: referenceName, referenceMedian: median(reference), iterations: steps.count, note: "target < 10 ms"))
            rows.append(BenchRow(name: "harness per step, all in, run set-up spread over the steps (\(pair)-regular, mean)",
                                 subjectMedian: (wall - agent) / Double(steps.count), referenceName: referenceName,
                                 referenceMedian: reference.reduce(0, +) / Double(reference.count), iterations: steps.count,
                                 note: "target < 10 ms; agent's own time (\(formatSeconds(agent / Double(steps.count)))/step) left out"))
        }
        return rows
    }

    /// Median seconds of appending one step line to an event log (write + fsync).
    static func appendCost(_ path: String, step: StepRecord) throws -> Double {
        let log = try EventLog(path: path)
        return median(try (0..<20).map { _ in try seconds { try log.append(RunEvent.step(step)) } })
    }

    /// Replays every recorded step's file changes into a git CLI clone of the fixture and times
    /// writing them plus `git add -A && git commit`; returns seconds per step.
    static func bareSteps(_ record: RunRecord, scratch: URL) throws -> [Double] {
        let run = try Repository.open(at: record.store.repositoryPath)
        var samples: [Double] = []
        for episode in record.manifest.episodes {
            let fixture = record.manifest.scenario(episode.scenario)!
            let workspace = scratch.appendingPathComponent(episode.id).path
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            try GitBenchmarks.gitCLI(["init", "-q", "-b", "main", workspace], in: scratch.path)
            try run.checkout(ObjectID(hex: fixture.fixtureCommit)!, into: workspace)
            try GitBenchmarks.gitCLI(["add", "-A"], in: workspace)
            try GitBenchmarks.gitCLI(["commit", "-q", "-m", "fixture"], in: workspace, signature: Fixture.signature)
            var previous = ObjectID(hex: fixture.fixtureCommit)!
            for step in record.steps(of: episode.id) {
                let diff = try run.diff(from: previous, to: step.commit)
                let contents = try diff.files.map { file in (file.path, try file.newPath.flatMap { try run.fileContent(at: step.commit, path: $0) }) }
                samples.append(try seconds {
                    for (path, bytes) in contents {
                        let target = workspace + "/" + path
                        if let bytes {
                            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                            try Data(bytes).write(to: URL(fileURLWithPath: target))
                        } else {
                            try? FileManager.default.removeItem(atPath: target)
                        }
                    }
                    try GitBenchmarks.gitCLI(["add", "-A"], in: workspace)
                    try GitBenchmarks.gitCLI(["commit", "-q", "-m", "Step \(step.step)"], in: workspace, signature: Fixture.signature)
                })
                previous = step.commit
            }
        }
        return samples
    }
}
