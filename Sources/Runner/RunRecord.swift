import Checks
import Foundation
import GitStore

/// Everything a run recorded, read back: manifest, seeds, steps with the newest verdicts, ends.
public struct RunRecord: Sendable {
    /// The run's folder.
    public var store: RunStore
    /// The manifest.
    public var manifest: RunManifest
    /// Every seed, in log order.
    public var seeds: [SeedRecord]
    /// Every step, in log order, with the verdicts of the newest verdict set.
    public var steps: [StepRecord]
    /// The end of every finished episode, by episode id.
    public var ends: [String: EpisodeEnd]
    /// The verdict set the steps carry (`events.jsonl` or `verdicts-N.jsonl`).
    public var verdictSet: String

    /// Reads a run folder.
    /// - Parameter folder: the run folder.
    /// - Throws: `RunStoreError` when a file is missing or corrupt, or a verdict set names a step
    ///   the log does not hold.
    public init(folder: URL) throws {
        store = try RunStore(existing: folder)
        manifest = try store.manifest()
        guard RunCheck.knownFormats.contains(manifest.format) else {
            throw RunStoreError.invalid(path: store.manifestPath, reason: "format \(manifest.format) is not one this driftbox reads",
                                        hint: "use the driftbox version that wrote it (\(manifest.driftboxVersion))")
        }
        let events = try store.events()
        seeds = events.compactMap(\.seed)
        steps = events.compactMap(\.step)
        ends = Dictionary(events.compactMap(\.end).map { ($0.episode, $0) }, uniquingKeysWith: { $1 })
        verdictSet = manifest.verdictSets.last?.file ?? "events.jsonl"
        if verdictSet != "events.jsonl" {
            let path = store.path(of: verdictSet)
            var newer: [String: VerdictRecord] = [:]
            for record in try EventLog.read(VerdictRecord.self, from: path) { newer["\(record.episode)#\(record.step)"] = record }
            for index in steps.indices {
                let key = "\(steps[index].episode)#\(steps[index].step)"
                guard let record = newer[key], record.commit == steps[index].commit else {
                    throw RunStoreError.invalid(path: path, reason: "no verdict for step \(steps[index].step) of episode \(steps[index].episode) (commit \(steps[index].commit))",
                                                hint: "run `driftbox rescore` again to write a complete verdict set")
                }
                steps[index].verdict = record.verdict
            }
        }
    }

    /// The recorded steps of one episode, in step order.
    public func steps(of episode: String) -> [StepRecord] { steps.filter { $0.episode == episode }.sorted { $0.step < $1.step } }

    /// The recorded seeds of one episode, in landing order.
    public func seeds(of episode: String) -> [SeedRecord] { seeds.filter { $0.episode == episode } }

    /// The episode's manifest entry, or an error naming the known ids.
    /// - Throws: `RunStoreError.invalid` when the run has no such episode.
    public func episode(_ id: String) throws -> RunManifest.EpisodeEntry {
        guard let entry = manifest.episode(id) else {
            let known = manifest.episodes.prefix(5).map(\.id).joined(separator: ", ")
            throw RunStoreError.invalid(path: store.folder.path, reason: "the run has no episode '\(id)'",
                                        hint: "use one of its episode ids (\(known)\(manifest.episodes.count > 5 ? ", …" : "")); `jq -r .episodes[].id run.json` lists them")
        }
        return entry
    }

    /// The condition of an episode's scenario (`regular`, `baseline`, ...).
    public func condition(of episode: String) -> String {
        manifest.episode(episode).flatMap { manifest.scenario($0.scenario) }?.condition ?? "?"
    }
}
