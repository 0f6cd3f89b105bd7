import Foundation
import GitStore

/// `driftbox merge`: shards of one suite (`run --shard I/N`) brought together into one run
/// folder, as if the suite had run on one machine.
///
/// The merged run holds every shard's episode refs and objects, the shards' event lines (each
/// episode's lines as its shard wrote them), transcripts and model exchanges, and a manifest that
/// lists every merged episode in suite order. Merging is repeatable: shards merged before and not
/// named again keep their lines, a shard named again brings what it recorded since (its earlier
/// lines must be a prefix of its log now), and a kill at any moment followed by the same merge
/// gives the same run folder (`merge.pending` is set in `run.json` before the log and refs change).
public enum RunMerge {
    /// What a merge did and what is still missing.
    public struct Report: Sendable, Equatable {
        /// The merged run folder.
        public var folder: URL
        /// The shard count of the suite.
        public var shardCount: Int
        /// Episodes of the whole suite.
        public var suiteEpisodes: Int
        /// The shards the merged run holds, by index.
        public var shards: [Int]
        /// Shards (indexes) not merged yet.
        public var missingShards: [Int]
        /// Episodes the merged run holds.
        public var episodes: Int
        /// Merged episodes without an `end` line (their shard is unfinished).
        public var unfinished: [String]
        /// Remarks: a shard being written while it was merged, verdict sets left behind.
        public var notes: [String]

        /// True when every episode of the suite is merged and has ended.
        public var complete: Bool { missingShards.isEmpty && unfinished.isEmpty && episodes == suiteEpisodes }
    }

    /// One shard as read for merging.
    struct Input {
        var store: RunStore
        var manifest: RunManifest
        var shard: RunManifest.ShardEntry
        /// The log's complete lines, with their decoded events.
        var lines: [(data: Data, event: RunEvent)]
    }

