import Agents
import Checks
import Foundation
import GitStore
import Report
import Runner
import Testing

@Suite(.serialized, .timeLimit(.minutes(3)))
struct RunnerTests {
    @Test func endToEndVerdictOfEveryStepUnderTheRealSandbox() async throws {
        let experiment = try SmallExperiment()
        defer { experiment.remove() }
        let outcome = try await Runner.start(try experiment.definition, runsFolder: experiment.folder.appendingPathComponent("runs"), runID: "e2e",
                                             options: testOptions, makeAgent: Runner.standardAgents)
        #expect(outcome.episodesRun == 4)
        let expected = try experiment.expected()
        let failing = experiment.suite.episodes().filter { try! experiment.suite.plan(for: $0).steps.contains { $0.task.id == experiment.failingTask } && $0.scenarioID == SmallExperiment.inverted }
        #expect(outcome.episodesFailed == failing.count && failing.count >= 1)
        let record = try RunRecord(folder: outcome.folder)
        for episode in record.manifest.episodes {
            let steps = record.steps(of: episode.id)
            #expect(steps.map(\.verdict.kind.rawValue) == expected[episode.id], "episode \(episode.id)")
            #expect(steps.map(\.step) == Array(1...steps.count))
            // Each step's parent is the last seed before it, or the previous step.
            let repository = try Repository.open(at: record.store.repositoryPath)
            #expect(try repository.resolve(ref: RunStore.episodeRef(episode.id)) == steps.last?.commit)
            for step in steps {
                let info = try repository.commitInfo(step.commit)
                #expect(info.parents == [step.parent])
                // A plain step commit: no trailers, the fixed step author; the log keeps the step.
                #expect(info.trailers.isEmpty && StepStamp.isStepAuthor(info.author))
            }
            let transcript = try EventLog.read(TranscriptEntry.self, from: record.store.transcriptPath(episode.id))
            #expect(transcript.map(\.step) == steps.map(\.step))
        }
        // The failing episode: recorded with its reason, the step's outcome kept, the run went on.
        let failed = try #require(record.ends.values.first { $0.status == .failed })
        #expect(failed.reason?.contains("the agent failed") == true)
        #expect(failed.reason?.contains("broken tool") == true)
        let failedStep = try #require(record.steps(of: failed.episode).last)
        #expect(failedStep.task == experiment.failingTask)
        #expect(failedStep.outcome == "failed")
        #expect(record.ends.count == 4)
        // Seeds: AGENTS.md first, then the planned blocks; the constraint is in the workspace.
        let firstSeeds = record.seeds.filter { $0.step == 1 && $0.index == 0 }
        #expect(firstSeeds.count == 4 && firstSeeds.allSatisfy { $0.block == "constraint" && $0.path == "AGENTS.md" })
        #expect(record.manifest.sandbox.mode == "full" || record.manifest.sandbox.mode == "reduced")
    }

    @Test func twoRunsOfTheSameSuiteGiveIdenticalCommitIDs() async throws {
        let experiment = try SmallExperiment(repetitions: 1)
        defer { experiment.remove() }
        var prints: [RecordFingerprint] = []
        for name in ["first", "second"] {
            let outcome = try await Runner.start(try experiment.definition, runsFolder: experiment.folder.appendingPathComponent("runs"), runID: name,
                                                 options: testOptions, makeAgent: Runner.standardAgents)
            prints.append(RecordFingerprint(try RunRecord(folder: outcome.folder)))
        }
        #expect(prints[0].lines.count > 10)
        #expect(prints[0] == prints[1])
    }

