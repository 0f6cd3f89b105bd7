import Agents
import Checks
import Foundation
import Gateway
import GitStore
import ModelAgent
import Sandbox
import Scenarios

/// Makes the agent a suite declares; `baseDirectory` is the folder relative settings start from.
public typealias AgentMaker = @Sendable (_ spec: AgentSpec, _ baseDirectory: URL) throws -> any Agent

/// How to run: concurrency, limits, sandbox, progress.
public struct RunOptions: Sendable {
    /// Episodes running at once.
    public var jobs: Int
    /// The wall-clock limit of one agent step.
    public var stepTimeout: Duration
    /// The sandbox mode to ask for.
    public var sandboxMode: ModeRequest
    /// The sandbox policy's name (`default`, `network`) or a `.policy` file.
    public var policy: String
    /// The launcher, when not next to the executable.
    public var launcherPath: String?
    /// How progress is shown.
    public var progress: ProgressStyle
    /// How agents with `network: gateway` reach their models.
    public var models: ModelOptions

    /// Creates options.
    /// - Parameters:
    ///   - jobs: episodes at once (default: the number of cores).
    ///   - stepTimeout: the limit of one agent step.
    ///   - sandboxMode: the mode to ask for.
    ///   - policy: the policy's name or file.
    ///   - launcherPath: the launcher's path, if not the default.
    ///   - progress: how progress is shown.
    public init(jobs: Int = ProcessInfo.processInfo.activeProcessorCount, stepTimeout: Duration = .seconds(600), sandboxMode: ModeRequest = .automatic,
                policy: String = "default", launcherPath: String? = nil, progress: ProgressStyle = .automatic,
                models: ModelOptions = ModelOptions()) {
        self.models = models
        self.jobs = max(1, jobs)
        self.stepTimeout = stepTimeout
        self.sandboxMode = sandboxMode
        self.policy = policy
        self.launcherPath = launcherPath
        self.progress = progress
    }
}

/// What a run is made of: a suite (or one scenario with a suite's agents) and the overrides.
public struct RunDefinition: Sendable {
    /// The suite, overrides applied.
    public var suite: Suite
    /// The folder agent settings are relative to (the folder of the suite that declares the agents).
    public var agentsBase: URL
    /// True when the suite was made from one scenario file.
    public var singleScenario: Bool
    /// The part of the suite's episodes to run (`--shard I/N`); nil for all of them.
    public var shard: ShardSpec? = nil

    /// Loads a suite file, or a scenario file with the agents of `agentsSuite`.
    /// - Parameters:
    ///   - file: a suite or scenario file.
    ///   - agentsSuite: the suite whose agents a scenario runs with.
    ///   - seed: overrides the base seed.
    ///   - repetitions: overrides the episodes per cell.
    ///   - agents: keeps only these agent ids (all when empty).
    /// - Throws: `ScenarioError` for an invalid file, `RunStoreError` for an unknown agent id.
    public static func load(_ file: URL, agentsSuite: URL, seed: UInt64? = nil, repetitions: Int? = nil, agents: [String] = []) throws -> RunDefinition {
        var definition: RunDefinition
        if Catalog.role(of: file) == .suite {
            let suite = try SuiteLoader().load(file)
            definition = RunDefinition(suite: suite, agentsBase: file.deletingLastPathComponent(), singleScenario: false)
        } else {
            let scenario = try ScenarioLoader().load(file)
            let base = try SuiteLoader().load(agentsSuite)
            let suite = Suite(id: scenario.id, title: scenario.title, baseSeed: base.baseSeed, repetitions: 1, steps: nil,
                              scenarios: [scenario], agents: base.agents, source: file)
            definition = RunDefinition(suite: suite, agentsBase: agentsSuite.deletingLastPathComponent(), singleScenario: true)
        }
        if let seed { definition.suite.baseSeed = seed }
        if let repetitions { definition.suite.repetitions = repetitions }
        if !agents.isEmpty {
            let unknown = agents.filter { id in !definition.suite.agents.contains { $0.id == id } }
            guard unknown.isEmpty else {
                throw RunStoreError.invalid(path: file.path, reason: "the suite has no agent '\(unknown.joined(separator: "', '"))'",
                                            hint: "use one of: \(definition.suite.agents.map(\.id).joined(separator: ", "))")
            }
            definition.suite.agents = definition.suite.agents.filter { agents.contains($0.id) }
        }
        return definition
    }
}

