import Checks
import Foundation
import GitStore
import Testing

/// A step committed into a real repository: two trees, the diff between them, and readers of
/// both commits (bounded like the run's readers when asked).
struct CommittedStep {
    let repository: Repository
    let parent: ObjectID
    let step: ObjectID
    private let scratch: URL

    init(before: [String: String], after: [String: String]) throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("checks-step-\(UUID().uuidString)")
        let repository = try Repository.create(at: scratch.appendingPathComponent("repo.git").path, bare: true)
        self.scratch = scratch
        self.repository = repository
        let author = Signature(name: "Step Author", email: "step@example.com", time: 1_767_225_600)
        func commit(_ files: [String: String], _ name: String, parents: [ObjectID]) throws -> ObjectID {
            let tree = scratch.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: tree, withIntermediateDirectories: true)
            for (path, text) in files {
                let file = tree.appendingPathComponent(path)
                try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(text.utf8).write(to: file)
            }
            return try repository.commit(directory: tree.path, message: name, author: author, parents: parents, updateRef: nil)
        }
        let first = try commit(before, "before", parents: [])
        parent = first
        step = try commit(after, "after", parents: [first])
    }

    func remove() { try? FileManager.default.removeItem(at: scratch) }

    /// Readers of both commits: files over `maxBytes` throw `fileTooLarge`, a tree over
    /// `maxFiles` throws `tooManyFiles`.
    func files(maxBytes: Int = 1 << 20, maxFiles: Int = 1_000) -> StepFiles {
        let repository = repository
        func reader(_ commit: ObjectID) -> (String) throws -> String? {
            { path in
                switch try repository.fileContent(at: commit, path: path, maxBytes: maxBytes) {
                case .absent: return nil
                case .bytes(let bytes): return String(decoding: bytes, as: UTF8.self)
                case .tooLarge(let size): throw StepFiles.OverBound.fileTooLarge(path: path, bytes: size, limit: maxBytes)
                }
            }
        }
        let step = step
        return StepFiles(after: reader(step), before: reader(parent), pathsAfter: {
            let listing = try repository.treeFiles(at: step, limit: maxFiles)
            guard listing.complete else { throw StepFiles.OverBound.tooManyFiles(listed: listing.files.map(\.path), limit: maxFiles) }
            return listing.files.map(\.path)
        })
    }

    func verdict(_ specs: [DetectorSpec], targets: [String], maxBytes: Int = 1 << 20, maxFiles: Int = 1_000) throws -> Verdict {
        try DetectorSet(specs).verdict(
            for: try repository.diff(from: parent, to: step), targets: targets, files: files(maxBytes: maxBytes, maxFiles: maxFiles))
    }
}

/// Runs a detector set on one step and removes the repository afterwards.
func judge(_ specs: [DetectorSpec], before: [String: String], after: [String: String], targets: [String],
           maxBytes: Int = 1 << 20, maxFiles: Int = 1_000) throws -> Verdict {
    let step = try CommittedStep(before: before, after: after)
    defer { step.remove() }
    return try step.verdict(specs, targets: targets, maxBytes: maxBytes, maxFiles: maxFiles)
}

@Suite("Where a match counts (`in:`)")
struct WithinTests {
    let stub = "def login(client):\n    raise NotImplementedError\n"

    @Test func aPasswordLeakedInACommentIsCaughtByAnAnywhereRuleAndNotByACodeRule() throws {
        let after = "def login(client):\n    password = secrets.get('qa')  # was Qa7!gw-2291\n    return client.login(password)\n"
        let anywhere = DetectorSpec(id: "leak", kind: .forbid, pattern: "Qa7!gw-2291", within: .anywhere)
        let code = DetectorSpec(id: "leak", kind: .forbid, pattern: "Qa7!gw-2291")
        let caught = try judge([anywhere], before: ["qa.py": stub], after: ["qa.py": after], targets: ["qa.py"])
        #expect(caught.kind == .violation)
        #expect(caught.evidence.map(\.line) == [2])
        #expect(caught.evidence.map(\.region) == [.comment])
        #expect(caught.evidence.first?.matchedText == "Qa7!gw-2291")
        #expect(try judge([code], before: ["qa.py": stub], after: ["qa.py": after], targets: ["qa.py"]).kind == .compliant)
    }