    @Test func replayMaterialisesStepsAndVerifyDetectsChangedAgentOutput() async throws {
        let experiment = try SmallExperiment(repetitions: 1)
        defer { experiment.remove() }
        let outcome = try await Runner.start(try experiment.definition, runsFolder: experiment.folder.appendingPathComponent("runs"), runID: "replay",
                                             options: testOptions, makeAgent: Runner.standardAgents)
        let record = try RunRecord(folder: outcome.folder)
        let episode = record.manifest.episodes.first { $0.scenario == SmallExperiment.regular }!.id
        #expect(try await Replay.verify(record, episode: episode, options: testOptions, makeAgent: Runner.standardAgents).isEmpty)

        // Step 3 drifts: its target holds the forbidden call at step 3 but not at step 2.
        let step3 = record.steps(of: episode)[2]
        let target = step3.targets[0]
        let atStep2 = experiment.folder.appendingPathComponent("at2"), atStep3 = experiment.folder.appendingPathComponent("at3")
        #expect(try Replay.materialise(record, episode: episode, step: 2, into: atStep2) == record.steps(of: episode)[1].commit)
        try Replay.materialise(record, episode: episode, step: 3, into: atStep3)
        #expect(try !String(contentsOf: atStep2.appendingPathComponent(target), encoding: .utf8).contains("validate_token("))
        #expect(try String(contentsOf: atStep3.appendingPathComponent(target), encoding: .utf8).contains("validate_token(request.token)"))
        #expect(try String(contentsOf: atStep3.appendingPathComponent("AGENTS.md"), encoding: .utf8) == experiment.suite.scenarios[0].constraint)
        #expect(throws: RunStoreError.self) { try Replay.materialise(record, episode: episode, step: 9, into: experiment.folder.appendingPathComponent("x")) }
        // A seed commit: the pressure block of step 3 is there, the agent's step-3 change is not.
        let seed = try #require(record.seeds(of: episode).last { $0.step == 3 && $0.path == target })
        let atSeed = experiment.folder.appendingPathComponent("seed3")
        try Replay.materialise(record, commit: try Replay.commit(in: record, episode: episode, prefix: String(seed.commit.description.prefix(8))), into: atSeed)
        let seeded = try String(contentsOf: atSeed.appendingPathComponent(target), encoding: .utf8)
        #expect(try seeded == String(decoding: Repository.open(at: record.store.repositoryPath).fileContent(at: seed.commit, path: target)!, as: UTF8.self))
        #expect(!seeded.contains("validate_token(request.token)"))
        #expect(throws: RunStoreError.self) { try Replay.commit(in: record, episode: episode, prefix: "zzzz") }

        // Change what the agent writes: verification must name the first differing step.
        let trajectory = experiment.folder.appendingPathComponent("trajectories/\(SmallExperiment.regular).yaml")
        try String(contentsOf: trajectory, encoding: .utf8).replacingOccurrences(of: "return request.auth_context", with: "return request.auth_context  # changed")
            .write(to: trajectory, atomically: true, encoding: .utf8)
        let mismatches = try await Replay.verify(record, episode: episode, options: testOptions, makeAgent: Runner.standardAgents)
        #expect(mismatches.filter { $0.what.hasPrefix("step commit") }.count == experiment.steps)
        #expect(mismatches.contains { $0.what == "step commit 1" && $0.recorded == record.steps(of: episode)[0].commit.description })
    }

    @Test func rescoreReproducesVerdictsAndNewChecksMakeANewerSet() async throws {
        let experiment = try SmallExperiment(repetitions: 1)
        defer { experiment.remove() }
        let outcome = try await Runner.start(try experiment.definition, runsFolder: experiment.folder.appendingPathComponent("runs"), runID: "rescore",
                                             options: testOptions, makeAgent: Runner.standardAgents)
        let original = try RunRecord(folder: outcome.folder)
        let same = try Rescore.run(outcome.folder)
        #expect(same.file == "verdicts-2.jsonl" && same.changed == 0 && same.steps == original.steps.count)
        let rescored = try RunRecord(folder: outcome.folder)
        #expect(rescored.verdictSet == "verdicts-2.jsonl")
        #expect(rescored.steps.map(\.verdict) == original.steps.map(\.verdict))

        // A checks file that forbids nothing the agent wrote: every scoreable step complies.
        let checks = experiment.folder.appendingPathComponent("checks.yaml")
        try "- id: never\n  kind: forbid\n  pattern: 'no_such_call\\('\n".write(to: checks, atomically: true, encoding: .utf8)
        let lenient = try Rescore.run(outcome.folder, checksFile: checks)
        #expect(lenient.file == "verdicts-3.jsonl")
        #expect(lenient.changed == original.steps.filter { $0.verdict.kind == .violation }.count)
        let newest = try RunRecord(folder: outcome.folder)
        #expect(newest.steps.allSatisfy { $0.verdict.kind != .violation })
        #expect(newest.manifest.verdictSets.map(\.file) == ["events.jsonl", "verdicts-2.jsonl", "verdicts-3.jsonl"])
        #expect(try Audit.items(newest).isEmpty)
    }

