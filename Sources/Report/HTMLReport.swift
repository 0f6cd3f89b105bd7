import Agents
import Checks
import Foundation
import GitStore
import Mustache
import Runner

/// One self-contained HTML page of one or more runs: the paper's figure, the asymmetry, what the
/// numbers rest on, and a drill-down into every episode and violation.
///
/// The page is rendered with Mustache templates (``ReportTemplates``); every interpolated string
/// goes through Mustache's HTML escaping (`&`, `<`, `>`, `"` and `'`), in text, attribute values
/// and SVG text alike, so nothing an agent wrote can open a tag or an attribute. The page loads
/// nothing: inline CSS and SVG, no script; the judge-label switch is CSS-only radio buttons.
public enum HTMLReport {
    /// Limits that keep the page of a large run small: diff lines shown per violation.
    public static let maximumDiffLinesPerViolation = 120
    /// Unicode scalars of one diff line, seed message or evidence shown before it is cut.
    public static let maximumTextLength = 2000

    /// Unicode scalars of one conversation text (model text, refusal, tool arguments, tool result)
    /// shown before it is cut.
    public static let maximumConversationTextLength = 4000
    /// Entries (model turns' texts, tool calls, tool results) of one step's conversation shown.
    public static let maximumConversationEntries = 100
    /// Unicode scalars of one step's conversation shown, its texts together.
    public static let maximumConversationLength = 20_000
    /// Unicode scalars of all conversations of the page together; past it, a violation's
    /// conversation is left out with a note.
    public static let maximumConversationPageLength = 500_000

    /// The colours of the series, in order (Okabe–Ito, readable for colour-blind readers).
    public static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999"]

    /// Renders the page of the runs.
    /// - Parameter records: the runs, each with its newest verdicts (a model per run, say).
    /// - Returns: the HTML text.
    /// - Throws: `RunStoreError` when a verdict set cannot be read, `GitError` when a recorded
    ///   commit is missing from a run's repository.
    public static func render(_ records: [RunRecord]) throws -> String {
        let labels = try records.map(JudgeLabels.read)
        let labelValues = Set(labels.flatMap(\.values)).sorted()
        var views: [[String: Any]] = []
        for (index, label) in ([nil] + labelValues.map(Optional.some)).enumerated() {
            let figure = DriftFigure(records, labels: labels, label: label)
            views.append(["index": index, "name": label.map { "judge label \($0)" } ?? "all violations",
                          "checked": index == 0, "pairs": figure.pairs.map { pairView($0, figure) },
                          "legend": legend(figure)])
        }
        let summaries = records.map(RunSummary.init)
        var runs: [[String: Any]] = []
        var failures: [[String: Any]] = []
        var episodes: [[String: Any]] = []
        var violations: [[String: Any]] = []
        var conversationBudget = maximumConversationPageLength
        for (record, summary) in zip(records, summaries) {
            let id = record.manifest.runID
            runs.append(runView(record, summary))
            for (episode, end) in record.ends.sorted(by: { $0.key < $1.key }) where end.status == .failed {
                failures.append(["run": id, "episode": episode, "reason": cut(end.reason ?? "no reason recorded"), "steps": end.steps])
            }
            episodes += record.manifest.episodes.map { episodeView(record, $0) }
            for item in try Audit.items(record) {
                violations.append(auditView(id, item, place: violations.count + 1, conversationBudget: &conversationBudget))
            }
        }
        let context: [String: Any] = [
            "title": records.count == 1 ? "driftbox report: \(records[0].manifest.runID)" : "driftbox report: \(records.count) runs",
            "views": views, "hasLabels": !labelValues.isEmpty, "runs": runs, "failures": failures,
            "hasFailures": !failures.isEmpty, "episodes": episodes, "violations": violations,
            "hasViolations": !violations.isEmpty, "intervalNote": RunSummary.intervalNote,
            "resamples": ClusterBootstrap.defaultResamples, "seed": String(ClusterBootstrap.defaultSeed, radix: 16),
        ]
        return ReportTemplates.library.render(context, withTemplate: "page") ?? ""
    }

    // MARK: - Figure