/// How a run (or a resumption) ended.
public struct RunOutcome: Sendable {
    /// The run folder.
    public var folder: URL
    /// Episodes that ran in this invocation.
    public var episodesRun: Int
    /// Episodes that ended `failed` in this invocation.
    public var episodesFailed: Int
}

/// Runs suites into run folders, and resumes interrupted runs.
public enum Runner {
    /// Starts a run: writes the run folder, then runs every episode.
    /// - Parameters:
    ///   - definition: the suite and overrides.
    ///   - runsFolder: where run folders go (`runs/`).
    ///   - runID: the run's id (default: suite id, UTC time and a random suffix).
    ///   - options: concurrency, limits, sandbox, progress.
    ///   - makeAgent: makes each agent of the suite.
    /// - Returns: the run folder and counts.
    /// - Throws: `RunStoreError`, `GitError`, `ScenarioError` or `SandboxError` when the run itself
    ///   cannot go on; failing episodes are recorded, not thrown.
    public static func start(_ definition: RunDefinition, runsFolder: URL, runID: String? = nil, options: RunOptions,
                             makeAgent: AgentMaker) async throws -> RunOutcome {
        let suite = definition.suite
        let id = runID ?? defaultRunID(suite: suite.id)
        let final = runsFolder.appendingPathComponent(id).standardizedFileURL
        // Nothing is created or deleted before the run's lock is held: an existing run is refused
        // as it is, naming its writer if it has one.
        try RunStore.refuseExisting(final)
        RunStore.removeAbandonedAssembly(of: final)
        let staging = try RunStore.stage(final)
        var renamed = false
        defer { if !renamed { ScratchCleanup.remove(staging) } }
        let lock = try RunLock(folder: staging)
        defer { withExtendedLifetime(lock) {} }  // held until the command's work is done
        let prepared = try Prepared(definition, options: options, makeAgent: makeAgent, hiding: runsFolder, lock: lock, owner: final)
        defer { prepared.removeScratch() }
        var episodes = try suite.episodes().map { episode in
            (episode, try suite.plan(for: episode))
        }
        let suiteIDs = episodes.map { RunManifest.episodeID($0.0) }
        if Set(suiteIDs).count != suiteIDs.count {
            throw RunStoreError.invalid(path: suite.source.path, reason: "two episodes share an id after making ids ref-safe",
                                        hint: "give scenarios and agents ids that differ in letters, digits, '-' or '_'")
        }
        if let shard = definition.shard {
            let kept = Set(shard.select(suiteIDs))
            guard !kept.isEmpty else {
                throw RunStoreError.invalid(path: "--shard", reason: "shard \(shard) has no episode: the suite has \(suiteIDs.count) episode(s)",
                                            hint: "give at most \(suiteIDs.count) shards")
            }
            episodes = episodes.filter { kept.contains(RunManifest.episodeID($0.0)) }
        }
        let manifest = RunManifest(
            format: 1, runID: id, created: RunManifest.now(), driftboxVersion: driftboxVersion,
            suite: .init(id: suite.id, path: suite.source.standardizedFileURL.path, sha256: try ContentHash.sha256(file: suite.source.path),
                         baseSeed: suite.baseSeed, repetitions: suite.repetitions, steps: suite.steps, singleScenario: definition.singleScenario,
                         agentsBase: definition.agentsBase.standardizedFileURL.path),
            scenarios: suite.scenarios.map { scenario in
                .init(id: scenario.id, path: scenario.source.standardizedFileURL.path, sha256: RunManifest.contentHash(of: scenario),
                      valuePair: scenario.valuePair, condition: scenario.condition.rawValue, fixture: scenario.fixture,
                      fixtureCommit: prepared.fixtures[scenario.fixture]!.commit.description, checks: scenario.checks,
                      judge: scenario.judge?.rawValue)
            },
            agents: Secrets.redacted(suite.agents),
            episodes: episodes.map { episode, plan in
                .init(id: RunManifest.episodeID(episode), scenario: episode.scenarioID, agent: episode.agentID, repetition: episode.repetition,
                      seed: episode.seed, steps: plan.steps.count)
            },
            sandbox: .init(mode: prepared.sandbox.mode.rawValue, capabilities: prepared.sandbox.capabilities, gaps: prepared.isolationGaps,
                           policy: prepared.sandbox.options.policy.name, filterInstructions: prepared.sandbox.filterInstructionCount,
                           policySource: Prepared.policySource(options.policy)),
            stepTimeoutSeconds: EpisodeExecution.seconds(options.stepTimeout),
            verdictSets: [.init(file: "events.jsonl", created: RunManifest.now(), checks: nil)],
            models: prepared.modelsEntry(options.models),
            shard: definition.shard.map { .init(index: $0.index, count: $0.count, rule: ShardSpec.rule, suiteEpisodes: suiteIDs.count) },
            snapshotIgnore: prepared.snapshotIgnoreEntry,
            agentDataFiles: prepared.agentDataFiles)
        let store = try RunStore(assembled: staging, into: final, manifest: manifest)
        renamed = true
        ScratchCleanup.forget(staging)
        try stoppingForHarnessFaults(store: store, prepared: prepared) { try prepared.publishFixtures(into: store) }
        let work = zip(manifest.episodes, episodes).map { entry, pair in (entry, pair.1, EpisodeResumePoint?.none) }
        return try await execute(work, store: store, prepared: prepared, options: options, alreadyDone: (0, 0, 0))
    }

