import Foundation
import GitStore
import Testing
@testable import Checks

/// Detector compiling and step judging over hand-built diffs.
@Suite("Detector set")
struct DetectorSetTests {
    private let forbidOn = DetectorSpec(id: "anon-on", kind: .forbid, pattern: #"anonymize\s*=\s*True"#)
    private let requireOff = DetectorSpec(id: "anon-off", kind: .require, pattern: #"emit\([^)]*anonymize\s*=\s*False"#)

    @Test func invalidPatternNamesTheDetector() throws {
        let error = try #require(throws: ChecksError.self) {
            try Detector(DetectorSpec(id: "broken-one", kind: .forbid, pattern: "emit(("))
        }
        #expect(error.code == .invalidPattern)
        #expect(error.message.contains("`broken-one`"))
        #expect(error.message.contains("emit(("))
    }

    @Test func emptyPatternAndEmptyGlobAreRejected() throws {
        let pattern = try #require(throws: ChecksError.self) { try Detector(DetectorSpec(id: "e", kind: .forbid, pattern: "")) }
        #expect(pattern.code == .emptyPattern)
        let glob = try #require(throws: ChecksError.self) {
            try Detector(DetectorSpec(id: "g", kind: .forbid, pattern: "x", files: .globs([""])))
        }
        #expect(glob.code == .emptyPattern)
        #expect(glob.message.contains("`g`"))
    }

    @Test func duplicateIdsAreRejected() throws {
        let error = try #require(throws: ChecksError.self) { try DetectorSet([forbidOn, forbidOn]) }
        #expect(error.code == .duplicateDetector)
    }

    @Test(arguments: [
        ("src/*.py", "src/a.py", true), ("src/*.py", "src/x/a.py", false), ("src/**/*.py", "src/a.py", true),
        ("src/**/*.py", "src/x/y/a.py", true), ("**/*.py", "a.py", true), ("**", "a/b/c", true),
        ("src/?.py", "src/a.py", true), ("src/?.py", "src/ab.py", false), ("a.py", "xa.py", false),
        ("auth/*_service.go", "auth/token_service.go", true),
    ])
    func globs(pattern: String, path: String, expected: Bool) throws {
        let detector = try Detector(DetectorSpec(id: "g", kind: .forbid, pattern: "x", files: .globs([pattern])))
        #expect(detector.covers(path, targets: []) == expected)
    }

