import Checks
import Foundation
import Runner

/// The paper's figure as numbers: per value pair, the four conditions labelled by direction, one
/// curve per series (an agent of a run), per-step violation rates with Wilson bands, pooled rates
/// and the asymmetry with cluster-bootstrap intervals.
public struct DriftFigure: Sendable, Codable {
    /// One agent of one run: one colour in the figure.
    public struct Series: Sendable, Hashable, Codable {
        /// The run's id.
        public var run: String
        /// The agent's id.
        public var agent: String
        /// What the legend shows: the agent, with the run when several runs are compared.
        public var name: String
    }

    /// One point of a curve: violations among the scoreable steps at one step, over episodes.
    public struct Point: Sendable, Hashable, Codable {
        /// The step number.
        public var step: Int
        /// Violating steps at this step.
        public var violations: Int
        /// Scoreable steps at this step.
        public var trials: Int
        /// `violations / trials`.
        public var rate: Double
        /// The 95 % Wilson interval (episodes at one step are independent).
        public var lower: Double
        /// See ``lower``.
        public var upper: Double
    }

    /// One series in one condition of one value pair.
    public struct Curve: Sendable, Codable {
        /// Index into ``DriftFigure/series``.
        public var series: Int
        /// Per-step points, in step order.
        public var points: [Point]
        /// Each episode's counts.
        public var tallies: [EpisodeTally]
        /// The pooled violation rate (nil without a scoreable step).
        public var pooledRate: Double?
        /// Its 95 % interval: a cluster bootstrap over episodes.
        public var pooledInterval: ClosedRange<Double>?
        /// The mean first-violation step (episodes with a violation).
        public var firstViolation: Double?
        /// Its 95 % interval: a cluster bootstrap over episodes.
        public var firstViolationInterval: ClosedRange<Double>?
    }

    /// One condition of a value pair, labelled by direction.
    public struct Panel: Sendable, Codable {
        /// `regular`, `baseline`, `inverted` or `inverted-baseline`.
        public var condition: String
        /// The value the constraint favours.
        public var favours: String
        /// The value the pressure pushes toward (nil for a baseline: no pressure).
        public var pressureToward: String?
        /// One curve per series that ran this condition.
        public var curves: [Curve]

        /// `constraint favours efficiency · pressure toward security` or `constraint favours efficiency · no pressure`.
        public var title: String {
            "constraint favours \(favours) · " + (pressureToward.map { "pressure toward \($0)" } ?? "no pressure")
        }
    }

    /// How much more a series yields toward one value than toward the other.
    public struct Asymmetry: Sendable, Codable {
        /// Index into ``DriftFigure/series``.
        public var series: Int
        /// Pooled rate under pressure toward Y minus its baseline's (constraint favouring X).
        public var towardY: Double
        /// Pooled rate under pressure toward X minus its baseline's (constraint favouring Y).
        public var towardX: Double
        /// `towardY - towardX`: above 0, the agent yields more toward Y.
        public var difference: Double
        /// Its 95 % interval: a cluster bootstrap over the episodes of the four conditions, each
        /// resampled on its own.
        public var interval: ClosedRange<Double>?
    }

    /// One value pair: its four conditions and the asymmetry per series.
    public struct Pair: Sendable, Codable {
        /// The value pair as the scenarios name it (`efficiency-security`).
        public var valuePair: String
        /// The first value (X): the one the regular and baseline constraints favour.
        public var x: String
        /// The second value (Y).
        public var y: String
        /// The conditions present, in the order pressure toward Y, its baseline, pressure toward X, its baseline.
        public var panels: [Panel]
        /// One per series that ran all four conditions.
        public var asymmetry: [Asymmetry]
    }

    /// The series, in run order then agent order.
    public var series: [Series]
    /// The value pairs, in the order the first run lists their scenarios.
    public var pairs: [Pair]
    /// The judge label counted as a violation, or nil for every violation.
    public var label: String?
    /// The largest step number of any curve.
    public var maxStep: Int

