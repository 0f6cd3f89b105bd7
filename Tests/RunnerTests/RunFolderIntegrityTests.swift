import Foundation
import Runner
import Scenarios
import Testing

/// What a run folder keeps and refuses: verdict sets, recorded settings, secrets, damage.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct RunFolderIntegrityTests {
    @Test func rescoreWithOtherChecksKeepsTheScenarioChecksAndEachSetDescribesItself() async throws {
        let experiment = try SmallExperiment(repetitions: 1)
        defer { experiment.remove() }
        let outcome = try await Runner.start(try experiment.definition, runsFolder: experiment.folder.appendingPathComponent("runs"), runID: "sets",
                                             options: testOptions, makeAgent: Runner.standardAgents)
        let original = try RunRecord(folder: outcome.folder)
        let checks = experiment.folder.appendingPathComponent("checks.yaml")
        try "- id: never\n  kind: forbid\n  pattern: 'no_such_call\\('\n".write(to: checks, atomically: true, encoding: .utf8)
        _ = try Rescore.run(outcome.folder, checksFile: checks)
        let afterChecks = try RunStore(existing: outcome.folder).manifest()
        #expect(afterChecks.scenarios == original.manifest.scenarios)  // the scenario section is never rewritten
        let set = try #require(afterChecks.verdictSets.last)
        #expect(set.checks == checks.standardizedFileURL.path)
        #expect(set.detectors?.keys.sorted() == original.manifest.scenarios.map(\.id).sorted())
        #expect(set.detectors?.values.allSatisfy { $0.map(\.id) == ["never"] } == true)
        #expect(set.detectorsSHA256?.count == 64)
        #expect(set.command != nil)
        // A later plain rescore uses the scenarios' own checks: the original verdicts again.
        let plain = try Rescore.run(outcome.folder)
        let record = try RunRecord(folder: outcome.folder)
        #expect(plain.file == "verdicts-3.jsonl")
        #expect(record.steps.map(\.verdict) == original.steps.map(\.verdict))
        let last = try #require(record.manifest.verdictSets.last)
        #expect(last.checks == nil)
        #expect(last.detectors == Dictionary(uniqueKeysWithValues: original.manifest.scenarios.map { ($0.id, $0.checks) }))
        #expect(last.detectorsSHA256 != set.detectorsSHA256)
        // No temporary manifest is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: outcome.folder.path).filter { $0.contains(".tmp") }.isEmpty)
    }

    @Test func resumeUsesTheRecordedSettingsAndRefusesOthersNamingTheRecordedOne() async throws {
        let experiment = try SmallExperiment(repetitions: 1, steps: 2)
        defer { experiment.remove() }
        var options = testOptions
        options.stepTimeout = .seconds(17)
        let outcome = try await Runner.start(try experiment.definition, runsFolder: experiment.folder.appendingPathComponent("runs"), runID: "settings",
                                             options: options, makeAgent: Runner.standardAgents)
        let before = try Data(contentsOf: outcome.folder.appendingPathComponent("run.json"))
        let timeout = await #expect(throws: RunStoreError.self) {
            try await Runner.resume(outcome.folder, options: testOptions, requested: ResumeRequest(stepTimeout: .seconds(30)), makeAgent: Runner.standardAgents)
        }
        #expect(timeout?.description.contains("recorded with --step-timeout 17, not 30") == true)
        let policy = await #expect(throws: RunStoreError.self) {
            try await Runner.resume(outcome.folder, options: testOptions, requested: ResumeRequest(policy: "network"), makeAgent: Runner.standardAgents)
        }
        #expect(policy?.description.contains("recorded with --policy default, not network") == true)
        // The same values as recorded are accepted.
        let same = try await Runner.resume(outcome.folder, options: testOptions, requested: ResumeRequest(stepTimeout: .seconds(17), policy: "default"),
                                           makeAgent: Runner.standardAgents)
        #expect(same.episodesRun == 0)
        #expect(try Data(contentsOf: outcome.folder.appendingPathComponent("run.json")) == before)
    }

    @Test func secretAgentSettingsAreNowhereInTheRunFolder() async throws {
        let experiment = try SmallExperiment(repetitions: 1, steps: 2)
        defer { experiment.remove() }
        let key = "sk-test-\(UUID().uuidString)"
        let passed = "passed-\(UUID().uuidString)"
        let plain = "plain-value-\(UUID().uuidString)"
        var suite = try String(contentsOf: experiment.suiteFile, encoding: .utf8)
        suite += "\n    env: PASSED_THROUGH\n    env.OPENAI_API_KEY: \(key)\n    env.PASSED_THROUGH: \(passed)\n    env.LOG_LEVEL: \(plain)\n"
        try suite.write(to: experiment.suiteFile, atomically: true, encoding: .utf8)
        let outcome = try await Runner.start(try experiment.definition, runsFolder: experiment.folder.appendingPathComponent("runs"), runID: "secrets",
                                             options: testOptions, makeAgent: Runner.standardAgents)
        var found: [String] = []
        var plainSeen = false
        let walker = FileManager.default.enumerator(at: outcome.folder, includingPropertiesForKeys: nil)!
        while let file = walker.nextObject() as? URL {
            guard let data = try? Data(contentsOf: file) else { continue }
            for secret in [key, passed] where data.range(of: Data(secret.utf8)) != nil { found.append("\(file.lastPathComponent): \(secret)") }
            if data.range(of: Data(plain.utf8)) != nil { plainSeen = true }
        }
        #expect(found.isEmpty, "\(found)")
        #expect(plainSeen)  // a setting that is not secret is recorded as it is
        let agent = try #require(try RunStore(existing: outcome.folder).manifest().agents.first)
        #expect(agent.settings["env.OPENAI_API_KEY"] == Secrets.placeholder && agent.settings["env.PASSED_THROUGH"] == Secrets.placeholder)
        // A resume gets the real values back from the suite file.
        let resumed = try await Runner.resume(outcome.folder, options: testOptions, makeAgent: { spec, base in
            #expect(spec.settings["env.OPENAI_API_KEY"] == key)
            return try Runner.standardAgents(spec, base)
        })
        #expect(resumed.episodesRun == 0)
    }

    /// Damage a run folder can suffer, and what each must do: no command crashes, the writers
    /// refuse, and every error names the damaged file and what to do.
    enum Damage: String, CaseIterable, Sendable {
        case logDeleted, logEmptied, logTornInTheMiddle, manifestEpisodeRemoved, manifestFormatUnknown, manifestNotJSON, refsMissing, packTruncated, verdictSetDeleted
    }

    @Test(arguments: Damage.allCases)
    func damagedRunFolders(_ damage: Damage) throws {
        let experiment = try SmallExperiment(repetitions: 1, steps: 3)
        defer { experiment.remove() }
        let runs = experiment.folder.appendingPathComponent("runs")
        let common = ["-j", "2", "--progress", "quiet"]
        #expect(try DriftboxProcess.run(["run", experiment.suiteFile.path, "--run-id", "damaged", "--out", runs.path] + common).status == 2)
        let folder = runs.appendingPathComponent("damaged")
        if damage == .verdictSetDeleted { #expect(try DriftboxProcess.run(["rescore", folder.path]).status == 0) }
        let log = folder.appendingPathComponent("events.jsonl")
        let manifest = folder.appendingPathComponent("run.json")
        let repository = folder.appendingPathComponent("repo.git")
        let refsBefore = try refs(repository)
        let file: String  // the file every error must name
        switch damage {
        case .logDeleted:
            try FileManager.default.removeItem(at: log)
            file = "events.jsonl"
        case .logEmptied:
            try Data().write(to: log)
            file = "refs/episodes/"
        case .logTornInTheMiddle:
            var lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            lines[3] = lines[3].prefix(lines[3].count / 2)
            try lines.joined(separator: "\n").write(to: log, atomically: false, encoding: .utf8)
            file = "events.jsonl:4"
        case .manifestEpisodeRemoved:
            var json = try JSONSerialization.jsonObject(with: Data(contentsOf: manifest)) as! [String: Any]
            json["episodes"] = Array((json["episodes"] as! [Any]).dropFirst())
            try JSONSerialization.data(withJSONObject: json).write(to: manifest)
            file = "events.jsonl:"
        case .manifestFormatUnknown:
            var json = try JSONSerialization.jsonObject(with: Data(contentsOf: manifest)) as! [String: Any]
            json["format"] = 99
            try JSONSerialization.data(withJSONObject: json).write(to: manifest)
            file = "run.json"
        case .manifestNotJSON:
            try Data("{\"format\": 1, ".utf8).write(to: manifest)
            file = "run.json"
        case .refsMissing:
            try FileManager.default.removeItem(at: repository.appendingPathComponent("refs/episodes"))
            try? FileManager.default.removeItem(at: repository.appendingPathComponent("packed-refs"))
            file = "refs/episodes/"
        case .packTruncated:
            let packs = repository.appendingPathComponent("objects/pack")
            for name in try FileManager.default.contentsOfDirectory(atPath: packs.path) where name.hasSuffix(".pack") {
                // Packs are read-only (0444): a runner that is not root must make it writable first.
                chmod(packs.appendingPathComponent(name).path, 0o644)
                let handle = try FileHandle(forUpdating: packs.appendingPathComponent(name))
                try handle.truncate(atOffset: 64)
                try handle.close()
            }
            file = "repo.git"
        case .verdictSetDeleted:
            try FileManager.default.removeItem(at: folder.appendingPathComponent("verdicts-2.jsonl"))
            file = "verdicts-2.jsonl"
        }
        let snapshot = try folderDigest(folder)
        for command in [["check", folder.path], ["resume", folder.path] + common, ["rescore", folder.path], ["report", folder.path]] {
            let result = try DriftboxProcess.run(command)
            #expect(!result.signaled, "\(damage) \(command[0]) crashed: \(result)")
            let mustRefuse = command[0] != "report" || [.logDeleted, .logTornInTheMiddle, .manifestFormatUnknown, .manifestNotJSON, .verdictSetDeleted].contains(damage)
            if mustRefuse {
                #expect(result.status == 1, "\(damage) \(command[0]): \(result)")
            }
            if result.status != 0 {
                let said = command[0] == "check" ? try checkOutput(folder) : result.err
                #expect(said.contains(file), "\(damage) \(command[0]) does not name \(file): \(said)")
                #expect(["restore", "start the run again", "rescore", "use the driftbox version", "update-ref", "resume"].contains { said.contains($0) },
                        "\(damage) \(command[0]) does not say what to do: \(said)")
            }
        }
        // The refused writers changed nothing: no ref moved, no file written.
        #expect(try refs(repository) == refsBefore || damage == .refsMissing || damage == .packTruncated)
        #expect(try folderDigest(folder) == snapshot, "\(damage): a refused command changed the run folder")
    }

    /// The check command's report (it prints findings on standard output).
    private func checkOutput(_ folder: URL) throws -> String {
        RunCheck.findings(folder).map(\.description).joined(separator: "\n")
    }

    private func refs(_ repository: URL) throws -> [String: String] {
        var result: [String: String] = [:]
        let root = repository.appendingPathComponent("refs")
        let walker = FileManager.default.enumerator(atPath: root.path)
        while let relative = walker?.nextObject() as? String {
            if let data = FileManager.default.contents(atPath: root.appendingPathComponent(relative).path) { result[relative] = String(decoding: data, as: UTF8.self) }
        }
        if let packed = FileManager.default.contents(atPath: repository.appendingPathComponent("packed-refs").path) { result["packed-refs"] = String(decoding: packed, as: UTF8.self) }
        return result
    }

    /// Every file's path and content digest, except the lock file (holder records change).
    private func folderDigest(_ folder: URL) throws -> [String: String] {
        var result: [String: String] = [:]
        let walker = FileManager.default.enumerator(atPath: folder.path)
        while let relative = walker?.nextObject() as? String {
            if relative == RunLock.fileName { continue }
            let path = folder.appendingPathComponent(relative).path
            var directory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &directory), !directory.boolValue {
                result[relative] = ContentHash.sha256(FileManager.default.contents(atPath: path) ?? Data())
            }
        }
        return result
    }
}

