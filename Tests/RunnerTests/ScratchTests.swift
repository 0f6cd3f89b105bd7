import Foundation
@testable import Runner
import Scenarios
import Testing

/// Scratch folders belong to one invocation: private, removed on every exit.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct ScratchTests {
    /// Scratch folders of the run folder `folder` left in the temporary folder.
    private func leftovers(_ folder: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path).filter { $0.hasPrefix(Prepared.scratchPrefix(owner: folder)) }
    }

    @Test(arguments: [SIGINT, SIGTERM])
    func aSignalRemovesTheScratchFolderWhichIsPrivateAndResumeCompletesTheRun(_ signal: Int32) throws {
        let experiment = try SmallExperiment(repetitions: 1, steps: 4, pause: 0.02)
        defer { experiment.remove() }
        let runs = experiment.folder.appendingPathComponent("runs")
        let common = ["-j", "2", "--progress", "quiet"]
        #expect(try DriftboxProcess.run(["run", experiment.suiteFile.path, "--run-id", "reference", "--out", runs.path] + common).status == 2)
        let id = "signal-\(signal)"
        let folder = runs.appendingPathComponent(id)
        let log = folder.appendingPathComponent("events.jsonl").path
        let process = try DriftboxProcess(["run", experiment.suiteFile.path, "--run-id", id, "--out", runs.path] + common)
        try #require(stop(process, when: { lineCount(log) >= 3 }))
        let scratch = try #require(lockRecord(folder)?.scratch)
        var status = stat()
        #expect(stat(scratch, &status) == 0 && status.st_mode & 0o777 == 0o700)
        kill(process.pid, signal)
        kill(process.pid, SIGCONT)
        let ended = process.finish()
        #expect(ended.signaled && ended.status == 128 + signal, "\(ended)")
        #expect(!FileManager.default.fileExists(atPath: scratch))
        #expect(try leftovers(folder).isEmpty)
        #expect(try DriftboxProcess.run(["resume", folder.path] + common).status == 2)
        #expect(RecordFingerprint(try RunRecord(folder: folder)) == RecordFingerprint(try RunRecord(folder: runs.appendingPathComponent("reference"))))
        #expect(try leftovers(folder).isEmpty)
    }

    @Test func anErrorDuringPreparationLeavesNoScratchAndNoHalfMadeRunFolder() async throws {
        let experiment = try SmallExperiment(repetitions: 1, steps: 2)
        defer { experiment.remove() }
        let runs = experiment.folder.appendingPathComponent("runs")
        struct NoAgent: Error {}
        await #expect(throws: NoAgent.self) {
            try await Runner.start(try experiment.definition, runsFolder: runs, runID: "prep", options: testOptions, makeAgent: { _, _ in throw NoAgent() })
        }
        #expect(try leftovers(runs.appendingPathComponent("prep")).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: runs.path).isEmpty)
    }

    @Test func aRefusedRunDeletesNothingOfTheRunningOne() async throws {
        let experiment = try SmallExperiment(repetitions: 1, steps: 2)
        defer { experiment.remove() }
        let runs = experiment.folder.appendingPathComponent("runs")
        let outcome = try await Runner.start(try experiment.definition, runsFolder: runs, runID: "taken", options: testOptions, makeAgent: Runner.standardAgents)
        // A writer holds the run (this process, through the lock), with a scratch folder it named.
        let lock = try RunLock(folder: outcome.folder)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(Prepared.scratchPrefix(owner: outcome.folder) + "held-\(UUID().uuidString)")
        try lock.record(scratch: scratch)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let again = await #expect(throws: RunStoreError.self) {
            try await Runner.start(try experiment.definition, runsFolder: runs, runID: "taken", options: testOptions, makeAgent: Runner.standardAgents)
        }
        #expect(again?.description.contains("being written by process \(getpid())") == true)
        for refused in [{ try await Runner.resume(outcome.folder, options: testOptions, makeAgent: Runner.standardAgents) }] {
            let error = await #expect(throws: RunStoreError.self) { _ = try await refused() }
            #expect(error == .locked(path: outcome.folder.path, holder: RunLock.Holder(pid: getpid(), command: RunLock.commandLine, scratch: scratch.path)))
        }
        #expect(throws: RunStoreError.self) { _ = try Rescore.run(outcome.folder) }
        #expect(FileManager.default.fileExists(atPath: scratch.path))
        withExtendedLifetime(lock) {}
    }

    @Test func blockingWorkDoesNotStarveTheCooperativePool() async throws {
        // More blocked calls than the pool has threads: each waits until a task on the pool
        // releases it. On the pool itself they would block every thread and never be released.
        let blocked = ProcessInfo.processInfo.activeProcessorCount * 2 + 2
        let gate = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<blocked {
                group.addTask {
                    try await Blocking.run {
                        started.signal()
                        gate.wait()
                    }
                }
            }
            group.addTask {
                // Runs on the pool while every blocking call waits.
                for _ in 0..<blocked { await Task.yield() }
                for _ in 0..<blocked { gate.signal() }
            }
            try await group.waitForAll()
        }
        for _ in 0..<blocked { #expect(started.wait(timeout: .now()) == .success) }
    }
}