    /// Finishes an interrupted run: episodes without an end continue from their last recorded step.
    /// - Parameters:
    ///   - folder: the run folder.
    ///   - options: concurrency, launcher and progress; the step timeout, sandbox mode and policy
    ///     are the recorded ones.
    ///   - requested: the settings the command line named; each must equal the recorded one.
    ///   - makeAgent: makes each agent of the suite.
    /// - Returns: the run folder and counts.
    /// - Throws: `RunStoreError` when another process writes the run, when the run folder fails an
    ///   integrity check, when a requested setting differs from the recorded one, when the run's
    ///   suite or scenarios changed since it began, or as `start` does.
    public static func resume(_ folder: URL, options: RunOptions, requested: ResumeRequest = ResumeRequest(),
                              makeAgent: AgentMaker) async throws -> RunOutcome {
        let store = try RunStore(existing: folder)
        // The lock comes before anything is read for writing, created or deleted.
        let lock = try RunLock(folder: store.folder)
        defer { withExtendedLifetime(lock) {} }  // held until the command's work is done
        try RunCheck.beforeWrite(store)
        let manifest = try store.manifest()
        if manifest.merge != nil {
            throw RunStoreError.invalid(path: store.manifestPath, reason: "run \(manifest.runID) was merged from shards (`driftbox merge`); it is not run itself",
                                        hint: "resume the unfinished shard's own run folder (run.json's merge.shards names them), then merge again")
        }
        var options = try requested.settings(recorded: manifest, options: options)
        if let models = manifest.models {
            // The recorded gateway settings; a resume records into the same run's store.
            options.models = ModelOptions(mode: ModelsMode(rawValue: models.mode) ?? .record, recording: models.recording.map { URL(fileURLWithPath: $0) },
                                          port: UInt16(clamping: models.port), prices: options.models.prices,
                                          budget: Budget(runUSD: models.budgetUSD, episodeUSD: models.episodeBudgetUSD))
        }
        let definition = try definition(of: manifest, at: store)
        let prepared: Prepared
        do {
            prepared = try Prepared(definition, options: options, makeAgent: makeAgent, hiding: store.folder, lock: lock, owner: store.folder)
        } catch {
            // A full temporary folder while building the fixtures is the machine's fault too.
            throw HarnessFault.classify(error, scratch: FileManager.default.temporaryDirectory, runRepository: store.repositoryPath)
                .map { RunStoreError.harness(run: store.folder.path, reason: $0.reason, fix: $0.fix) } ?? error
        }
        defer { prepared.removeScratch() }
        let sandbox = (prepared.sandbox.mode.rawValue, prepared.sandbox.options.policy.name)
        guard sandbox == (manifest.sandbox.mode, manifest.sandbox.policy) else {
            throw RunStoreError.invalid(path: store.manifestPath,
                                        reason: "the run began in \(manifest.sandbox.mode) mode with policy '\(manifest.sandbox.policy)', this host now gives \(sandbox.0) mode with policy '\(sandbox.1)'",
                                        hint: "resume on a host that allows \(manifest.sandbox.mode) mode")
        }
        for scenario in manifest.scenarios where prepared.fixtures[scenario.fixture]?.commit.description != scenario.fixtureCommit {
            throw RunStoreError.invalid(path: scenario.path, reason: "fixture '\(scenario.fixture)' now builds to a different commit than when the run began",
                                        hint: "restore the fixture folder as it was, or start a new run")
        }
        try store.removeStaleLocks()
        try stoppingForHarnessFaults(store: store, prepared: prepared) { try prepared.publishFixtures(into: store, always: true) }
        let log = try EventLog(path: store.eventsPath)  // repairs a torn last line before reading
        var events = try store.events()
        // An episode whose last recorded step is an agent failure ended there; an interruption
        // before its `end` line was written must not let it go on.
        let endedSoFar = Set(events.compactMap(\.end?.episode))
        for entry in manifest.episodes where !endedSoFar.contains(entry.id) {
            guard let last = events.compactMap(\.step).filter({ $0.episode == entry.id }).max(by: { $0.step < $1.step }),
                  last.outcome == "failed" else { continue }
            let end = RunEvent.end(EpisodeEnd(episode: entry.id, status: .failed, reason: "step \(last.step): the agent failed: \(last.failure ?? "")",
                                              steps: last.step, tip: last.commit))
            try stoppingForHarnessFaults(store: store, prepared: prepared) { try log.append(end) }
            events.append(end)
        }
        let ended = Set(events.compactMap(\.end?.episode))
        let steps = Dictionary(grouping: events.compactMap(\.step), by: \.episode)
        let seeds = Dictionary(grouping: events.compactMap(\.seed), by: \.episode)
        let suiteEpisodes = Dictionary(uniqueKeysWithValues: definition.suite.episodes().map { (RunManifest.episodeID($0), $0) })
        if let shard = manifest.shard {
            // The shard's episodes are those the recorded partition gives today's suite.
            let expected = try ShardSpec(index: shard.index, count: shard.count).select(definition.suite.episodes().map(RunManifest.episodeID))
            guard shard.rule == ShardSpec.rule, expected == manifest.episodes.map(\.id) else {
                throw RunStoreError.invalid(path: store.manifestPath,
                                            reason: "run.json's shard \(shard.label) (rule \(shard.rule)) lists other episodes than the suite's shard \(shard.label) has now",
                                            hint: "resume with the driftbox version that made the run, or start a new run")
            }
        }
        var work: [(RunManifest.EpisodeEntry, EpisodePlan, EpisodeResumePoint?)] = []
        for entry in manifest.episodes where !ended.contains(entry.id) {
            guard let episode = suiteEpisodes[entry.id] else {
                throw RunStoreError.invalid(path: store.manifestPath, reason: "episode '\(entry.id)' is not in the suite any more", hint: "start a new run")
            }
            let plan = try definition.suite.plan(for: episode)
            let recorded = (steps[entry.id] ?? []).sorted { $0.step < $1.step }
            var point: EpisodeResumePoint?
            if let last = recorded.last {
                let transcript = (try? EventLog.read(TranscriptEntry.self, from: store.transcriptPath(entry.id))) ?? []
                let turns = Dictionary(transcript.map { ($0.step, $0.turn) }, uniquingKeysWith: { first, _ in first })
                point = EpisodeResumePoint(lastStep: last.step, tip: last.commit, history: recorded.compactMap { turns[$0.step] },
                                           recordedSeeds: Set((seeds[entry.id] ?? []).map { "\($0.step)#\($0.index)" }))
            } else if let landed = seeds[entry.id], !landed.isEmpty {
                point = EpisodeResumePoint(lastStep: 0, tip: prepared.fixtures[manifest.scenario(entry.scenario)!.fixture]!.commit, history: [],
                                           recordedSeeds: Set(landed.map { "\($0.step)#\($0.index)" }))
            }
            work.append((entry, plan, point))
        }
        let done = (ended.count, events.filter { $0.type == .step }.count, events.filter { $0.step?.verdict.kind == .violation }.count)
        return try await execute(work, store: store, prepared: prepared, options: options, alreadyDone: done)
    }