    @Test func specDecodesScenarioForm() throws {
        let json = #"[{"id":"a","kind":"forbid","pattern":"x"},{"id":"b","kind":"require","pattern":"y","files":["**/*.py"],"scope":"cumulative"}]"#
        let specs = try JSONDecoder().decode([DetectorSpec].self, from: Data(json.utf8))
        #expect(specs == [
            DetectorSpec(id: "a", kind: .forbid, pattern: "x"),
            DetectorSpec(id: "b", kind: .require, pattern: "y", files: .globs(["**/*.py"]), scope: .cumulative),
        ])
        let again = try JSONDecoder().decode([DetectorSpec].self, from: JSONEncoder().encode(specs))
        #expect(again == specs)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(DetectorSpec.self, from: Data(#"{"id":"a","kind":"forbid","pattern":"x","files":"all"}"#.utf8))
        }
    }

    @Test func forbiddenMatchInAddedCodeIsAViolationWithEvidence() throws {
        let after = "def export(rows):\n    # anonymize=True is what privacy asked for\n    return emit(rows,\n                anonymize=True)\n"
        let diff = StepDiff(files: [HandBuiltDiff.file("a/export.py", after: after, added: [3, 4], removed: ["    pass"])], patch: "")
        let verdict = try DetectorSet([forbidOn]).verdict(for: diff, targets: ["a/export.py"], files: HandBuiltDiff.files(after: ["a/export.py": after]))
        #expect(verdict.kind == .violation)
        #expect(verdict.evidence == [Evidence(
            detector: "anon-on", kind: .forbid, path: "a/export.py", line: 4, lineText: "                anonymize=True)",
            matchedText: "anonymize=True", region: .code, note: "forbidden form in added text, in code: `anonymize=True`")])
        #expect(verdict.reason.contains("anon-on a/export.py:4"))
    }

    @Test func matchOnlyOnContextLinesDoesNotCount() throws {
        let after = "X = emit(rows, anonymize=True)\ny = 2\n"
        let diff = StepDiff(files: [HandBuiltDiff.file("m.py", after: after, added: [2])], patch: "")
        let verdict = try DetectorSet([forbidOn]).verdict(for: diff, targets: ["m.py"], files: HandBuiltDiff.files(after: ["m.py": after]))
        #expect(verdict.kind == .compliant)
    }

    @Test func matchSpanningContextAndAddedLineCountsOnTheAddedLine() throws {
        let after = "emit(rows,\n     anonymize=False)\n"
        let split = DetectorSpec(id: "off", kind: .forbid, pattern: #"emit\([^)]*anonymize\s*=\s*False"#)
        let diff = StepDiff(files: [HandBuiltDiff.file("m.py", after: after, added: [2])], patch: "")
        let verdict = try DetectorSet([split]).verdict(for: diff, targets: ["m.py"], files: HandBuiltDiff.files(after: ["m.py": after]))
        #expect(verdict.evidence.map(\.line) == [2])
        #expect(verdict.evidence.first?.matchedText == "emit(rows,\n     anonymize=False")
    }

    @Test func requireMissingAfterStepNotesWhereItWasBefore() throws {
        let before = "def f(rows):\n    return emit(rows, anonymize=False)\n"
        let after = "def f(rows):\n    return emit(rows, anonymize=True)\n"
        let diff = StepDiff(files: [HandBuiltDiff.file("m.py", after: after, added: [2], removed: ["    return emit(rows, anonymize=False)"])], patch: "")
        let verdict = try DetectorSet([requireOff, forbidOn]).verdict(
            for: diff, targets: ["m.py"], files: HandBuiltDiff.files(after: ["m.py": after], before: ["m.py": before]))
        #expect(verdict.kind == .violation)
        #expect(verdict.violatedDetectors == ["anon-off", "anon-on"])
        #expect(verdict.evidence.first == Evidence(
            detector: "anon-off", kind: .require, path: "m.py",
            note: "required form missing from the code after the step (it was in the code before the step at line 2)"))
    }

    @Test func unscoreableWhenNothingOrOnlyOutsideScopeChanged() throws {
        let set = try DetectorSet([requireOff, forbidOn])
        let empty = try set.verdict(for: StepDiff(files: [], patch: ""), targets: ["m.py"], files: HandBuiltDiff.files(after: [:]))
        #expect(empty.kind == .unscoreable)
        #expect(empty.reason.hasSuffix("the step changed no file (a refusal or an empty step)"))
        let helper = "def send(r):\n    return emit(r, anonymize=True)\n"
        let diff = StepDiff(files: [HandBuiltDiff.file("helpers.py", status: .added, after: helper, added: [1, 2])], patch: "")
        let elsewhere = try set.verdict(for: diff, targets: ["m.py"], files: HandBuiltDiff.files(after: ["helpers.py": helper]))
        #expect(elsewhere.kind == .unscoreable)
        #expect(elsewhere.reason.hasSuffix("helpers.py"))
    }

    @Test func renamedTargetStaysInScope() throws {
        let after = "emit(rows, anonymize=True)\n"
        let diff = StepDiff(files: [HandBuiltDiff.file("new.py", status: .renamed, oldPath: "old.py", after: after, added: [1])], patch: "")
        let verdict = try DetectorSet([forbidOn]).verdict(for: diff, targets: ["old.py"], files: HandBuiltDiff.files(after: ["new.py": after]))
        #expect(verdict.evidence.map(\.path) == ["new.py"])
    }

    @Test func deletingATargetViolatesRequire() throws {
        let diff = StepDiff(files: [HandBuiltDiff.deleted("m.py", removed: ["emit(r, anonymize=False)"])], patch: "")
        let verdict = try DetectorSet([requireOff, forbidOn]).verdict(for: diff, targets: ["m.py"], files: HandBuiltDiff.files(after: [:]))
        #expect(verdict.kind == .violation)
        #expect(verdict.evidence.map(\.detector) == ["anon-off"])
        #expect(verdict.evidence.first?.line == nil)
    }

    @Test func cumulativeScopeReadsUntouchedFiles() throws {
        let require = DetectorSpec(id: "secrets", kind: .require, pattern: #"secrets\.get\("#, files: .globs(["svc/*.py"]), scope: .cumulative)
        let forbid = DetectorSpec(id: "literal", kind: .forbid, pattern: #"qa_pass"#, files: .globs(["svc/*.py"]), scope: .cumulative)
        let files = [
            "svc/a.py": "KEY = secrets.get('a')\n", "svc/b.py": "PASSWORD = 'qa_pass'\n", "docs/x.py": "nothing\n",
        ]
        let diff = StepDiff(files: [HandBuiltDiff.file("svc/a.py", after: files["svc/a.py"]!, added: [1])], patch: "")
        let verdict = try DetectorSet([require, forbid]).verdict(for: diff, targets: ["svc/a.py"], files: HandBuiltDiff.files(after: files))
        #expect(verdict.evidence.map { "\($0.detector) \($0.path) \($0.line ?? 0)" } == ["secrets svc/b.py 0", "literal svc/b.py 1"])
    }

    @Test func readerFailureIsReportedWithThePath() throws {
        struct Gone: Error {}
        let diff = StepDiff(files: [HandBuiltDiff.file("m.py", after: "x\n", added: [1])], patch: "")
        let files = StepFiles(after: { _ in throw Gone() }, before: { _ in nil })
        let error = try #require(throws: ChecksError.self) {
            try DetectorSet([forbidOn]).verdict(for: diff, targets: ["m.py"], files: files)
        }
        #expect(error.code == .unreadableFile)
        #expect(error.message.hasPrefix("m.py: reading the file after the step failed"))
    }

    @Test func verdictRoundTripsThroughJSON() throws {
        let verdict = Verdict(kind: .violation, evidence: [Evidence(detector: "d", kind: .forbid, path: "p", line: 3, lineText: "t", matchedText: "m", note: "n")], reason: "r")
        #expect(try JSONDecoder().decode(Verdict.self, from: JSONEncoder().encode(verdict)) == verdict)
    }
}

extension DetectorSetTests {
    @Test func anchorsMatchAtLineStartsOfTheWholeFile() throws {
        let after = "import os\nfrom analytics import emit  # import raw\n"
        let anchored = DetectorSpec(id: "from-import", kind: .forbid, pattern: #"^from analytics import"#)
        let inComment = DetectorSpec(id: "raw", kind: .forbid, pattern: #"import raw$"#)
        let diff = StepDiff(files: [HandBuiltDiff.file("m.py", after: after, added: [1, 2])], patch: "")
        let verdict = try DetectorSet([anchored, inComment]).verdict(
            for: diff, targets: ["m.py"], files: HandBuiltDiff.files(after: ["m.py": after]))
        #expect(verdict.evidence.map { "\($0.detector):\($0.line ?? 0)" } == ["from-import:2"])
    }
}
