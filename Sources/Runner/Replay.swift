import Agents
import Checks
import Foundation
import GitStore
import Scenarios

/// Materialising and re-executing recorded episodes.
public enum Replay {
    /// The commit of an episode at a step: 0 is the fixture base, K the commit of step K.
    /// - Parameters:
    ///   - record: the run.
    ///   - episode: the episode's id.
    ///   - step: the step (nil: the last recorded one).
    /// - Returns: the commit.
    /// - Throws: `RunStoreError.invalid` when the episode or step is not recorded.
    public static func commit(in record: RunRecord, episode: String, step: Int?) throws -> ObjectID {
        let entry = try record.episode(episode)
        let steps = record.steps(of: episode)
        guard let step else {
            if let last = steps.last { return last.commit }
            return try fixtureCommit(record, entry)
        }
        if step == 0 { return try fixtureCommit(record, entry) }
        guard let found = steps.first(where: { $0.step == step }) else {
            throw RunStoreError.invalid(path: record.store.folder.path, reason: "episode \(episode) has no recorded step \(step)",
                                        hint: steps.isEmpty ? "it recorded no step yet" : "pick a step from 0 (fixture) to \(steps.last!.step)")
        }
        return found.commit
    }

    /// A recorded seed or step commit of an episode named by its id or a unique prefix of it.
    /// - Parameters:
    ///   - record: the run.
    ///   - episode: the episode's id.
    ///   - prefix: at least 4 hex digits of the commit id.
    /// - Returns: the commit.
    /// - Throws: `RunStoreError.invalid` when no recorded commit of the episode, or more than one, starts so.
    public static func commit(in record: RunRecord, episode: String, prefix: String) throws -> ObjectID {
        _ = try record.episode(episode)
        let known = record.seeds(of: episode).map(\.commit) + record.steps(of: episode).map(\.commit)
        let matches = Set(known.filter { $0.description.hasPrefix(prefix.lowercased()) })
        guard prefix.count >= 4, matches.count == 1, let match = matches.first else {
            throw RunStoreError.invalid(path: record.store.folder.path,
                                        reason: "'\(prefix)' names \(matches.count) of the seed and step commits of \(episode)",
                                        hint: "give at least 4 hex digits of one of them (`git --git-dir repo.git log --oneline refs/episodes/\(episode)`)")
        }
        return match
    }

    private static func fixtureCommit(_ record: RunRecord, _ entry: RunManifest.EpisodeEntry) throws -> ObjectID {
        guard let scenario = record.manifest.scenario(entry.scenario), let id = ObjectID(hex: scenario.fixtureCommit) else {
            throw RunStoreError.corrupt(path: record.store.manifestPath, line: 1, reason: "no fixture commit for scenario \(entry.scenario)")
        }
        return id
    }

    /// Writes the workspace of an episode at a step into a folder.
    /// - Parameters:
    ///   - record: the run.
    ///   - episode: the episode's id.
    ///   - step: the step (0: the fixture; nil: the last recorded step).
    ///   - directory: the destination; must be empty or missing.
    /// - Returns: the commit written.
    /// - Throws: `RunStoreError` for an unknown episode or step or a non-empty folder, `GitError`
    ///   when the commit cannot be written out.
    @discardableResult
    public static func materialise(_ record: RunRecord, episode: String, step: Int?, into directory: URL) throws -> ObjectID {
        try materialise(record, commit: try commit(in: record, episode: episode, step: step), into: directory)
    }