    @Test func auditShowsPressureAndHighlightsTheViolatingLines() async throws {
        let experiment = try SmallExperiment(repetitions: 1)
        defer { experiment.remove() }
        let outcome = try await Runner.start(try experiment.definition, runsFolder: experiment.folder.appendingPathComponent("runs"), runID: "audit",
                                             options: testOptions, makeAgent: Runner.standardAgents)
        let record = try RunRecord(folder: outcome.folder)
        let episode = record.manifest.episodes.first { $0.scenario == SmallExperiment.regular }!.id
        let items = try Audit.items(record, episode: episode)
        #expect(items.map(\.step.step) == [3, 4])
        let item = items[0]
        #expect(item.condition == "regular")
        #expect(item.pressure.map(\.step) == [3])
        #expect(item.pressure[0].tier == 5)
        let evidence = try #require(item.step.verdict.evidence.first)
        #expect(evidence.detector == "validate-token-forbidden")
        let plain = Audit.render([item], colour: false)
        let marked = plain.split(separator: "\n").filter { $0.hasPrefix("  » ") }
        #expect(marked.count == 1)
        #expect(marked.first?.contains("\(evidence.line!) +    validate_token(request.token)") == true)
        #expect(plain.contains("pressure (before this step): tier 5"))
        #expect(!plain.contains("\u{1B}["))
        let coloured = Audit.render([item], colour: true)
        #expect(coloured.contains("\u{1B}[1;31m+    validate_token(request.token)\u{1B}[0m"))
        #expect(throws: RunStoreError.self) { try Audit.items(record, condition: "baseline") }
        let inverted = try Audit.items(record, condition: "inverted")
        #expect(!inverted.isEmpty && inverted.allSatisfy { $0.condition == "inverted" && $0.scenario == SmallExperiment.inverted })
    }

    @Test func resumeKeepsTheSandboxModeTheRunBeganWith() async throws {
        let experiment = try SmallExperiment(repetitions: 1, steps: 2)
        defer { experiment.remove() }
        var reduced = testOptions
        reduced.sandboxMode = .reduced
        let outcome = try await Runner.start(try experiment.definition, runsFolder: experiment.folder.appendingPathComponent("runs"), runID: "reduced",
                                             options: reduced, makeAgent: Runner.standardAgents)
        #expect(try RunStore(existing: outcome.folder).manifest().sandbox.mode == "reduced")
        // Asking for another mode is refused, naming the recorded one.
        let refused = await #expect(throws: RunStoreError.self) {
            try await Runner.resume(outcome.folder, options: testOptions, requested: ResumeRequest(sandboxMode: .full), makeAgent: Runner.standardAgents)
        }
        #expect(refused?.description.contains("recorded with --mode reduced, not full") == true)
        // Options that are not requested explicitly do not matter: the recorded mode is used.
        var full = testOptions
        full.sandboxMode = .full
        let again = try await Runner.resume(outcome.folder, options: full, makeAgent: Runner.standardAgents)
        #expect(again.episodesRun == 0)
        #expect(try RunStore(existing: outcome.folder).manifest().sandbox.mode == "reduced")
    }

    @Test func anAgentThatNeverReturnsIsCancelledAndItsStepsCountAsTimedOut() async throws {
        let experiment = try SmallExperiment(repetitions: 1, steps: 2)
        defer { experiment.remove() }
        var definition = try experiment.definition
        definition.suite.scenarios = [definition.suite.scenarios[0]]
        let options = RunOptions(jobs: 1, stepTimeout: .milliseconds(300), progress: .quiet)
        // The agent would sleep an hour: the run ending at all (within the suite's time limit) is
        // the event; no wall-clock bound is asserted.
        let outcome = try await Runner.start(definition, runsFolder: experiment.folder.appendingPathComponent("runs"), runID: "hang",
                                             options: options, makeAgent: { spec, _ in HangingAgent(id: spec.id) })
        let record = try RunRecord(folder: outcome.folder)
        let steps = record.steps
        #expect(steps.map(\.outcome) == ["timedOut", "timedOut"])
        #expect(steps.map(\.verdict.kind) == [.unscoreable, .unscoreable])
        #expect(steps.allSatisfy { $0.agentSeconds >= 0.3 }, "a step ended before its timeout: \(steps.map(\.agentSeconds))")
        #expect(record.ends.values.map(\.status) == [.completed])
    }
}

/// An agent whose step never ends by itself.
private struct HangingAgent: Agent {
    let id: String

    func act(_ step: AgentStep, context: AgentContext, history: [AgentTurn]) async throws -> AgentTurn {
        try await Task.sleep(for: .seconds(3600))
        return AgentTurn(message: "woke up", commands: [], outcome: .completed, usage: AgentUsage(wallSeconds: 3600, cpuSeconds: 0))
    }
}
