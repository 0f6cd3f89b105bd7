import Checks
import Foundation
import Gateway

/// A labelled judge case: what the judge sees, and the label a careful reader gives it.
public struct CalibrationCase: Sendable, Hashable {
    /// The case (its id is the file name without extension).
    public var item: JudgeCase
    /// The expected label.
    public var expected: JudgeLabel
    /// What the case tests (a detector trap, a form of drift), in words.
    public var note: String

    /// The largest calibration file read.
    static let maximumFile = 1 << 20

    /// Reads every `*.json` file of a folder, in name order. A file holds the fields of a
    /// ``JudgeCase`` (without `id`; `constraintFile`, a path relative to the folder, may stand for
    /// `constraint`) and `expected` and `note`.
    /// - Throws: `JudgeError` for an unreadable folder or file, or an unknown label.
    public static func load(folder: URL) throws -> [CalibrationCase] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else {
            throw JudgeError("the calibration folder \(folder.path) cannot be read", hint: "give a folder of labelled cases with --cases")
        }
        struct Header: Decodable { var expected: String; var note: String? }
        var cases: [CalibrationCase] = []
        for name in names.sorted() where name.hasSuffix(".json") {
            let file = folder.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: file.path), data.count <= maximumFile else {
                throw JudgeError("the calibration case \(file.path) cannot be read (or is over 1 MiB)", hint: "check the file")
            }
            let id = String(name.dropLast(5))
            do {
                var object = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
                object["id"] = id
                // The constraint may be named instead of copied: a file relative to the case's folder.
                if object["constraint"] == nil, let name = object["constraintFile"] as? String {
                    let constraint = folder.appendingPathComponent(name).standardizedFileURL
                    guard let text = FileManager.default.contents(atPath: constraint.path), text.count <= JudgeCase.Bounds.constraint else {
                        throw JudgeError("the calibration case \(file.path) names the constraint \(constraint.path), which cannot be read (or is too large)", hint: "fix constraintFile")
                    }
                    object["constraint"] = String(decoding: text, as: UTF8.self)
                }
                let item = try JSONDecoder().decode(JudgeCase.self, from: try JSONSerialization.data(withJSONObject: object))
                let header = try JSONDecoder().decode(Header.self, from: data)
                guard let expected = JudgeLabel(option: header.expected) else {
                    throw JudgeError("the calibration case \(file.path) expects '\(header.expected)', not a label", hint: "use one of \(JudgeLabel.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                cases.append(CalibrationCase(item: item, expected: expected, note: header.note ?? ""))
            } catch let error as JudgeError { throw error } catch {
                throw JudgeError("the calibration case \(file.path) is not a judge case (\(error))",
                                 hint: "give constraint, task, step, files, message, commands, diff, evidence, verdict, expected and note")
            }
        }
        guard !cases.isEmpty else { throw JudgeError("the calibration folder \(folder.path) holds no *.json case", hint: "give a folder of labelled cases with --cases") }
        return cases
    }
}

/// Agreement of the judge with the labels of a calibration set.
public struct CalibrationReport: Sendable, Codable {
    /// One case's outcome.
    public struct Row: Sendable, Codable {
        public var id: String
        public var expected: JudgeLabel
        public var got: JudgeLabel
        public var agreement: Double
        public var note: String
    }

    /// Every case.
    public var rows: [Row]
    /// `confusion[expected][got]`: cases, keyed by label.
    public var confusion: [String: [String: Int]]
    /// Share of cases where the judge gave the expected label.
    public var accuracy: Double
    /// Cohen's κ between the expected labels and the judge's: (p_o − p_e) / (1 − p_e); nil when
    /// p_e is 1 (a single label on both sides).
    public var kappa: Double?
    /// Per label: recall (of the cases expecting it, the share the judge gave it) and precision
    /// (of the cases the judge gave it, the share expecting it); nil when undefined.
    public var recall: [String: Double]
    public var precision: [String: Double]

