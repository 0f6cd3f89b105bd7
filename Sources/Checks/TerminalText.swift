/// Agent-made text made safe to print on a terminal.
///
/// Everything an agent produces (file names, diff lines, messages, evidence, error messages that
/// quote them) is hostile: an escape sequence can recolour, move the cursor, rewrite earlier
/// lines, set the window title or hide text, a carriage return can overwrite a line, and bidi
/// controls can show code in another order than it runs. Every such text goes through
/// `escaped(_:keepingNewlines:keepingTabs:)` before it is printed; the escapes are visible, so
/// the reviewer sees the trick instead of its effect:
///
/// | character | shown as |
/// |---|---|
/// | ESC (U+001B) | `\e` |
/// | NUL, `\r`, `\n`, `\t` | `\0`, `\r`, `\n`, `\t` (`\n` and `\t` only when not kept) |
/// | other C0 controls, DEL | `\x07`, `\x7F` |
/// | C1 controls (U+0080–U+009F) | `\u{9B}` |
/// | bidi controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C), U+2028, U+2029 | `\u{202E}` |
///
/// A backslash itself is left as it is, so code reads as written.
public enum TerminalText {
    /// The text with every control character escaped.
    ///
    /// - Parameters:
    ///   - text: Agent-made text.
    ///   - keepingNewlines: Keep `\n` as a line break (for multi-line text meant to break).
    ///   - keepingTabs: Keep `\t`.
    /// - Returns: Text holding no control character but the kept `\n` and `\t`.
    public static func escaped(_ text: String, keepingNewlines: Bool = false, keepingTabs: Bool = true) -> String {
        guard text.unicodeScalars.contains(where: { needsEscape($0, keepingNewlines: keepingNewlines, keepingTabs: keepingTabs) }) else {
            return text
        }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar, keepingNewlines: keepingNewlines, keepingTabs: keepingTabs) else {
                out.append(scalar)
                continue
            }
            out.append(contentsOf: escape(scalar).unicodeScalars)
        }
        return String(out)
    }

    /// True when `scalar` may not reach a terminal as it is.
    static func needsEscape(_ scalar: Unicode.Scalar, keepingNewlines: Bool, keepingTabs: Bool) -> Bool {
        switch scalar.value {
        case 0x0A: !keepingNewlines
        case 0x09: !keepingTabs
        case 0x00...0x1F, 0x7F, 0x80...0x9F: true
        case 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C, 0x2028, 0x2029: true
        default: false
        }
    }

    private static func escape(_ scalar: Unicode.Scalar) -> String {
        switch scalar.value {
        case 0x1B: return "\\e"
        case 0x00: return "\\0"
        case 0x0D: return "\\r"
        case 0x0A: return "\\n"
        case 0x09: return "\\t"
        case 0x01...0x1F, 0x7F:
            let hex = String(scalar.value, radix: 16, uppercase: true)
            return "\\x" + (hex.count < 2 ? "0" + hex : hex)
        default:
            return "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
        }
    }
}