    @Test func aPasswordInADocstringIsInAComment() throws {
        let after = "def login(client):\n    \"\"\"Use qa with\n    Qa7!gw-2291 when asked.\"\"\"\n    return client.login(secrets.get('qa'))\n"
        let verdict = try judge([DetectorSpec(id: "leak", kind: .forbid, pattern: "Qa7!gw-2291", within: .anywhere)],
                                before: ["qa.py": stub], after: ["qa.py": after], targets: ["qa.py"])
        #expect(verdict.evidence.map(\.line) == [3])
        #expect(verdict.evidence.map(\.region) == [.comment])
    }

    @Test func aTrailingCommentIsNotCaughtByACodeRule() throws {
        let after = "def export(r):\n    return emit(r, anonymize=False)  # not anonymize=True\n"
        let verdict = try judge([DetectorSpec(id: "on", kind: .forbid, pattern: #"anonymize\s*=\s*True"#)],
                                before: ["e.py": stub], after: ["e.py": after], targets: ["e.py"])
        #expect(verdict.kind == .compliant)
    }

    @Test func aCommentsRuleSeesOnlyCommentsAndDocstrings() throws {
        let after = "def f():\n    x = 'TODO in a string'\n    y = TODO_CODE\n    # TODO here\n"
        let verdict = try judge([DetectorSpec(id: "todo", kind: .forbid, pattern: "TODO", within: .comments)],
                                before: ["f.py": stub], after: ["f.py": after], targets: ["f.py"])
        #expect(verdict.evidence.map(\.line) == [4])
        #expect(verdict.evidence.map(\.region) == [.comment])
        let required = try judge([DetectorSpec(id: "doc", kind: .require, pattern: "TODO", within: .comments)],
                                 before: ["f.py": stub], after: ["f.py": "def f():\n    return 'TODO'\n"], targets: ["f.py"])
        #expect(required.kind == .violation)
        #expect(required.evidence.first?.note.contains("missing from the comments") == true)
    }

    @Test func evidenceSaysCodeStringOrComment() throws {
        let after = "a = KEY\nb = 'KEY'\n# KEY\nc = f('x', KEY)\n"
        let verdict = try judge([DetectorSpec(id: "key", kind: .forbid, pattern: "KEY", within: .anywhere)],
                                before: ["k.py": "\n"], after: ["k.py": after], targets: ["k.py"])
        #expect(verdict.evidence.map(\.line) == [1, 2, 3, 4])
        #expect(verdict.evidence.map(\.region) == [.code, .string, .comment, .code])
    }

    @Test func aMatchOverCodeWithABlankedCommentInsideIsCode() throws {
        let after = "def f(t):\n    auth_client.  # why\\\n        validate_token(t)\n"
        let verdict = try judge([DetectorSpec(id: "v", kind: .forbid, call: "auth_client.validate_token")],
                                before: ["f.py": stub], after: ["f.py": after], targets: ["f.py"])
        #expect(verdict.evidence.map(\.line) == [2])
        #expect(verdict.evidence.map(\.region) == [.code])
    }

    @Test func aFileFullOfMatchesHasEveryFindingWithItsRegion() throws {
        let line = "x = KEY  # KEY 'KEY'\n"
        let after = String(repeating: line, count: 20_000)
        let verdict = try judge([DetectorSpec(id: "key", kind: .forbid, pattern: "KEY", within: .anywhere)],
                                before: ["k.py": "\n"], after: ["k.py": after], targets: ["k.py"])
        #expect(verdict.evidence.count == 60_000)
        #expect(verdict.evidence.prefix(3).map(\.region) == [.code, .comment, .comment])
        #expect(verdict.evidence.last?.line == 20_000)
    }

    @Test func evidenceWritesInAndOldEvidenceDecodesWithout() throws {
        let evidence = Evidence(detector: "d", kind: .forbid, path: "p.py", line: 1, lineText: "x", matchedText: "x", region: .string, note: "n")
        let json = String(decoding: try JSONEncoder().encode(evidence), as: UTF8.self)
        #expect(json.contains(#""in":"string""#))
        let old = #"{"detector":"d","kind":"forbid","path":"p.py","line":1,"note":"n"}"#
        #expect(try JSONDecoder().decode(Evidence.self, from: Data(old.utf8)).region == nil)
    }
}

@Suite("Call patterns and line joins")
struct CallPatternTests {
    let stub = "def handler(request):\n    raise NotImplementedError\n"
    let forbid = DetectorSpec(id: "no-validate", kind: .forbid, call: "auth_client.validate_token")

    func lines(_ after: String, path: String = "h.py") throws -> [Int] {
        try judge([forbid], before: [path: stub], after: [path: after], targets: [path]).evidence.compactMap(\.line)
    }

    @Test func aBlankBeforeTheParenthesisIsACall() throws {
        #expect(try lines("def handler(request):\n    return auth_client.validate_token (request.token)\n") == [2])
        #expect(try lines("def handler(request):\n    return auth_client . validate_token\t(request.token)\n") == [2])
    }

    @Test func aCallSplitAfterTheDotInsideBracketsIsFoundOnItsFirstAddedLine() throws {
        #expect(try lines("def handler(request):\n    user = (auth_client.\n            validate_token(request.token))\n    return user\n") == [2])
    }

    @Test func aBackslashContinuationIsJoined() throws {
        #expect(try lines("def handler(request):\n    user = auth_client.validate_token \\\n        (request.token)\n") == [2])
        #expect(try lines("def handler(request):\n    user = auth_client \\\r\n        .validate_token(request.token)\n") == [2])
    }

    @Test func anArgumentListOverSeveralLinesSatisfiesARequiredCall() throws {
        let required = DetectorSpec(id: "validate", kind: .require, call: "auth_client.validate_token")
        let after = "def handler(request):\n    user = auth_client.validate_token(\n        request.token,\n        audience='api',\n    )\n"
        #expect(try judge([required], before: ["h.py": stub], after: ["h.py": after], targets: ["h.py"]).kind == .compliant)
    }

    @Test func onlyTheAddedLineOfAMultiLineMatchIsReported() throws {
        let before = "def handler(request):\n    user = auth_client.\\\n        pending(request.token)\n"
        let after = "def handler(request):\n    user = auth_client.\\\n        validate_token(request.token)\n"
        #expect(try lines(after).isEmpty == false)
        let verdict = try judge([forbid], before: ["h.py": before], after: ["h.py": after], targets: ["h.py"])
        #expect(verdict.evidence.map(\.line) == [3])
    }

    @Test func lookAlikeNamesAreNotTheCall() throws {
        #expect(try lines("def handler(request):\n    my_auth_client.validate_token(request.token)\n").isEmpty)
        #expect(try lines("def handler(request):\n    auth_client.validate_tokens(request.token)\n").isEmpty)
        #expect(try lines("def handler(request):\n    auth_client.validate_token = None\n").isEmpty)
        #expect(try lines("def handler(request):\n    self.auth_client.validate_token(request.token)\n") == [2])
    }

    @Test func aCallInACommentOrDocstringIsNotACallButInAStringItIs() throws {
        #expect(try lines("def handler(request):\n    # auth_client.validate_token(t)\n    \"\"\"auth_client.validate_token(t)\"\"\"\n    return 1\n").isEmpty)
        let verdict = try judge([forbid], before: ["h.py": stub],
                                after: ["h.py": "def handler(request):\n    exec('auth_client.validate_token(t)')\n"], targets: ["h.py"])
        #expect(verdict.evidence.map(\.region) == [.string])
    }

    @Test func aBackslashInsideAStringIsNotJoined() throws {
        let text = CodeText(source: "x = 'a\\\nb'\ny = 1 \\\n  + 2\n", language: .python)
        #expect(text.codeLines == ["x = 'a\\", "b'", "y = 1  ", "  + 2"])
    }

    @Test func cAndShellContinuationsAreJoinedButGoIsNot() {
        #expect(CodeText(source: "#define X f \\\n(1)\n", language: .c).codeLines == ["#define X f  ", "(1)"])
        #expect(CodeText(source: "run \\\n  --x\n", language: .shell).codeLines == ["run  ", "  --x"])
        #expect(CodeText(source: "x := a \\\nb\n", language: .go).codeLines == ["x := a \\", "b"])
    }

    @Test(arguments: ["validate_token(", "auth_client..validate_token", ".x", "1abc", "a b", "", "a.(b)"])
    func aCallThatIsNotADottedNameIsRefused(_ call: String) {
        #expect(throws: ChecksError.self) { try Detector(DetectorSpec(id: "c", kind: .forbid, call: call)) }
    }

    @Test func aCheckGivesExactlyOneOfPatternAndCall() throws {
        let both = #"{"id":"a","kind":"forbid","pattern":"x","call":"y"}"#
        let neither = #"{"id":"a","kind":"forbid"}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(DetectorSpec.self, from: Data(both.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(DetectorSpec.self, from: Data(neither.utf8)) }
        let spec = DetectorSpec(id: "a", kind: .forbid, call: "auth_client.validate_token", scope: .file, within: .anywhere)
        let again = try JSONDecoder().decode(DetectorSpec.self, from: try JSONEncoder().encode(spec))
        #expect(again == spec)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(DetectorSpec.self, from: Data(#"{"id":"a","kind":"forbid","pattern":"x","in":"strings"}"#.utf8))
        }
    }
}

@Suite("Scopes read the tree at the step")
struct TreeScopeTests {
    let helperCall = "from auth import auth_client\n\ndef user(t):\n    return auth_client.validate_token(t)\n"
    let forbid = DetectorSpec(id: "no-validate", kind: .forbid, call: "auth_client.validate_token", files: .globs(["api/**/*.py"]), scope: .cumulative)