    /// Computes the report from (expected, got) pairs.
    public init(rows: [Row]) {
        self.rows = rows
        var confusion: [String: [String: Int]] = [:]
        for expected in JudgeLabel.allCases {
            confusion[expected.rawValue] = Dictionary(uniqueKeysWithValues: JudgeLabel.allCases.map { ($0.rawValue, 0) })
        }
        for row in rows { confusion[row.expected.rawValue]![row.got.rawValue]! += 1 }
        self.confusion = confusion
        let n = Double(rows.count)
        let agreeing = Double(rows.filter { $0.expected == $0.got }.count)
        accuracy = n > 0 ? agreeing / n : 0
        var chance = 0.0
        var recall: [String: Double] = [:], precision: [String: Double] = [:]
        for label in JudgeLabel.allCases {
            let expected = Double(rows.filter { $0.expected == label }.count)
            let got = Double(rows.filter { $0.got == label }.count)
            let both = Double(confusion[label.rawValue]![label.rawValue]!)
            if n > 0 { chance += (expected / n) * (got / n) }
            if expected > 0 { recall[label.rawValue] = both / expected }
            if got > 0 { precision[label.rawValue] = both / got }
        }
        kappa = n > 0 && chance < 1 ? (accuracy - chance) / (1 - chance) : nil
        self.recall = recall
        self.precision = precision
    }

    /// The report as text: accuracy, κ, the confusion table and the disagreeing cases. Case ids
    /// and notes are escaped.
    public func render() -> String {
        func percent(_ value: Double?) -> String { value.map { String(format: "%.0f%%", $0 * 100) } ?? "—" }
        let short = ["COMPLIED": "COMPLIED", "CAPABILITY_FAILURE": "CAPABILITY", "CONSCIOUS_DRIFT": "DRIFT", "AMBIGUOUS": "AMBIGUOUS"]
        var out = "cases: \(rows.count)  accuracy: \(String(format: "%.3f", accuracy))  Cohen's kappa: \(kappa.map { String(format: "%.3f", $0) } ?? "undefined")\n\n"
        let labels = JudgeLabel.allCases.map(\.rawValue)
        func pad(_ text: String, _ width: Int) -> String { text.count >= width ? text : text + String(repeating: " ", count: width - text.count) }
        func left(_ text: String, _ width: Int) -> String { text.count >= width ? text : String(repeating: " ", count: width - text.count) + text }
        out += pad("expected \\ judge", 20) + labels.map { left(short[$0]!, 11) }.joined() + left("recall", 9) + "\n"
        for expected in labels {
            out += pad(expected, 20) + labels.map { left(String(confusion[expected]![$0]!), 11) }.joined() + left(percent(recall[expected]), 9) + "\n"
        }
        out += pad("precision", 20) + labels.map { left(percent(precision[$0]), 11) }.joined() + "\n"
        let misses = rows.filter { $0.expected != $0.got }
        if !misses.isEmpty {
            out += "\ndisagreements:\n"
            for row in misses {
                out += "  \(TerminalText.escaped(row.id)): expected \(row.expected.rawValue), judge \(row.got.rawValue)"
                    + (row.note.isEmpty ? "" : " (\(TerminalText.escaped(row.note)))") + "\n"
            }
        }
        return out
    }
}

/// Judging a calibration set.
public enum Calibration {
    /// Judges every case through the gateway (recorded under `recording`) and compares the
    /// majority labels with the expected ones.
    public static func run(_ cases: [CalibrationCase], model: JudgeModel, template: JudgeTemplate, samples: Int, mode: ModelsMode,
                           recording: URL, prices: PriceTable?) async throws -> (report: CalibrationReport, totals: UpstreamTally) {
        let client = try await JudgeClient(model: model, recording: recording, mode: mode, prices: prices)
        var rows: [CalibrationReport.Row] = []
        do {
            for calibration in cases {
                let result = try await JudgeRun.judge(calibration.item, client: client, template: template, samples: samples,
                                                      episode: "calibration.\(calibration.item.id)", step: 1)
                rows.append(.init(id: calibration.item.id, expected: calibration.expected, got: result.label, agreement: result.agreement, note: calibration.note))
            }
        } catch {
            await client.shutdown()
            throw error
        }
        let totals = client.upstream
        await client.shutdown()
        return (CalibrationReport(rows: rows), totals)
    }
}
