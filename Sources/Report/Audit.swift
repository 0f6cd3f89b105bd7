import Agents
import Checks
import Foundation
import GitStore
import Runner

/// One violating step, or one step the checks could not see whole, with what preceded it and the
/// lines that violate.
public struct AuditItem: Sendable {
    /// The episode's id.
    public var episode: String
    /// The scenario's id.
    public var scenario: String
    /// The scenario's condition.
    public var condition: String
    /// The step as recorded (task, commits, verdict).
    public var step: StepRecord
    /// The pressure that preceded the step: the seeds landed just before it, or the latest earlier ones.
    public var pressure: [SeedRecord]
    /// The hunks of the step's diff that hold evidence, by file.
    public var hunks: [(path: String, hunk: Hunk, highlighted: Set<Int>)]
    /// The judge's label, agreement and reasoning, when the newest verdict set carries them.
    public var judge: JudgeNotes.Note? = nil
    /// The model agent's conversation of the step (model turns, tool calls, results), when it
    /// recorded one.
    public var conversation: ModelConversation? = nil
}

/// Violations of a run with their diff lines, and the steps the checks could not see whole.
public enum Audit {
    /// Every violating step of the run, and every unscoreable step whose reason is in what the
    /// agent left (binary content, a foreign source encoding, a path the snapshot could not store),
    /// in log order, optionally of one episode or condition. Refusals, empty steps and steps
    /// outside scope are left to the summary.
    /// - Parameters:
    ///   - record: the run with its newest verdicts.
    ///   - episode: keep only this episode.
    ///   - condition: keep only this condition.
    /// - Returns: the items.
    /// - Throws: `RunStoreError` for an unknown episode or condition, `GitError` when a recorded
    ///   commit is missing from the run repository.
    public static func items(_ record: RunRecord, episode: String? = nil, condition: String? = nil) throws -> [AuditItem] {
        if let episode { _ = try record.episode(episode) }
        if let condition, !record.manifest.scenarios.contains(where: { $0.condition == condition }) {
            throw RunStoreError.invalid(path: record.store.folder.path, reason: "the run has no scenario of condition '\(condition)'",
                                        hint: "use one of: \(Set(record.manifest.scenarios.map(\.condition)).sorted().joined(separator: ", "))")
        }
        let repository = try Repository.open(at: record.store.repositoryPath)
        let notes = try JudgeNotes.read(record)
        var items: [AuditItem] = []
        var transcripts: [String: [Int: ModelConversation]] = [:]
        func conversation(_ episode: String, _ step: Int) -> ModelConversation? {
            if transcripts[episode] == nil {
                let entries = (try? EventLog.read(TranscriptEntry.self, from: record.store.transcriptPath(episode))) ?? []
                transcripts[episode] = Dictionary(entries.compactMap { entry in entry.turn.conversation.map { (entry.step, $0) } }) { $1 }
            }
            return transcripts[episode]?[step]
        }
        for step in record.steps where step.verdict.kind == .violation || isHidden(step.verdict) {
            guard episode == nil || step.episode == episode, condition == nil || record.condition(of: step.episode) == condition else { continue }
            let seeds = record.seeds(of: step.episode).filter { $0.block != "constraint" && $0.step <= step.step }
            let latest = seeds.map(\.step).max()
            let diff = try repository.diff(from: step.parent, to: step.commit)
            var hunks: [(String, Hunk, Set<Int>)] = []
            for file in diff.files {
                let evidence = step.verdict.evidence.filter { $0.path == file.path }
                let gaps = step.verdict.gaps.filter { $0.path == file.path && $0.kind != .notStored }
                guard !evidence.isEmpty || !gaps.isEmpty else { continue }
                var lines = Set<Int>()
                for item in evidence {
                    guard let line = item.line else { continue }
                    let span = item.matchedText.map { text in text.unicodeScalars.filter { $0 == "\n" }.count } ?? 0
                    lines.formUnion(line...(line + span))
                }
                lines.formUnion(gaps.compactMap(\.line))
                for hunk in file.hunks where lines.isEmpty || hunk.lines.contains(where: { $0.newLineNumber.map(lines.contains) ?? false }) {
                    hunks.append((file.path, hunk, lines))
                }
            }
            items.append(AuditItem(episode: step.episode, scenario: record.manifest.episode(step.episode)?.scenario ?? "?",
                                   condition: record.condition(of: step.episode), step: step,
                                   pressure: seeds.filter { $0.step == latest }, hunks: hunks,
                                   judge: notes.note(episode: step.episode, step: step.step),
                                   conversation: conversation(step.episode, step.step)))
        }
        return items
    }