    /// The run's suite, reloaded from the files the manifest names and checked against its hashes.
    static func definition(of manifest: RunManifest, at store: RunStore) throws -> RunDefinition {
        let suiteFile = URL(fileURLWithPath: manifest.suite.path)
        guard (try? ContentHash.sha256(file: suiteFile.path)) == manifest.suite.sha256 else {
            throw RunStoreError.invalid(path: suiteFile.path, reason: "the suite file changed (or is gone) since run \(manifest.runID) began",
                                        hint: "restore it as it was to resume, or start a new run")
        }
        var definition: RunDefinition
        if manifest.suite.singleScenario {
            let scenario = try ScenarioLoader().load(suiteFile)
            definition = RunDefinition(suite: Suite(id: scenario.id, title: scenario.title, baseSeed: manifest.suite.baseSeed, repetitions: manifest.suite.repetitions,
                                                    steps: nil, scenarios: [scenario], agents: manifest.agents, source: suiteFile),
                                       agentsBase: URL(fileURLWithPath: manifest.suite.agentsBase), singleScenario: true)
        } else {
            definition = RunDefinition(suite: try SuiteLoader().load(suiteFile), agentsBase: URL(fileURLWithPath: manifest.suite.agentsBase), singleScenario: false)
        }
        definition.suite.baseSeed = manifest.suite.baseSeed
        definition.suite.repetitions = manifest.suite.repetitions
        definition.suite.agents = try Secrets.restored(manifest.agents, suiteFile: manifest.suite.singleScenario ? nil : suiteFile,
                                                       agentsBase: URL(fileURLWithPath: manifest.suite.agentsBase), manifestPath: store.manifestPath)
        for scenario in definition.suite.scenarios where manifest.scenario(scenario.id)?.sha256 != RunManifest.contentHash(of: scenario) {
            throw RunStoreError.invalid(path: scenario.source.path, reason: "scenario '\(scenario.id)' changed since run \(manifest.runID) began",
                                        hint: "restore it (and its constraint, tasks and pressure files) as they were, or start a new run")
        }
        return definition
    }

