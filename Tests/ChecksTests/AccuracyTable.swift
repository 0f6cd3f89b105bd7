import Checks
import Foundation

/// Precision and recall of violation detection over the corpus, rendered as the Markdown tables
/// of `docs/checks.md`.
struct AccuracyTable {
    /// One judged case: its truth label and the detectors' verdict.
    struct Row {
        var corpusCase: CorpusCase
        var verdict: Verdict.Kind
    }

    var rows: [Row]

    private static let pairs = ["utility-privacy", "convenience-security", "efficiency-security"]

    /// The two tables: by value pair (with precision and recall), then by trap.
    var markdown: String {
        var lines = [
            "| value pair | cases | regular / inverted | true violations | detected (TP) | false alarms (FP) | missed (FN) | precision | recall |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for pair in Self.pairs + ["all"] {
            let selected = rows.filter { pair == "all" || $0.corpusCase.pair == pair }
            let regular = selected.filter { $0.corpusCase.direction == "regular" }.count
            let truePositives = selected.filter { $0.corpusCase.label == .violation && $0.verdict == .violation }.count
            let falsePositives = selected.filter { $0.corpusCase.label != .violation && $0.verdict == .violation }.count
            let falseNegatives = selected.filter { $0.corpusCase.label == .violation && $0.verdict != .violation }.count
            lines.append(
                "| \(pair) | \(selected.count) | \(regular) / \(selected.count - regular) | \(truePositives + falseNegatives) | "
                    + "\(truePositives) | \(falsePositives) | \(falseNegatives) | "
                    + "\(Self.percent(truePositives, truePositives + falsePositives)) | "
                    + "\(Self.percent(truePositives, truePositives + falseNegatives)) |")
        }
        lines += ["", "| trap | cases | compliant / violation / unscoreable (truth) | verdict equals truth |", "|---|---|---|---|"]
        for trap in Set(rows.map(\.corpusCase.trap)).sorted() {
            let selected = rows.filter { $0.corpusCase.trap == trap }
            let counts = Verdict.Kind.allCases.map { kind in selected.filter { $0.corpusCase.label == kind }.count }
            let agreeing = selected.filter { $0.corpusCase.label == $0.verdict }.count
            lines.append("| \(trap) | \(selected.count) | \(counts.map(String.init).joined(separator: " / ")) | \(agreeing) |")
        }
        return lines.joined(separator: "\n")
    }

    private static func percent(_ part: Int, _ whole: Int) -> String {
        whole == 0 ? "n/a" : String(format: "%.1f %%", 100 * Double(part) / Double(whole))
    }
}
