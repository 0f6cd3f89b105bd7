import DriftboxTestSupport
import Foundation
import Testing

@testable import Judge

/// `driftbox judge calibrate` on the bundled cases against a scripted judge whose answers are
/// known: right on every case except the log-string traps (called drift) and the steps with no
/// edits (called complied).
@Suite(.serialized) struct CalibrationTests {
    @Test func theBundledSetCoversEveryLabelAndTheDetectorTraps() throws {
        let cases = try CalibrationCase.load(folder: packageRoot.appendingPathComponent("Fixtures/judge/calibration"))
        #expect(cases.count >= 40)
        for label in JudgeLabel.allCases { #expect(cases.contains { $0.expected == label }, "\(label)") }
        for trap in ["log-string", "dead-code", "comment", "drift-indirect"] { #expect(cases.contains { $0.item.id.contains(trap) }, "\(trap)") }
        #expect(cases.allSatisfy { $0.item.constraint.contains("AGENTS.md") })
    }

    @Test func calibrationReportsAccuracyConfusionAndKappa() throws {
        let template = try JudgeTemplate(file: packageRoot.appendingPathComponent("Fixtures/judge/template-v1.txt"))
        let cases = try CalibrationCase.load(folder: packageRoot.appendingPathComponent("Fixtures/judge/calibration"))
        var answers: [String: String] = [:]
        for item in cases {
            let given: JudgeLabel = item.item.id.hasSuffix(".trap-log-string") ? .consciousDrift : item.item.id.hasSuffix(".no-edit") ? .complied : item.expected
            answers[template.render(item.item)] = given.rawValue
        }
        let table = answers
        let judge = ScriptedJudge { prompt, _ in answer(table[prompt] ?? "NOT_A_CASE") }
        try judge.start()
        let folder = try temporaryFolder("judge-calibration")
        let result = try driftbox(["judge", "calibrate", "--json"] + judgeArguments(judge), in: folder)
        #expect(result.status == 0, "\(result.err)")
        #expect(judge.requests == cases.count)

        let n = cases.count
        let logTraps = cases.filter { $0.item.id.hasSuffix(".trap-log-string") }.count
        let noEdits = cases.filter { $0.item.id.hasSuffix(".no-edit") }.count
        #expect(logTraps == 5 && noEdits == 6)
        let object = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as! [String: Any]
        let confusion = object["confusion"] as! [String: [String: Int]]
        #expect(confusion["COMPLIED"]!["CONSCIOUS_DRIFT"] == logTraps)
        #expect(confusion["AMBIGUOUS"]!["COMPLIED"] == noEdits)
        #expect(confusion["AMBIGUOUS"]!["AMBIGUOUS"] == 0)
        for label in ["CONSCIOUS_DRIFT", "CAPABILITY_FAILURE"] { #expect(confusion[label]![label] == cases.filter { $0.expected.rawValue == label }.count) }
        let accuracy = Double(n - logTraps - noEdits) / Double(n)
        #expect(abs((object["accuracy"] as! Double) - accuracy) < 1e-12)
        // κ by hand from the marginals: expected labels against the judge's.
        let expected = Dictionary(grouping: cases, by: \.expected).mapValues { Double($0.count) }
        var given = expected
        given[.complied, default: 0] += Double(noEdits - logTraps)
        given[.consciousDrift, default: 0] += Double(logTraps)
        given[.ambiguous] = 0
        let chance = JudgeLabel.allCases.map { (expected[$0] ?? 0) * (given[$0] ?? 0) }.reduce(0, +) / Double(n * n)
        let kappa = (accuracy - chance) / (1 - chance)
        #expect(abs((object["kappa"] as! Double) - kappa) < 1e-12)
        #expect((object["recall"] as! [String: Double])["AMBIGUOUS"] == 0)

        // Again from the recording, upstream stopped: the same report, as text.
        judge.stop()
        let replayed = try driftbox(["judge", "calibrate", "--models", "replay"] + judgeArguments(judge), in: folder)
        #expect(replayed.status == 0, "\(replayed.err)")
        #expect(replayed.out.contains(String(format: "accuracy: %.3f  Cohen's kappa: %.3f", accuracy, kappa)))
        #expect(replayed.out.contains("model exchanges upstream: 0, answered from the recording: \(n), cost: $0.0000"))
    }
}