    /// The conditions in the figure's order, with the direction each one stands for.
    static let order = ["regular", "baseline", "inverted", "inverted-baseline"]

    /// Computes the figure.
    /// - Parameters:
    ///   - records: the runs, each with its newest verdicts.
    ///   - labels: per run, the judge label of each step (`JudgeLabels.read`); only with `label`.
    ///   - label: count only violations carrying this judge label (nil: every violation).
    public init(_ records: [RunRecord], labels: [JudgeLabels] = [], label: String? = nil) {
        self.label = label
        let several = records.count > 1
        var series: [Series] = []
        var seriesIndex: [String: Int] = [:]
        var pairOrder: [String] = []
        // (pair, condition, series) → steps
        var cells: [String: [String: [Int: (episodes: [String], steps: [StepRecord])]]] = [:]
        for (runIndex, record) in records.enumerated() {
            let runLabels = runIndex < labels.count ? labels[runIndex] : JudgeLabels(byStep: [:])
            let scenarios = Dictionary(record.manifest.scenarios.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            for scenario in record.manifest.scenarios where !pairOrder.contains(scenario.valuePair) { pairOrder.append(scenario.valuePair) }
            var stepsByEpisode = Dictionary(grouping: record.steps, by: \.episode)
            if let label {
                for (episode, steps) in stepsByEpisode {
                    stepsByEpisode[episode] = steps.map { step in
                        var step = step
                        if step.verdict.kind == .violation, runLabels.label(episode: episode, step: step.step) != label { step.verdict.kind = .compliant }
                        return step
                    }
                }
            }
            for episode in record.manifest.episodes {
                guard let scenario = scenarios[episode.scenario] else { continue }
                let key = "\(runIndex)\u{0}\(episode.agent)"
                let index = seriesIndex[key] ?? {
                    series.append(Series(run: record.manifest.runID, agent: episode.agent,
                                         name: several ? "\(episode.agent) (\(record.manifest.runID))" : episode.agent))
                    seriesIndex[key] = series.count - 1
                    return series.count - 1
                }()
                var cell = cells[scenario.valuePair, default: [:]][scenario.condition, default: [:]][index] ?? ([], [])
                cell.episodes.append(episode.id)
                cell.steps += stepsByEpisode[episode.id] ?? []
                cells[scenario.valuePair, default: [:]][scenario.condition, default: [:]][index] = cell
            }
        }
        self.series = series
        let bootstrap = ClusterBootstrap()
        var maxStep = 1
        pairs = pairOrder.map { pair in
            let parts = pair.split(separator: "-").map(String.init)
            let x = parts.first ?? pair, y = parts.count > 1 ? parts[1] : "?"
            var tallies: [String: [Int: [EpisodeTally]]] = [:]
            let panels = Self.order.compactMap { condition -> Panel? in
                guard let bySeries = cells[pair]?[condition] else { return nil }
                let favoursX = condition == "regular" || condition == "baseline"
                let pressured = condition == "regular" || condition == "inverted"
                let curves = bySeries.keys.sorted().map { index -> Curve in
                    let (episodes, steps) = bySeries[index]!
                    let scoreable = steps.filter { $0.verdict.kind != .unscoreable }
                    let byStep = Dictionary(grouping: scoreable, by: \.step)
                    let points = byStep.keys.sorted().map { number -> Point in
                        let at = byStep[number]!
                        let proportion = Proportion(successes: at.filter { $0.verdict.kind == .violation }.count, trials: at.count)
                        let band = proportion.wilson()!
                        return Point(step: number, violations: proportion.successes, trials: proportion.trials,
                                     rate: proportion.rate!, lower: band.lowerBound, upper: band.upperBound)
                    }
                    maxStep = max(maxStep, points.last?.step ?? 1)
                    let byEpisode = Dictionary(grouping: scoreable, by: \.episode)
                    let episodeTallies = episodes.map { id in
                        let own = byEpisode[id] ?? []
                        let violating = own.filter { $0.verdict.kind == .violation }
                        return EpisodeTally(episode: id, violations: violating.count, scoreable: own.count, firstViolation: violating.map(\.step).min())
                    }
                    tallies[condition, default: [:]][index] = episodeTallies
                    return Curve(series: index, points: points, tallies: episodeTallies,
                                 pooledRate: EpisodeTally.pooledRate(episodeTallies), pooledInterval: bootstrap.pooledRate(episodeTallies),
                                 firstViolation: EpisodeTally.meanFirstViolation(episodeTallies),
                                 firstViolationInterval: bootstrap.meanFirstViolation(episodeTallies))
                }
                return Panel(condition: condition, favours: favoursX ? x : y, pressureToward: pressured ? (favoursX ? y : x) : nil, curves: curves)
            }
            let asymmetry = series.indices.compactMap { index -> Asymmetry? in
                let strata = Self.order.compactMap { tallies[$0]?[index] }
                guard strata.count == 4 else { return nil }
                let statistic: ([[EpisodeTally]]) -> Double? = { s in
                    guard let r = EpisodeTally.pooledRate(s[0]), let b = EpisodeTally.pooledRate(s[1]),
                          let i = EpisodeTally.pooledRate(s[2]), let ib = EpisodeTally.pooledRate(s[3]) else { return nil }
                    return (r - b) - (i - ib)
                }
                guard let difference = statistic(strata) else { return nil }
                let towardY = EpisodeTally.pooledRate(strata[0])! - EpisodeTally.pooledRate(strata[1])!
                let towardX = EpisodeTally.pooledRate(strata[2])! - EpisodeTally.pooledRate(strata[3])!
                return Asymmetry(series: index, towardY: towardY, towardX: towardX, difference: difference,
                                 interval: bootstrap.interval(strata, statistic))
            }
            return Pair(valuePair: pair, x: x, y: y, panels: panels, asymmetry: asymmetry)
        }
        self.maxStep = maxStep
    }
}

/// The judge labels of a run's newest verdict set: the `label` field of its lines, when the set
/// carries one.
public struct JudgeLabels: Sendable {
    /// The label of each step, keyed by episode and step.
    public var byStep: [String: String]

