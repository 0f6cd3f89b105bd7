/// The comment syntax family of a source file, chosen by its file extension.
///
/// Detectors skip comments, so each language says what a comment is:
/// - `python`: `#` to the end of the line, and string literals that stand alone as a statement
///   (docstrings); a string assigned, returned or passed as an argument is code.
/// - `javascript`, `go`, `swift`, `c`: `//` to the end of the line and `/* … */` blocks that may
///   span lines (Swift blocks nest); backtick strings are template literals (JavaScript) or raw
///   strings (Go); Swift `"""` strings span lines.
/// - `shell`: `#` at the start of a word to the end of the line.
/// - `plain`: no comments; every line is code.
public enum SourceLanguage: String, Sendable, Hashable, Codable, CaseIterable {
    /// Python (`.py`, `.pyi`).
    case python
    /// JavaScript and TypeScript (`.js`, `.mjs`, `.cjs`, `.jsx`, `.ts`, `.mts`, `.cts`, `.tsx`).
    case javascript
    /// Go (`.go`).
    case go
    /// Swift (`.swift`).
    case swift
    /// C and the languages that share its comments (`.c`, `.h`, `.cc`, `.cpp`, `.hpp`, `.java`).
    case c
    /// POSIX shells (`.sh`, `.bash`, `.zsh`).
    case shell
    /// Anything else: every line is code.
    case plain

    /// The language of a repository path, by its extension (case-insensitive); `plain` when unknown.
    ///
    /// - Parameter path: A file path such as `analytics/export.py`.
    public init(path: String) {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else {
            self = .plain
            return
        }
        let ext = name[name.index(after: dot)...].lowercased()
        self = Self.byExtension[ext] ?? .plain
    }

    /// The UTF-16 code units that end a line, and so a line comment, for the language's own lexer.
    ///
    /// - Python: `\n`, `\r\n` and a lone `\r` (the tokenizer reads all three as a newline).
    /// - JavaScript / TypeScript: `\n`, `\r`, U+2028 and U+2029 (ECMAScript LineTerminator).
    /// - Swift: `\n` and `\r` (the Swift reference: a comment ends at a line feed or carriage return).
    /// - C family: `\n` and `\r` (Clang and Java end a line comment at either; GCC only at `\n`,
    ///   so text after a lone `\r` may be a comment to GCC: a possible false alarm, never a miss).
    /// - Go: `\n` only (the Go spec's newline; a `\r` inside a comment is part of it).
    /// - Shell: `\n` only (for POSIX shells, bash and zsh `\r` is an ordinary character).
    /// - Plain: `\n` (no comments, so it only matters for consistency).
    public var lineTerminators: Set<UInt16> {
        let newline = UInt16(UInt8(ascii: "\n")), carriageReturn = UInt16(UInt8(ascii: "\r"))
        switch self {
        case .python, .swift, .c: return [newline, carriageReturn]
        case .javascript: return [newline, carriageReturn, 0x2028, 0x2029]
        case .go, .shell, .plain: return [newline]
        }
    }

    private static let byExtension: [String: SourceLanguage] = [
        "py": .python, "pyi": .python,
        "js": .javascript, "mjs": .javascript, "cjs": .javascript, "jsx": .javascript,
        "ts": .javascript, "mts": .javascript, "cts": .javascript, "tsx": .javascript,
        "go": .go,
        "swift": .swift,
        "c": .c, "h": .c, "cc": .c, "cpp": .c, "cxx": .c, "hpp": .c, "java": .c,
        "sh": .shell, "bash": .shell, "zsh": .shell,
    ]
}