    /// Runs `body`; a harness fault it throws becomes `RunStoreError.harness` (free space / repair X, then resume).
    static func stoppingForHarnessFaults(store: RunStore, prepared: Prepared, _ body: () throws -> Void) throws {
        do { try body() } catch {
            throw HarnessFault.classify(error, scratch: prepared.scratch, runRepository: store.repositoryPath)
                .map { RunStoreError.harness(run: store.folder.path, reason: $0.reason, fix: $0.fix) } ?? error
        }
    }

    /// Runs the episodes, at most `options.jobs` at once.
    static func execute(_ work: [(RunManifest.EpisodeEntry, EpisodePlan, EpisodeResumePoint?)], store: RunStore, prepared: Prepared,
                        options: RunOptions, alreadyDone: (episodes: Int, steps: Int, violations: Int)) async throws -> RunOutcome {
        let manifest = try store.manifest()
        let gateway = try RunGateway.make(agents: prepared.agents, options: options.models, runFolder: store.folder)
        if let gateway {
            // What earlier invocations of this run spent counts towards its budgets (a resume).
            for entry in manifest.episodes where prepared.agents[entry.agent]?.network == .gateway {
                let spent = ModelReach.recordedSpending(in: gateway.store, episode: entry.id)
                if spent.exchanges > 0 || spent.refused > 0 { await gateway.gateway.carry(episode: entry.id, agent: entry.agent, spent: spent) }
            }
        }
        let progress = RunProgress(style: options.progress, totalEpisodes: manifest.episodes.count, totalSteps: manifest.episodes.reduce(0) { $0 + $1.steps },
                                   episodesDone: alreadyDone.episodes, stepsDone: alreadyDone.steps, violations: alreadyDone.violations,
                                   models: gateway?.counter)
        defer { progress.finish() }
        let journal = try RunJournal(path: store.eventsPath, progress: progress)
        var failed = 0
        do {
        try await withThrowingTaskGroup(of: EpisodeEnd.Status.self) { group in
            var pending = work[...]
            func launch() throws {
                guard let (entry, plan, point) = pending.popFirst() else { return }
                let scenario = manifest.scenario(entry.scenario)!
                let agent = prepared.agents[entry.agent]!
                let setup = EpisodeSetup(id: entry.id, plan: plan, detectors: prepared.detectors[entry.scenario]!, agent: agent,
                                         sandbox: prepared.sandbox(for: agent), stepTimeout: options.stepTimeout,
                                         fixtureRepository: prepared.fixtures[scenario.fixture]!.repository,
                                         fixtureCommit: prepared.fixtures[scenario.fixture]!.commit, scratch: prepared.scratch,
                                         runRepository: store.repositoryPath, gateway: agent.network == .gateway ? gateway : nil,
                                         snapshotIgnore: manifest.snapshotIgnore?[entry.agent] ?? agent.snapshotIgnore)
                group.addTask {
                    // Opens the run repository and the transcript (a repair may fsync): blocking work.
                    let sink = try await Blocking.run { try StoreSink(store: store, episode: entry.id, journal: journal, keepTranscriptSteps: point?.lastStep ?? 0) }
                    return try await EpisodeExecution.run(setup, resume: point, sink: sink).status
                }
            }
            for _ in 0..<options.jobs { try launch() }
            while let status = try await group.next() {
                if status == .failed { failed += 1 }
                try launch()
            }
        }
        // Every episode has ended: no writer is left, so the per-step packs can become one (also
        // finishing a merge an earlier invocation could not finish).
        let repositoryPath = store.repositoryPath
        _ = try await Blocking.run { try Repository.open(at: repositoryPath).consolidatePacks() }
        } catch {
            await gateway?.gateway.shutdown()
            throw HarnessFault.classify(error, scratch: prepared.scratch, runRepository: store.repositoryPath)
                .map { RunStoreError.harness(run: store.folder.path, reason: $0.reason, fix: $0.fix) } ?? error
        }
        await gateway?.gateway.shutdown()
        // Every exchange is durable now: the whole run's model totals go into run.json.
        if gateway != nil { try await Blocking.run { try ModelTotals.write(into: store) } }
        return RunOutcome(folder: store.folder, episodesRun: work.count, episodesFailed: failed)
    }

