import Agents
import Checks
import Foundation
import Posix
import GitStore
import Sandbox
import Scenarios

/// Everything one episode needs to run; the same for a fresh run, a resume and a verification.
struct EpisodeSetup: Sendable {
    var id: String
    var plan: EpisodePlan
    var detectors: DetectorSet
    var agent: any Agent
    var sandbox: Sandbox
    var stepTimeout: Duration
    /// The fixture's bare repository and base commit.
    var fixtureRepository: String
    var fixtureCommit: ObjectID
    /// A folder for the episode's workspace (removed afterwards).
    var scratch: URL
    /// The run repository (`repo.git`), named in harness faults; empty when there is none.
    var runRepository: String = ""
    /// The run's model gateway, for an agent with `network: gateway`.
    var gateway: RunGateway? = nil
    /// Names at the workspace root the snapshots leave out (run.json's `snapshotIgnore`).
    var snapshotIgnore: [String] = []
}

/// Where an episode stands when it is picked up again after an interruption.
struct EpisodeResumePoint: Sendable {
    /// The last recorded step (0: none).
    var lastStep: Int
    /// Its commit (the run repository holds it).
    var tip: ObjectID
    /// The agent's turns of the recorded steps, oldest first.
    var history: [AgentTurn]
    /// `step#index` of the seeds already in the log.
    var recordedSeeds: Set<String>
}

/// Receives what an episode produced. The run store records it; a verification compares it.
protocol EpisodeSink {
    /// A workspace at a recorded commit, for an episode picked up after an interruption.
    func restoreWorkspace(at commit: ObjectID, path: String) throws -> Workspace
    /// One finished step: its new commits (`previous` exclusive), seeds, step record and transcript line.
    func record(workspace: Workspace, previous: ObjectID, seeds: [SeedRecord], step: StepRecord, transcript: TranscriptEntry) async throws
    /// The episode's end.
    func end(_ end: EpisodeEnd) async throws
}

/// Runs one episode step by step: seeds, agent, snapshot, checks, record.
enum EpisodeExecution {
    /// Author of the `AGENTS.md` commit: the fixture's maintainer, a minute after the fixture commit.
    static let constraintAuthor = Signature(name: Fixture.signature.name, email: Fixture.signature.email, time: Fixture.signature.time + 60)
    /// Message of the `AGENTS.md` commit: what an ordinary repository's history would say.
    static let constraintMessage = "Add AGENTS.md\n"
    /// Seconds between a step's last earlier commit (its last seed, or the commit before) and the step's own commit.
    static let stepDelay: Int64 = 1800

    /// The session id handed to the agent: a UUID derived from the episode id (SHA-256, stable
    /// across resume and machines), so no scenario, condition or agent name reaches the agent.
    /// - Parameter episode: the episode's id.
    static func sessionID(for episode: String) -> String {
        let hex = Array(ContentHash.sha256(Array("session:\(episode)".utf8)).prefix(32))
        var digits = hex
        digits[12] = "8"  // version 8: custom
        digits[16] = ["8", "9", "a", "b"][Int(String(hex[16]), radix: 16)! & 3]  // RFC 4122 variant
        let text = String(digits)
        return [text.prefix(8), text.dropFirst(8).prefix(4), text.dropFirst(12).prefix(4), text.dropFirst(16).prefix(4), text.dropFirst(20)].joined(separator: "-")
    }

    /// The time of step `step`'s commit: `stepDelay` after the latest earlier commit of the plan
    /// (the constraint, the seeds up to that step, the steps before), a pure function of the plan.
    static func stepTime(_ plan: EpisodePlan, step: Int) -> Int64 {
        var last = constraintAuthor.time
        for planned in plan.steps where planned.number <= step {
            last = max(last, planned.seeds.map(\.time).max() ?? last) + stepDelay
        }
        return last
    }

    /// The step commit's one-line message: `Update` and the task's targets (at most three named).
    static func stepSummary(_ task: Scenario.Task) -> String {
        guard !task.targets.isEmpty else { return "Update files" }
        let named = task.targets.prefix(3).joined(separator: ", ")
        let summary = task.targets.count > 3 ? "Update \(named) and \(task.targets.count - 3) more" : "Update \(named)"
        return String(summary.map { $0.isNewline ? " " : $0 })
    }

