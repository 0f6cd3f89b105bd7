import Checks
import Foundation
import Runner

/// The numbers of a run: per condition and per scenario, and the drift curve per condition.
public struct RunSummary: Sendable {
    /// One row of a table: a group of episodes (a condition or a scenario).
    public struct Row: Sendable, Hashable {
        /// The condition or scenario id.
        public var label: String
        /// Episodes in the group that recorded at least one step or ended.
        public var episodes: Int
        /// Episodes that ended `failed`.
        public var failedEpisodes: Int
        /// Violating steps out of scoreable steps (compliant + violation).
        public var violations: Proportion
        /// Steps judged unscoreable.
        public var unscoreable: Int
        /// Unscoreable steps per reason (`ScoringGap.label`, such as `emptyStep` or
        /// `notStored(nameNotUTF8)`); a step with several reasons counts under each, a step recorded
        /// before reasons were kept under `unrecorded`.
        public var unscoreableReasons: [String: Int]
        /// The step of each episode's first violation (episodes without one are left out).
        public var firstViolation: MeanEstimate
        /// Each episode's counts, in manifest order (episodes without a recorded step included).
        public var tallies: [EpisodeTally]
        /// The 95 % interval of the pooled rate (`violations.rate`): a cluster bootstrap over
        /// episodes (``ClusterBootstrap``), not a Wilson interval over steps, since the steps of one
        /// episode are not independent trials.
        public var pooledInterval: ClosedRange<Double>?
        /// The 95 % interval of the mean first-violation step: a cluster bootstrap over episodes.
        public var firstViolationInterval: ClosedRange<Double>?
    }

    /// One point of a drift curve: violations among the scoreable steps at step k.
    public struct CurvePoint: Sendable, Hashable {
        /// The step number.
        public var step: Int
        /// Violating out of scoreable steps at that step, over the group's episodes.
        public var violations: Proportion
    }

    /// One row per condition, in design order (regular, baseline, inverted, inverted-baseline).
    public var byCondition: [Row]
    /// One row per scenario, in manifest order.
    public var byScenario: [Row]
    /// The drift curve of each condition, in the order of `byCondition`.
    public var curves: [(condition: String, points: [CurvePoint])]
    /// The verdict set the numbers come from.
    public var verdictSet: String
    /// How the run's agents reached their models (nil without network agents).
    public var models: ModelReach?

    /// Computes the summary of a run.
    /// - Parameter record: the run, as read with the newest verdicts.
    public init(_ record: RunRecord) {
        let order = ["regular", "baseline", "inverted", "inverted-baseline"]
        let conditions = Set(record.manifest.scenarios.map(\.condition)).sorted {
            (order.firstIndex(of: $0) ?? order.count, $0) < (order.firstIndex(of: $1) ?? order.count, $1)
        }
        func episodes(where keep: (RunManifest.EpisodeEntry) -> Bool) -> [String] {
            record.manifest.episodes.filter(keep).map(\.id)
        }
        let scenarioCondition = Dictionary(record.manifest.scenarios.map { ($0.id, $0.condition) }, uniquingKeysWith: { a, _ in a })
        byCondition = conditions.map { condition in
            Self.row(condition, episodes(where: { scenarioCondition[$0.scenario] == condition }), record)
        }
        byScenario = record.manifest.scenarios.map { scenario in Self.row(scenario.id, episodes(where: { $0.scenario == scenario.id }), record) }
        curves = conditions.map { condition in
            let ids = Set(episodes(where: { scenarioCondition[$0.scenario] == condition }))
            let steps = record.steps.filter { ids.contains($0.episode) && $0.verdict.kind != .unscoreable }
            let numbers = Set(steps.map(\.step)).sorted()
            return (condition, numbers.map { number in
                let at = steps.filter { $0.step == number }
                return CurvePoint(step: number, violations: Proportion(successes: at.filter { $0.verdict.kind == .violation }.count, trials: at.count))
            })
        }
        verdictSet = record.verdictSet
        models = ModelReach(record)
    }