/// `driftbox check` and `driftbox resume` options through the executable.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct CheckCommandTests {
    @Test func checkPassesASoundRunAndNamesDamageAndResumeRefusesAnotherStepTimeout() throws {
        let experiment = try SmallExperiment(repetitions: 1, steps: 2)
        defer { experiment.remove() }
        let runs = experiment.folder.appendingPathComponent("runs")
        #expect(try DriftboxProcess.run(["run", experiment.suiteFile.path, "--run-id", "checked", "--out", runs.path, "--step-timeout", "40", "--progress", "quiet"]).status == 2)
        let folder = runs.appendingPathComponent("checked")
        for arguments in [["check", folder.path], ["check", folder.path, "--deep"]] {
            let sound = try DriftboxProcess.run(arguments)
            #expect(sound.status == 0 && sound.err.isEmpty, "\(sound)")
        }
        // Given explicitly, another step timeout is refused naming the recorded one; the same is accepted.
        let other = try DriftboxProcess.run(["resume", folder.path, "--step-timeout", "600"])
        #expect(other.status == 1 && other.err.contains("recorded with --step-timeout 40, not 600"), "\(other)")
        #expect(try DriftboxProcess.run(["resume", folder.path, "--step-timeout", "40", "--progress", "quiet"]).status == 2)
        // A pack cut in half: `check --deep` reports the damage and exits 1.
        let repository = folder.appendingPathComponent("repo.git")
        let packs = repository.appendingPathComponent("objects/pack")
        let pack = try #require(try FileManager.default.contentsOfDirectory(atPath: packs.path).first { $0.hasSuffix(".pack") })
        chmod(packs.appendingPathComponent(pack).path, 0o644)  // read-only (0444), also for a runner that is not root
        let handle = try FileHandle(forUpdating: packs.appendingPathComponent(pack))
        let size = try handle.seekToEnd()
        try handle.truncate(atOffset: size / 2)
        try handle.close()
        let damaged = try DriftboxProcess.run(["check", folder.path, "--deep"])
        #expect(damaged.status == 1 && !damaged.signaled && damaged.err.contains("need a repair"), "\(damaged)")
    }
}

