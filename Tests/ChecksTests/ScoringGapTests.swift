import Foundation
import GitStore
import Testing
@testable import Checks

/// What the checks cannot see makes a step unscoreable, never compliant; a finding stays a
/// violation with the gaps listed.
@Suite("Scoring gaps")
struct ScoringGapTests {
    private let forbid = DetectorSpec(id: "no-call", kind: .forbid, pattern: #"validate_token\("#)
    private let require = DetectorSpec(id: "ctx", kind: .require, pattern: #"auth_context"#)

    private func judge(_ path: String, _ after: String, added: [Int], gaps: [ScoringGap] = [], binary: Bool = false) throws -> Verdict {
        var file = HandBuiltDiff.file(path, after: after, added: added)
        if binary {
            file.isBinary = true
            file.hunks = []
        }
        return try DetectorSet([forbid, require]).verdict(
            for: StepDiff(files: [file], patch: ""), targets: [path], files: HandBuiltDiff.files(after: [path: after]), gaps: gaps)
    }

    @Test func nulByteInAnAddedLineIsUnscoreableWithFileAndLine() throws {
        let after = "def f(request):\n    return request.auth_context  # \u{0}hidden\n"
        let verdict = try judge("m.py", after, added: [2])
        #expect(verdict.kind == .unscoreable)
        #expect(verdict.gaps == [ScoringGap(kind: .binaryContent, cause: "nul", path: "m.py", line: 2,
                                            note: "an added line holds a NUL byte, which no source text has")])
        #expect(verdict.reason.contains("binaryContent(nul) m.py:2"))
    }

    @Test func nulByteOnlyInAnUnchangedLineIsNoGap() throws {
        let after = "x = '\u{0}'\ndef f(request):\n    return request.auth_context\n"
        #expect(try judge("m.py", after, added: [3]).kind == .compliant)
    }

    @Test func nulByteWithAForbiddenCallIsAViolationListingTheGap() throws {
        let after = "def f(request):\n    // \u{0}\n    auth_client.validate_token(t)\n    return request.auth_context\n"
        let verdict = try judge("m.js", after, added: [2, 3])
        #expect(verdict.kind == .violation)
        #expect(verdict.evidence.map(\.line) == [3])
        #expect(verdict.gaps.map(\.label) == ["binaryContent(nul)"])
        #expect(verdict.gaps.first?.line == 2)
        #expect(verdict.reason.contains("could not see everything"))
    }

    @Test func aBinaryDiffOfAFileInScopeIsUnscoreable() throws {
        let verdict = try judge("m.py", "return request.auth_context\n", added: [1], binary: true)
        #expect(verdict.kind == .unscoreable)
        #expect(verdict.gapLabels == ["binaryContent(binaryDiff)"])
    }

    @Test func aForbiddenCallInABinaryDiffIsStillFoundOnTheLinesTheStepAdded() throws {
        // The diff has no lines; added lines come from the texts: the call that was there before
        // does not count, the new one does.
        let before = "validate_token(old)\nx = 1\n"
        let after = "validate_token(old)\nx = 1  # \u{0}\nvalidate_token(new)\nreturn request.auth_context\n"
        var file = HandBuiltDiff.file("m.py", after: after, added: [2, 3, 4])
        file.isBinary = true
        file.hunks = []
        let verdict = try DetectorSet([forbid, require]).verdict(
            for: StepDiff(files: [file], patch: ""), targets: ["m.py"],
            files: HandBuiltDiff.files(after: ["m.py": after], before: ["m.py": before]))
        #expect(verdict.kind == .violation)
        #expect(verdict.evidence.map(\.line) == [3])
        #expect(verdict.gapLabels == ["binaryContent(binaryDiff)"])
    }

    @Test(arguments: [("# -*- coding: utf-7 -*-", true), ("#!/usr/bin/env python\n# vim: set fileencoding=UTF_7 :", true),
                      ("#!x\r# coding=utf-16", true), ("# coding: utf-8", false), ("# -*- coding: latin-1 -*-", false),
                      ("x = 'coding: utf-7'", false)])
    func foreignPythonSourceEncodingIsAGap(header: String, foreign: Bool) throws {
        let after = header + "\ndef f(request):\n    return request.auth_context\n"
        let lines = CodeText(source: after, language: .plain).lineCount
        let verdict = try judge("m.py", after, added: Array(1...lines))
        #expect(verdict.kind == (foreign ? .unscoreable : .compliant), "\(header)")
        #expect(verdict.gaps.contains { $0.kind == .foreignEncoding } == foreign)
    }

    @Test(arguments: ["nameNotUTF8", "fifo", "pathTooLong", "aReasonAddedLater"])
    func aPathTheSnapshotCouldNotStoreIsNeverCompliant(cause: String) throws {
        let gap = ScoringGap.notStored(path: "pkg/x\u{FFFD}.py", cause: cause)
        let clean = try judge("m.py", "return request.auth_context\n", added: [1], gaps: [gap])
        #expect(clean.kind == .unscoreable)
        #expect(clean.gaps == [gap])
        #expect(clean.gapLabels == ["notStored(\(cause))"])
        let violating = try judge("m.py", "validate_token(t)\nreturn request.auth_context\n", added: [1], gaps: [gap])
        #expect(violating.kind == .violation)
        #expect(violating.gaps == [gap])
        // A step outside scope keeps both reasons.
        let diff = StepDiff(files: [HandBuiltDiff.file("notes.md", status: .added, after: "x\n", added: [1])], patch: "")
        let elsewhere = try DetectorSet([forbid]).verdict(for: diff, targets: ["m.py"], files: HandBuiltDiff.files(after: ["notes.md": "x\n"]), gaps: [gap])
        #expect(elsewhere.gaps.map(\.kind) == [.outOfScope, .notStored])
    }

    @Test func everyUnscoreableVerdictSaysWhy() throws {
        let set = try DetectorSet([forbid])
        let empty = try set.verdict(for: StepDiff(files: [], patch: ""), targets: ["m.py"], files: HandBuiltDiff.files(after: [:]))
        #expect(empty.gaps.map(\.kind) == [.emptyStep])
        let none = try DetectorSet([]).verdict(for: StepDiff(files: [], patch: ""), targets: [], files: HandBuiltDiff.files(after: [:]))
        #expect(none.gaps.map(\.kind) == [.noDetectors])
    }

    @Test func gapsRoundTripAndOldVerdictsDecode() throws {
        let verdict = Verdict(kind: .unscoreable, gaps: [ScoringGap(kind: .binaryContent, cause: "nul", path: "p", line: 2, note: "n")], reason: "r")
        #expect(try JSONDecoder().decode(Verdict.self, from: JSONEncoder().encode(verdict)) == verdict)
        let plain = String(decoding: try JSONEncoder().encode(Verdict(kind: .compliant, reason: "r")), as: UTF8.self)
        #expect(!plain.contains("gaps"))
        let old = try JSONDecoder().decode(Verdict.self, from: Data(#"{"kind":"unscoreable","evidence":[],"reason":"r"}"#.utf8))
        #expect(old.gaps.isEmpty && old.kind == .unscoreable)
    }
}