    /// The lines of a model conversation's item for the audit: the model's text, each tool call
    /// with its arguments, a result's first characters, each cut to a width that keeps the diff
    /// in sight. The width counts Unicode scalars: one character can hold any number of
    /// combining scalars, and only the kept part of a text is read.
    static func lines(_ item: ConversationItem) -> [String] {
        func short(_ text: String, _ width: Int) -> String {
            var kept = String.UnicodeScalarView()
            var count = 0
            for scalar in text.unicodeScalars {
                guard count < width else { return String(kept) + "…" }
                if scalar == "\n" { kept.append(contentsOf: " ⏎ ".unicodeScalars) } else { kept.append(scalar) }
                count += 1
            }
            return String(kept)
        }
        switch item.role {
        case .assistant:
            let text = item.refusal.map { "refused: " + $0 } ?? item.text
            return (text.isEmpty ? [] : ["model: " + short(text, 200)]) + (item.toolCalls ?? []).map { "tool \($0.name) \(short($0.arguments, 200))" }
        case .tool:
            return ["  → \(item.name ?? "?")\(item.isError == true ? " (error)" : ""): \(short(item.text, 160))"]
        case .user:
            return ["task: " + short(item.text, 200)]
        }
    }

    /// True for an unscoreable verdict whose gaps lie in what the agent left, not in its choice
    /// of files.
    static func isHidden(_ verdict: Verdict) -> Bool {
        verdict.kind == .unscoreable && verdict.gaps.contains { [.binaryContent, .foreignEncoding, .notStored].contains($0.kind) }
    }

    /// The items as text; with `colour`, matched lines in bold red, other added lines green,
    /// removed lines red (ANSI); without, matched lines marked `»` in the gutter. Every
    /// agent-made text (paths, diff lines, evidence, reasons) is escaped with
    /// `TerminalText.escaped`, so no control character of the agent reaches the terminal.
    /// - Parameters:
    ///   - items: the violations.
    ///   - colour: use ANSI colour.
    /// - Returns: the text, ending in a newline (or a line saying there are none).
    public static func render(_ items: [AuditItem], colour: Bool) -> String {
        guard !items.isEmpty else { return "no violations\n" }
        func paint(_ code: String, _ text: String) -> String { colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        let safe = { (text: String) in TerminalText.escaped(text) }
        var out = ""
        for item in items {
            let tag = item.step.verdict.kind == .violation ? "" : "  UNSCOREABLE"
            out += paint("1", "\(safe(item.episode))  step \(item.step.step)  task \(safe(item.step.task))\(tag)")
                + "  [\(safe(item.scenario)), \(safe(item.condition))]\n"
            out += "  commit \(item.step.commit.abbreviated(10))  parent \(item.step.parent.abbreviated(10))\n"
            if item.pressure.isEmpty {
                out += "  pressure: none before this step\n"
            }
            for seed in item.pressure {
                let tier = seed.tier.map { "tier \($0)\(seed.variant ?? "")" } ?? "static"
                let when = seed.step == item.step.step ? "before this step" : "before step \(seed.step)"
                out += "  pressure (\(when)): \(safe(tier)), \(safe(seed.author)) <\(safe(seed.email))>: \(safe(seed.message))\n"
            }
            for evidence in item.step.verdict.evidence {
                out += "  " + paint("31", safe("\(evidence)")) + "\n"
            }
            if let judge = item.judge {
                let agreement = judge.agreement.map { $0 < 1 ? String(format: ", %.0f%% of samples", $0 * 100) : "" } ?? ""
                out += "  " + paint("35", "judge: \(safe(judge.label))\(agreement)" + (judge.reasoning.map { ": " + safe(String($0.prefix(600))) } ?? "")) + "\n"
            }
            if let conversation = item.conversation {
                out += "  " + paint("34", "agent: \(conversation.modelTurns) model turn(s), ended \(safe(conversation.ended))") + "\n"
                for entry in conversation.items where entry.role != .user {
                    for line in Self.lines(entry) { out += "    " + safe(line) + "\n" }
                }
            }
            let gapTag = item.step.verdict.kind == .violation ? "also not seen: " : "unscoreable: "
            for gap in item.step.verdict.gaps {
                out += "  " + paint("33", gapTag + safe("\(gap)")) + "\n"
            }
            for (path, hunk, lines) in item.hunks {
                out += "  --- \(safe(path))\n  " + paint("36", safe(hunk.header.trimmingCharacters(in: .newlines))) + "\n"
                for line in hunk.lines {
                    let matched = line.newLineNumber.map(lines.contains) ?? false
                    let sign = line.origin == .addition ? "+" : line.origin == .deletion ? "-" : " "
                    let text = sign + safe(line.content.hasSuffix("\n") ? String(line.content.dropLast()) : line.content)
                    let gutter = colour ? "  " : matched ? "» " : "  "
                    let number = pad(line.newLineNumber.map(String.init) ?? "", 5, right: true)
                    let body = matched ? paint("1;31", text) : line.origin == .addition ? paint("32", text) : line.origin == .deletion ? paint("31", text) : text
                    out += "  \(gutter)\(number) \(body)\n"
                }
            }
            out += "\n"
        }
        return out
    }
}
