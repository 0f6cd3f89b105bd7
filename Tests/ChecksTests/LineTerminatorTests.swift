import Foundation
import GitStore
import Testing
@testable import Checks

/// Comment scanning ends a line where each language's own lexer does, and evidence lines stay
/// the lines git counts (split on `\n` only).
@Suite("Line terminators per language")
struct LineTerminatorTests {
    private let forbid = DetectorSpec(id: "no-call", kind: .forbid, pattern: #"validate_token\("#)

    /// The verdict of a step that adds every line of `after` to `path`.
    private func verdict(_ path: String, _ after: String) throws -> Verdict {
        let count = CodeText(source: after, language: .plain).lineCount
        let diff = StepDiff(files: [HandBuiltDiff.file(path, after: after, added: Array(1...count))], patch: "")
        return try DetectorSet([forbid]).verdict(for: diff, targets: [path], files: HandBuiltDiff.files(after: [path: after]))
    }

    @Test func pythonLoneCarriageReturnEndsAComment() throws {
        let source = "x = 1\ny = 2  # harmless note\rauth_client.validate_token(t)\nz = 3\n"
        let text = CodeText(source: source, language: .python)
        #expect(text.code.contains("auth_client.validate_token(t)"))
        #expect(!text.code.contains("harmless"))
        #expect(text.lineCount == 3)
        let judged = try verdict("m.py", source)
        #expect(judged.kind == .violation)
        #expect(judged.evidence.map(\.line) == [2])
        #expect(judged.evidence.first?.lineText == "y = 2  # harmless note\rauth_client.validate_token(t)")
    }

    @Test func pythonCarriageReturnLineFeedIsOneLineEnd() throws {
        // A backslash continuation over `\r\n` keeps the statement going: the string after it is
        // an argument, not a docstring, so it stays code.
        let source = "call(1, \\\r\n\"\"\"validate_token(x)\"\"\")\r\n# validate_token(y)\r\n"
        let text = CodeText(source: source, language: .python)
        #expect(text.code.contains("\"\"\"validate_token(x)\"\"\""))
        #expect(!text.code.contains("validate_token(y)"))
        #expect(text.lineCount == 3)
        #expect(try verdict("m.py", source).evidence.map(\.line) == [2])
    }

    @Test func pythonDocstringAfterALoneCarriageReturnStandsAlone() throws {
        let source = "\"\"\"validate_token(doc)\"\"\"\rx = 1\n"
        #expect(!CodeText(source: source, language: .python).code.contains("validate_token"))
    }

    @Test(arguments: ["f", "F", "rf", "fR"])
    func pythonFStringStatementIsCodeNotADocstring(_ prefix: String) throws {
        // `f"""{call()}"""` on its own line runs the call.
        let source = "def f(request):\n    \(prefix)\"\"\"{auth_client.validate_token(request.token)}\"\"\"\n    return 1\n"
        #expect(CodeText(source: source, language: .python).code.contains("validate_token("))
        #expect(try verdict("m.py", source).evidence.map(\.line) == [2])
        #expect(!CodeText(source: "def f():\n    r\"\"\"validate_token(x)\"\"\"\n", language: .python).code.contains("validate_token"))
    }

    @Test(arguments: ["\u{2028}", "\u{2029}", "\r", "\r\n"])
    func javascriptLineTerminatorsEndALineComment(_ terminator: String) throws {
        let source = "const a = 1;\n// cached path" + terminator + "authClient.validate_token(t);\nexport {};\n"
        let text = CodeText(source: source, language: .javascript)
        #expect(text.code.contains("authClient.validate_token(t);"))
        #expect(!text.code.contains("cached"))
        for path in ["m.ts", "m.js", "m.tsx"] {
            let judged = try verdict(path, source)
            #expect(judged.kind == .violation, "\(path)")
            #expect(judged.evidence.map(\.line) == [terminator == "\r\n" ? 3 : 2], "\(path)")
        }
    }

    @Test func javascriptStringsMayHoldLineSeparators() {
        // Since ES2019 a string literal may hold U+2028; it does not end the string, so a `//`
        // after it inside the string is not a comment.
        let source = "const s = 'a\u{2028}// not a comment';\n"
        #expect(CodeText(source: source, language: .javascript).code == source)
    }

    @Test(arguments: [SourceLanguage.swift, .c])
    func swiftAndCEndALineCommentAtACarriageReturn(_ language: SourceLanguage) {
        let source = "int a; // note\rvalidate_token(t);\n"
        #expect(CodeText(source: source, language: language).code.contains("validate_token(t);"))
    }

    @Test func goEndsALineCommentOnlyAtANewline() {
        // The Go spec's newline is U+000A; a carriage return inside a comment belongs to it.
        let source = "x := 1 // note\rvalidate_token(t)\ny := 2\n"
        let code = CodeText(source: source, language: .go).code
        #expect(!code.contains("validate_token"))
        #expect(code.contains("y := 2"))
    }

    @Test func shellEndsACommentOnlyAtANewlineAndCarriageReturnIsAWordCharacter() {
        // bash: `# note\rcall` is all comment; `true\r#;call` is the word `true\r#`, then `call`.
        let comment = CodeText(source: "# note\rvalidate_token(t)\n", language: .shell).code
        #expect(!comment.contains("validate_token"))
        let word = CodeText(source: "true\r#;validate_token t\n", language: .shell).code
        #expect(word.contains("validate_token t"))
    }

    @Test(arguments: SourceLanguage.allCases)
    func everyLanguageKeepsLengthAndGitLineCount(_ language: SourceLanguage) {
        let source = "a // b\rc # d\u{2028}e /* f\r*/ g\n'h\r' \"i\u{2029}\"\nlast"
        let text = CodeText(source: source, language: language)
        #expect(text.code.utf16.count == source.utf16.count)
        #expect(text.lineCount == 3)
        #expect(text.sourceLines.count == 3)
    }
}