    /// Plot geometry of one panel.
    static let width = 360.0, height = 230.0, left = 44.0, right = 12.0, top = 12.0, bottom = 34.0

    static func legend(_ figure: DriftFigure) -> [[String: Any]] {
        figure.series.enumerated().map { ["name": $0.element.name, "colour": palette[$0.offset % palette.count], "index": $0.offset] }
    }

    static func pairView(_ pair: DriftFigure.Pair, _ figure: DriftFigure) -> [String: Any] {
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let steps = max(figure.maxStep, 2)
        func x(_ step: Int) -> Double { left + plotWidth * Double(step - 1) / Double(steps - 1) }
        func y(_ rate: Double) -> Double { top + plotHeight * (1 - rate) }
        func fmt(_ value: Double) -> String { String(format: "%.1f", value) }
        let xTicks = (1...steps).filter { steps <= 12 || $0 % 2 == 1 }.map { ["x": fmt(x($0)), "label": $0, "y": fmt(height - bottom + 14)] as [String: Any] }
        let yTicks = [0.0, 0.25, 0.5, 0.75, 1.0].map { ["y": fmt(y($0)), "ty": fmt(y($0) + 4), "label": "\(Int($0 * 100))%", "x1": fmt(left), "x2": fmt(width - right)] as [String: Any] }
        let panels = pair.panels.map { panel -> [String: Any] in
            let curves = panel.curves.map { curve -> [String: Any] in
                let colour = palette[curve.series % palette.count]
                let upper = curve.points.map { "\(fmt(x($0.step))),\(fmt(y($0.upper)))" }
                let lower = curve.points.reversed().map { "\(fmt(x($0.step))),\(fmt(y($0.lower)))" }
                let points = curve.points.map { point -> [String: Any] in
                    ["cx": fmt(x(point.step)), "cy": fmt(y(point.rate)), "step": point.step, "violations": point.violations,
                     "trials": point.trials, "rate": String(format: "%.6f", point.rate), "lower": String(format: "%.6f", point.lower),
                     "upper": String(format: "%.6f", point.upper),
                     "tip": "step \(point.step): \(point.violations)/\(point.trials) = \(percent(point.rate)) [\(percent(point.lower)), \(percent(point.upper))]"]
                }
                return ["colour": colour, "series": curve.series, "name": figure.series[curve.series].name,
                        "band": (upper + lower).joined(separator: " "), "line": upper.isEmpty ? "" : curve.points.map { "\(fmt(x($0.step))),\(fmt(y($0.rate)))" }.joined(separator: " "),
                        "points": points, "pooled": curve.pooledRate.map(percent) ?? "-",
                        "pooledInterval": interval(curve.pooledInterval, percent),
                        "first": curve.firstViolation.map { String(format: "step %.1f", $0) } ?? "none",
                        "firstInterval": curve.firstViolationInterval.map { String(format: "[%.1f, %.1f]", $0.lowerBound, $0.upperBound) } ?? "",
                        "episodes": curve.tallies.count, "pooledViolations": curve.tallies.reduce(0) { $0 + $1.violations },
                        "pooledTrials": curve.tallies.reduce(0) { $0 + $1.scoreable }]
            }
            return ["title": panel.title, "condition": panel.condition, "favours": panel.favours, "toward": panel.pressureToward ?? "",
                    "baseline": panel.pressureToward == nil, "curves": curves, "curveCount": curves.count,
                    "width": fmt(width), "height": fmt(height), "xTicks": xTicks, "yTicks": yTicks,
                    "axisY": fmt(height - bottom), "left": fmt(left), "right": fmt(width - right), "top": fmt(top),
                    "xLabelX": fmt(left + plotWidth / 2), "xLabelY": fmt(height - 2)]
        }
        let asymmetry = pair.asymmetry.map { item -> [String: Any] in
            ["name": figure.series[item.series].name, "colour": palette[item.series % palette.count],
             "towardY": signed(item.towardY), "towardX": signed(item.towardX), "difference": signed(item.difference),
             "interval": interval(item.interval, signed), "raw": String(format: "%.6f", item.difference)]
        }
        return ["valuePair": pair.valuePair, "x": pair.x, "y": pair.y, "panels": panels, "asymmetry": asymmetry, "hasAsymmetry": !asymmetry.isEmpty]
    }

