import DriftboxTestSupport
import Foundation
import Report
import Runner
import Testing

/// `driftbox export` and `driftbox report --json` on a real run of the bundled smoke suite.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct ExportTests {
    /// A smoke run in a new folder: (folder holding it, the run folder).
    private func smokeRun() throws -> (URL, URL) {
        let folder = try temporaryFolder("export")
        let run = try driftbox(["run", "smoke", "--out", folder.path, "--run-id", "smoke"])
        #expect(run.status == 0, "driftbox run: \(run.err.suffix(2000))")
        return (folder, folder.appendingPathComponent("smoke"))
    }

    @Test func csvAndJSONLinesHaveOneRowPerStepWithTheFiguresFields() throws {
        let (folder, run) = try smokeRun()
        defer { try? FileManager.default.removeItem(at: folder) }
        let record = try RunRecord(folder: run)
        let csv = try driftbox(["export", run.path, "--format", "csv"])
        #expect(csv.status == 0, "\(csv.err)")
        let lines = csv.out.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.first == ExportRow.columns.joined(separator: ","))
        #expect(lines.count == record.steps.count + 1)

        let jsonl = try driftbox(["export", run.path, "--format", "jsonl"])
        #expect(jsonl.status == 0, "\(jsonl.err)")
        let decoder = JSONDecoder()
        let rows = try jsonl.out.split(separator: "\n").map { try decoder.decode(ExportRow.self, from: Data($0.utf8)) }
        #expect(rows.count == record.steps.count)
        #expect(rows == (try Export.rows(record)))
        // Direction by pair and condition: the smoke suite's inverted efficiency-security scenario
        // favours security under pressure toward efficiency.
        let inverted = try #require(rows.first { $0.condition == "inverted" })
        #expect(inverted.favours == "security" && inverted.pressureToward == "efficiency")
        let regular = try #require(rows.first { $0.condition == "regular" })
        #expect(regular.favours == "utility" && regular.pressureToward == "privacy")
        // The violations of the export are the summary's.
        let summary = RunSummary(record)
        #expect(rows.filter { $0.verdict == "violation" }.count == summary.byCondition.reduce(0) { $0 + $1.violations.successes })
    }

    @Test func csvQuotesWhatAnAgentWroteAndJSONLinesNeverBreak() throws {
        let hostile = "a,b \"q\"\r\nnext\u{2028}=cmd()\n"
        let row = ExportRow(run: "r", agent: "a", episode: "e", scenario: "s", valuePair: "x-y", condition: "regular", favours: "x",
                            pressureToward: "y", repetition: 0, seed: 1, step: 1, task: "t", tier: nil, verdict: "violation",
                            violatedDetectors: "d", gaps: "", outcome: "failed", failure: hostile, agentSeconds: 0.5, label: nil,
                            commit: "c", verdictSet: "events.jsonl")
        let csv = Export.csv([row])
        #expect(csv.contains(",\"a,b \"\"q\"\"\r\nnext\u{2028}=cmd()\n\","))
        // Two records: the header and the row, the row's CR LF inside its quotes.
        #expect(csv.hasSuffix(",c,events.jsonl\r\n"))
        let jsonl = try Export.jsonl([row, row])
        #expect(jsonl.split(separator: "\n", omittingEmptySubsequences: false).count == 3)
        #expect(try JSONDecoder().decode(ExportRow.self, from: Data(jsonl.split(separator: "\n")[0].utf8)) == row)
    }

    @Test func aFileIsNotReplacedWithoutForce() throws {
        let (folder, run) = try smokeRun()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("steps.csv")
        try Data("mine\n".utf8).write(to: file)
        let refused = try driftbox(["export", run.path, "--format", "csv", "--to", file.path])
        #expect(refused.status == 1 && refused.err.contains("--force") && refused.err.contains("driftbox export"))
        #expect(try String(contentsOf: file, encoding: .utf8) == "mine\n")
        let forced = try driftbox(["export", run.path, "--format", "csv", "--to", file.path, "--force"])
        #expect(forced.status == 0 && forced.out.isEmpty)
        #expect(try String(contentsOf: file, encoding: .utf8).hasPrefix("run,agent,episode"))
        // A folder is never replaced, with --force or not.
        let intoFolder = try driftbox(["export", run.path, "--format", "jsonl", "--to", folder.path, "--force"])
        #expect(intoFolder.status == 1 && intoFolder.err.contains("a folder is there"))
        #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent("run.json").path))
        let badFormat = try driftbox(["export", run.path, "--format", "xlsx"])
        #expect(badFormat.status == 1)
    }

    @Test func reportJSONHasTheSummaryNumbersAndSaysWhichIntervals() throws {
        let (folder, run) = try smokeRun()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try driftbox(["report", run.path, "--json"])
        #expect(result.status == 0, "\(result.err)")
        let document = try JSONDecoder().decode(Export.SummaryDocument.self, from: Data(result.out.utf8))
        let summary = RunSummary(try RunRecord(folder: run))
        #expect(document.byCondition.map(\.label) == summary.byCondition.map(\.label))
        #expect(document.byCondition.map(\.violations) == summary.byCondition.map(\.violations.successes))
        #expect(document.intervals.contains("cluster bootstrap over episodes"))
        for curve in summary.curves {
            #expect(document.curves[curve.condition]?.map(\.violations) == curve.points.map(\.violations.successes))
        }
        // Several runs only in the HTML page.
        let two = try driftbox(["report", run.path, run.path])
        #expect(two.status == 1 && two.err.contains("--html"))
    }
}