    /// The episode's folder in scratch: a random folder holding one named after the fixture, so
    /// the paths the agent sees (`pwd`, the `.git` file) name no episode, scenario or condition.
    static func workspaceFolder(_ setup: EpisodeSetup) -> (random: URL, folder: URL) {
        let random = setup.scratch.appendingPathComponent(String(UUID().uuidString.filter(\.isHexDigit).prefix(12)).lowercased())
        var name = URL(fileURLWithPath: setup.fixtureRepository).deletingPathExtension().lastPathComponent
        if name.isEmpty || name.hasPrefix(".") { name = "repository" }
        return (random, random.appendingPathComponent(name))
    }

    /// Runs (or continues) the episode and returns how it ended. Failures of the agent or of the
    /// seeds end the episode as `failed`; harness faults (disk full, scratch removed, run
    /// repository damaged: `HarnessFault`) and failures of the sink are thrown, recording nothing.
    static func run(_ setup: EpisodeSetup, resume: EpisodeResumePoint?, sink: some EpisodeSink) async throws -> EpisodeEnd {
        let (random, folder) = workspaceFolder(setup)
        // Removed by descriptors (the agent may have left a tree deeper than any path can name),
        // on a thread of its own: a large tree takes long to remove.
        let removeWorkspace = { _ = try? await Blocking.run { try TreeRemoval.remove(random.path) } }
        do {
            let end = try await steps(setup, resume: resume, sink: sink, folder: folder, random: random)
            await removeWorkspace()
            return end
        } catch {
            await removeWorkspace()
            throw error
        }
    }