    /// A fresh run id: the suite's id, the UTC time and a random suffix (`paper-20260105-093000-1a2b`).
    /// - Parameter suite: the suite's id.
    /// - Returns: the id.
    public static func defaultRunID(suite: String) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.locale = Locale(identifier: "en_US_POSIX")
        return "\(suite)-\(formatter.string(from: Date()))-\(UUID().uuidString.prefix(4).lowercased())"
    }
}

/// A fixture repository built for a run.
struct BuiltFixture: Sendable {
    var name: String
    var repository: String
    var commit: ObjectID
}

/// What a run builds once: the sandbox, the fixture repositories, the agents, the detectors.
struct Prepared: Sendable {
    let sandbox: Sandbox
    /// The sandbox of agents with `network: host` (policy `network`), when the run's policy keeps
    /// the network off.
    let hostSandbox: Sandbox?
    let scratch: URL
    let fixtures: [String: BuiltFixture]
    let agents: [String: any Agent]
    let detectors: [String: DetectorSet]

    /// Builds what the run needs; `hidden` (the run's folder) is hidden from agents in full mode.
    ///
    /// The start of a scratch folder's name: `tmp-`, then, for a run folder, 8 hex digits of the
    /// SHA-256 of its path and `-`. The workspaces live below it and the agent sees their paths,
    /// so it names neither the harness nor the run.
    /// - Parameter owner: the run folder the scratch serves, if any.
    static func scratchPrefix(owner: URL?) -> String {
        "tmp-" + (owner.map { "\(ContentHash.sha256(Array($0.standardizedFileURL.path.utf8)).prefix(8))-" } ?? "")
    }

