import Foundation
import GitStore

/// The integrity checks of a run folder: run before any write (`resume`, `rescore`) and by
/// `driftbox check`.
///
/// They compare the three records a run keeps against each other: `run.json` (what should
/// happen), `events.jsonl` (what happened) and `repo.git` (the commits). Damage that a crash can
/// leave is repairable and only reported (a torn last line of the log, a ref one step ahead of the
/// log, missing fixture objects); anything else stops a writer with the file, the line where
/// known, and what to do.
public enum RunCheck {
    /// One finding.
    public struct Finding: Sendable, Equatable, CustomStringConvertible {
        /// True when `resume` repairs it by itself.
        public var repairable: Bool
        /// The file concerned, with `:line` when known.
        public var location: String
        /// What is wrong.
        public var problem: String
        /// What to do.
        public var fix: String

        /// `location: problem; fix`.
        public var description: String { "\(location): \(problem); \(fix)" }
    }

    /// The formats of `run.json` this version reads.
    public static let knownFormats: Set<Int> = [1]

    private static let restart = "restore the file from a copy, or start the run again"

    /// Runs every check.
    /// - Parameters:
    ///   - folder: the run folder.
    ///   - deep: also read every commit reachable from the run's refs and every file of each
    ///     episode's last commit.
    /// - Returns: what was found, damage first; empty for a sound run folder.
    public static func findings(_ folder: URL, deep: Bool = false) -> [Finding] {
        var found: [Finding] = []
        func damage(_ location: String, _ problem: String, _ fix: String) { found.append(Finding(repairable: false, location: location, problem: problem, fix: fix)) }
        func repairable(_ location: String, _ problem: String, _ fix: String) { found.append(Finding(repairable: true, location: location, problem: problem, fix: fix)) }

        let store: RunStore
        do { store = try RunStore(existing: folder) } catch {
            damage(folder.standardizedFileURL.appendingPathComponent("run.json").path, "missing", "is this a run folder made by `driftbox run`? If it is, \(restart)")
            return found
        }
        let manifest: RunManifest
        do { manifest = try store.manifest() } catch {
            damage(store.manifestPath + ":1", "does not decode as a run manifest (\(error))", restart)
            return found
        }
        guard knownFormats.contains(manifest.format) else {
            damage(store.manifestPath, "format \(manifest.format) is not one this driftbox reads (\(knownFormats.sorted().map(String.init).joined(separator: ", ")))",
                   "use the driftbox version that wrote it (\(manifest.driftboxVersion))")
            return found
        }

        if manifest.merge?.pending == true {
            damage(store.manifestPath, "a merge into this run was interrupted (merge.pending is set): the log and refs may be half written",
                   "repeat the `driftbox merge SHARD… --into \(store.folder.path)` that was interrupted")
        }

        // The log: present, whole but for a torn last line, and agreeing with the manifest.
        var events: [RunEvent] = []
        if !FileManager.default.fileExists(atPath: store.eventsPath) {
            damage(store.eventsPath, "missing: the record of every step is gone", "restore events.jsonl from a copy, or start the run again; resuming would lose the recorded commits")
        } else {
            do {
                events = try EventLog.read(RunEvent.self, from: store.eventsPath)
                if let data = FileManager.default.contents(atPath: store.eventsPath), !data.isEmpty, data.last != UInt8(ascii: "\n") || events.count < data.filter({ $0 == 10 }).count {
                    repairable(store.eventsPath + ":\(events.count + 1)", "the last line is torn (a crash while it was written)", "`driftbox resume` cuts it off")
                }
            } catch let error as RunStoreError {
                if case let .corrupt(path, line, reason) = error {
                    damage("\(path):\(line)", "corrupt line (\(reason)); only a torn last line can come from a crash", restart)
                } else {
                    damage(store.eventsPath, "\(error)", restart)
                }
            } catch {
                damage(store.eventsPath, "\(error)", restart)
            }
        }
        var lastStep: [String: (step: Int, commit: ObjectID, line: Int)] = [:]
        var ends: [String: EpisodeEnd] = [:]
        var named: [(ObjectID, Int)] = []  // commits the log names, with their line
        for (index, event) in events.enumerated() {
            let line = index + 1
            let location = "\(store.eventsPath):\(line)"
            if let seed = event.seed {
                guard manifest.episode(seed.episode) != nil else { damage(location, "seed of episode '\(seed.episode)', which run.json does not list", restart); continue }
                named.append((seed.commit, line))
            } else if let step = event.step {
                guard let entry = manifest.episode(step.episode) else { damage(location, "step of episode '\(step.episode)', which run.json does not list", restart); continue }
                let previous = lastStep[step.episode]?.step ?? 0
                if step.step != previous + 1 || step.step > entry.steps {
                    damage(location, "step \(step.step) of \(step.episode) follows step \(previous) (the plan has \(entry.steps))", restart)
                }
                if ends[step.episode] != nil { damage(location, "step \(step.step) of \(step.episode) after its end", restart) }
                lastStep[step.episode] = (step.step, step.commit, line)
                named.append((step.commit, line))
                named.append((step.parent, line))
            } else if let end = event.end {
                guard manifest.episode(end.episode) != nil else { damage(location, "end of episode '\(end.episode)', which run.json does not list", restart); continue }
                if ends[end.episode] != nil { damage(location, "a second end of \(end.episode)", restart) }
                if end.steps != (lastStep[end.episode]?.step ?? 0) || end.tip != lastStep[end.episode]?.commit {
                    damage(location, "the end of \(end.episode) says \(end.steps) step(s), the log holds \(lastStep[end.episode]?.step ?? 0)", restart)
                }
                ends[end.episode] = end
            }
        }

        // The repository: it opens, its refs agree with the log, the log's commits are there.
        let repository: Repository
        do { repository = try Repository.open(at: store.repositoryPath) } catch {
            damage(store.repositoryPath, "the run repository does not open (\(error))", "restore repo.git from a copy, or start the run again")
            return found
        }
        for entry in manifest.episodes {
            let ref = RunStore.episodeRef(entry.id)
            let refLocation = "\(store.repositoryPath) \(ref)"
            let logged = lastStep[entry.id]
            let tip: ObjectID?
            do { tip = try repository.resolve(ref: ref) } catch {
                damage(refLocation, "unreadable (\(error))", "restore repo.git from a copy")
                continue
            }
            switch (tip, logged) {
            case (nil, nil):
                break
            case (nil, let logged?):
                damage(refLocation, "missing, while events.jsonl:\(logged.line) records step \(logged.step) at \(logged.commit)",
                       "put it back: `git --git-dir \(store.repositoryPath) update-ref \(ref) \(logged.commit)`")
            case (let tip?, let logged) where tip != logged?.commit:
                // A crash between moving the ref and logging the step leaves the ref one step ahead:
                // the tip is a step commit whose first-parent line reaches the logged commit (the
                // fixture commit before step 1) through seeds and the constraint only. Step commits
                // carry no trailers (the agent reads them); their fixed author tells them apart.
                let expected = (logged?.step ?? 0) + 1
                let base = logged?.commit ?? manifest.scenario(entry.scenario).flatMap { ObjectID(hex: $0.fixtureCommit) }
                let info = try? repository.commitInfo(tip)
                let steps = base.flatMap { Self.stepCommits(in: repository, from: tip, to: $0) }
                if info == nil {
                    damage(refLocation, "points at \(tip), which is not in the repository", "restore repo.git from a copy")
                } else if let steps, steps == 1, StepStamp.isStepAuthor(info!.author), ends[entry.id] == nil {
                    repairable(refLocation, "one step ahead of the log (step \(expected) was not logged before an interruption)", "`driftbox resume` runs that step again")
                } else if logged == nil {
                    damage(refLocation, "points at \(steps.map { "step \($0)" } ?? "a commit not descending from the fixture") of \(entry.id) but events.jsonl records no step of it: the log has lost lines",
                           "restore events.jsonl from a copy; resuming now would record the episode again over its commits")
                } else {
                    damage(refLocation, "points at \(steps.map { "\($0) step(s) past" } ?? "a commit not descending from") the step events.jsonl:\(logged!.line) records last (\(logged!.step)): the log and the repository disagree",
                           "restore events.jsonl and repo.git from one copy, or start the run again")
                }
            default:
                break
            }
        }
        var missing: [(ObjectID, Int)] = []
        var seen: Set<ObjectID> = []
        for (commit, line) in named where seen.insert(commit).inserted {
            if (try? repository.commitInfo(commit)) == nil { missing.append((commit, line)) }
        }
        if let (first, line) = missing.first {
            damage("\(store.repositoryPath) (named at events.jsonl:\(line))", "\(missing.count) recorded commit(s) are missing, first \(first)",
                   "restore repo.git from a copy; the recorded steps cannot be read without them")
        }
        for scenario in manifest.scenarios {
            guard let commit = ObjectID(hex: scenario.fixtureCommit) else {
                damage(store.manifestPath, "scenario \(scenario.id) has fixture commit '\(scenario.fixtureCommit)', not a commit id", restart)
                continue
            }
            if (try? repository.commitInfo(commit)) == nil {
                repairable("\(store.repositoryPath) \(RunStore.fixtureRef(scenario.fixture))", "the fixture commit \(commit) is missing",
                           "`driftbox resume` copies the fixture into the run repository again")
            }
        }

        // Verdict sets: every file named in run.json is there and covers every step.
        for set in manifest.verdictSets where set.file != "events.jsonl" {
            let path = store.path(of: set.file)
            guard set.file.hasPrefix("verdicts-"), !set.file.contains("/") else {
                damage(store.manifestPath, "verdict set file '\(set.file)' is not a verdicts-N.jsonl name", restart)
                continue
            }
            do {
                let records = try EventLog.read(VerdictRecord.self, from: path)
                let keys = Set(records.map { "\($0.episode)#\($0.step)#\($0.commit)" })
                let steps = events.compactMap(\.step)
                if let step = steps.first(where: { !keys.contains("\($0.episode)#\($0.step)#\($0.commit)") }) {
                    damage(path, "no verdict for step \(step.step) of \(step.episode)", "run `driftbox rescore` again to write a complete set")
                }
            } catch {
                damage(path, "unreadable verdict set (\(error))", "restore it from a copy, or run `driftbox rescore` again")
            }
        }

        if deep {
            var refs = manifest.episodes.map { RunStore.episodeRef($0.id) }
            refs += Set(manifest.scenarios.map(\.fixture)).sorted().map(RunStore.fixtureRef)
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("driftbox-check-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: scratch) }
            for ref in refs {
                guard let tip = try? repository.resolve(ref: ref) else { continue }
                do {
                    _ = try repository.log(from: tip)
                    try repository.checkout(tip, into: scratch.appendingPathComponent(ref.replacingOccurrences(of: "/", with: "_")).path)
                } catch {
                    damage("\(store.repositoryPath) \(ref)", "an object reachable from it cannot be read (\(error))", "restore repo.git from a copy")
                }
            }
        }
        return found.filter { !$0.repairable } + found.filter(\.repairable)
    }

    /// The number of step commits on the first-parent line from `tip` (included) down to `base`
    /// (excluded); nil when `base` is not reached within `limit` commits or a commit is unreadable.
    static func stepCommits(in repository: Repository, from tip: ObjectID, to base: ObjectID, limit: Int = 100_000) -> Int? {
        var current = tip, count = 0
        for _ in 0..<limit {
            if current == base { return count }
            guard let info = try? repository.commitInfo(current), let parent = info.parents.first else { return nil }
            if StepStamp.isStepAuthor(info.author) { count += 1 }
            current = parent
        }
        return nil
    }

    /// The checks a writer runs before it writes anything: throws the damage found.
    /// - Throws: `RunStoreError.invalid` naming every damaged file and what to do.
    static func beforeWrite(_ store: RunStore) throws {
        let damage = findings(store.folder).filter { !$0.repairable }
        guard let first = damage.first else { return }
        let more = damage.dropFirst().map(\.description)
        throw RunStoreError.invalid(path: first.location, reason: first.problem + (more.isEmpty ? "" : " (and: \(more.joined(separator: "; ")))"),
                                    hint: first.fix + "; `driftbox check \(store.folder.path)` lists every problem")
    }
}
