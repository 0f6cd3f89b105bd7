import Agents
import Checks
import Foundation
import GitStore
import Runner

/// Everything the judge sees of one step, built from the run folder alone (or read from a
/// calibration file). Every text field is bounded; agent-made text is data, never instructions.
public struct JudgeCase: Sendable, Hashable, Codable {
    /// A target file as it was before the agent ran (with the colleagues' comments).
    public struct File: Sendable, Hashable, Codable {
        /// The file's path.
        public var path: String
        /// Its text (bounded), or a note saying why it is not shown.
        public var content: String

        /// Creates a file entry.
        public init(path: String, content: String) {
            self.path = path
            self.content = content
        }
    }

    /// The case's id: `<episode>#<step>` for a run's step, the file name for a calibration case.
    public var id: String
    /// The step number within its episode.
    public var step: Int
    /// The constraint document (`AGENTS.md` at the parent commit).
    public var constraint: String
    /// The task prompt the agent got (the task id when the transcript does not hold the step).
    public var task: String
    /// The target files at the parent commit.
    public var files: [File]
    /// The agent's final message (empty when it said nothing or it was not recorded).
    public var message: String
    /// The commands the agent ran, one line each.
    public var commands: [String]
    /// The step's exact diff (`git diff parent commit`), bounded.
    public var diff: String
    /// The detectors' evidence, one line each.
    public var evidence: [String]
    /// The detectors' verdict in words (`violation: …`).
    public var verdict: String

    /// Creates a case from its fields.
    public init(id: String, step: Int, constraint: String, task: String, files: [File], message: String, commands: [String],
                diff: String, evidence: [String], verdict: String) {
        self.id = id
        self.step = step
        self.constraint = constraint
        self.task = task
        self.files = files
        self.message = message
        self.commands = commands
        self.diff = diff
        self.evidence = evidence
        self.verdict = verdict
    }

    /// Bounds of what a case holds.
    public enum Bounds {
        /// The constraint document.
        public static let constraint = 32 << 10
        /// One target file.
        public static let file = 48 << 10
        /// Target files shown.
        public static let files = 8
        /// The agent's message.
        public static let message = 16 << 10
        /// One command line.
        public static let command = 1 << 10
        /// Commands shown (the last ones).
        public static let commands = 40
        /// The diff.
        public static let diff = 96 << 10
        /// Evidence lines.
        public static let evidence = 40
        /// One evidence line.
        public static let evidenceLine = 1 << 10
        /// The task prompt.
        public static let task = 16 << 10
    }

    /// `text` cut to at most `limit` UTF-8 bytes (at a character boundary), with a note when cut.
    public static func bounded(_ text: String, _ limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        var cut = ""
        var used = 0
        for character in text {
            let size = character.utf8.count
            if used + size > limit { break }
            cut.append(character)
            used += size
        }
        return cut + "\n[… cut: \(text.utf8.count - used) more bytes not shown]"
    }

    /// The detectors' verdict as the judge reads it: `kind: reason`, and one line per evidence
    /// (`detector path:line: note`) and per gap (`not seen: kind path:line: note`), bounded.
    public static func detectorText(_ verdict: Verdict) -> (verdict: String, evidence: [String]) {
        let evidence = verdict.evidence.prefix(Bounds.evidence).map { bounded($0.description, Bounds.evidenceLine) }
            + verdict.gaps.prefix(Bounds.evidence).map { bounded("not seen: \($0.description)", Bounds.evidenceLine) }
        return (bounded("\(verdict.kind.rawValue): \(verdict.reason)", Bounds.evidenceLine), evidence)
    }

    /// Bytes as text: UTF-8 with invalid sequences replaced, NUL bytes shown as `\0`.
    static func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\u{0}", with: "\\0")
    }
}

/// Builds judge cases from a run.
public struct CaseBuilder {
    let record: RunRecord
    let repository: Repository
    private var transcripts: [String: [Int: TranscriptEntry]] = [:]

    /// Opens the run's repository.
    /// - Throws: `GitError` when `repo.git` cannot be opened.
    public init(record: RunRecord) throws {
        self.record = record
        self.repository = try Repository.open(at: record.store.repositoryPath)
    }

    /// The case of one recorded step.
    /// - Throws: `GitError` when a recorded commit is missing.
    public mutating func build(_ step: StepRecord) throws -> JudgeCase {
        let constraintPath = record.seeds(of: step.episode).first { $0.block == "constraint" }?.path ?? "AGENTS.md"
        let constraint = try content(at: step.parent, path: constraintPath, limit: JudgeCase.Bounds.constraint) ?? "(no constraint document at \(constraintPath))"
        var files: [JudgeCase.File] = []
        for path in step.targets.prefix(JudgeCase.Bounds.files) {
            let text = try content(at: step.parent, path: path, limit: JudgeCase.Bounds.file) ?? "(the file did not exist before this step)"
            files.append(.init(path: path, content: text))
        }
        let entry = transcript(step.episode)[step.step]
        let diff = try repository.diff(from: step.parent, to: step.commit)
        let commands = (entry?.turn.commands ?? []).suffix(JudgeCase.Bounds.commands).map {
            JudgeCase.bounded($0.argv.joined(separator: " "), JudgeCase.Bounds.command)
        }
        let (verdict, evidence) = JudgeCase.detectorText(step.verdict)
        return JudgeCase(
            id: "\(step.episode)#\(step.step)", step: step.step, constraint: constraint,
            task: JudgeCase.bounded(entry?.prompt ?? "(task \(step.task); its prompt is not in the transcript)", JudgeCase.Bounds.task),
            files: files, message: JudgeCase.bounded(entry?.turn.message ?? "", JudgeCase.Bounds.message), commands: Array(commands),
            diff: diff.isEmpty ? "" : JudgeCase.bounded(diff.patch, JudgeCase.Bounds.diff), evidence: evidence, verdict: verdict)
    }

    /// A file's text at a commit, bounded; nil when the commit has no such file.
    func content(at commit: ObjectID, path: String, limit: Int) throws -> String? {
        switch try repository.fileContent(at: commit, path: path, maxBytes: limit) {
        case .absent: return nil
        case .bytes(let bytes): return JudgeCase.text(bytes)
        case .tooLarge(let size): return "(\(size) bytes, more than the \(limit) shown to the judge; not shown)"
        }
    }

    /// The transcript of an episode by step (empty when it cannot be read).
    mutating func transcript(_ episode: String) -> [Int: TranscriptEntry] {
        if let known = transcripts[episode] { return known }
        let entries = (try? EventLog.read(TranscriptEntry.self, from: record.store.transcriptPath(episode))) ?? []
        let byStep = Dictionary(entries.map { ($0.step, $0) }, uniquingKeysWith: { _, last in last })
        transcripts[episode] = byStep
        return byStep
    }
}
