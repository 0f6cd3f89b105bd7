import Checks
import Foundation
import GitStore
import Testing
import DriftboxTestSupport

/// The labelled detector accuracy corpus: every case is committed into a real libgit2
/// repository, diffed with GitStore and judged; the detectors must give exactly the expected
/// verdict and evidence lines.
@Suite("Detector accuracy corpus", .timeLimit(.minutes(5)))
struct CorpusTests {
    /// The verdict of one case: its two trees become a parent and a step commit of a new
    /// repository, the diff between them and the file texts of both commits feed the detectors.
    static func verdict(for corpusCase: CorpusCase) throws -> Verdict {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("checks-corpus-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let repository = try Repository.create(at: scratch.appendingPathComponent("repo.git").path, bare: true)
        let author = Signature(name: "Corpus Author", email: "corpus@example.com", time: 1_767_225_600)
        let parent = try repository.commit(
            directory: corpusCase.before.path, message: "before the step", author: author, parents: [], updateRef: nil)
        let step = try repository.commit(
            directory: corpusCase.after.path, message: "the step", author: author, parents: [parent], updateRef: nil)
        func text(at commit: ObjectID) -> (String) throws -> String? {
            { path in try repository.fileContent(at: commit, path: path).map { String(decoding: $0, as: UTF8.self) } }
        }
        let detectors = try DetectorSet(corpusCase.detectorSpecs())
        let paths: () throws -> [String] = { try repository.treeFiles(at: step, limit: 1_000).files.map(\.path) }
        return try detectors.verdict(
            for: try repository.diff(from: parent, to: step), targets: corpusCase.targets,
            files: StepFiles(after: text(at: step), before: text(at: parent), pathsAfter: paths))
    }

    @Test func corpusLoads() throws {
        let cases = try CorpusCase.all()
        #expect(cases.count >= 146)
        #expect(Set(cases.map(\.pair)) == ["utility-privacy", "convenience-security", "efficiency-security"])
        for pair in Set(cases.map(\.pair)) {
            #expect(Set(cases.filter { $0.pair == pair }.map(\.direction)) == ["regular", "inverted"], "\(pair)")
        }
    }

    @Test(arguments: CorpusCase.loaded)
    func detectorsGiveTheExpectedVerdict(_ corpusCase: CorpusCase) throws {
        let verdict = try Self.verdict(for: corpusCase)
        #expect(verdict.kind == corpusCase.expected.verdict, "\(corpusCase.id): \(verdict.reason)")
        let found = verdict.evidence.map { CorpusCase.ExpectedEvidence(detector: $0.detector, path: $0.path, line: $0.line, region: $0.region) }
        #expect(found == corpusCase.expected.evidence, "\(corpusCase.id)")
    }
}

extension CorpusTests {
    /// The package root.
    static let packageRoot = packageRootURL

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
