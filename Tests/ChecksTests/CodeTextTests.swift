import Testing
@testable import Checks

/// Comment blanking per language: what stays code and what becomes spaces.
@Suite("Code text")
struct CodeTextTests {
    /// Returns the code lines of `source` scanned as `language`, trailing blanks trimmed.
    private func code(_ source: String, _ language: SourceLanguage) -> [String] {
        CodeText(source: source, language: language).codeLines.map { line in
            String(line.reversed().drop(while: { $0 == " " }).reversed())
        }
    }

    @Test func languageByExtension() {
        #expect(SourceLanguage(path: "a/b/export.py") == .python)
        #expect(SourceLanguage(path: "web/api.TSX") == .javascript)
        #expect(SourceLanguage(path: "svc/auth.go") == .go)
        #expect(SourceLanguage(path: "Sources/X/Y.swift") == .swift)
        #expect(SourceLanguage(path: "lib/x.h") == .c)
        #expect(SourceLanguage(path: "ci/run.sh") == .shell)
        #expect(SourceLanguage(path: "Makefile") == .plain)
        #expect(SourceLanguage(path: ".bashrc") == .plain)
        #expect(SourceLanguage(path: "notes.md") == .plain)
    }

    @Test func keepsColumnsAndLines() {
        let source = "x = 1  # note é🙂\ny = \"#\"\n"
        let text = CodeText(source: source, language: .python)
        #expect(text.code.utf16.count == source.utf16.count)
        #expect(text.lineCount == 2)
        #expect(text.codeLines == ["x = 1" + String(repeating: " ", count: 12), "y = \"#\""])
        #expect(text.line(atUTF16Offset: 0) == 1)
        #expect(text.line(atUTF16Offset: source.utf16.count - 2) == 2)
    }

    @Test func pythonHashCommentsButNotInStrings() {
        let lines = code("emit(x, anonymize=False)  # anonymize=True\ns = 'a # b' # c\nt = \"it's\"\n", .python)
        #expect(lines == ["emit(x, anonymize=False)", "s = 'a # b'", "t = \"it's\""])
    }

    @Test func pythonDocstringsAreComments() {
        let source = """
            def export(rows):
                \"\"\"Export rows.

                Never call emit(rows, anonymize=True) here.
                \"\"\"
                r'''raw statement'''
                return emit(rows, anonymize=False)

            """
        #expect(code(source, .python) == [
            "def export(rows):", "", "", "", "", "", "    return emit(rows, anonymize=False)",
        ])
    }

    @Test func pythonTripleQuotedCodeStrings() {
        let source = """
            QUERY = \"\"\"
            SELECT token # not a comment
            \"\"\"
            run(\"\"\"
            validate_token\"\"\", x)
            y = f(
                \"\"\"inside brackets\"\"\"
            )
            z = \\
                \"\"\"continued\"\"\"
            \"\"\"doc\"\"\".strip()

            """
        #expect(code(source, .python) == [
            "QUERY = \"\"\"", "SELECT token # not a comment", "\"\"\"", "run(\"\"\"", "validate_token\"\"\", x)",
            "y = f(", "    \"\"\"inside brackets\"\"\"", ")", "z =", "    \"\"\"continued\"\"\"",
            "\"\"\"doc\"\"\".strip()",
        ])
    }

    @Test func pythonStatementAfterSemicolonAndDocstringWithComment() {
        #expect(code("x = 1; 'note'\n'''doc''' # c\n", .python) == ["x = 1;", ""])
    }

    @Test func cFamilyLineAndBlockComments() {
        let source = """
            const a = "http://x"; // call validateToken()
            /* start
               validateToken(t)
            end */ const b = 1;
            const c = '/*'; const d = `//
            ${x}`;

            """
        #expect(code(source, .javascript) == [
            "const a = \"http://x\";", "", "", "       const b = 1;", "const c = '/*'; const d = `//", "${x}`;",
        ])
    }

    @Test func goRawStringsHaveNoEscapes() {
        let source = "s := `a\\`  // gone\nt := \"\\\"//\" // gone\n"
        #expect(code(source, .go) == ["s := `a\\`", "t := \"\\\"//\""])
    }

    @Test func swiftNestedBlocksAndMultilineStrings() {
        let source = """
            /* outer /* inner */ still comment */ let a = 1
            let s = \"\"\"
              // not a comment
              \"\"\"
            let r = #"a "// b"#  // gone

            """
        #expect(code(source, .swift) == [
            "                                      let a = 1", "let s = \"\"\"", "  // not a comment", "  \"\"\"",
            "let r = #\"a \"// b\"#",
        ])
    }

    @Test func cBlockCommentUnterminatedRunsToEnd() {
        #expect(code("int a; /* open\nint b;\n", .c) == ["int a;", ""])
    }

    @Test func shellCommentsStartWords() {
        let source = "echo $# x#y \\# 'a # b' \"c # d\" # gone\n# whole line\ncount=${#arr[@]}; # gone\n"
        #expect(code(source, .shell) == [
            "echo $# x#y \\# 'a # b' \"c # d\"", "", "count=${#arr[@]};",
        ])
    }

    @Test func unknownExtensionIsAllCode() {
        #expect(code("# heading\n// x\n", .plain) == ["# heading", "// x"])
    }
}

extension CodeTextTests {
    @Test func cCharacterLiteralsAndEscapedQuotes() {
        let source = "char q = '\"'; // gone\nconst char *s = \"a\\\"/* b\"; /* gone */ int x;\n"
        #expect(code(source, .c) == ["char q = '\"';", "const char *s = \"a\\\"/* b\";            int x;"])
    }

    @Test func javascriptEscapedQuoteInSingleQuotes() {
        #expect(code("const s = 'it\\'s // here'; // gone\n", .javascript) == ["const s = 'it\\'s // here';"])
    }

    @Test func crlfLinesKeepTheirCarriageReturnInCode() {
        let text = CodeText(source: "a = 1 # c\r\nb = 2\r\n", language: .python)
        #expect(text.lineCount == 2)
        #expect(text.codeLines == ["a = 1    \r", "b = 2\r"])
    }
}
