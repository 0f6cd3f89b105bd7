import Agents
import Foundation
import GitStore

/// The run's event log, shared by the episodes running at once: one writer, whole lines, fsync.
///
/// Appends are serialised by a lock and run on a blocking thread (`Blocking`), never on the
/// cooperative pool.
final class RunJournal: @unchecked Sendable {
    private let log: EventLog
    private let progress: RunProgress
    private let lock = NSLock()
    /// The first append that failed: every later append fails the same way, so no line is
    /// written after a batch that was written only in part.
    private var failure: (any Error)?

    init(path: String, progress: RunProgress) throws {
        log = try EventLog(path: path)
        self.progress = progress
    }

    /// Appends events in order, each durable before the next.
    func append(_ events: [RunEvent]) async throws {
        let batch = Blocking.Handoff(events)
        try await Blocking.run { try self.appendNow(batch.value) }
    }

    private func appendNow(_ events: [RunEvent]) throws {
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure }
        let now = Date()
        do {
            for event in events { try log.append(event.at == nil ? event.stamped(now) : event) }
        } catch {
            failure = error
            throw error
        }
        for event in events { progress.note(event) }
    }
}

/// Records an episode into the run store: objects into `repo.git`, its ref, transcript, events.
///
/// The order makes a crash at any point safe: objects and ref first, then the transcript line,
/// then the events; a step is recorded once its `step` line is in the log, and everything it
/// refers to is on disk by then.
final class StoreSink: EpisodeSink {
    let store: RunStore
    let episode: String
    let journal: RunJournal
    private let repository: Repository
    private let transcript: EventLog

    init(store: RunStore, episode: String, journal: RunJournal, keepTranscriptSteps: Int?) throws {
        self.store = store
        self.episode = episode
        self.journal = journal
        repository = try Repository.open(at: store.repositoryPath)
        let path = store.transcriptPath(episode)
        if let keep = keepTranscriptSteps, FileManager.default.fileExists(atPath: path) {
            _ = try EventLog(path: path)  // repairs a torn last line
            let entries = try EventLog.read(TranscriptEntry.self, from: path)
            if entries.contains(where: { $0.step > keep }) {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                var data = Data()
                for entry in entries where entry.step <= keep { data += try encoder.encode(entry) + Data("\n".utf8) }
                try RunStore.writeAtomically(data, to: path)
            }
        }
        transcript = try EventLog(path: path)
    }

    func restoreWorkspace(at commit: ObjectID, path: String) throws -> Workspace {
        try Workspace.create(from: store.repositoryPath, at: path, commit: commit)
    }

    func record(workspace: Workspace, previous: ObjectID, seeds: [SeedRecord], step: StepRecord, transcript entry: TranscriptEntry) async throws {
        let clock = ContinuousClock()
        let started = clock.now
        // Durable before the event that names the step's commit is appended.
        let work = Blocking.Handoff((self, workspace))
        try await Blocking.run {
            let (sink, workspace) = work.value
            try workspace.repository.copyObjects(reachableFrom: step.commit, excluding: [previous], into: sink.repository, durable: true)
            try sink.repository.updateRef(RunStore.episodeRef(sink.episode), to: step.commit)
            try sink.transcript.append(entry)
        }
        var step = step
        step.recordSeconds = EpisodeExecution.seconds(clock.now - started)
        try await journal.append(seeds.map(RunEvent.seed) + [.step(step)])
    }

    func end(_ end: EpisodeEnd) async throws {
        try await journal.append([.end(end)])
    }
}