    static func interval(_ range: ClosedRange<Double>?, _ format: (Double) -> String) -> String {
        range.map { "[\(format($0.lowerBound)), \(format($0.upperBound))]" } ?? "-"
    }

    static func signed(_ value: Double) -> String { String(format: "%+.1f pts", value * 100) }

    // MARK: - What the numbers rest on

    static func runView(_ record: RunRecord, _ summary: RunSummary) -> [String: Any] {
        let manifest = record.manifest
        let rows = summary.byCondition.map { row -> [String: Any] in
            ["label": row.label, "episodes": row.episodes, "failed": row.failedEpisodes, "scoreable": row.violations.trials,
             "violations": row.violations.successes, "rate": row.violations.rate.map(percent) ?? "-",
             "interval": interval(row.pooledInterval, percent), "unscoreable": row.unscoreable,
             "reasons": RunSummary.reasonsPlain(row.unscoreableReasons),
             "first": row.firstViolation.mean.map { String(format: "%.1f", $0) } ?? "-",
             "firstInterval": interval(row.firstViolationInterval) { String(format: "%.1f", $0) }]
        }
        return ["id": manifest.runID, "created": manifest.created, "version": manifest.driftboxVersion,
                "suite": manifest.suite.id, "suiteSHA": manifest.suite.sha256, "verdictSet": record.verdictSet,
                "mode": manifest.sandbox.mode, "gaps": manifest.sandbox.gaps, "noGaps": manifest.sandbox.gaps.isEmpty,
                "policy": manifest.sandbox.policy, "agents": Set(manifest.episodes.map(\.agent)).sorted().joined(separator: ", "),
                "scenarios": manifest.scenarios.map { ["id": $0.id, "sha": $0.sha256, "condition": $0.condition, "pair": $0.valuePair] },
                "rows": rows, "steps": record.steps.count, "episodes": manifest.episodes.count,
                "models": modelsView(summary.models)]
    }

    /// The models line of a run: per gateway agent its exchanges, tokens and cost; agents that
    /// never reached their model and agents on the host network, flagged. Empty without network agents.
    /// The figures are `ModelTotals` of the summary's reading of the recording, the numbers
    /// `report --json` (`models`) and `run.json` (`modelTotals`) hold; the run's line follows the
    /// agents' when there are gateway agents.
    static func modelsView(_ models: ModelReach?) -> [[String: Any]] {
        guard let models else { return [] }
        let totals = ModelTotals(models)
        func figures(_ figures: ModelTotals.Figures) -> [String: Any] {
            ["exchanges": figures.exchanges, "refused": figures.refused, "hasRefused": figures.refused > 0,
             "input": figures.inputTokens, "cached": figures.cachedTokens, "output": figures.outputTokens,
             "cost": String(format: "$%.4f", figures.costUSD), "costRaw": String(figures.costUSD),
             "unpriced": figures.unpriced, "hasUnpriced": figures.unpriced > 0]
        }
        let gateway = models.gateway.map { agent -> [String: Any] in
            figures(totals.agents[agent.agent] ?? ModelTotals.Figures()).merging([
                "agent": agent.agent, "mode": models.mode, "episodes": agent.episodes,
                "isolation": agent.isolationAttempts, "hasIsolation": agent.isolationAttempts > 0,
                "unreached": agent.unreached.count, "hasUnreached": !agent.unreached.isEmpty]) { $1 }
        }
        let run = models.gateway.isEmpty ? [] : [figures(totals.run).merging(["isRun": true, "mode": models.mode]) { $1 }]
        let host = models.hostNetwork.map { ["agent": $0, "hostNetwork": true] as [String: Any] }
        return gateway + run + host
    }

    // MARK: - Drill-down

