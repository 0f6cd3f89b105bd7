import Checks
import Foundation
import Testing

/// One labelled step of the detector accuracy corpus, stored under `Corpus/cases/<id>/`.
///
/// `before/` and `after/` hold the workspace around the step; `case.json` holds the labels.
struct CorpusCase: Sendable, Decodable, CustomTestStringConvertible {
    /// One expected finding: detector, file and line (nil for a missing required form).
    struct ExpectedEvidence: Sendable, Codable, Hashable, CustomStringConvertible {
        var detector: String
        var path: String
        var line: Int?
        /// What the match is in (`code`, `string`, `comment`); nil for a missing required form.
        var region: Evidence.Region?
        var description: String { "\(detector) \(path)\(line.map { ":\($0)" } ?? "")\(region.map { " in \($0.rawValue)" } ?? "")" }

        private enum CodingKeys: String, CodingKey {
            case detector, path, line
            case region = "in"
        }
    }

    /// What the detectors must answer.
    struct Expected: Sendable, Decodable {
        var verdict: Verdict.Kind
        var evidence: [ExpectedEvidence]
    }

    var id: String
    var pair: String
    var direction: String
    var trap: String
    var description: String
    var targets: [String]
    /// A key of `Corpus/detectors.json`.
    var detectors: String
    /// The truth: what a careful reviewer would call the step.
    var label: Verdict.Kind
    /// The detectors' answer; differs from `label` only for documented detector limits.
    var expected: Expected
    /// Replaces every detector's `files` when present.
    var files: [String]?
    /// Replaces every detector's `scope` when present.
    var scope: DetectorSpec.Scope?

    var testDescription: String { id }

    /// The folder of the whole corpus, found from this source file.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Corpus")

    var folder: URL { Self.root.appendingPathComponent("cases").appendingPathComponent(id) }
    var before: URL { folder.appendingPathComponent("before") }
    var after: URL { folder.appendingPathComponent("after") }

    /// Every case, sorted by id.
    static func all() throws -> [CorpusCase] {
        let cases = Self.root.appendingPathComponent("cases")
        let names = try FileManager.default.contentsOfDirectory(atPath: cases.path).sorted()
        return try names.map { name in
            let file = cases.appendingPathComponent(name).appendingPathComponent("case.json")
            do {
                return try JSONDecoder().decode(CorpusCase.self, from: Data(contentsOf: file))
            } catch {
                throw CorpusError("\(file.path): \(error)")
            }
        }
    }

    /// Every case, or none when the corpus cannot be read (the `corpusLoads` test then fails).
    static let loaded: [CorpusCase] = (try? all()) ?? []

    /// The detector declarations of this case, with its overrides applied.
    func detectorSpecs() throws -> [DetectorSpec] {
        let file = Self.root.appendingPathComponent("detectors.json")
        let sets = try JSONDecoder().decode([String: [DetectorSpec]].self, from: Data(contentsOf: file))
        guard let specs = sets[detectors] else {
            throw CorpusError("\(id): detector set `\(detectors)` is not in \(file.path)")
        }
        return specs.map { spec in
            var spec = spec
            if let files { spec.files = .globs(files) }
            if let scope { spec.scope = scope }
            return spec
        }
    }
}

/// A malformed corpus case.
struct CorpusError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