    /// Merges `shards` into the run folder `target` (created when missing).
    /// - Parameters:
    ///   - shards: shard run folders (`run --shard I/N`), any order.
    ///   - target: the merged run folder; an existing one must be a merge of the same suite.
    /// - Returns: what the merged run holds and what it still misses.
    /// - Throws: `RunStoreError.invalid` naming the shard folder and the field when shards (or the
    ///   target) disagree, overlap or are damaged; `.locked` when another process writes the target.
    public static func merge(_ shards: [URL], into target: URL) throws -> Report {
        guard !shards.isEmpty else { throw RunStoreError.invalid(path: target.path, reason: "no shard to merge", hint: "name the shard run folders") }
        let target = target.standardizedFileURL
        var notes: [String] = []
        let inputs = try shards.map { try read($0.standardizedFileURL, into: target, notes: &notes) }
        let reference = inputs[0]
        for input in inputs.dropFirst() {
            try compare(input.manifest, input.store.folder.path, against: reference.manifest, reference.store.folder.path)
        }
        var byIndex: [Int: Input] = [:]
        var owner: [String: Input] = [:]
        for input in inputs {
            if let other = byIndex[input.shard.index] {
                throw RunStoreError.invalid(path: input.store.folder.path,
                                            reason: "shard.index: it is shard \(input.shard.label), and so is \(other.store.folder.path) (both named)",
                                            hint: "name each shard's folder once")
            }
            byIndex[input.shard.index] = input
            for entry in input.manifest.episodes {
                if let other = owner[entry.id] {
                    throw RunStoreError.invalid(path: input.store.folder.path,
                                                reason: "episodes: episode '\(entry.id)' is in shard \(input.shard.label) and in shard \(other.shard.label) (\(other.store.folder.path))",
                                                hint: "the shards overlap: merge shards made by one `run --shard I/N` partition only")
                }
                owner[entry.id] = input
            }
        }

        // The target: created (as a pending merge) when missing, under its lock either way.
        let (store, lock) = try openTarget(target, basis: reference)
        defer { withExtendedLifetime(lock) {} }
        var manifest = try store.manifest()
        guard var merge = manifest.merge else {
            throw RunStoreError.invalid(path: store.manifestPath, reason: "the run \(manifest.runID) ran itself; it is not a merge of shards",
                                        hint: "merge into a new folder (--into a folder that does not exist yet)")
        }
        try compare(reference.manifest, reference.store.folder.path, against: manifest, "the merged run \(store.folder.path)", merged: merge)
        let previous = try logLines(store.eventsPath)
        var previousByEpisode: [String: [Data]] = [:]
        for line in previous { previousByEpisode[episode(of: line.event), default: []].append(line.data) }
        for part in merge.shards {
            if let input = byIndex[part.index] {
                guard input.manifest.runID == part.runID, input.manifest.created == part.created else {
                    throw RunStoreError.invalid(path: input.store.folder.path,
                                                reason: "runID: shard \(input.shard.label) was merged before from run '\(part.runID)' begun \(part.created) (\(part.folder)); this is run '\(input.manifest.runID)' begun \(input.manifest.created)",
                                                hint: "merge the shard's first run again, or merge every shard into a new folder")
                }
            }
            for id in part.episodes {
                if let input = owner[id], input.shard.index != part.index {
                    throw RunStoreError.invalid(path: input.store.folder.path,
                                                reason: "episodes: episode '\(id)' of shard \(input.shard.label) was merged before from shard \(part.index)/\(merge.count) (\(part.folder))",
                                                hint: "the shards overlap: merge shards made by one `run --shard I/N` partition only")
                }
            }
        }
        // A shard named again only adds to what was merged from it.
        for input in inputs {
            var now: [String: [Data]] = [:]
            for line in input.lines { now[episode(of: line.event), default: []].append(line.data) }
            for entry in input.manifest.episodes {
                let before = previousByEpisode[entry.id] ?? [], after = now[entry.id] ?? []
                guard after.count >= before.count, Array(after.prefix(before.count)) == before else {
                    throw RunStoreError.invalid(path: input.store.eventsPath,
                                                reason: "events: episode '\(entry.id)' has \(after.count) line(s) here, which do not continue the \(before.count) merged before",
                                                hint: "the shard was changed or run again since it was merged; merge every shard into a new folder")
                }
            }
        }

        // What the merged run will hold: the parts by index, the log (each shard's lines, shards
        // by index, episodes as their shard wrote them), the episodes in suite order.
        var parts = Dictionary(uniqueKeysWithValues: merge.shards.map { ($0.index, $0) })
        for input in inputs {
            parts[input.shard.index] = .init(index: input.shard.index, runID: input.manifest.runID, folder: input.store.folder.path,
                                             created: input.manifest.created, episodes: input.manifest.episodes.map(\.id),
                                             ended: Set(input.lines.compactMap(\.event.end?.episode)).count)
        }
        merge.shards = parts.values.sorted { $0.index < $1.index }
        var log = Data()
        var events: [RunEvent] = []
        for part in merge.shards {
            let kept = Set(part.episodes)
            let lines = byIndex[part.index]?.lines ?? previous.filter { kept.contains(episode(of: $0.event)) }
            for line in lines { log.append(line.data); log.append(10); events.append(line.event) }
        }
        if manifest.verdictSets.count > 1, log != previous.reduce(into: Data(), { $0.append($1.data); $0.append(10) }) {
            throw RunStoreError.invalid(path: store.manifestPath,
                                        reason: "verdictSets: the merged run has verdict sets made since it was merged (\(manifest.verdictSets.dropFirst().map(\.file).joined(separator: ", "))), which would miss the steps this merge adds",
                                        hint: "merge every shard into a new folder, then rescore or judge that run")
        }
        var entries = Dictionary(manifest.episodes.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for input in inputs { for entry in input.manifest.episodes { entries[entry.id] = entry } }

        // 1. Objects and files nothing refers to yet: fixtures, every logged commit, transcripts, exchanges.
        let repository = try Repository.open(at: store.repositoryPath)
        for input in inputs {
            try copyObjects(input, into: repository)
            try copyFiles(input, into: store)
        }

        // 2. run.json with the new episodes and parts, pending: a kill from here on is visible.
        merge.pending = true
        manifest.episodes = suiteOrder(Array(entries.values), of: reference.manifest)
        manifest.merge = merge
        try store.write(manifest)

        // 3. The log, written aside and renamed over the old one.
        try RunStore.writeAtomically(log, to: store.eventsPath)

        // 4. Refs: each episode's last logged step, each fixture's commit.
        var tips: [String: ObjectID] = [:]
        for event in events { if let step = event.step { tips[step.episode] = step.commit } }
        for (episode, tip) in tips.sorted(by: { $0.key < $1.key }) where (try? repository.resolve(ref: RunStore.episodeRef(episode))) != tip {
            try repository.updateRef(RunStore.episodeRef(episode), to: tip)
        }
        for scenario in manifest.scenarios {
            guard let commit = ObjectID(hex: scenario.fixtureCommit) else { continue }
            if (try? repository.resolve(ref: RunStore.fixtureRef(scenario.fixture))) != commit {
                try repository.updateRef(RunStore.fixtureRef(scenario.fixture), to: commit)
            }
        }
        // One pack for everything the refs reach, once every episode has ended: before, seeds
        // logged after an episode's last step are reached by no ref and must stay.
        let ended = Set(events.compactMap(\.end?.episode))
        if manifest.episodes.allSatisfy({ ended.contains($0.id) }) { try repository.consolidatePacks() }

        // 5. Done: the merge is no longer pending.
        merge.pending = false
        merge.updated = RunManifest.now()
        manifest.merge = merge
        try store.write(manifest)
        // The model totals of what is merged so far (a shard's own totals came with its run.json).
        try ModelTotals.write(into: store)

        return Report(folder: store.folder, shardCount: merge.count, suiteEpisodes: merge.suiteEpisodes, shards: merge.shards.map(\.index),
                      missingShards: (0..<merge.count).filter { parts[$0] == nil }, episodes: manifest.episodes.count,
                      unfinished: manifest.episodes.map(\.id).filter { !ended.contains($0) }, notes: notes)
    }

    /// Reads one shard folder: a shard's manifest, a sound log (a torn last line is left out).
    static func read(_ folder: URL, into target: URL, notes: inout [String]) throws -> Input {
        guard folder.path != target.path else {
            throw RunStoreError.invalid(path: folder.path, reason: "it is both a shard and the merged run", hint: "merge --into another folder")
        }
        let store = try RunStore(existing: folder)
        let manifest = try store.manifest()
        guard let shard = manifest.shard else {
            throw RunStoreError.invalid(path: store.manifestPath, reason: "shard: run \(manifest.runID) is not a shard (run.json has no shard entry)",
                                        hint: manifest.merge != nil ? "it is a merged run: name its shards instead" : "run the suite with --shard I/N to make shards")
        }
        // Episode ids name files and refs of the merged run: only ref-safe ids (as `run` makes them).
        if let bad = manifest.episodes.first(where: { id in
            id.id.isEmpty || id.id.hasPrefix(".") || !id.id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
        }) {
            throw RunStoreError.invalid(path: store.manifestPath, reason: "episodes: '\(bad.id)' is not an episode id driftbox makes",
                                        hint: "restore run.json from a copy, or run the shard again")
        }
        let damage = RunCheck.findings(store.folder).filter { !$0.repairable }
        if let first = damage.first {
            throw RunStoreError.invalid(path: first.location, reason: "shard \(shard.label) is damaged: \(first.problem)", hint: first.fix)
        }
        if let holder = RunLock.holder(of: store.folder) {
            notes.append("shard \(shard.label) (\(store.folder.path)) is being written by process \(holder.pid); merged what it had recorded")
        }
        if manifest.verdictSets.count > 1 {
            notes.append("shard \(shard.label) has verdict sets after events.jsonl (\(manifest.verdictSets.dropFirst().map(\.file).joined(separator: ", "))); the merged run carries the recorded verdicts only: rescore or judge the merged run")
        }
        return Input(store: store, manifest: manifest, shard: shard, lines: try logLines(store.eventsPath))
    }

    /// The complete lines of an event log with their events (a torn last line is left out).
    static func logLines(_ path: String) throws -> [(data: Data, event: RunEvent)] {
        let events = try EventLog.read(RunEvent.self, from: path)
        guard let data = FileManager.default.contents(atPath: path) else { throw RunStoreError.missing(path: path, what: "events.jsonl") }
        let lines = data.split(separator: 10, omittingEmptySubsequences: false).prefix(events.count).map { Data($0) }
        return Array(zip(lines, events)).map { (data: $0.0, event: $0.1) }
    }

    static func episode(of event: RunEvent) -> String { event.seed?.episode ?? event.step?.episode ?? event.end?.episode ?? "" }

    /// The manifest's episodes in suite order: scenarios as listed, then agents, then repetitions.
    static func suiteOrder(_ entries: [RunManifest.EpisodeEntry], of manifest: RunManifest) -> [RunManifest.EpisodeEntry] {
        let scenarios = Dictionary(manifest.scenarios.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        let agents = Dictionary(manifest.agents.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        return entries.sorted {
            (scenarios[$0.scenario] ?? .max, agents[$0.agent] ?? .max, $0.repetition, $0.id) < (scenarios[$1.scenario] ?? .max, agents[$1.agent] ?? .max, $1.repetition, $1.id)
        }
    }

    /// The fields two shards (or a shard and the merged run) must share; the first that differs
    /// is thrown, naming `folder` and the field.
    static func compare(_ manifest: RunManifest, _ folder: String, against other: RunManifest, _ otherName: String,
                        merged: RunManifest.MergeEntry? = nil) throws {
        var fields: [(String, String, String)] = [
            ("driftboxVersion", manifest.driftboxVersion, other.driftboxVersion),
            ("format", "\(manifest.format)", "\(other.format)"),
            ("suite.id", manifest.suite.id, other.suite.id),
            ("suite.sha256", manifest.suite.sha256, other.suite.sha256),
            ("suite.baseSeed", "\(manifest.suite.baseSeed)", "\(other.suite.baseSeed)"),
            ("suite.repetitions", "\(manifest.suite.repetitions)", "\(other.suite.repetitions)"),
            ("suite.steps", manifest.suite.steps.map(String.init) ?? "none", other.suite.steps.map(String.init) ?? "none"),
            ("suite.singleScenario", "\(manifest.suite.singleScenario)", "\(other.suite.singleScenario)"),
            ("scenarios", manifest.scenarios.map(\.id).joined(separator: ","), other.scenarios.map(\.id).joined(separator: ",")),
        ]
        for (mine, theirs) in zip(manifest.scenarios, other.scenarios) where mine.id == theirs.id {
            fields.append(("scenarios[\(mine.id)].sha256", mine.sha256, theirs.sha256))
            fields.append(("scenarios[\(mine.id)].fixtureCommit", mine.fixtureCommit, theirs.fixtureCommit))
        }
        fields += [
            ("agents", json(manifest.agents), json(other.agents)),
            ("sandbox.mode", manifest.sandbox.mode, other.sandbox.mode),
            ("sandbox.policy", manifest.sandbox.policy, other.sandbox.policy),
            ("stepTimeoutSeconds", "\(manifest.stepTimeoutSeconds)", "\(other.stepTimeoutSeconds)"),
            ("models.mode", manifest.models?.mode ?? "none", other.models?.mode ?? "none"),
            ("models.port", manifest.models.map { "\($0.port)" } ?? "none", other.models.map { "\($0.port)" } ?? "none"),
            ("snapshotIgnore", manifest.snapshotIgnore.map(json) ?? "none", other.snapshotIgnore.map(json) ?? "none"),
            ("agentDataFiles", manifest.agentDataFiles.map(json) ?? "none", other.agentDataFiles.map(json) ?? "none"),
        ]
        let shard = manifest.shard!
        if let merged {
            fields += [("shard.count", "\(shard.count)", "\(merged.count)"), ("shard.rule", shard.rule, merged.rule),
                       ("shard.suiteEpisodes", "\(shard.suiteEpisodes)", "\(merged.suiteEpisodes)")]
        } else if let theirs = other.shard {
            fields += [("shard.count", "\(shard.count)", "\(theirs.count)"), ("shard.rule", shard.rule, theirs.rule),
                       ("shard.suiteEpisodes", "\(shard.suiteEpisodes)", "\(theirs.suiteEpisodes)")]
        }
        if let (field, mine, theirs) = fields.first(where: { $0.1 != $0.2 }) {
            throw RunStoreError.invalid(path: folder, reason: "\(field) is \(mine) here and \(theirs) in \(otherName): not a shard of the same suite run",
                                        hint: "merge only shards of one `driftbox run SUITE --shard I/N` grid, with the same driftbox, suite, scenarios and settings")
        }
    }

    private static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// Opens the merged run under its lock, creating it (a pending merge with no episode) when missing.
    static func openTarget(_ target: URL, basis: Input) throws -> (RunStore, RunLock) {
        if FileManager.default.fileExists(atPath: target.path) {
            let store = try RunStore(existing: target)
            return (store, try RunLock(folder: store.folder))
        }
        RunStore.removeAbandonedAssembly(of: target)
        let staging = try RunStore.stage(target)
        var done = false
        defer { if !done { ScratchCleanup.remove(staging) } }
        let lock = try RunLock(folder: staging)
        var manifest = basis.manifest
        manifest.runID = target.lastPathComponent
        manifest.created = RunManifest.now()
        manifest.episodes = []
        manifest.shard = nil
        manifest.modelTotals = nil
        manifest.verdictSets = [.init(file: "events.jsonl", created: manifest.created, checks: nil)]
        manifest.merge = .init(count: basis.shard.count, rule: basis.shard.rule, suiteEpisodes: basis.shard.suiteEpisodes, shards: [], pending: true,
                               updated: manifest.created)
        let store = try RunStore(assembled: staging, into: target, manifest: manifest)
        done = true
        ScratchCleanup.forget(staging)
        return (store, lock)
    }

    /// Copies the shard's fixture objects and everything its log's commits reach, durably.
    static func copyObjects(_ input: Input, into destination: Repository) throws {
        let source = try Repository.open(at: input.store.repositoryPath)
        var tips: [ObjectID] = []
        for scenario in input.manifest.scenarios { if let commit = ObjectID(hex: scenario.fixtureCommit) { tips.append(commit) } }
        var last: [String: ObjectID] = [:]
        for line in input.lines {
            if let seed = line.event.seed { last[seed.episode] = seed.commit }
            if let step = line.event.step { last[step.episode] = step.commit }
        }
        tips += last.keys.sorted().map { last[$0]! }
        var seen: Set<ObjectID> = []
        for tip in tips where seen.insert(tip).inserted && (try? destination.commitInfo(tip)) == nil {
            try source.copyObjects(reachableFrom: tip, into: destination, durable: true)
        }
    }

    /// Copies the shard's transcripts and model exchanges (each file written aside and renamed).
    static func copyFiles(_ input: Input, into store: RunStore) throws {
        let manager = FileManager.default
        try makeFolder(store.transcriptsFolder)
        for entry in input.manifest.episodes {
            let from = input.store.transcriptPath(entry.id)
            guard let data = manager.contents(atPath: from) else { continue }
            try RunStore.writeAtomically(data, to: store.transcriptPath(entry.id))
        }
        guard let folder = input.manifest.models?.folder, !folder.contains("/"), !folder.hasPrefix(".") else { return }
        let models = input.store.folder.appendingPathComponent(folder), into = store.folder.appendingPathComponent(folder)
        let exchanges = models.appendingPathComponent("exchanges")
        let names = (try? manager.contentsOfDirectory(atPath: exchanges.path)) ?? []
        if !names.isEmpty { try makeFolder(into.appendingPathComponent("exchanges")) }
        for name in names.sorted() where name.hasSuffix(".json") && !name.hasPrefix(".") {
            let target = into.appendingPathComponent("exchanges/\(name)").path
            // Named by their content's hash: one already there is the same exchange.
            guard !manager.fileExists(atPath: target), let data = manager.contents(atPath: exchanges.appendingPathComponent(name).path) else { continue }
            try RunStore.writeAtomically(data, to: target)
        }
        for entry in input.manifest.episodes {
            let steps = models.appendingPathComponent("episodes/\(entry.id)")
            let files = (try? manager.contentsOfDirectory(atPath: steps.path)) ?? []
            guard !files.isEmpty else { continue }
            try makeFolder(into.appendingPathComponent("episodes/\(entry.id)"))
            for name in files.sorted() where name.hasSuffix(".txt") && !name.hasPrefix(".") {
                guard let data = manager.contents(atPath: steps.appendingPathComponent(name).path) else { continue }
                try RunStore.writeAtomically(data, to: into.appendingPathComponent("episodes/\(entry.id)/\(name)").path)
            }
        }
    }

    private static func makeFolder(_ url: URL) throws {
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
            throw RunStoreError.invalid(path: url.path, reason: "the folder cannot be created (\(error.localizedDescription))", hint: "check that the merged run's folder is writable")
        }
    }
}
