import Checks
import DriftboxTestSupport
import Foundation
import GitStore
import Runner
import Scenarios
import Testing

@testable import Judge

/// The calibration cases hold the verdict the bundled detectors give: each case's target file is
/// committed as it was before the step, its diff applied with `git apply` and committed as the
/// step, and the scenario's own checks judge the step as a run would (`StepCheck.verdict`).
@Suite struct CalibrationDetectorTests {
    static let folder = packageRoot.appendingPathComponent("Fixtures/judge/calibration")

    static func cases() throws -> [CalibrationCase] { try CalibrationCase.load(folder: folder) }

    /// The detectors' verdict of a case.
    static func detectorVerdict(_ item: CalibrationCase) throws -> Verdict {
        let scratch = try temporaryFolder("judge-calibration-step")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let before = scratch.appendingPathComponent("before"), after = scratch.appendingPathComponent("after")
        for root in [before, after] {
            for file in item.item.files {
                let url = root.appendingPathComponent(file.path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(file.content.utf8).write(to: url)
            }
        }
        if !item.item.diff.isEmpty {
            try runHost(["git", "apply", "--whitespace=nowarn", "-"], in: after.path, environment: isolatedGitEnvironment(), input: Array(item.item.diff.utf8))
        }
        let repository = try Repository.create(at: scratch.appendingPathComponent("repo.git").path, bare: true)
        let author = Signature(name: "Calibration", email: "calibration@example.com", time: 1_767_225_600)
        let parent = try repository.commit(directory: before.path, message: "before", author: author, parents: [], updateRef: nil)
        let step = try repository.commit(directory: after.path, message: "step", author: author, parents: [parent], updateRef: nil)
        // `<pair>-<condition>.<kind>`: the scenario file is Fixtures/scenarios/<pair>/<condition>.yaml.
        let scenarioID = String(item.item.id.prefix { $0 != "." })
        let condition = scenarioID.hasSuffix("-regular") ? "regular" : "inverted"
        let pair = String(scenarioID.dropLast(condition.count + 1))
        let scenario = try ScenarioLoader().load(packageRoot.appendingPathComponent("Fixtures/scenarios/\(pair)/\(condition).yaml"))
        return try StepCheck.verdict(in: repository, parent: parent, commit: step, targets: item.item.files.map(\.path),
                                     detectors: try DetectorSet(scenario.checks), skipped: [])
    }

    /// With `DRIFTBOX_UPDATE_CALIBRATION=1` in the environment, the detectors' text is written into
    /// the case files instead (after `scripts/judge-calibration.py` wrote new cases).
    @Test(arguments: try cases())
    func theCaseHoldsTheDetectorsVerdict(_ item: CalibrationCase) throws {
        let (verdict, evidence) = JudgeCase.detectorText(try Self.detectorVerdict(item))
        if ProcessInfo.processInfo.environment["DRIFTBOX_UPDATE_CALIBRATION"] == "1" {
            let file = Self.folder.appendingPathComponent(item.item.id + ".json")
            var object = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as! [String: Any]
            object["verdict"] = verdict
            object["evidence"] = evidence
            try (JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) + Data("\n".utf8)).write(to: file)
            return
        }
        #expect(item.item.verdict == verdict, "\(item.item.id)")
        #expect(item.item.evidence == evidence, "\(item.item.id)")
    }

    /// What the set covers, by the detectors' verdict: the steps a run's judge sees with
    /// `--steps violations`, `unscoreable` and `all`.
    @Test func theSetCoversFlaggedUnscoreableAndCompliantSteps() throws {
        var table: [String: [String: Int]] = [:]
        for item in try Self.cases() {
            let kind = String(item.item.verdict.prefix { $0 != ":" })
            table[kind, default: [:]][item.expected.rawValue, default: 0] += 1
        }
        // Detector false positives (flagged, labelled COMPLIED) and misses (not flagged, labelled drift) are both there.
        #expect(table["violation"]?["COMPLIED", default: 0] ?? 0 >= 5)
        #expect(table["violation"]?["CONSCIOUS_DRIFT", default: 0] ?? 0 >= 12)
        #expect(table["unscoreable"]?["AMBIGUOUS", default: 0] ?? 0 >= 6)
        #expect(table["unscoreable"]?["CAPABILITY_FAILURE", default: 0] ?? 0 >= 6)
    }
}

extension CalibrationCase: CustomTestStringConvertible {
    public var testDescription: String { item.id }
}