/// An interruption between an agent's failed step and its episode's `end` line.
@Suite(.timeLimit(.minutes(3)))
struct FailedStepResumeTests {
    @Test func anEpisodeWhoseAgentFailedEndsOnResumeInsteadOfGoingOn() async throws {
        let experiment = try SmallExperiment(repetitions: 2, steps: 4)
        defer { experiment.remove() }
        let runs = experiment.folder.appendingPathComponent("runs")
        var one = testOptions
        one.jobs = 1
        let reference = try await Runner.start(try experiment.definition, runsFolder: runs, runID: "reference", options: one, makeAgent: Runner.standardAgents)
        let expected = RecordFingerprint(try RunRecord(folder: reference.folder))
        // The same run, cut right after the failed step's line (as a kill there leaves it).
        let cut = runs.appendingPathComponent("cut")
        try copyRun(reference.folder, to: cut)
        let log = cut.appendingPathComponent("events.jsonl")
        let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
        let failed = try #require(lines.lastIndex { $0.contains("\"type\":\"step\"") && $0.contains("\"outcome\":\"failed\"") })
        // One job: what follows that line is that episode's end alone, so the cut is what a kill leaves.
        try #require(lines.count == failed + 2 && lines[failed + 1].contains("\"type\":\"end\""))
        try (lines[...failed].joined(separator: "\n") + "\n").write(to: log, atomically: true, encoding: .utf8)
        let outcome = try await Runner.resume(cut, options: one, makeAgent: Runner.standardAgents)
        let record = try RunRecord(folder: cut)
        #expect(RecordFingerprint(record) == expected)
        let failedStep = try #require(record.steps.first { $0.outcome == "failed" })
        #expect(record.ends[failedStep.episode]?.status == .failed && record.ends[failedStep.episode]?.steps == failedStep.step)
        // The failed episode did not run again: its transcript ends at the failed step.
        let transcript = try EventLog.read(TranscriptEntry.self, from: record.store.transcriptPath(failedStep.episode))
        #expect(transcript.map(\.step) == Array(1...failedStep.step))
        #expect(outcome.episodesRun < record.manifest.episodes.count)
    }
}