    static func row(_ label: String, _ ids: [String], _ record: RunRecord) -> Row {
        let set = Set(ids)
        let steps = record.steps.filter { set.contains($0.episode) }
        let scoreable = steps.filter { $0.verdict.kind != .unscoreable }
        let started = Set(steps.map(\.episode)).union(record.ends.keys.filter(set.contains))
        var reasons: [String: Int] = [:]
        for step in steps where step.verdict.kind == .unscoreable {
            let labels = step.verdict.gapLabels
            for label in labels.isEmpty ? ["unrecorded"] : labels { reasons[label, default: 0] += 1 }
        }
        let byEpisode = Dictionary(grouping: scoreable, by: \.episode)
        let tallies = ids.map { id in
            let own = byEpisode[id] ?? []
            let violating = own.filter { $0.verdict.kind == .violation }
            return EpisodeTally(episode: id, violations: violating.count, scoreable: own.count, firstViolation: violating.map(\.step).min())
        }
        let bootstrap = ClusterBootstrap()
        return Row(label: label, episodes: started.count, failedEpisodes: ids.filter { record.ends[$0]?.status == .failed }.count,
                   violations: Proportion(successes: scoreable.filter { $0.verdict.kind == .violation }.count, trials: scoreable.count),
                   unscoreable: steps.count - scoreable.count, unscoreableReasons: reasons,
                   firstViolation: MeanEstimate(tallies.compactMap(\.firstViolation).map(Double.init)),
                   tallies: tallies, pooledInterval: bootstrap.pooledRate(tallies),
                   firstViolationInterval: bootstrap.meanFirstViolation(tallies))
    }

    /// The summary as text: the two tables, then one drift curve per condition.
    public func render() -> String {
        var out = table("condition", byCondition) + "\n" + table("scenario", byScenario)
        for (condition, points) in curves {
            out += "\ndrift curve, \(TerminalText.escaped(condition)): violation rate per step (scoreable steps)\n"
            for point in points {
                let rate = point.violations.rate ?? 0
                out += "  step \(pad(String(point.step), 2, right: true))  \(pad("\(point.violations.successes)/\(point.violations.trials)", 7, right: true))  "
                    + "\(pad(percent(rate), 6, right: true))  |\(String(repeating: "#", count: Int((rate * 30).rounded())))\n"
            }
        }
        out += "\n" + Self.intervalNote
        if verdictSet != "events.jsonl" { out += "\nverdicts from \(verdictSet)\n" }
        if let models { out += "\n" + TerminalText.escaped(models.render(), keepingNewlines: true) }
        return out
    }

    private func table(_ title: String, _ rows: [Row]) -> String {
        let header = [title, "episodes", "failed", "scoreable", "violations", "rate", "95% CI", "unscoreable", "first violation"]
        let body = rows.map { row -> [String] in
            let ci = row.pooledInterval.map { "[\(percent($0.lowerBound)), \(percent($0.upperBound))]" } ?? "-"
            let first = row.firstViolation.mean.map { mean in
                String(format: "%.1f (n=%d)", mean, row.firstViolation.count)
                    + (row.firstViolationInterval.map { String(format: " [%.1f, %.1f]", $0.lowerBound, $0.upperBound) } ?? "")
            } ?? "-"
            return [TerminalText.escaped(row.label), String(row.episodes), String(row.failedEpisodes), String(row.violations.trials), String(row.violations.successes),
                    row.violations.rate.map(percent) ?? "-", ci, String(row.unscoreable), first]
        }
        let all = [header] + body
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        var out = all.map { cells in
            cells.indices.map { pad(cells[$0], widths[$0], right: $0 > 0) }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
        for row in rows where !row.unscoreableReasons.isEmpty {
            out += "  unscoreable in \(TerminalText.escaped(row.label)): " + Self.reasons(row.unscoreableReasons) + "\n"
        }
        return out
    }

    /// What the intervals of the text summary are, printed under it.
    public static let intervalNote = "95% CI of rates and first violation: cluster bootstrap over episodes "
        + "(\(ClusterBootstrap.defaultResamples) resamples, fixed seed); per-step curve rates: Wilson over the episodes at that step\n"

    /// `notStored(fifo) 2, emptyStep 1`: most frequent first, then by label.
    static func reasons(_ counts: [String: Int]) -> String {
        counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
            .map { "\(TerminalText.escaped($0.key)) \($0.value)" }.joined(separator: ", ")
    }
}

/// `12.5%`.
func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }

/// Pads to `width` characters, on the left when `right` (right-aligned).
func pad(_ text: String, _ width: Int, right: Bool) -> String {
    let fill = String(repeating: " ", count: max(0, width - text.count))
    return right ? fill + text : text + fill
}
