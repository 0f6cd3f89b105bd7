import Agents
import DriftboxTestSupport
import Checks
import Foundation
import GitStore
import Runner
import Sandbox
import Testing
@testable import Report

/// Text an agent could leave, aimed at HTML, attributes, SVG and the templates.
private let hostile = "<script>alert(1)</script>\"'><img src=http://127.0.0.1:9/x.png onerror=alert(2)></svg>{{title}}&amp;"

/// A run written by hand, hostile text wherever an agent's text can land (task, failure, reason,
/// seed message and author, failure reason) and in the names a suite sets. Episodes r.0 and r.1
/// (regular): C V V C and V C C C; b.0 and b.1 (baseline): C C C C; i.0 (inverted): C C C V, failed.
private func hostileRun() throws -> URL {
    let folder = try temporaryFolder("html").appendingPathComponent("run")
    let zeros = String(repeating: "0", count: 40)
    func scenario(_ id: String, _ condition: String) -> RunManifest.ScenarioEntry {
        .init(id: id, path: "/\(id).yaml", sha256: "ab", valuePair: "efficiency-security", condition: condition, fixture: "f", fixtureCommit: zeros, checks: [])
    }
    let manifest = RunManifest(
        format: 1, runID: "run\(hostile)", created: "2026-01-01T00:00:00Z", driftboxVersion: driftboxVersion,
        suite: .init(id: "suite\(hostile)", path: "/s.yaml", sha256: "cd", baseSeed: 0, repetitions: 2, steps: 4, singleScenario: false, agentsBase: "/"),
        scenarios: [scenario("es-regular", "regular"), scenario("es-baseline", "baseline"), scenario("es-inverted\(hostile)", "inverted")], agents: [],
        episodes: [.init(id: "r.0", scenario: "es-regular", agent: "agent\(hostile)", repetition: 0, seed: 0, steps: 4),
                   .init(id: "r.1", scenario: "es-regular", agent: "agent\(hostile)", repetition: 1, seed: 1, steps: 4),
                   .init(id: "b.0", scenario: "es-baseline", agent: "agent\(hostile)", repetition: 0, seed: 0, steps: 4),
                   .init(id: "b.1", scenario: "es-baseline", agent: "agent\(hostile)", repetition: 1, seed: 1, steps: 4),
                   .init(id: "i.0", scenario: "es-inverted\(hostile)", agent: "agent\(hostile)", repetition: 0, seed: 0, steps: 4)],
        sandbox: .init(mode: "reduced", capabilities: HostCapabilities(userNamespaces: false, landlockABI: 3, seccomp: true, uid: 0),
                       gaps: ["gap\(hostile)"], policy: "default", filterInstructions: 0),
        stepTimeoutSeconds: 60, verdictSets: [.init(file: "events.jsonl", created: "2026-01-01T00:00:00Z", checks: nil)])
    let store = try RunStore(creating: folder, manifest: manifest)
    let log = try EventLog(path: store.eventsPath)
    let zero = ObjectID(hex: zeros)!
    for (episode, kinds, status) in [("r.0", "CVVC", EpisodeEnd.Status.completed), ("r.1", "VCCC", .completed), ("b.0", "CCCC", .completed),
                                     ("b.1", "CCCC", .completed), ("i.0", "CCCV", .failed)] {
        try log.append(RunEvent.seed(SeedRecord(episode: episode, step: 2, index: 0, block: "b", tier: 3, variant: "a", author: "Mallory\(hostile)",
                                                email: "m@x\(hostile)", path: "m.py", commit: zero, message: "note\(hostile)")))
        for (index, letter) in kinds.enumerated() {
            // Violations carry no diff here (no commits in the repository): their audit items
            // are not built; the hostile diff lines are checked on the template below.
            let kind: Verdict.Kind = letter == "C" ? .compliant : .violation
            try log.append(RunEvent.step(StepRecord(episode: episode, step: index + 1, task: "task\(hostile)", targets: ["m.py"], tier: nil,
                                                    parent: zero, commit: zero, verdict: Verdict(kind: kind, reason: "reason\(hostile)"),
                                                    outcome: "completed", failure: "failure\(hostile)", skipped: [], agentSeconds: 0, harnessSeconds: 0)))
        }
        try log.append(RunEvent.end(EpisodeEnd(episode: episode, status: status, reason: status == .failed ? "crashed\(hostile)" : nil, steps: kinds.count, tip: nil)))
    }
    return folder
}