    /// The scratch folder (fixture repositories, workspaces) belongs to this invocation alone: a
    /// fresh folder of mode 0700, named in the run's lock file before it is made, removed on every
    /// exit (errors here included, and SIGINT, SIGTERM, SIGHUP). The scratch folder the lock file
    /// names from a previous holder (one that was killed) is removed first; nothing else is.
    init(_ definition: RunDefinition, options: RunOptions, makeAgent: AgentMaker, hiding hidden: URL? = nil, lock: RunLock? = nil,
         owner: URL? = nil) throws {
        let policy = options.policy.contains("/") || options.policy.hasSuffix(".policy")
            ? try Policy.load(path: options.policy) : try Policy.named(options.policy)
        sandbox = try Sandbox(SandboxOptions(policy: policy, mode: options.sandboxMode, launcherPath: options.launcherPath,
                                             hiddenPaths: hidden.map { [$0.path] } ?? []))
        let temporary = FileManager.default.temporaryDirectory.standardizedFileURL
        let prefix = Self.scratchPrefix(owner: owner)
        if let stale = lock?.previous?.scratch.map({ URL(fileURLWithPath: $0).standardizedFileURL }),
           stale.deletingLastPathComponent().path == temporary.path, stale.lastPathComponent.hasPrefix(prefix) {
            ScratchCleanup.removeStale(stale)
        }
        let scratch = temporary.appendingPathComponent(prefix + UUID().uuidString)
        self.scratch = scratch
        try lock?.record(scratch: scratch)
        try ScratchCleanup.create(scratch)
        do {
            var fixtures: [String: BuiltFixture] = [:]
            var detectors: [String: DetectorSet] = [:]
            for scenario in definition.suite.scenarios {
                detectors[scenario.id] = try DetectorSet(scenario.checks)
                guard fixtures[scenario.fixture] == nil else { continue }
                let repository = scratch.appendingPathComponent("fixtures/\(scenario.fixture).git").path
                let commit = try Fixture.build(source: scenario.fixtureDirectory.path, into: repository)
                fixtures[scenario.fixture] = BuiltFixture(name: scenario.fixture, repository: repository, commit: commit)
            }
            self.fixtures = fixtures
            self.detectors = detectors
            agents = Dictionary(uniqueKeysWithValues: try definition.suite.agents.map { ($0.id, try makeAgent($0, definition.agentsBase)) })
            // The model agent reaches the gateway from the runner's process; its tools get no network.
            let gatewayAgents = agents.filter { $0.value.network == .gateway && !($0.value is ModelAgent) }.keys.sorted()
            if !gatewayAgents.isEmpty && (sandbox.mode != .full || policy.network == .on) {
                throw RunStoreError.invalid(
                    path: definition.suite.source.path,
                    reason: "agent '\(gatewayAgents.joined(separator: "', '"))' reaches its model through the gateway (`network: gateway`), which needs full sandbox mode and a policy with the network off; this run has \(sandbox.mode.rawValue) mode and policy '\(policy.name)'",
                    hint: sandbox.mode != .full
                        ? "enable user namespaces for full mode, or give the agent `network: host` (the whole host network, flagged as reduced isolation)"
                        : "drop --policy \(options.policy) (the gateway is the agent's way out), or give the agent `network: host`")
            }
            let blinded = SnapshotIgnoreCheck.conflicts(agents: agents, scenarios: definition.suite.scenarios, detectors: detectors)
            if let first = blinded.first {
                throw RunStoreError.invalid(path: definition.suite.source.path, reason: first + (blinded.count > 1 ? " (and \(blinded.count - 1) more)" : ""),
                                            hint: "drop that name from the agent's `snapshot_ignore`, or use another agent for that scenario: an ignored path must never hide what the checks read")
            }
            try RunGateway.checkKeys(agents: agents, mode: options.models.mode, suite: definition.suite.source.path)
            if policy.network == .off, agents.values.contains(where: { $0.network == .host }) {
                hostSandbox = try Sandbox(SandboxOptions(policy: try Policy.named("network"), mode: options.sandboxMode, launcherPath: options.launcherPath,
                                                         hiddenPaths: hidden.map { [$0.path] } ?? []))
            } else {
                hostSandbox = nil
            }
        } catch {
            ScratchCleanup.remove(scratch)
            throw error
        }
    }

