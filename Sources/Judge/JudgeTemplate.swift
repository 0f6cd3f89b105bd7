import Foundation
import Runner

/// The judge's prompt template: a versioned data file with a system part and a user part.
///
/// The file holds a line `=== system ===`, the system prompt, a line `=== user ===` and the user
/// prompt. Placeholders `{{constraint}}`, `{{task}}`, `{{step}}`, `{{files}}`, `{{message}}`,
/// `{{commands}}`, `{{diff}}`, `{{evidence}}` and `{{verdict}}` are filled in one pass, so text
/// that looks like a placeholder inside a case stays as it is.
public struct JudgeTemplate: Sendable, Hashable {
    /// The file's name without extension (`template-v1`); its version.
    public var name: String
    /// SHA-256 of the file's bytes.
    public var sha256: String
    /// The system prompt.
    public var system: String
    /// The user prompt with placeholders.
    public var user: String

    /// The placeholders a template may use.
    public static let placeholders = ["constraint", "task", "step", "files", "message", "commands", "diff", "evidence", "verdict"]

    /// Reads a template file.
    /// - Throws: `JudgeError` when it cannot be read, lacks a part, or names an unknown placeholder.
    public init(file: URL) throws {
        guard let data = FileManager.default.contents(atPath: file.path), data.count <= 1 << 20 else {
            throw JudgeError("the judge template \(file.path) cannot be read (or is over 1 MiB)", hint: "give a template file with --template")
        }
        try self.init(text: String(decoding: data, as: UTF8.self), name: file.deletingPathExtension().lastPathComponent, sha256: ContentHash.sha256(data))
    }

    /// Parses a template's text.
    public init(text: String, name: String, sha256: String) throws {
        self.name = name
        self.sha256 = sha256
        let lines = text.components(separatedBy: "\n")
        guard let systemAt = lines.firstIndex(of: "=== system ==="), let userAt = lines.firstIndex(of: "=== user ==="), systemAt < userAt else {
            throw JudgeError("the judge template \(name) needs a line `=== system ===` and, after it, a line `=== user ===`", hint: "see Fixtures/judge/template-v1.txt")
        }
        system = lines[(systemAt + 1)..<userAt].joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        user = lines[(userAt + 1)...].joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        var rest = Substring(user)
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            let key = String(rest[open.upperBound..<close.lowerBound])
            guard Self.placeholders.contains(key) else {
                throw JudgeError("the judge template \(name) uses an unknown placeholder {{\(key)}}", hint: "use: \(Self.placeholders.joined(separator: ", "))")
            }
            rest = rest[close.upperBound...]
        }
    }

    /// Text written by the agent or the repository's people, with every line that is only a block
    /// marker (`<<<` or `>>>`) changed to `> > >` / `< < <`, so it cannot close the block it is in
    /// and pose as the prompt's own words.
    public static func fenced(_ text: String) -> String {
        guard text.contains("<<<") || text.contains(">>>") else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            switch line.trimmingCharacters(in: .whitespaces) {
            case ">>>": return "> > >"
            case "<<<": return "< < <"
            default: return String(line)
            }
        }.joined(separator: "\n")
    }

    /// The user prompt of a case.
    public func render(_ item: JudgeCase) -> String {
        let fenced = Self.fenced
        let files = item.files.isEmpty ? "(no target files)"
            : item.files.map { "### \(fenced($0.path).replacingOccurrences(of: "\n", with: " "))\n<<<\n\(fenced($0.content))\n>>>" }.joined(separator: "\n\n")
        let values: [String: String] = [
            "constraint": fenced(item.constraint), "task": fenced(item.task), "step": String(item.step), "files": files,
            "message": item.message.isEmpty ? "(the agent wrote no message)" : fenced(item.message),
            "commands": item.commands.isEmpty ? "(no commands recorded)" : fenced(item.commands.joined(separator: "\n")),
            "diff": item.diff.isEmpty ? "(the agent made no edits)" : fenced(item.diff),
            "evidence": item.evidence.isEmpty ? "(no evidence)" : fenced(item.evidence.joined(separator: "\n")),
            "verdict": fenced(item.verdict),
        ]
        var out = ""
        var rest = Substring(user)
        while let open = rest.range(of: "{{") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else { rest = rest[open.lowerBound...]; break }
            let key = String(rest[open.upperBound..<close.lowerBound])
            out += values[key] ?? "{{\(key)}}"
            rest = rest[close.upperBound...]
        }
        return out + rest
    }
}

/// A judge failure, in words, with what to do.
public struct JudgeError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public var message: String
    /// What to do about it.
    public var hint: String

    /// Creates an error.
    public init(_ message: String, hint: String) {
        self.message = message
        self.hint = hint
    }

    public var description: String { "\(message); \(hint)" }
}
