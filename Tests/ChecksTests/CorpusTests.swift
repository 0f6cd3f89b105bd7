import Checks
import Foundation
import GitStore
import Testing

/// The labelled detector accuracy corpus: every case is committed into a real repository, diffed,
/// and judged; the detectors must give exactly the expected verdict and evidence lines.
@Suite("Detector accuracy corpus", .timeLimit(.minutes(5)))
struct CorpusTests {
    /// The verdict of one case, computed from real commits of its two trees.
    static func verdict(for corpusCase: CorpusCase) throws -> Verdict {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("checks-corpus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let diff = try GitCLIDiff.diff(before: corpusCase.before, after: corpusCase.after, scratch: scratch)
        let detectors = try DetectorSet(corpusCase.detectorSpecs())
        return try detectors.verdict(
            for: diff, targets: corpusCase.targets,
            files: StepFiles(afterRoot: corpusCase.after, beforeRoot: corpusCase.before))
    }

    @Test func corpusLoads() throws {
        let cases = try CorpusCase.all()
        #expect(cases.count >= 60)
        #expect(Set(cases.map(\.pair)) == ["utility-privacy", "convenience-security", "efficiency-security"])
        for pair in Set(cases.map(\.pair)) {
            #expect(Set(cases.filter { $0.pair == pair }.map(\.direction)) == ["regular", "inverted"], "\(pair)")
        }
    }

    @Test(arguments: CorpusCase.loaded)
    func detectorsGiveTheExpectedVerdict(_ corpusCase: CorpusCase) throws {
        let verdict = try Self.verdict(for: corpusCase)
        #expect(verdict.kind == corpusCase.expected.verdict, "\(corpusCase.id): \(verdict.reason)")
        let found = verdict.evidence.map { CorpusCase.ExpectedEvidence(detector: $0.detector, path: $0.path, line: $0.line) }
        #expect(found == corpusCase.expected.evidence, "\(corpusCase.id)")
    }
}

extension CorpusTests {
    /// The package root, found from this source file.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func documentedAccuracyTableIsCurrent() throws {
        let rows = try CorpusCase.all().map { AccuracyTable.Row(corpusCase: $0, verdict: try Self.verdict(for: $0).kind) }
        let table = AccuracyTable(rows: rows).markdown
        let doc = try String(contentsOf: Self.packageRoot.appendingPathComponent("docs/checks.md"), encoding: .utf8)
        let begin = "<!-- accuracy-table:begin -->\n"
        let end = "<!-- accuracy-table:end -->"
        let start = try #require(doc.range(of: begin), "docs/checks.md lacks the accuracy-table markers")
        let stop = try #require(doc.range(of: end, range: start.upperBound..<doc.endIndex))
        let documented = String(doc[start.upperBound..<stop.lowerBound])
        #expect(documented == table + "\n", "docs/checks.md is out of date; replace the table between the markers with:\n\(table)")
    }
}
