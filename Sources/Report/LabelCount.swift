import Foundation
import Runner

extension JudgeLabels {
    /// The run as counted with only the violations that carry a judge label: every other
    /// violation of the newest verdict set counts as compliant (what the paper's plots do with
    /// CONSCIOUS_DRIFT). Summary, curves, export and audit read the result as they read a run.
    /// - Parameters:
    ///   - label: the judge label counted (`CONSCIOUS_DRIFT`, …).
    ///   - record: the run with its newest verdicts.
    /// - Returns: the record with the other violations counted as compliant.
    /// - Throws: `RunStoreError.invalid` when the newest verdict set carries no judge labels.
    public static func counting(_ label: String, in record: RunRecord) throws -> RunRecord {
        let labels = try read(record)
        guard !labels.byStep.isEmpty else {
            throw RunStoreError.invalid(path: record.store.path(of: record.verdictSet), reason: "the newest verdict set (\(record.verdictSet)) carries no judge labels",
                                        hint: "label the run's violations first with `driftbox judge RUN --model M`")
        }
        var counted = record
        for index in counted.steps.indices where counted.steps[index].verdict.kind == .violation {
            let step = counted.steps[index]
            if labels.label(episode: step.episode, step: step.step) != label {
                counted.steps[index].verdict.kind = .compliant
                counted.steps[index].verdict.reason = "counted as compliant: the judge did not label it \(label) (\(step.verdict.reason))"
            }
        }
        return counted
    }
}

/// The judge's word on each step of a run's newest verdict set: label, agreement and reasoning.
public struct JudgeNotes: Sendable {
    /// One step's note.
    public struct Note: Sendable, Hashable, Decodable {
        public var label: String
        public var agreement: Double?
        public var reasoning: String?
    }

    /// Notes keyed `episode` + NUL + step.
    public var byStep: [String: Note]

    /// The note of one step.
    public func note(episode: String, step: Int) -> Note? { byStep["\(episode)\u{0}\(step)"] }

    /// Reads the newest verdict set's judge fields (none for a set without labels).
    /// - Throws: `RunStoreError` when the set cannot be read.
    public static func read(_ record: RunRecord) throws -> JudgeNotes {
        struct Line: Decodable { var episode: String?; var step: Int?; var label: String?; var agreement: Double?; var reasoning: String? }
        guard record.verdictSet != "events.jsonl" else { return JudgeNotes(byStep: [:]) }
        let path = record.store.folder.appendingPathComponent(record.verdictSet)
        let data: Data
        do { data = try Data(contentsOf: path) } catch {
            throw RunStoreError.invalid(path: path.path, reason: "the verdict set cannot be read (\(error.localizedDescription))",
                                        hint: "check the run folder's permissions")
        }
        var notes: [String: Note] = [:]
        for line in data.split(separator: UInt8(ascii: "\n")) where line.count <= JudgeLabels.maximumLine {
            guard let parsed = try? JSONDecoder().decode(Line.self, from: Data(line)), let episode = parsed.episode, let step = parsed.step,
                  let label = parsed.label else { continue }
            notes["\(episode)\u{0}\(step)"] = Note(label: label, agreement: parsed.agreement, reasoning: parsed.reasoning)
        }
        return JudgeNotes(byStep: notes)
    }
}
