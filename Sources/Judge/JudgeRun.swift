import Checks
import Foundation
import Gateway
import GitStore
import Runner

/// Which steps of a run the judge decides.
public enum JudgeSteps: String, Sendable, CaseIterable, Codable {
    /// The steps the detectors flagged (the paper's judge).
    case violations
    /// Every recorded step.
    case all
    /// The steps the detectors left unscoreable: the judge decides them (a judge as a detector).
    case unscoreable

    func selects(_ verdict: Verdict) -> Bool {
        switch self {
        case .violations: return verdict.kind == .violation
        case .all: return true
        case .unscoreable: return verdict.kind == .unscoreable
        }
    }
}

/// One judged sample: the parsed answer and where its exchange is recorded.
public struct JudgedSample: Sendable, Hashable, Codable {
    /// The label (AMBIGUOUS when the answer did not parse).
    public var label: JudgeLabel
    /// The judge's reasoning.
    public var reasoning: String?
    /// Whether the answer parsed.
    public var parsed: Bool
    /// The raw answer, kept when it did not parse.
    public var raw: String?
}

/// The judge's result for one case: the majority of its samples.
public struct CaseResult: Sendable, Hashable, Codable {
    /// The episode (or calibration case id).
    public var episode: String
    /// The step.
    public var step: Int
    /// The step's commit (nil for calibration cases).
    public var commit: ObjectID?
    /// The majority label.
    public var label: JudgeLabel
    /// The share of samples that gave it.
    public var agreement: Double
    /// The reasoning of the first sample that gave the majority label.
    public var reasoning: String?
    /// Every sample.
    public var samples: [JudgedSample]
}

/// One line of a judge verdict set: the verdict set's usual fields, and the judge's label for the
/// steps it judged.
public struct JudgeVerdictLine: Sendable, Codable {
    public var episode: String
    public var step: Int
    public var commit: ObjectID
    public var verdict: Verdict
    /// The judge's majority label; absent for steps the judge did not decide.
    public var label: JudgeLabel?
    /// The share of samples that gave `label`.
    public var agreement: Double?
    /// The judge's reasoning.
    public var reasoning: String?
    /// Every sample's label, reasoning, and raw text when it did not parse.
    public var samples: [JudgedSample]?
}

/// One line of the judge's progress file: its settings first, then one line per judged case.
struct ProgressLine: Codable {
    var settings: JudgeSetInfo?
    var result: CaseResult?
}

/// Judges a run's steps and writes a new verdict set.
public enum JudgeRun {
    /// What a judge run did.
    public struct Outcome: Sendable {
        /// The new verdict set's file.
        public var file: String
        /// Cases judged now.
        public var judged: Int
        /// Cases taken from an interrupted earlier judge run of the same judge.
        public var resumed: Int
        /// Majority labels by label.
        public var labels: [JudgeLabel: Int]
        /// Cases whose samples did not all agree.
        public var split: Int
        /// Answers that did not parse.
        public var unparsed: Int
        /// Exchanges that went to the model, their cost, and answers served from the recording.
        public var totals: UpstreamTally
    }

    /// The folder of the judge's files inside the run folder.
    public static let folder = "judge"
    /// The recording's folder inside `judge/`.
    public static let recordingFolder = "judge/exchanges"

    /// The gateway episode name of a sample: the run's episode, the step and the sample number, so
    /// that every conversation has its own token and recording, whatever runs at the same time.
    static func gatewayEpisode(_ episode: String, step: Int, sample: Int) -> String { "\(episode).step-\(step).sample-\(sample)" }