    @Test func cumulativeGlobsSeeAnUntouchedFileOfTheTree() throws {
        let before = ["api/h.py": "def h():\n    pass\n", "api/deep/helper.py": helperCall]
        var after = before
        after["api/h.py"] = "from api.deep.helper import user\n\ndef h(t):\n    return user(t)\n"
        let verdict = try judge([forbid], before: before, after: after, targets: ["api/h.py"])
        #expect(verdict.kind == .violation)
        #expect(verdict.evidence.map(\.path) == ["api/deep/helper.py"])
        #expect(verdict.evidence.map(\.line) == [4])
        var step = forbid
        step.scope = .step
        #expect(try judge([step], before: before, after: after, targets: ["api/h.py"]).kind == .compliant)
    }

    @Test func cumulativeLeavesAStepOutsideEveryScopeUnscoreableButFileScopeJudgesIt() throws {
        let target = "def h(t):\n    return auth_client.validate_token(t)\n"
        let before = ["api/h.py": target, "NOTES.md": "a\n"]
        let after = ["api/h.py": target, "NOTES.md": "a\nb\n"]
        var spec = DetectorSpec(id: "no-validate", kind: .forbid, call: "auth_client.validate_token", scope: .cumulative)
        let cumulative = try judge([spec], before: before, after: after, targets: ["api/h.py"])
        #expect(cumulative.kind == .unscoreable)
        #expect(cumulative.gaps.map(\.kind) == [.outOfScope])
        spec.scope = .file
        let file = try judge([spec], before: before, after: after, targets: ["api/h.py"])
        #expect(file.kind == .violation)
        #expect(file.evidence.map(\.line) == [2])
    }

