import DriftboxTestSupport
import Testing
@testable import Checks

/// Agent-made text reaches a terminal with every control character escaped.
@Suite("Terminal text")
struct TerminalTextTests {
    @Test func escapeSequencesAreShownNotRun() {
        #expect(TerminalText.escaped("a\u{1B}[2J\u{1B}]0;title\u{07}b") == "a\\e[2J\\e]0;title\\x07b")
        #expect(TerminalText.escaped("x\ry") == "x\\ry")
        #expect(TerminalText.escaped("nul\u{0}del\u{7F}") == "nul\\0del\\x7F")
        #expect(TerminalText.escaped("c1\u{9B}31m") == "c1\\u{9B}31m")
    }

    @Test func bidiControlsAndLineSeparatorsAreShown() {
        #expect(TerminalText.escaped("if a\u{202E} {\u{2066}") == "if a\\u{202E} {\\u{2066}")
        #expect(TerminalText.escaped("a\u{2028}b\u{2029}") == "a\\u{2028}b\\u{2029}")
        #expect(TerminalText.escaped("\u{200F}\u{061C}") == "\\u{200F}\\u{61C}")
    }

    @Test func newlinesAndTabsAreKeptOnlyWhenAsked() {
        #expect(TerminalText.escaped("a\nb\tc") == "a\\nb\tc")
        #expect(TerminalText.escaped("a\nb\tc", keepingNewlines: true, keepingTabs: false) == "a\nb\\tc")
        #expect(TerminalText.escaped("a\r\nb", keepingNewlines: true) == "a\\r\nb")
    }

    @Test func ordinaryTextIsUntouched() {
        let text = #"emit(rows, anonymize=False)  # é 🙂 \e is two characters"#
        #expect(TerminalText.escaped(text) == text)
    }

    /// Every scalar below U+0100 and every listed format control, seeded: the output never holds
    /// a control character except the kept ones.
    @Test func noControlCharacterSurvives() throws {
        let seed = try TestSeed(default: 0x5EED_8)
        var generator = seed.generator
        let alphabet: [Unicode.Scalar] = (0..<0x100).compactMap(Unicode.Scalar.init)
            + [0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0x2028, 0x2029, 0x41].compactMap(Unicode.Scalar.init)
        for round in 0..<200 {
            var view = String.UnicodeScalarView()
            for _ in 0..<40 { view.append(alphabet[Int(generator.next() % UInt64(alphabet.count))]) }
            let out = TerminalText.escaped(String(view), keepingNewlines: true)
            let bad = out.unicodeScalars.first { TerminalText.needsEscape($0, keepingNewlines: true, keepingTabs: true) }
            #expect(bad == nil, "\(seed), round \(round): \(String(view).debugDescription)")
        }
    }
}
