import Foundation
import GitStore
import Report
import Runner

/// The HTML report of the full paper suite (12 scenarios × 10 episodes × 12 steps = 1,440 steps),
/// against the text summary of the same run, measured side by side.
enum ReportBenchmarks {
    static func run(iterations: Int) async throws -> [BenchRow] {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("driftbox-bench-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let fixtures = URL(fileURLWithPath: try Fixture.repositoriesFolder(searchingUpFrom: FileManager.default.currentDirectoryPath)).deletingLastPathComponent()
        let paper = fixtures.appendingPathComponent("suites/paper.yaml")
        let definition = try RunDefinition.load(paper, agentsSuite: paper)
        let outcome = try await Runner.start(definition, runsFolder: root, runID: "paper", options: RunOptions(jobs: 1, progress: .quiet),
                                             makeAgent: Runner.standardAgents)
        let record = try RunRecord(folder: outcome.folder)
        let rounds = max(3, iterations / 6)
        var size = 0
        let (html, text) = try sideBySide(iterations: rounds, subject: {
            size = try HTMLReport.render([record]).utf8.count
        }, reference: {
            _ = RunSummary(record).render()
        })
        let (read, _) = try sideBySide(iterations: rounds, subject: {
            size = try HTMLReport.render([try RunRecord(folder: outcome.folder)]).utf8.count
        }, reference: {})
        return [
            BenchRow(name: "HTML report of the paper suite (\(record.steps.count) steps, \(Audit.itemsCount(record)) violations with diffs)",
                     subjectMedian: html, referenceName: "text summary of the same run", referenceMedian: text, iterations: rounds,
                     note: String(format: "target < 2 s and < 5 MB: %@, page of %.2f MB; with reading the run folder %@", formatSeconds(html),
                                  Double(size) / 1_000_000, formatSeconds(read))),
        ]
    }
}

extension Audit {
    /// The number of audit items of a run (violations and hidden unscoreable steps).
    static func itemsCount(_ record: RunRecord) -> Int { (try? items(record).count) ?? 0 }
}