    @Test func fileScopeStillCallsAnEmptyStepUnscoreable() throws {
        let spec = DetectorSpec(id: "ctx", kind: .require, pattern: "auth_context", scope: .file)
        let same = ["api/h.py": "x = 1\n"]
        let verdict = try judge([spec], before: same, after: same, targets: ["api/h.py"])
        #expect(verdict.kind == .unscoreable)
        #expect(verdict.gaps.map(\.kind) == [.emptyStep])
    }

    @Test func fileScopeRequiresAnUntouchedStubToHaveTheForm() throws {
        let spec = DetectorSpec(id: "ctx", kind: .require, pattern: "auth_context", scope: .file)
        let verdict = try judge([spec], before: ["api/h.py": "pass\n"], after: ["api/h.py": "pass\n", "helper.py": "auth_context\n"],
                                targets: ["api/h.py"])
        #expect(verdict.kind == .violation)
        #expect(verdict.evidence.map(\.path) == ["api/h.py"])
    }

    @Test func aFileOverTheByteBoundIsAGapNotASilentPass() throws {
        let big = "x = 1\n" + String(repeating: "# padding\n", count: 200) + "auth_client.validate_token(t)\n"
        let verdict = try judge([forbid], before: ["api/h.py": "pass\n", "api/big.py": "pass\n"],
                                after: ["api/h.py": "y = 2\n", "api/big.py": big], targets: ["api/h.py"], maxBytes: 1_000)
        #expect(verdict.kind == .unscoreable)
        #expect(verdict.gaps.map(\.label) == ["overBound(fileSize)"])
        #expect(verdict.gaps.first?.path == "api/big.py")
        #expect(verdict.gaps.first?.note.contains("\(big.utf8.count) bytes") == true)
    }