    /// Judges the run's selected steps and writes `verdicts-N.jsonl` under the run lock.
    ///
    /// Each judged case is appended (and `fsync`ed) to `judge/verdicts-N.progress.jsonl` as soon as
    /// its samples are in, after its exchanges are synced; a judge run that was stopped is resumed by
    /// running it again with the same judge: the cases in that file are not judged again.
    /// - Parameters:
    ///   - folder: the run folder.
    ///   - model: the judge model and settings.
    ///   - template: the prompt template.
    ///   - steps: which steps.
    ///   - samples: samples per case (at least 1).
    ///   - mode: the gateway's models mode.
    ///   - prices: a price table for the cost.
    ///   - jobs: cases judged at once (each case's samples one after another).
    ///   - scenarios: judge only the steps of these scenarios (empty: every scenario).
    ///   - progress: called after each case with (done, total).
    public static func run(_ folder: URL, model: JudgeModel, template: JudgeTemplate, steps: JudgeSteps, samples: Int, mode: ModelsMode,
                           prices: PriceTable?, jobs: Int = 1, scenarios: [String] = [],
                           progress: @Sendable (Int, Int) -> Void = { _, _ in }) async throws -> Outcome {
        let store = try RunStore(existing: folder)
        let lock = try RunLock(folder: store.folder)
        defer { withExtendedLifetime(lock) {} }
        try RunCheck.beforeWritingVerdicts(store)
        let record = try RunRecord(folder: store.folder)
        let unfinished = record.manifest.episodes.filter { record.ends[$0.id] == nil }
        guard unfinished.isEmpty else {
            throw JudgeError("\(unfinished.count) episode(s) of the run have not finished (for example \(unfinished[0].id))",
                             hint: "finish the run with `driftbox resume` first, so every step has a verdict in the new set")
        }
        if let unknown = scenarios.first(where: { id in !record.manifest.scenarios.contains { $0.id == id } }) {
            throw JudgeError("the run has no scenario '\(unknown)'", hint: "use one of: \(record.manifest.scenarios.map(\.id).joined(separator: ", "))")
        }
        let chosen = Set(scenarios)
        let inScope = { (step: StepRecord) in chosen.isEmpty || chosen.contains(record.manifest.episode(step.episode)?.scenario ?? "") }
        // Scenarios that ask the judge to decide what their checks leave unscoreable have those
        // steps judged and decided whatever `steps` says.
        let asking = Set(record.manifest.scenarios.filter { $0.judge == "unscoreable" }.map(\.id))
        let decides = { (step: StepRecord) in
            step.verdict.kind == .unscoreable && (steps == .unscoreable || asking.contains(record.manifest.episode(step.episode)?.scenario ?? ""))
        }
        let selects = { (step: StepRecord) in (steps.selects(step.verdict) || decides(step)) && inScope(step) }
        let selected = record.steps.filter(selects)
        guard !selected.isEmpty else {
            throw JudgeError("the verdict set in force (\(record.verdictSet)) has no \(steps == .all ? "step" : steps == .violations ? "violation" : "unscoreable step") to judge",
                             hint: steps == .all ? "run the suite first" : "judge other steps with --steps all (or \(steps == .violations ? "unscoreable" : "violations"))")
        }
        var manifest = record.manifest
        let number = manifest.verdictSets.count + 1
        let file = "verdicts-\(number).jsonl"
        let judgeFolder = store.folder.appendingPathComponent(Self.folder)
        try FileManager.default.createDirectory(at: judgeFolder, withIntermediateDirectories: true)
        let settings = JudgeSetInfo(model: model.model, upstream: model.upstream, modelProtocol: model.modelProtocol, keyEnv: model.keyVariable,
                                    temperature: model.temperature, maxTokens: model.maxTokens, template: template.name,
                                    templateSHA256: template.sha256, samples: samples, steps: steps.rawValue,
                                    scenarios: scenarios.isEmpty ? nil : scenarios.sorted(), basis: record.verdictSet,
                                    recording: recordingFolder)

        // Cases judged by an interrupted run of the same judge (its set never reached run.json).
        let progressPath = judgeFolder.appendingPathComponent("verdicts-\(number).progress.jsonl").path
        var done: [String: CaseResult] = [:]
        if FileManager.default.fileExists(atPath: progressPath) {
            let lines = (try? EventLog.read(ProgressLine.self, from: progressPath)) ?? []
            if let earlier = lines.first?.settings, earlier.sameJudge(as: settings) {
                for line in lines.dropFirst() {
                    if let result = line.result { done["\(result.episode)\u{0}\(result.step)"] = result }
                }
            } else {
                try FileManager.default.removeItem(atPath: progressPath)
            }
        }
        let progressLog = try EventLog(path: progressPath)
        if progressLog.openReport.lines == 0 { try progressLog.append(ProgressLine(settings: settings)) }

        let resumed = selected.filter { done["\($0.episode)\u{0}\($0.step)"]?.commit == $0.commit }.count
        var builder = try CaseBuilder(record: record)
        let client = try await JudgeClient(model: model, recording: store.folder.appendingPathComponent(recordingFolder), mode: mode, prices: prices,
                                           maxConcurrent: jobs)
        // Cases are built here (the builder reads the run), judged up to `jobs` at a time, and each
        // result is appended to the progress file as it arrives.
        var pending: [(key: String, step: StepRecord)] = selected.compactMap { step in
            let key = "\(step.episode)\u{0}\(step.step)"
            return done[key]?.commit == step.commit ? nil : (key, step)
        }
        pending.reverse()
        var judged = 0
        do {
            try await withThrowingTaskGroup(of: (String, CaseResult).self) { group in
                var running = 0
                while !pending.isEmpty || running > 0 {
                    while running < max(1, jobs), let next = pending.popLast() {
                        let item = try builder.build(next.step)
                        let step = next.step
                        group.addTask {
                            var result = try await judge(item, client: client, template: template, samples: samples, episode: step.episode, step: step.step)
                            result.commit = step.commit
                            return (next.key, result)
                        }
                        running += 1
                    }
                    guard let (key, result) = try await group.next() else { break }
                    running -= 1
                    try progressLog.append(ProgressLine(result: result))
                    done[key] = result
                    judged += 1
                    progress(resumed + judged, selected.count)
                }
            }
        } catch {
            await client.shutdown()
            throw error
        }
        let totals = client.upstream
        await client.shutdown()

        // The new set: every step, its verdict copied from the set judged (decided by the judge for
        // unscoreable steps it judged), with the label where it judged.
        let path = store.path(of: file)
        try? FileManager.default.removeItem(atPath: path)  // a set left by an interrupted judge run is not in the manifest (the lock is held)
        let log = try EventLog(path: path)
        var counts: [JudgeLabel: Int] = [:]
        var split = 0, unparsed = 0
        for step in record.steps {
            var line = JudgeVerdictLine(episode: step.episode, step: step.step, commit: step.commit, verdict: step.verdict)
            if selects(step), let result = done["\(step.episode)\u{0}\(step.step)"], result.commit == step.commit {
                line.label = result.label
                line.agreement = result.agreement
                line.reasoning = result.reasoning
                line.samples = result.samples
                counts[result.label, default: 0] += 1
                if result.agreement < 1 { split += 1 }
                unparsed += result.samples.filter { !$0.parsed }.count
                if decides(step) { line.verdict = decided(step.verdict, by: result.label) }
            }
            try log.append(line)
        }
        var info = settings
        info.cases = selected.count
        info.unparsed = unparsed
        info.upstreamExchanges = totals.exchanges
        info.costUSD = totals.costUSD
        let previous = manifest.verdictSets.last
        manifest.verdictSets.append(.init(file: file, created: RunManifest.timestamp(), checks: previous?.checks, detectors: previous?.detectors,
                                          detectorsSHA256: previous?.detectorsSHA256, command: RunLock.commandLine, judge: info))
        try store.write(manifest)
        return Outcome(file: file, judged: judged, resumed: resumed, labels: counts, split: split, unparsed: unparsed, totals: totals)
    }