    /// The body of ``run(_:resume:sink:)``: the workspace in `folder` (inside `random`), then the steps.
    private static func steps(_ setup: EpisodeSetup, resume: EpisodeResumePoint?, sink: some EpisodeSink,
                              folder: URL, random: URL) async throws -> EpisodeEnd {
        var history = resume?.history ?? []
        var tip = resume?.tip ?? setup.fixtureCommit
        let first = (resume?.lastStep ?? 0) + 1
        var recorded = resume?.lastStep ?? 0
        func finish(_ status: EpisodeEnd.Status, _ reason: String?) async throws -> EpisodeEnd {
            let end = EpisodeEnd(episode: setup.id, status: status, reason: reason, steps: recorded, tip: recorded > 0 ? tip : nil)
            try await sink.end(end)
            return end
        }
        let workspace: Workspace
        do {
            let handoff = Blocking.Handoff(sink)
            workspace = try await Blocking.run {
                try FileManager.default.createDirectory(at: random, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
                let made = recorded == 0
                    ? try Workspace.create(from: setup.fixtureRepository, at: folder.path)
                    : try handoff.value.restoreWorkspace(at: tip, path: folder.path)
                made.snapshotIgnore = Set(setup.snapshotIgnore)
                return made
            }
        } catch {
            // The workspace comes from the fixture (in scratch) or the run repository: never the agent's doing.
            throw HarnessFault.classify(error, scratch: setup.scratch, runRepository: setup.runRepository, fixtureRepository: setup.fixtureRepository)
                ?? HarnessFault(reason: "the workspace of \(setup.id) could not be made (\(error))", fix: "repair what the message names")
        }
        // A root runner's reduced-mode agent runs as another user: it must be able to enter the
        // folders on the way to its workspace (the scratch is 0700) and read the git directory.
        do {
            let folders = [setup.scratch.path, workspace.folder, String(workspace.gitDirectory.dropLast())]
            try await Blocking.run { try setup.sandbox.handOver(folders: folders) }
        } catch {
            throw HarnessFault(reason: "the workspace of \(setup.id) could not be handed to the agent's user (\(error))", fix: "repair what the message names")
        }
        // The git directory lies outside the worktree; the agent sees it read-only (for `git log`).
        let token = try await setup.gateway?.register(episode: setup.id, agent: setup.agent.id)
        let context = AgentContext(scenarioID: setup.plan.scenarioID, workspace: workspace.path, constraint: setup.plan.constraint,
                                   sessionID: sessionID(for: setup.id), sandbox: setup.sandbox, stepTimeout: setup.stepTimeout,
                                   readOnlyPaths: [String(workspace.gitDirectory.dropLast())])
        for planned in setup.plan.steps where planned.number >= first {
            let clock = ContinuousClock()
            let started = clock.now
            let seeds: [SeedRecord]
            do {
                let handoff = Blocking.Handoff(workspace)
                seeds = try await Blocking.run {
                    let seeds = try land(planned, in: handoff.value, setup: setup, skipping: resume?.recordedSeeds ?? [])
                    // A root runner's reduced-mode agent runs as another user: what the runner wrote
                    // (seeds, git objects of the last snapshot) becomes that user's (no-op otherwise).
                    try setup.sandbox.handOver(workspace: handoff.value.path)
                    return seeds
                }
            } catch {
                if let fault = HarnessFault.classify(error, scratch: setup.scratch, runRepository: setup.runRepository, fixtureRepository: setup.fixtureRepository) { throw fault }
                return try await finish(.failed, "step \(planned.number): a seed could not land: \(error)")
            }
            if let gateway = setup.gateway, let reason = await gateway.budgetReached(episode: setup.id) {
                return try await finish(.failed, "step \(planned.number) not started: \(reason)")
            }
            let step = AgentStep(episode: setup.id, step: planned.number, taskID: planned.task.id, prompt: planned.task.prompt, targets: planned.task.targets)
            let agentStarted = clock.now
            let turn: AgentTurn
            let models: RunGateway.StepModels?
            do {
                if let gateway = setup.gateway, let token {
                    let (served, seen) = try await gateway.serveStep(episode: setup.id, step: planned.number, token: token) { [context, history] access in
                        var context = context
                        context.gateway = access
                        return try await act(setup, step, context: context, history: history)
                    }
                    turn = served
                    models = seen
                } else {
                    turn = try await act(setup, step, context: context, history: history)
                    models = nil
                }
            } catch {
                if Task.isCancelled { throw error }  // the run is stopping: record nothing
                if let fault = HarnessFault.classify(error, scratch: setup.scratch, runRepository: setup.runRepository, fixtureRepository: setup.fixtureRepository) { throw fault }
                return try await finish(.failed, "step \(planned.number): the agent could not run: \(error)")
            }
            let agentTime = clock.now - agentStarted
            // A turn that failed because the scratch folder went away is not the agent's failure.
            if let fault = HarnessFault.scratchGone(setup.scratch, fixtureRepository: setup.fixtureRepository) { throw fault }
            let record: StepRecord
            do {
                let handoff = Blocking.Handoff(workspace)
                let (snapshot, verdict) = try await Blocking.run {
                    let workspace = handoff.value
                    let snapshot = try workspace.snapshot(StepStamp(step: planned.number, summary: stepSummary(planned.task),
                                                                             time: stepTime(setup.plan, step: planned.number)))
                    let verdict = try StepCheck.verdict(in: workspace.repository, parent: snapshot.parent, commit: snapshot.commit,
                                                        targets: planned.task.targets, detectors: setup.detectors, skipped: snapshot.skipped)
                    return (snapshot, verdict)
                }
                let (outcome, failure) = describe(turn.outcome)
                let harness = clock.now - started - agentTime
                record = StepRecord(episode: setup.id, step: planned.number, task: planned.task.id, targets: planned.task.targets, tier: planned.tier,
                                    parent: snapshot.parent, commit: snapshot.commit, verdict: verdict, outcome: outcome, failure: failure,
                                    skipped: snapshot.skipped, agentSeconds: seconds(agentTime), harnessSeconds: seconds(harness))
            } catch {
                if let fault = HarnessFault.classify(error, scratch: setup.scratch, runRepository: setup.runRepository, fixtureRepository: setup.fixtureRepository) { throw fault }
                return try await finish(.failed, "step \(planned.number): the step could not be committed and checked: \(error)")
            }
            try await sink.record(workspace: workspace, previous: tip, seeds: seeds, step: record,
                                  transcript: TranscriptEntry(step: planned.number, prompt: planned.task.prompt, turn: turn, exchanges: models?.exchanges,
                                                              modelEvents: models?.events, modelEventsDropped: models.map { $0.eventsDropped > 0 ? $0.eventsDropped : nil } ?? nil))
            tip = record.commit
            recorded = planned.number
            history.append(turn)
            // A budget refusal comes first: an agent that failed because its model was refused did not fail on its own.
            if let refused = models?.events.first(where: { $0.kind == "budget" }) {
                return try await finish(.failed, "step \(planned.number): the model budget stopped the episode: \(refused.detail)")
            }
            if case .failed(let reason) = turn.outcome {
                return try await finish(.failed, "step \(planned.number): the agent failed: \(reason)")
            }
        }
        return try await finish(.completed, nil)
    }


    /// Asks the agent to act, but never waits longer than twice the step's limit (at most the limit
    /// plus 30 s):
    /// an agent that does not return by then is cancelled (its sandboxed processes are killed) and
    /// the step counts as timed out.
    static func act(_ setup: EpisodeSetup, _ step: AgentStep, context: AgentContext, history: [AgentTurn]) async throws -> AgentTurn {
        let agent = setup.agent
        let limit = setup.stepTimeout + min(setup.stepTimeout, .seconds(30))
        return try await withThrowingTaskGroup(of: AgentTurn?.self) { group in
            group.addTask { try await agent.act(step, context: context, history: history) }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            return first ?? AgentTurn(message: "", commands: [], outcome: .timedOut,
                                      usage: AgentUsage(wallSeconds: seconds(limit), cpuSeconds: 0))
        }
    }

    /// Lands the constraint (before step 1) and the step's planned seeds as one batch of commits
    /// (one pack); returns the records of the seeds not yet in the log. The commits carry their
    /// authors' messages only: block, tier and variant go to the seed records, never into the
    /// workspace's history.
    static func land(_ planned: PlannedStep, in workspace: Workspace, setup: EpisodeSetup, skipping recorded: Set<String>) throws -> [SeedRecord] {
        var seeds: [Seed] = []
        var notes: [(block: String, tier: Int?, variant: String?, path: String)] = []
        if planned.number == 1 {
            seeds.append(Seed(edits: [SeedEdit(path: "AGENTS.md", anchor: .wholeFile, text: setup.plan.constraint)],
                              author: constraintAuthor, message: constraintMessage))
            notes.append(("constraint", nil, nil, "AGENTS.md"))
        }
        var texts: [String: String] = [:]
        for block in planned.seeds {
            let current: String
            if let text = texts[block.path] { current = text } else {
                // The agent's file: read without following links, only if regular, bounded.
                guard let data = try workspace.fileContent(block.path) else {
                    throw RunStoreError.missing(path: block.path, what: "file for pressure block '\(block.blockID)' in the workspace")
                }
                current = String(decoding: data, as: UTF8.self)
            }
            let text = try block.inserted(into: current)
            texts[block.path] = text
            seeds.append(Seed(edits: [SeedEdit(path: block.path, anchor: .wholeFile, text: text)],
                              author: Signature(name: block.author.name, email: block.author.email, time: block.time), message: block.message))
            notes.append((block.blockID, block.tier, block.variant, block.path))
        }
        guard !seeds.isEmpty else { return [] }
        let commits = try workspace.land(seeds)
        return zip(seeds, zip(notes, commits)).enumerated().compactMap { index, element in
            let (seed, (note, commit)) = element
            guard !recorded.contains("\(planned.number)#\(index)") else { return nil }
            return SeedRecord(episode: setup.id, step: planned.number, index: index, block: note.block, tier: note.tier, variant: note.variant,
                              author: seed.author.name, email: seed.author.email, path: note.path, commit: commit,
                              message: String(seed.message.prefix { $0 != "\n" }))
        }
    }

    static func describe(_ outcome: AgentOutcome) -> (String, String?) {
        switch outcome {
        case .completed: ("completed", nil)
        case .timedOut: ("timedOut", "the step's wall-clock limit ended it")
        case .failed(let reason): ("failed", reason)
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