    static func episodeView(_ record: RunRecord, _ entry: RunManifest.EpisodeEntry) -> [String: Any] {
        var events: [(step: Int, order: Int, view: [String: Any])] = []
        for seed in record.seeds(of: entry.id) {
            events.append((seed.step, 0, ["seed": true, "step": seed.step, "block": seed.block,
                                          "tier": seed.tier.map { "tier \($0)\(seed.variant ?? "")" } ?? "static",
                                          "author": cut(seed.author), "email": cut(seed.email), "message": cut(seed.message)]))
        }
        for step in record.steps(of: entry.id) {
            events.append((step.step, 1, ["isStep": true, "step": step.step, "task": cut(step.task), "kind": step.verdict.kind.rawValue,
                                          "outcome": step.outcome, "failure": step.failure.map(cut) ?? "", "reason": cut(step.verdict.reason),
                                          "seconds": String(format: "%.2f s", step.agentSeconds)]))
        }
        let ordered = events.sorted { ($0.step, $0.order) < ($1.step, $1.order) }.map(\.view)
        let violations = record.steps(of: entry.id).filter { $0.verdict.kind == .violation }.count
        return ["run": record.manifest.runID, "id": entry.id, "scenario": entry.scenario, "agent": entry.agent,
                "condition": record.condition(of: entry.id), "status": record.ends[entry.id]?.status.rawValue ?? "unfinished",
                "violations": violations, "events": ordered]
    }

    static func auditView(_ run: String, _ item: AuditItem) -> [String: Any] {
        var budget = maximumConversationPageLength
        return auditView(run, item, place: 1, conversationBudget: &budget)
    }

    /// A violation's view; `place` is its place on the page, which names its conversation's
    /// anchor (`#conversation-N`: a link to it opens the violation and the conversation).
    static func auditView(_ run: String, _ item: AuditItem, place: Int, conversationBudget: inout Int) -> [String: Any] {
        var budget = maximumDiffLinesPerViolation
        var hunks: [[String: Any]] = []
        for (path, hunk, highlighted) in item.hunks where budget > 0 {
            let lines = hunk.lines.prefix(budget).map { line -> [String: Any] in
                let matched = line.newLineNumber.map(highlighted.contains) ?? false
                let text = line.content.hasSuffix("\n") ? String(line.content.dropLast()) : line.content
                let kind = matched ? "match" : line.origin == .addition ? "add" : line.origin == .deletion ? "del" : "ctx"
                return ["kind": kind, "number": line.newLineNumber.map(String.init) ?? "",
                        "sign": line.origin == .addition ? "+" : line.origin == .deletion ? "-" : " ", "text": cut(text)]
            }
            budget -= lines.count
            hunks.append(["path": cut(path), "header": cut(hunk.header.trimmingCharacters(in: .newlines)), "lines": lines,
                          "cut": hunk.lines.count > lines.count])
        }
        return ["run": run, "episode": item.episode, "scenario": item.scenario, "condition": item.condition, "step": item.step.step,
                "task": cut(item.step.task), "unscoreable": item.step.verdict.kind != .violation,
                "pressure": item.pressure.map { seed in
                    ["tier": seed.tier.map { "tier \($0)\(seed.variant ?? "")" } ?? "static", "author": cut(seed.author),
                     "message": cut(seed.message), "before": seed.step == item.step.step ? "before this step" : "before step \(seed.step)"]
                }, "noPressure": item.pressure.isEmpty,
                "evidence": item.step.verdict.evidence.map { cut("\($0)") },
                "gaps": item.step.verdict.gaps.map { cut("\($0)") }, "hunks": hunks,
                "conversation": item.conversation.map {
                    [conversationView($0, pageBudget: &conversationBudget).merging(["anchor": "conversation-\(place)"]) { $1 }]
                } ?? []]
    }