    /// An unscoreable verdict decided by the judge: a violation for CONSCIOUS_DRIFT and
    /// CAPABILITY_FAILURE, compliant for COMPLIED; AMBIGUOUS leaves it unscoreable.
    static func decided(_ verdict: Verdict, by label: JudgeLabel) -> Verdict {
        var out = verdict
        switch label {
        case .consciousDrift, .capabilityFailure: out.kind = .violation
        case .complied: out.kind = .compliant
        case .ambiguous: return verdict
        }
        out.reason = "decided by the judge (\(label.rawValue)); the detectors left it unscoreable: \(verdict.reason)"
        return out
    }

    /// Judges one case with `samples` samples, each its own gateway episode.
    /// - Throws: `JudgeError` when the gateway answers with an error (a replay miss, an upstream
    ///   failure): nothing is recorded for the case, so a later run judges it again.
    public static func judge(_ item: JudgeCase, client: JudgeClient, template: JudgeTemplate, samples: Int, episode: String, step: Int) async throws -> CaseResult {
        let user = template.render(item)
        var answers: [JudgedSample] = []
        for sample in 1...samples {
            let reply = try await client.ask(system: template.system, user: user, episode: gatewayEpisode(episode, step: step, sample: sample), step: step)
            if let error = reply.error {
                throw JudgeError("the judge model's answer for \(item.id) (sample \(sample)) failed with status \(reply.status): \(error)",
                                 hint: reply.status == 409 ? "the recording does not hold this request: judge with --models record-missing (or record) to ask the model"
                                    : "check --upstream, --protocol, --key-env and the model id, then run the same command again: judged cases are kept")
            }
            let answer = JudgeAnswer.parse(reply.text)
            answers.append(JudgedSample(label: answer.label, reasoning: answer.reasoning, parsed: answer.parsed, raw: answer.raw))
        }
        let vote = MajorityVote(answers.map(\.label))
        return CaseResult(episode: episode, step: step, commit: nil, label: vote.label, agreement: vote.agreement,
                          reasoning: answers.first { $0.label == vote.label }?.reasoning, samples: answers)
    }
}
