import Checks
import Foundation
import GitStore
import Yams

/// Recomputing a run's verdicts from its recorded commits, without any agent.
public enum Rescore {
    /// What a rescoring wrote.
    public struct Result: Sendable {
        /// The new verdict set's file name (`verdicts-N.jsonl`).
        public var file: String
        /// Steps rescored.
        public var steps: Int
        /// Steps whose verdict kind changed against the set before.
        public var changed: Int
    }

    /// Rescores every recorded step and writes the verdicts as a new verdict set, noted in the manifest.
    /// - Parameters:
    ///   - folder: the run folder.
    ///   - checksFile: a YAML or JSON file of detectors: a list (for every scenario) or a mapping
    ///     from scenario id to a list; nil uses the checks recorded in the manifest.
    /// - Returns: the new set's file and counts.
    /// - Throws: `RunStoreError` for unreadable run files or checks, `ChecksError` for invalid
    ///   detectors, `GitError` when a recorded commit is missing.
    public static func run(_ folder: URL, checksFile: URL? = nil) throws -> Result {
        let store = try RunStore(existing: folder)
        let lock = try RunLock(folder: store.folder)  // held until this function returns
        defer { withExtendedLifetime(lock) {} }
        try RunCheck.beforeWrite(store)
        let before = try RunRecord(folder: folder)
        var manifest = before.manifest
        let unfinished = manifest.episodes.filter { before.ends[$0.id] == nil }
        guard unfinished.isEmpty else {
            throw RunStoreError.invalid(path: before.store.folder.path, reason: "\(unfinished.count) episode(s) have not finished (for example \(unfinished[0].id))",
                                        hint: "finish the run with `driftbox resume` first, so every step gets a verdict in the new set")
        }
        let specs = try checksFile.map { try loadChecks($0, scenarios: manifest.scenarios.map(\.id)) }
        var detectors: [String: DetectorSet] = [:]
        for scenario in manifest.scenarios {
            detectors[scenario.id] = try DetectorSet(specs?[scenario.id] ?? scenario.checks)
        }
        let repository = try Repository.open(at: before.store.repositoryPath)
        let file = "verdicts-\(manifest.verdictSets.count + 1).jsonl"
        let path = before.store.path(of: file)
        try? FileManager.default.removeItem(atPath: path)  // a set left by an interrupted rescoring is not in the manifest (the lock is held)
        let log = try EventLog(path: path)
        var changed = 0
        for step in before.steps {
            guard let scenario = manifest.episode(step.episode)?.scenario, let detectorSet = detectors[scenario] else {
                throw RunStoreError.invalid(path: before.store.manifestPath, reason: "the event log records episode '\(step.episode)', which run.json does not list (or lists with an unknown scenario)",
                                            hint: "restore run.json as the run wrote it")
            }
            let verdict = try StepCheck.verdict(in: repository, parent: step.parent, commit: step.commit, targets: step.targets, detectors: detectorSet,
                                                skipped: step.skipped)
            if verdict.kind != step.verdict.kind { changed += 1 }
            try log.append(VerdictRecord(episode: step.episode, step: step.step, commit: step.commit, verdict: verdict))
        }
        // The set describes itself: the detectors it used, their digest, when and by what command it
        // was made. The scenarios' own checks stay as the run recorded them.
        let used = Dictionary(uniqueKeysWithValues: manifest.scenarios.map { ($0.id, specs?[$0.id] ?? $0.checks) })
        manifest.verdictSets.append(.init(file: file, created: RunManifest.now(), checks: checksFile?.standardizedFileURL.path,
                                          detectors: used, detectorsSHA256: digest(of: used), command: RunLock.commandLine))
        try before.store.write(manifest)
        return Result(file: file, steps: before.steps.count, changed: changed)
    }

    /// SHA-256 of detectors by scenario, encoded as JSON with sorted keys.
    static func digest(of detectors: [String: [DetectorSpec]]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return ContentHash.sha256((try? encoder.encode(detectors)) ?? Data())
    }

    /// Reads a checks file: a list of detectors, or scenario id → list.
    static func loadChecks(_ file: URL, scenarios: [String]) throws -> [String: [DetectorSpec]] {
        guard let data = FileManager.default.contents(atPath: file.path) else { throw RunStoreError.missing(path: file.path, what: "checks file") }
        let text = String(decoding: data, as: UTF8.self)
        if let list = try? YAMLDecoder().decode([DetectorSpec].self, from: text) {
            return Dictionary(uniqueKeysWithValues: scenarios.map { ($0, list) })
        }
        do {
            let map = try YAMLDecoder().decode([String: [DetectorSpec]].self, from: text)
            if let unknown = map.keys.first(where: { !scenarios.contains($0) }) {
                throw RunStoreError.invalid(path: file.path, reason: "scenario '\(unknown)' is not in the run", hint: "use the run's scenario ids: \(scenarios.joined(separator: ", "))")
            }
            return map
        } catch let error as RunStoreError { throw error } catch {
            throw RunStoreError.invalid(path: file.path, reason: "not a list of detectors nor a mapping from scenario id to detectors (\(error))",
                                        hint: "write `- id: ..., kind: forbid|require, pattern: ...` entries as in a scenario's checks")
        }
    }
}