    /// Creates labels from a table keyed `episode` + NUL + step.
    public init(byStep: [String: String]) { self.byStep = byStep }

    /// The label of one step.
    public func label(episode: String, step: Int) -> String? { byStep["\(episode)\u{0}\(step)"] }

    /// The distinct labels, sorted.
    public var values: [String] { Set(byStep.values).sorted() }

    /// Longest line read from a verdict set.
    static let maximumLine = 1 << 20

    /// Reads the `label` field of each line of the record's newest verdict set. A set without
    /// labels (every set before judge verdicts exist) gives no labels.
    /// - Throws: `RunStoreError` when the file cannot be read.
    public static func read(_ record: RunRecord) throws -> JudgeLabels {
        struct Line: Decodable { var episode: String?; var step: Int?; var label: String? }
        let path = record.store.folder.appendingPathComponent(record.verdictSet)
        guard record.verdictSet != "events.jsonl" else {
            return JudgeLabels(byStep: [:])
        }
        let data: Data
        do { data = try Data(contentsOf: path) } catch {
            throw RunStoreError.invalid(path: path.path, reason: "the verdict set cannot be read (\(error.localizedDescription))",
                                        hint: "check the run folder's permissions")
        }
        var labels: [String: String] = [:]
        let decoder = JSONDecoder()
        for line in data.split(separator: UInt8(ascii: "\n")) where line.count <= maximumLine {
            guard let parsed = try? decoder.decode(Line.self, from: Data(line)),
                  let episode = parsed.episode, let step = parsed.step, let label = parsed.label else { continue }
            labels["\(episode)\u{0}\(step)"] = label
        }
        return JudgeLabels(byStep: labels)
    }
}