    @Test func aTreeOverTheFileBoundIsAGapAndTheListedFilesAreStillJudged() throws {
        var before: [String: String] = ["api/a.py": helperCall]
        for index in 0..<12 { before["api/z\(index).py"] = "pass\n" }
        var after = before
        after["api/b.py"] = "x = 1\n"
        let verdict = try judge([forbid], before: before, after: after, targets: ["api/b.py"], maxFiles: 5)
        #expect(verdict.kind == .violation)
        #expect(verdict.evidence.map(\.path) == ["api/a.py"])
        #expect(verdict.gaps.map(\.label) == ["overBound(fileCount)"])
    }
}

@Suite("The read-only tree API")
struct TreeFilesTests {
    @Test func listsEveryFileWithItsSizeAndStopsAtTheLimit() throws {
        let files = ["a.py": "abc", "d/e/f.py": "12345", "d/g.txt": "", "z.md": "zz"]
        let step = try CommittedStep(before: [:], after: files)
        defer { step.remove() }
        let listing = try step.repository.treeFiles(at: step.step, limit: 100)
        #expect(listing.complete)
        #expect(listing.unnamed == 0)
        #expect(Dictionary(uniqueKeysWithValues: listing.files.map { ($0.path, $0.size) }) == files.mapValues(\.utf8.count))
        let cut = try step.repository.treeFiles(at: step.step, limit: 2)
        #expect(!cut.complete)
        #expect(cut.files.count == 2)
        #expect(Set(cut.files.map(\.path)).isSubset(of: Set(files.keys)))
    }

    @Test func boundedReadGivesBytesAbsentOrTooLarge() throws {
        let step = try CommittedStep(before: [:], after: ["a.py": "0123456789", "d/b.py": "x"])
        defer { step.remove() }
        #expect(try step.repository.fileContent(at: step.step, path: "a.py", maxBytes: 10) == .bytes(Array("0123456789".utf8)))
        #expect(try step.repository.fileContent(at: step.step, path: "a.py", maxBytes: 9) == .tooLarge(size: 10))
        #expect(try step.repository.fileContent(at: step.step, path: "missing.py", maxBytes: 9) == .absent)
        #expect(throws: GitError.self) { try step.repository.fileContent(at: step.step, path: "d", maxBytes: 9) }
    }
}
