import Checks
import Foundation
import Runner

/// One step of a run with every field the figures use: one row of `driftbox export`.
public struct ExportRow: Sendable, Hashable, Codable {
    /// The run's id.
    public var run: String
    /// The agent's id.
    public var agent: String
    /// The episode's id.
    public var episode: String
    /// The scenario's id.
    public var scenario: String
    /// The scenario's value pair.
    public var valuePair: String
    /// The scenario's condition.
    public var condition: String
    /// The value the constraint favours (by the condition: regular and baseline favour the pair's first value).
    public var favours: String
    /// The value the pressure pushes toward; empty for a baseline.
    public var pressureToward: String
    /// The episode's repetition index.
    public var repetition: Int
    /// The episode's seed.
    public var seed: UInt64
    /// The step number.
    public var step: Int
    /// The task's id.
    public var task: String
    /// The pressure tier that landed before the step, if any.
    public var tier: Int?
    /// `compliant`, `violation` or `unscoreable`.
    public var verdict: String
    /// The detectors that matched, joined with `;`.
    public var violatedDetectors: String
    /// The unscoreable reasons (`ScoringGap.label`), joined with `;`.
    public var gaps: String
    /// The step's outcome.
    public var outcome: String
    /// The failure message, if the step failed.
    public var failure: String?
    /// The agent's wall time for the step, in seconds.
    public var agentSeconds: Double
    /// The judge label of the newest verdict set, when it carries one.
    public var label: String?
    /// The step's commit.
    public var commit: String
    /// The verdict set the verdict comes from.
    public var verdictSet: String

    /// Creates a row from its fields.
    public init(run: String, agent: String, episode: String, scenario: String, valuePair: String, condition: String, favours: String,
                pressureToward: String, repetition: Int, seed: UInt64, step: Int, task: String, tier: Int?, verdict: String,
                violatedDetectors: String, gaps: String, outcome: String, failure: String?, agentSeconds: Double, label: String?,
                commit: String, verdictSet: String) {
        self.run = run
        self.agent = agent
        self.episode = episode
        self.scenario = scenario
        self.valuePair = valuePair
        self.condition = condition
        self.favours = favours
        self.pressureToward = pressureToward
        self.repetition = repetition
        self.seed = seed
        self.step = step
        self.task = task
        self.tier = tier
        self.verdict = verdict
        self.violatedDetectors = violatedDetectors
        self.gaps = gaps
        self.outcome = outcome
        self.failure = failure
        self.agentSeconds = agentSeconds
        self.label = label
        self.commit = commit
        self.verdictSet = verdictSet
    }

    /// The CSV header, in field order.
    public static let columns = ["run", "agent", "episode", "scenario", "valuePair", "condition", "favours", "pressureToward", "repetition", "seed",
                                 "step", "task", "tier", "verdict", "violatedDetectors", "gaps", "outcome", "failure", "agentSeconds", "label",
                                 "commit", "verdictSet"]

    var cells: [String] {
        [run, agent, episode, scenario, valuePair, condition, favours, pressureToward, String(repetition), String(seed), String(step), task,
         tier.map(String.init) ?? "", verdict, violatedDetectors, gaps, outcome, failure ?? "", String(agentSeconds), label ?? "", commit, verdictSet]
    }
}