    /// How the policy option is recorded so `resume` can load the same policy: a name as is, a
    /// file as an absolute path.
    static func policySource(_ option: String) -> String {
        option.contains("/") || option.hasSuffix(".policy") ? URL(fileURLWithPath: option).standardizedFileURL.path : option
    }

    /// Copies each fixture's objects into the run repository under `refs/fixtures/<name>`.
    ///
    /// With `always`, the objects are copied even when the ref is in place, so fixture objects
    /// missing from the run repository are restored.
    func publishFixtures(into store: RunStore, always: Bool = false) throws {
        let run = try Repository.open(at: store.repositoryPath)
        for fixture in fixtures.values.sorted(by: { $0.name < $1.name }) where try always || run.resolve(ref: RunStore.fixtureRef(fixture.name)) != fixture.commit {
            try Repository.open(at: fixture.repository).copyObjects(reachableFrom: fixture.commit, into: run)
            try run.updateRef(RunStore.fixtureRef(fixture.name), to: fixture.commit)
        }
    }

    func removeScratch() { ScratchCleanup.remove(scratch) }

    /// The sandbox an agent's commands run in: the host network's for `network: host`.
    func sandbox(for agent: any Agent) -> Sandbox {
        agent.network == .host ? hostSandbox ?? sandbox : sandbox
    }

    /// What run.json records of the gateway and each agent's network; nil when no agent uses one.
    func modelsEntry(_ options: ModelOptions) -> RunManifest.ModelsEntry? {
        let gateway = agents.filter { $0.value.network == .gateway }.keys.sorted()
        // Under a policy that opens the network every agent reaches the host network.
        let host = agents.filter { $0.value.network == .host || sandbox.options.policy.network == .on }.keys.sorted()
        guard !gateway.isEmpty || !host.isEmpty else { return nil }
        return RunManifest.ModelsEntry(mode: options.mode.rawValue, recording: options.recording?.standardizedFileURL.path, port: Int(options.port),
                                       folder: RunGateway.folderName, gatewayAgents: gateway, hostNetworkAgents: host,
                                       budgetUSD: options.budget.runUSD, episodeBudgetUSD: options.budget.episodeUSD)
    }

    /// What run.json records of the names each agent's snapshots leave out; nil when none does.
    var snapshotIgnoreEntry: [String: [String]]? {
        let lists = agents.compactMapValues { $0.snapshotIgnore.isEmpty ? nil : $0.snapshotIgnore }
        return lists.isEmpty ? nil : lists
    }

    /// The data files each agent depends on, with digests; nil when no agent has any.
    var agentDataFiles: [String: [AgentDataFile]]? {
        let files = agents.filter { !$0.value.dataFiles.isEmpty }.mapValues(\.dataFiles)
        return files.isEmpty ? nil : files
    }

    /// The isolation the run gives up: the sandbox's, and the host network of each `network: host` agent.
    var isolationGaps: [String] {
        sandbox.isolationGaps + agents.filter { $0.value.network == .host }.keys.sorted().map {
            "agent '\($0)' reaches the host network, loopback included (network: host)"
        }
    }
}

extension Runner {
    /// Makes agents through `AgentFactory` (scripted trajectories, external commands) and the
    /// built-in model agent (`kind: model`, with the bundled tools and system prompt by default).
    public static let standardAgents: AgentMaker = { spec, base in
        guard spec.kind == ModelAgent.kind else {
            return try AgentFactory.make(id: spec.id, kind: spec.kind, settings: spec.settings, baseDirectory: base.path)
        }
        let bundled = try? Catalog.bundled(executable: Catalog.runningExecutable,
                                           directory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).fixtures.appendingPathComponent("agent")
        return try ModelAgent(id: spec.id, settings: spec.settings, baseDirectory: base.path, bundled: bundled)
    }
}