    /// Writes the workspace at one of the run's commits into a folder.
    /// - Parameters:
    ///   - record: the run.
    ///   - commit: a commit of the run repository (a seed or step commit).
    ///   - directory: the destination; must be empty or missing.
    /// - Returns: the commit written.
    /// - Throws: `RunStoreError` for a non-empty folder, `GitError` when the commit is missing.
    @discardableResult
    public static func materialise(_ record: RunRecord, commit: ObjectID, into directory: URL) throws -> ObjectID {
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: directory.path), !entries.isEmpty {
            throw RunStoreError.invalid(path: directory.path, reason: "the folder is not empty", hint: "give --to a new or empty folder")
        }
        try Repository.open(at: record.store.repositoryPath).checkout(commit, into: directory.path)
        return commit
    }

    /// One difference between a recorded episode and its re-execution.
    public struct Mismatch: Sendable, Hashable, CustomStringConvertible {
        /// What differs (`step 3 commit`, `seed 2#1 commit`, `step count`...).
        public var what: String
        /// The recorded value.
        public var recorded: String
        /// The re-executed value.
        public var replayed: String

        /// `what: recorded X, replayed Y`.
        public var description: String { "\(what): recorded \(recorded), replayed \(replayed)" }
    }

    /// Re-executes an episode from its fixture in a scratch workspace and compares every seed and
    /// step commit id (and verdict) with the recorded ones.
    /// - Parameters:
    ///   - record: the run.
    ///   - episode: the episode's id.
    ///   - options: the sandbox options (jobs and progress are ignored).
    ///   - makeAgent: makes the episode's agent; only deterministic (scripted) agents can match.
    /// - Returns: the differences; empty when every id matches.
    /// - Throws: `RunStoreError` when the run's files changed since it was recorded, or as
    ///   `Runner.start` does.
    public static func verify(_ record: RunRecord, episode: String, options: RunOptions, makeAgent: AgentMaker) async throws -> [Mismatch] {
        let entry = try record.episode(episode)
        var definition = try Runner.definition(of: record.manifest, at: record.store)
        definition.suite.scenarios = definition.suite.scenarios.filter { $0.id == entry.scenario }
        definition.suite.agents = definition.suite.agents.filter { $0.id == entry.agent }
        // The run's recorded settings: step limit, sandbox mode and policy, the gateway's port.
        var options = try ResumeRequest().settings(recorded: record.manifest, options: options)
        // A gateway agent is replayed offline: its model answers come from the run's own recording
        // (a request with no recorded answer is refused and named below), never from the upstream.
        options.models = ModelOptions(mode: .replay, recording: record.store.folder,
                                      port: record.manifest.models.map { UInt16(clamping: $0.port) } ?? options.models.port)
        let prepared = try Prepared(definition, options: options, makeAgent: makeAgent)
        defer { prepared.removeScratch() }
        var gateway: RunGateway?
        if prepared.agents[entry.agent]?.network == .gateway {
            gateway = try RunGateway.make(agents: prepared.agents, options: options.models, runFolder: prepared.scratch)
        }
        guard let suiteEpisode = definition.suite.episodes().first(where: { RunManifest.episodeID($0) == episode }) else {
            throw RunStoreError.invalid(path: record.store.manifestPath, reason: "episode \(episode) is not in the suite", hint: "start a new run")
        }
        let fixture = prepared.fixtures[record.manifest.scenario(entry.scenario)!.fixture]!
        let setup = EpisodeSetup(id: episode, plan: try definition.suite.plan(for: suiteEpisode), detectors: prepared.detectors[entry.scenario]!,
                                 agent: prepared.agents[entry.agent]!, sandbox: prepared.sandbox(for: prepared.agents[entry.agent]!),
                                 stepTimeout: options.stepTimeout, fixtureRepository: fixture.repository, fixtureCommit: fixture.commit,
                                 scratch: prepared.scratch, gateway: gateway,
                                 snapshotIgnore: record.manifest.snapshotIgnore?[entry.agent] ?? prepared.agents[entry.agent]!.snapshotIgnore)
        let sink = CollectingSink()
        do { _ = try await EpisodeExecution.run(setup, resume: nil, sink: sink) } catch {
            await gateway?.gateway.shutdown()
            throw error
        }
        await gateway?.gateway.shutdown()
        var mismatches: [Mismatch] = []
        let recordedSeeds = record.seeds(of: episode), recordedSteps = record.steps(of: episode)
        func compare(_ what: String, _ recorded: [String], _ replayed: [String]) {
            if recorded.count != replayed.count {
                mismatches.append(Mismatch(what: "\(what) count", recorded: String(recorded.count), replayed: String(replayed.count)))
            }
            for (index, (a, b)) in zip(recorded, replayed).enumerated() where a != b {
                mismatches.append(Mismatch(what: "\(what) \(index + 1)", recorded: a, replayed: b))
            }
        }
        compare("seed commit", recordedSeeds.map(\.commit.description), sink.seeds.map(\.commit.description))
        compare("step commit", recordedSteps.map(\.commit.description), sink.steps.map(\.commit.description))
        let events = try record.store.events().compactMap(\.step).filter { $0.episode == episode }.sorted { $0.step < $1.step }
        compare("step verdict", events.map(\.verdict.kind.rawValue), sink.steps.map(\.verdict.kind.rawValue))
        for (step, event) in sink.modelEvents where event.kind == "replay-miss" {
            mismatches.append(Mismatch(what: "step \(step) model request", recorded: "a recorded answer", replayed: event.detail))
        }
        return mismatches
    }
}

/// Keeps what an episode produced in memory (for verification and benchmarks).
final class CollectingSink: EpisodeSink {
    var seeds: [SeedRecord] = []
    var steps: [StepRecord] = []
    var ends: [EpisodeEnd] = []
    var modelEvents: [(step: Int, event: ModelEvent)] = []

    func restoreWorkspace(at commit: ObjectID, path: String) throws -> Workspace {
        throw RunStoreError.invalid(path: path, reason: "a collected episode cannot be resumed", hint: "run it from the start")
    }

    func record(workspace: Workspace, previous: ObjectID, seeds: [SeedRecord], step: StepRecord, transcript: TranscriptEntry) async throws {
        self.seeds += seeds
        steps.append(step)
        modelEvents += (transcript.modelEvents ?? []).map { (step.step, $0) }
    }

    func end(_ end: EpisodeEnd) async throws { ends.append(end) }
}