    /// A model agent's conversation of one step: its model turns (text, refusal, tool calls with
    /// their arguments, tokens) and tool results, each text cut at ``maximumConversationTextLength``
    /// scalars, at most ``maximumConversationEntries`` entries and ``maximumConversationLength``
    /// scalars of the step, within what is left of the page's budget; what is left out is counted
    /// in a note. The task prompt is left out (the violation's summary names the task).
    static func conversationView(_ conversation: ModelConversation, pageBudget: inout Int) -> [String: Any] {
        var budget = min(maximumConversationLength, max(pageBudget, 0))
        var entries = 0, omitted = 0
        let spoken = conversation.items.filter { $0.role != .user }
        func take(_ text: String) -> String {
            let (shown, used) = shownText(text, limit: min(maximumConversationTextLength, max(budget, 0)))
            budget -= used
            return shown
        }
        var items: [[String: Any]] = []
        for item in spoken {
            let calls = item.toolCalls ?? []
            guard budget > 0, entries < maximumConversationEntries else { omitted += 1 + calls.count; continue }
            entries += 1
            switch item.role {
            case .assistant:
                let kept = calls.prefix(max(maximumConversationEntries - entries, 0))
                omitted += calls.count - kept.count
                entries += kept.count
                let tokens = [item.inputTokens.map { "\($0) tokens in" }, item.outputTokens.map { "\($0) out" }].compactMap { $0 }
                let refusal = item.refusal.map(take) ?? ""
                let text = item.text.isEmpty ? "" : take(item.text)
                items.append(["assistant": true, "tool": false, "hasTokens": !tokens.isEmpty, "tokens": tokens.joined(separator: ", "),
                              "hasRefusal": item.refusal != nil, "refusal": refusal, "hasText": !item.text.isEmpty, "text": text,
                              "calls": kept.map { call in ["name": take(call.name), "id": take(call.id), "arguments": take(call.arguments)] }])
            case .tool:
                items.append(["assistant": false, "tool": true, "name": take(item.name ?? "?"), "id": take(item.callID ?? ""),
                              "isError": item.isError == true, "hasCut": (item.cutBytes ?? 0) > 0, "cutBytes": item.cutBytes ?? 0,
                              "text": take(item.text)])
            case .user:
                break
            }
        }
        let used = min(maximumConversationLength, max(pageBudget, 0)) - budget
        pageBudget -= max(used, 0)
        var note = ""
        if omitted > 0 {
            note = pageBudget <= 0
                ? "\(omitted) more entr(ies) not shown: the page's conversations reached \(maximumConversationPageLength) characters (`driftbox audit` and the transcript hold them)"
                : "\(omitted) more entr(ies) not shown: a step shows at most \(maximumConversationEntries) entries and \(maximumConversationLength) characters (the transcript holds them)"
        }
        return ["modelTurns": conversation.modelTurns, "ended": shownText(conversation.ended, limit: 200).text,
                "hasElided": (conversation.elided ?? 0) > 0, "elided": conversation.elided ?? 0,
                "items": items, "hasOmitted": omitted > 0, "omitted": note]
    }

    /// At most `limit` Unicode scalars of an agent-made text, control characters other than line
    /// feed and tab, and bidirectional overrides, shown as `\u{XX}` (a NUL, an escape or a
    /// right-to-left override never reaches the page as such), with a
    /// visible mark saying how many scalars were cut; and the scalars it took. Counted in scalars,
    /// not characters: one character can hold any number of combining scalars.
    static func shownText(_ text: String, limit: Int) -> (text: String, used: Int) {
        var out = String.UnicodeScalarView()
        var used = 0
        for scalar in text.unicodeScalars {
            guard used < limit else { break }
            used += 1
            let value = scalar.value
            if (value < 0x20 && scalar != "\n" && scalar != "\t") || (0x7F...0x9F).contains(value)
                || (0x202A...0x202E).contains(value) || (0x2066...0x2069).contains(value) {
                out.append(contentsOf: "\\u{\(String(value, radix: 16, uppercase: true))}".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        let total = text.unicodeScalars.count
        guard total > used else { return (String(out), used) }
        return (String(out) + "\n… (cut: \(total - used) more characters)", used)
    }

    /// At most ``maximumTextLength`` Unicode scalars (one character can hold any number of
    /// combining scalars), with a mark where it was cut.
    static func cut(_ text: String) -> String {
        guard text.unicodeScalars.count > maximumTextLength else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.prefix(maximumTextLength))) + "… (cut)"
    }
}

extension RunSummary {
    /// `notStored(fifo) 2, emptyStep 1`, unescaped (for escaping templates).
    static func reasonsPlain(_ counts: [String: Int]) -> String {
        counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }
}