/// Rows of a run for pandas or R, and the summary as JSON.
public enum Export {
    /// One row per recorded step, in episode (manifest) then step order.
    /// - Throws: `RunStoreError` when the newest verdict set cannot be read.
    public static func rows(_ record: RunRecord) throws -> [ExportRow] {
        let labels = try JudgeLabels.read(record)
        let scenarios = Dictionary(record.manifest.scenarios.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let steps = Dictionary(grouping: record.steps, by: \.episode)
        return record.manifest.episodes.flatMap { episode -> [ExportRow] in
            let scenario = scenarios[episode.scenario]
            let pair = scenario?.valuePair ?? "?"
            let parts = pair.split(separator: "-").map(String.init)
            let x = parts.first ?? pair, y = parts.count > 1 ? parts[1] : "?"
            let condition = scenario?.condition ?? "?"
            let favoursX = condition == "regular" || condition == "baseline"
            let pressured = condition == "regular" || condition == "inverted"
            return (steps[episode.id] ?? []).sorted { $0.step < $1.step }.map { step in
                ExportRow(run: record.manifest.runID, agent: episode.agent, episode: episode.id, scenario: episode.scenario, valuePair: pair,
                          condition: condition, favours: favoursX ? x : y, pressureToward: pressured ? (favoursX ? y : x) : "",
                          repetition: episode.repetition, seed: episode.seed, step: step.step, task: step.task, tier: step.tier,
                          verdict: step.verdict.kind.rawValue, violatedDetectors: step.verdict.violatedDetectors.joined(separator: ";"),
                          gaps: step.verdict.gapLabels.joined(separator: ";"), outcome: step.outcome, failure: step.failure,
                          agentSeconds: step.agentSeconds, label: labels.label(episode: episode.id, step: step.step),
                          commit: step.commit.description, verdictSet: record.verdictSet)
            }
        }
    }

    /// RFC 4180 CSV with a header line: every field quoted when it holds a comma, quote, CR or LF;
    /// lines end in CRLF. Values are written as recorded (no spreadsheet-formula guard: the file
    /// is meant for pandas or R; open it in a spreadsheet as text).
    public static func csv(_ rows: [ExportRow]) -> String {
        func field(_ text: String) -> String {
            text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
                ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        return ([ExportRow.columns] + rows.map(\.cells)).map { $0.map(field).joined(separator: ",") + "\r\n" }.joined()
    }

    /// One JSON object per line (JSON escapes every control character, so a line never breaks).
    public static func jsonl(_ rows: [ExportRow]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try rows.map { String(decoding: try encoder.encode($0), as: UTF8.self) + "\n" }.joined()
    }

    /// The summary of `driftbox report --json`: the tables, the per-condition curves and the figure.
    public struct SummaryDocument: Sendable, Codable {
        /// One table row.
        public struct Row: Sendable, Codable {
            public var label: String, episodes: Int, failedEpisodes: Int, scoreable: Int, violations: Int, rate: Double?
            /// Bootstrap over episodes.
            public var rateInterval: [Double]?
            public var unscoreable: Int, unscoreableReasons: [String: Int], firstViolation: Double?, firstViolationEpisodes: Int
            /// Bootstrap over episodes.
            public var firstViolationInterval: [Double]?
        }
        /// One curve point.
        public struct Point: Sendable, Codable {
            public var step: Int, violations: Int, trials: Int, rate: Double?
            /// Wilson.
            public var interval: [Double]?
        }
        public var run: String, driftboxVersion: String, suite: String, suiteSHA256: String, verdictSet: String
        /// Which interval is used where.
        public var intervals: String
        public var byCondition: [Row], byScenario: [Row]
        public var curves: [String: [Point]]
        public var figure: DriftFigure
        public var isolationGaps: [String]
        /// Tokens, exchanges and cost per gateway agent and for the run, read from the run's
        /// recording (the figures of the summary's models lines); nil without gateway agents.
        public var models: ModelTotals?
    }

    /// The summary document of a run.
    public static func summary(_ record: RunRecord) -> SummaryDocument {
        let summary = RunSummary(record)
        func bounds(_ range: ClosedRange<Double>?) -> [Double]? { range.map { [$0.lowerBound, $0.upperBound] } }
        func row(_ row: RunSummary.Row) -> SummaryDocument.Row {
            .init(label: row.label, episodes: row.episodes, failedEpisodes: row.failedEpisodes, scoreable: row.violations.trials,
                  violations: row.violations.successes, rate: row.violations.rate, rateInterval: bounds(row.pooledInterval),
                  unscoreable: row.unscoreable, unscoreableReasons: row.unscoreableReasons, firstViolation: row.firstViolation.mean,
                  firstViolationEpisodes: row.firstViolation.count, firstViolationInterval: bounds(row.firstViolationInterval))
        }
        return SummaryDocument(
            run: record.manifest.runID, driftboxVersion: record.manifest.driftboxVersion, suite: record.manifest.suite.id,
            suiteSHA256: record.manifest.suite.sha256, verdictSet: record.verdictSet, intervals: RunSummary.intervalNote.trimmingCharacters(in: .newlines),
            byCondition: summary.byCondition.map(row), byScenario: summary.byScenario.map(row),
            curves: Dictionary(summary.curves.map { curve in
                (curve.condition, curve.points.map { SummaryDocument.Point(step: $0.step, violations: $0.violations.successes, trials: $0.violations.trials,
                                                                             rate: $0.violations.rate, interval: bounds($0.violations.wilson())) })
            }, uniquingKeysWith: { a, _ in a }),
            figure: DriftFigure([record]), isolationGaps: record.manifest.sandbox.gaps,
            models: summary.models.flatMap { $0.gateway.isEmpty ? nil : ModelTotals($0) })
    }

    /// The summary document as pretty-printed JSON.
    public static func summaryJSON(_ record: RunRecord) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(summary(record)), as: UTF8.self) + "\n"
    }
}
