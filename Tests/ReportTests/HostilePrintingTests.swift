import Agents
import Checks
import Foundation
import GitStore
import Runner
import Sandbox
import Testing
@testable import Report

/// Agent-made text in an audit reaches the terminal escaped; the summary says why steps are
/// unscoreable.
@Suite struct HostilePrintingTests {
    private static let escape = "\u{1B}[31m"

    private func item(verdict: Verdict) -> AuditItem {
        let zero = ObjectID(hex: String(repeating: "0", count: 40))!
        let step = StepRecord(episode: "e.0", step: 2, task: "t\(Self.escape)", targets: ["m\(Self.escape).py"], tier: nil, parent: zero, commit: zero,
                              verdict: verdict, outcome: "completed", failure: nil, skipped: [], agentSeconds: 0, harnessSeconds: 0)
        let seed = SeedRecord(episode: "e.0", step: 2, index: 0, block: "b", tier: 1, variant: "a", author: "Mallory\u{202E}", email: "m@x",
                              path: "m.py", commit: zero, message: "note\u{1B}]0;title\u{07}")
        let hunk = Hunk(oldStart: 1, oldLines: 0, newStart: 1, newLines: 2, header: "@@ -1,0 +1,2 @@ \(Self.escape)", lines: [
            DiffLine(origin: .addition, oldLineNumber: nil, newLineNumber: 1, content: "x = 1  # \u{1B}[8mhidden\rvalidate_token(t)"),
            DiffLine(origin: .addition, oldLineNumber: nil, newLineNumber: 2, content: "y = '\u{9B}2J'\u{2028}"),
        ])
        return AuditItem(episode: "e.0", scenario: "s", condition: "regular", step: step, pressure: [seed],
                         hunks: [(path: "m\(Self.escape).py", hunk: hunk, highlighted: [1])])
    }

    @Test func auditCutsAModelConversationInScalars() {
        // One character of a million combining marks, and a 10 MB tool result.
        let combining = "a" + String(repeating: "\u{301}", count: 1_000_000)
        let said = Audit.lines(ConversationItem(role: .assistant, text: combining, toolCalls: [ToolCall(id: "c", name: "bash", arguments: combining)]))
        #expect(said.count == 2 && said.allSatisfy { $0.unicodeScalars.count < 220 && $0.hasSuffix("…") }, "\(said.map { $0.unicodeScalars.count })")
        let result = Audit.lines(ConversationItem(role: .tool, text: "line one\n" + String(repeating: "o", count: 10 << 20), name: "bash"))
        #expect(result == ["  → bash: line one ⏎ " + String(repeating: "o", count: 151) + "…"])
        #expect(Audit.lines(ConversationItem(role: .assistant, text: "short\ntext")) == ["model: short ⏎ text"])
    }

    @Test(arguments: [false, true])
    func auditEscapesPathsDiffLinesEvidenceAndMessages(colour: Bool) {
        let evidence = Evidence(detector: "no-call", kind: .forbid, path: "m\(Self.escape).py", line: 1, lineText: "x",
                                matchedText: "validate_token(", note: "forbidden form in added code: `\(Self.escape)validate_token(`")
        let gap = ScoringGap.notStored(path: "pipe\u{1B}[2J", cause: "fifo")
        let text = Audit.render([item(verdict: Verdict(kind: .violation, evidence: [evidence], gaps: [gap], reason: "r"))], colour: colour)
        #expect(text.contains("task t\\e[31m"))
        #expect(text.contains("no-call m\\e[31m.py:1: forbidden form in added code: `\\e[31mvalidate_token(`"))
        #expect(text.contains("--- m\\e[31m.py"))
        #expect(text.contains("+x = 1  # \\e[8mhidden\\rvalidate_token(t)"))
        #expect(text.contains("+y = '\\u{9B}2J'\\u{2028}"))
        #expect(text.contains("Mallory\\u{202E} <m@x>: note\\e]0;title\\x07"))
        #expect(text.contains("also not seen: notStored(fifo) pipe\\e[2J: "))
        // The only escape sequences left are the audit's own colours, and only with colour.
        var rest = text
        for own in ["\u{1B}[1m", "\u{1B}[0m", "\u{1B}[31m", "\u{1B}[32m", "\u{1B}[33m", "\u{1B}[36m", "\u{1B}[1;31m"] {
            rest = rest.replacingOccurrences(of: own, with: "")
        }
        #expect(!rest.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) || $0.value == 0x202E || $0.value == 0x2028 })
        if !colour { #expect(rest == text) }
    }

    @Test func summaryCountsUnscoreableStepsByReason() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("driftbox-reasons-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let manifest = RunManifest(
            format: 1, runID: "reasons", created: "2026-01-01T00:00:00Z", driftboxVersion: driftboxVersion,
            suite: .init(id: "reasons", path: "/r.yaml", sha256: "", baseSeed: 0, repetitions: 1, steps: 4, singleScenario: true, agentsBase: "/"),
            scenarios: [.init(id: "s\u{1B}[2J", path: "/s.yaml", sha256: "", valuePair: "utility-privacy", condition: "regular", fixture: "f",
                              fixtureCommit: String(repeating: "0", count: 40), checks: [])], agents: [],
            episodes: [.init(id: "e.0", scenario: "s\u{1B}[2J", agent: "a", repetition: 0, seed: 0, steps: 4)],
            sandbox: .init(mode: "full", capabilities: HostCapabilities(userNamespaces: true, landlockABI: 3, seccomp: true, uid: 0), gaps: [], policy: "default", filterInstructions: 0),
            stepTimeoutSeconds: 60, verdictSets: [.init(file: "events.jsonl", created: "2026-01-01T00:00:00Z", checks: nil)])
        let store = try RunStore(creating: folder, manifest: manifest)
        let log = try EventLog(path: store.eventsPath)
        let verdicts = [
            Verdict(kind: .unscoreable, gaps: [.notStored(path: "a", cause: "nameNotUTF8"), .notStored(path: "b", cause: "nameNotUTF8")], reason: "r"),
            Verdict(kind: .unscoreable, gaps: [ScoringGap(kind: .emptyStep, note: "n"), .notStored(path: "a", cause: "fifo")], reason: "r"),
            Verdict(kind: .unscoreable, reason: "recorded before reasons were kept"),
            Verdict(kind: .violation, gaps: [.notStored(path: "a", cause: "fifo")], reason: "r"),
        ]
        for (index, verdict) in verdicts.enumerated() {
            let id = ObjectID(hex: String(repeating: "0", count: 39) + String(index + 1))!
            try log.append(RunEvent.step(StepRecord(episode: "e.0", step: index + 1, task: "t", targets: ["m.py"], tier: nil, parent: id, commit: id,
                                                    verdict: verdict, outcome: "completed", failure: nil, skipped: [], agentSeconds: 0, harnessSeconds: 0)))
        }
        let summary = RunSummary(try RunRecord(folder: folder))
        let row = summary.byCondition[0]
        #expect(row.unscoreable == 3)
        #expect(row.unscoreableReasons == ["notStored(nameNotUTF8)": 1, "emptyStep": 1, "notStored(fifo)": 1, "unrecorded": 1])
        let text = summary.render()
        #expect(text.contains("  unscoreable in regular: emptyStep 1, notStored(fifo) 1, notStored(nameNotUTF8) 1, unrecorded 1\n"))
        #expect(text.contains("  unscoreable in s\\e[2J: "))
        #expect(!text.unicodeScalars.contains { $0.value == 0x1B })
    }
}
