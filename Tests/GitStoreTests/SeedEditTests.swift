import Testing
@testable import GitStore

@Suite("Seed edits")
struct SeedEditTests {
    private func edit(_ anchor: SeedEdit.Anchor, _ text: String = "# NOTE\n") -> SeedEdit {
        SeedEdit(path: "src/m.py", anchor: anchor, text: text)
    }

    @Test("top goes after a shebang and a coding line, or at line 1 without them")
    func top() throws {
        #expect(try edit(.top).apply(to: "#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\nx = 1\n")
            == "#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\n# NOTE\nx = 1\n")
        #expect(try edit(.top).apply(to: "#!/bin/sh\necho\n") == "#!/bin/sh\n# NOTE\necho\n")
        #expect(try edit(.top).apply(to: "# vim: set fileencoding=utf-8 :\nx\n") == "# vim: set fileencoding=utf-8 :\n# NOTE\nx\n")
        #expect(try edit(.top).apply(to: "x = 1\n# coding: latin-1\n") == "# NOTE\nx = 1\n# coding: latin-1\n")
        #expect(try edit(.top).apply(to: "") == "# NOTE\n")
    }

    @Test("bottom appends, adding a missing final newline first")
    func bottom() throws {
        #expect(try edit(.bottom).apply(to: "a\nb\n") == "a\nb\n# NOTE\n")
        #expect(try edit(.bottom).apply(to: "a\nb") == "a\nb\n# NOTE\n")
        #expect(try edit(.bottom, "# NOTE").apply(to: "a\n") == "a\n# NOTE\n")
    }

    @Test("beforeLine(N) makes the text start at line N; out of range is an error")
    func beforeLine() throws {
        #expect(try edit(.beforeLine(2)).apply(to: "a\nb\nc\n") == "a\n# NOTE\nb\nc\n")
        #expect(try edit(.beforeLine(4)).apply(to: "a\nb\nc\n") == "a\nb\nc\n# NOTE\n")
        let error = try #require(throws: GitError.self) { try edit(.beforeLine(5)).apply(to: "a\nb\nc\n") }
        #expect(error.message == "line 5 is outside the file's 3 lines")
        #expect(error.location == "src/m.py")
        #expect(throws: GitError.self) { try edit(.beforeLine(0)).apply(to: "a\n") }
    }

    @Test("afterMatch and beforeMatch need exactly one matching line")
    func matches() throws {
        let text = "import os\n\ndef emit(x):\n    pass\n\ndef other():\n    pass\n"
        #expect(try edit(.afterMatch(#"^def emit\("#)).apply(to: text)
            == "import os\n\ndef emit(x):\n# NOTE\n    pass\n\ndef other():\n    pass\n")
        #expect(try edit(.beforeMatch("^def other")).apply(to: text)
            == "import os\n\ndef emit(x):\n    pass\n\n# NOTE\ndef other():\n    pass\n")
        let several = try #require(throws: GitError.self) { try edit(.afterMatch("pass")).apply(to: text) }
        #expect(several.message == "the anchor /pass/ matches 2 lines (4, 7); it must match exactly one")
        #expect(several.location == "src/m.py:4")
        let none = try #require(throws: GitError.self) { try edit(.beforeMatch("class ")).apply(to: text) }
        #expect(none.message == "the anchor /class / matches no line; it must match exactly one")
        #expect(none.location == "src/m.py")
        let invalid = try #require(throws: GitError.self) { try edit(.afterMatch("(")).apply(to: text) }
        #expect(invalid.message.hasPrefix("the anchor pattern /(/ is not a valid regular expression"))
    }

    @Test("CRLF lines keep their carriage returns")
    func crlf() throws {
        #expect(try edit(.beforeMatch("^b")).apply(to: "a\r\nb\r\n") == "a\r\n# NOTE\nb\r\n")
    }

    @Test("wholeFile replaces or creates; other anchors need an existing file")
    func wholeFile() throws {
        #expect(try edit(.wholeFile, "all").apply(to: nil) == "all")
        #expect(try edit(.wholeFile, "all\n").apply(to: "old\n") == "all\n")
        let error = try #require(throws: GitError.self) { try edit(.top).apply(to: nil) }
        #expect(error.message == "the file does not exist")
    }
}