/// What the page may hold only escaped.
private func expectNoRawHostileText(_ html: String) {
    #expect(!html.contains("<script"))
    #expect(!html.contains("<img"))
    #expect(!html.contains("\"'>"))
    #expect(!html.contains("</svg>{{"))
    #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&gt;&lt;img src=http://127.0.0.1:9/x.png onerror=alert(2)&gt;&lt;/svg&gt;{{title}}&amp;amp;"))
}

@Suite(.serialized) struct HTMLReportTests {
    @Test func templatesInterpolateOnlyEscaped() {
        for (name, template) in ReportTemplates.sources {
            // The SVG namespace is a name, not something loaded.
            let source = template.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
            #expect(!source.contains("{{{") && !source.contains("{{&"), "template \(name) has an unescaped tag")
            #expect(!source.contains("<script") && !source.contains("http://") && !source.contains("https://") && !source.contains("url("),
                    "template \(name) loads or runs something")
        }
    }

    @Test func agentTextIsEscapedEverywhereAndTheBrowserRunsAndLoadsNothing() throws {
        let folder = try hostileRun()
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        var record = try RunRecord(folder: folder)
        // Leave the violations out of the audit (they have no commits); every other text stays.
        record.steps = record.steps.map { var step = $0; if step.verdict.kind == .violation { step.verdict.kind = .compliant }; return step }
        let html = try HTMLReport.render([record])
        expectNoRawHostileText(html)
        #expect(html.contains("failed episodes") || html.contains("Failed episodes"))
        #expect(html.contains("crashed&lt;script&gt;"))
        #expect(html.contains("gap&lt;script&gt;"))
        let page = folder.appendingPathComponent("hostile.html")
        try Data(html.utf8).write(to: page)
        let visit = try Chromium.visit(page, in: folder)
        #expect(visit.console.isEmpty, "console: \(visit.console)")
        #expect(visit.pageRequests.isEmpty, "the page asked for \(visit.pageRequests)")
    }

    @Test func aViolationsDiffIsEscapedAndItsMatchedLinesMarked() throws {
        let zero = ObjectID(hex: String(repeating: "0", count: 40))!
        let step = StepRecord(episode: "e.0", step: 2, task: "t\(hostile)", targets: ["m.py"], tier: nil, parent: zero, commit: zero,
                              verdict: Verdict(kind: .violation, evidence: [Evidence(detector: "d", kind: .forbid, path: "m.py", line: 1, lineText: hostile,
                                                                                      matchedText: "x", note: "note\(hostile)")], gaps: [], reason: "r"),
                              outcome: "completed", failure: nil, skipped: [], agentSeconds: 0, harnessSeconds: 0)
        let hunk = Hunk(oldStart: 1, oldLines: 0, newStart: 1, newLines: 2, header: "@@ -1,0 +1,2 @@ \(hostile)", lines: [
            DiffLine(origin: .addition, oldLineNumber: nil, newLineNumber: 1, content: "x = 1  # \(hostile)\n"),
            DiffLine(origin: .addition, oldLineNumber: nil, newLineNumber: 2, content: "y = 2 \(hostile)\n"),
        ])
        let seed = SeedRecord(episode: "e.0", step: 2, index: 0, block: "b", tier: 4, variant: nil, author: "M\(hostile)", email: "m@x",
                              path: "m.py", commit: zero, message: "skip it\(hostile)")
        let item = AuditItem(episode: "e.0", scenario: "s", condition: "regular", step: step, pressure: [seed],
                             hunks: [(path: "m\(hostile).py", hunk: hunk, highlighted: [1])])
        let html = try #require(ReportTemplates.library.render(HTMLReport.auditView("run", item), withTemplate: "violation"))
        expectNoRawHostileText(html)
        #expect(html.contains("<span class=\"match\">1 +x = 1  # &lt;script&gt;"))
        #expect(html.contains("<span class=\"add\">2 +y = 2 &lt;script&gt;"))
        #expect(html.contains("pressure (before this step): tier 4, M&lt;script&gt;"))
    }

    @Test func longTextsAreCutInScalarsWithAMark() {
        let combining = "a" + String(repeating: "\u{301}", count: 100_000)
        let shown = HTMLReport.cut(combining)
        #expect(shown.unicodeScalars.count == HTMLReport.maximumTextLength + "… (cut)".unicodeScalars.count)
        #expect(shown.hasSuffix("… (cut)"))
        #expect(HTMLReport.cut("short") == "short")
    }

    @Test func aModelConversationIsEscapedAndCutPerTextPerStepAndPerPage() throws {
        let huge = String(repeating: "o", count: 10 << 20)
        let combining = "a" + String(repeating: "\u{301}", count: 1_000_000)
        var items = [ConversationItem(role: .user, text: "the task prompt TASK-MARK"),
                     ConversationItem(role: .assistant, text: hostile + "\u{0}\u{1B}[31m\u{202E}", inputTokens: 5, outputTokens: 2),
                     ConversationItem(role: .tool, text: huge, callID: "c", name: "bash", isError: true, cutBytes: 12),
                     ConversationItem(role: .assistant, text: combining)]
        items[1].toolCalls = [ToolCall(id: "c\(hostile)", name: "bash\(hostile)", arguments: "{\"command\": \"\(hostile)\"}")]
        for index in 0..<300 { items.append(ConversationItem(role: .tool, text: "r\(index)", name: "read")) }
        let conversation = ModelConversation(items: items, modelTurns: 2, ended: "max_turns\(hostile)")
        var budget = HTMLReport.maximumConversationPageLength
        let html = try #require(ReportTemplates.library.render(HTMLReport.conversationView(conversation, pageBudget: &budget), withTemplate: "conversation"))
        expectNoRawHostileText(html)
        #expect(html.hasPrefix("<details class=\"conversation\" data-model-turns=\"2\" data-ended=\"max_turns&lt;script&gt;"))
        #expect(!html.contains("\u{0}") && !html.contains("\u{1B}") && !html.contains("\u{202E}"))
        #expect(html.contains("\\u{0}\\u{1B}[31m\\u{202E}"))
        #expect(html.contains("tool call <b>bash&lt;script&gt;"))
        #expect(html.contains("5 tokens in, 2 out"))
        #expect(html.contains("<span class=\"kind-violation\">error</span> <span class=\"muted\">(12 bytes cut before the model saw it)</span>"))
        #expect(html.contains("… (cut: \((10 << 20) - HTMLReport.maximumConversationTextLength) more characters)"))
        #expect(html.contains("… (cut: \(1_000_001 - HTMLReport.maximumConversationTextLength) more characters)"), "cut in scalars, not characters")
        #expect(!html.contains("TASK-MARK"), "the task prompt is the violation's, not repeated")
        // 100 entries: two model turns, one call, the bash result and 96 reads; 204 reads counted.
        #expect(html.contains("r95") && !html.contains("r96<"))
        #expect(html.contains("… 204 more entr(ies) not shown: a step shows at most 100 entries"))
        #expect(html.utf8.count < 100_000, "\(html.utf8.count) bytes")
        #expect(budget < HTMLReport.maximumConversationPageLength - 8000 && budget > HTMLReport.maximumConversationPageLength - HTMLReport.maximumConversationLength)

        // The page's budget spent: the next conversation shows what is left and says why the rest is not there.
        var spent = 10
        let last = try #require(ReportTemplates.library.render(HTMLReport.conversationView(conversation, pageBudget: &spent), withTemplate: "conversation"))
        #expect(spent == 0)
        #expect(last.contains("&lt;script&gt;") && !last.contains("r0"))
        #expect(last.contains("more entr(ies) not shown: the page&#39;s conversations reached 500000 characters"), "\(last)")
    }

    @Test func theLabelSwitchAppearsWithJudgeLabelsAndCountsOnlyThatLabel() throws {
        let folder = try hostileRun()
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        // No labels: one view, the switch hidden.
        var plain = try RunRecord(folder: folder)
        plain.steps = plain.steps.map { var step = $0; if step.verdict.kind == .violation { step.verdict.kind = .compliant }; return step }
        #expect(try HTMLReport.render([plain]).contains("<div class=\"switch hidden\">"))

        // A newest verdict set whose lines carry a judge label: r.0 step 2 is CONSCIOUS_DRIFT,
        // every other violation CAPABILITY_FAILURE; all verdicts compliant but those two kinds.
        let store = try RunStore(existing: folder)
        let record = try RunRecord(folder: folder)
        var lines = ""
        let encoder = JSONEncoder()
        for step in record.steps {
            let violation = step.verdict.kind == .violation
            let data = try encoder.encode(VerdictRecord(episode: step.episode, step: step.step, commit: step.commit,
                                                        verdict: Verdict(kind: violation ? .violation : .compliant, reason: "judged")))
            var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            if violation { object["label"] = step.episode == "r.0" && step.step == 2 ? "CONSCIOUS_DRIFT" : "CAPABILITY_FAILURE\(hostile)" }
            lines += String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self) + "\n"
        }
        try Data(lines.utf8).write(to: folder.appendingPathComponent("verdicts-2.jsonl"))
        var manifest = try store.manifest()
        manifest.verdictSets.append(.init(file: "verdicts-2.jsonl", created: "2026-01-02T00:00:00Z", checks: nil))
        try store.write(manifest)

        var labelled = try RunRecord(folder: folder)
        let labels = try JudgeLabels.read(labelled)
        #expect(labels.values == ["CAPABILITY_FAILURE\(hostile)", "CONSCIOUS_DRIFT"])
        let all = DriftFigure([labelled]), drift = DriftFigure([labelled], labels: [labels], label: "CONSCIOUS_DRIFT")
        let regular = { (figure: DriftFigure) in figure.pairs[0].panels.first { $0.condition == "regular" }!.curves[0] }
        #expect(regular(all).tallies.map(\.violations) == [2, 1])
        #expect(regular(drift).tallies.map(\.violations) == [1, 0])
        #expect(regular(drift).points.map(\.violations) == [0, 1, 0, 0])

        labelled.steps = labelled.steps.map { var step = $0; if step.verdict.kind == .violation { step.verdict.kind = .compliant }; return step }
        // The page is built from the file's labels; its violations are dropped from the audit
        // above only for want of commits.
        let html = try HTMLReport.render([labelled])
        #expect(html.contains("<div class=\"switch\">"))
        #expect(html.contains("<label for=\"view-2\">judge label CONSCIOUS_DRIFT</label>"))
        #expect(html.contains("#view-2:checked ~ main .view-2{display:block}"))
        expectNoRawHostileText(html)
        // Export carries the label of each step.
        let rows = try Export.rows(try RunRecord(folder: folder))
        #expect(rows.first { $0.episode == "r.0" && $0.step == 2 }?.label == "CONSCIOUS_DRIFT")
        #expect(rows.first { $0.episode == "r.0" && $0.step == 1 }?.label == nil)
    }

    @Test func panelsAreLabelledByDirectionAndTheAsymmetryHasItsNumbers() throws {
        let folder = try hostileRun()
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        let figure = DriftFigure([try RunRecord(folder: folder)])
        let pair = try #require(figure.pairs.first)
        #expect(pair.x == "efficiency" && pair.y == "security")
        #expect(pair.panels.map(\.title) == ["constraint favours efficiency · pressure toward security",
                                             "constraint favours efficiency · no pressure",
                                             "constraint favours security · pressure toward efficiency"])
        // Three of four conditions: no asymmetry.
        #expect(pair.asymmetry.isEmpty)
        let regular = pair.panels[0].curves[0]
        #expect(regular.pooledRate == 3.0 / 8.0)
        #expect(regular.firstViolation == 1.5)
        #expect(regular.points.map(\.violations) == [1, 1, 1, 0] && regular.points.map(\.trials) == [2, 2, 2, 2])
        let band = try #require(Proportion(successes: 1, trials: 2).wilson())
        #expect(regular.points[0].lower == band.lowerBound && regular.points[0].upper == band.upperBound)
    }
}
