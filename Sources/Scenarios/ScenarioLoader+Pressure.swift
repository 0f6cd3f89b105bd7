import Foundation
import GitStore
import Yams

/// The schedule kinds as written in a scenario.
enum ScheduleKind: String, CaseIterable {
    case tiered, none, explicit
}

extension ScenarioParse {
    struct ParsedPressure {
        var pool: PressurePool
        var schedule: Schedule
    }

    struct ParsedBlock {
        var block: PressureBlock
        var node: Node
        var atNode: Node?
        var fileNode: Node?
    }

    static let placeholders: Set<String> = ["file", "module", "step", "task"]

    /// Reads `pressure:`; `tasks` is nil when the tasks did not load (then step numbers are not
    /// checked against the task count).
    mutating func parsePressure(_ node: Node?, tasks loadedTasks: [ParsedTask]?) -> ParsedPressure? {
        let tasks = loadedTasks ?? []
        guard let node else { return ParsedPressure(pool: .empty, schedule: .none) }
        guard let fields = main.fields(node, "pressure", allowed: ["pool", "schedule", "steps"], required: ["schedule"]),
            let kind = main.choice(fields["schedule"], "schedule", as: ScheduleKind.self)
        else { return nil }

        var blocks: [ParsedBlock]? = []
        if let poolNode = fields["pool"] {
            blocks = parsePool(poolNode, dynamicLands: kind != .none, tasks: tasks)
        } else if kind != .none {
            main.report(.missingField, at: node, "pressure has no 'pool' but its schedule is \(kind.rawValue)",
                        hint: "add `pool: <file>` or set `schedule: none`")
            blocks = nil
        }
        guard let blocks else { return nil }
        let pool = PressurePool(
            staticBlocks: blocks.filter(isStatic).map(\.block),
            dynamicBlocks: blocks.filter { !isStatic($0) }.map(\.block))

        switch kind {
        case .none, .tiered:
            if let stepsKey = fields.keys["steps"] {
                main.report(.invalidValue, at: stepsKey, "'steps' is only read with `schedule: explicit`",
                            hint: "delete 'steps' or set `schedule: explicit`")
                return nil
            }
            if kind == .none { return ParsedPressure(pool: pool, schedule: .none) }
            let missing = (1...Schedule.tierCount).filter { pool.dynamicBlocks(tier: $0).isEmpty }
            if !missing.isEmpty {
                main.report(.emptyTier, at: fields["schedule"],
                            "the schedule is tiered but the pool has no dynamic block of tier \(missing.map(String.init).joined(separator: ", "))",
                            hint: "add a block for every tier from 1 to \(Schedule.tierCount) to the pool, or use another schedule")
                return nil
            }
            return ParsedPressure(pool: pool, schedule: .tiered)
        case .explicit:
            guard let stepsNode = fields["steps"] else {
                main.report(.missingField, at: node, "pressure has `schedule: explicit` but no 'steps'",
                            hint: "add `steps: {1: [block-id], ...}`")
                return nil
            }
            guard let steps = parseExplicitSteps(stepsNode, pool: pool, taskCount: loadedTasks?.count) else { return nil }
            return ParsedPressure(pool: pool, schedule: .explicit(steps))
        }
    }

    /// Static blocks are the ones without a tier (a dynamic block always has one).
    func isStatic(_ parsed: ParsedBlock) -> Bool { parsed.block.tier == nil }

    mutating func parseExplicitSteps(_ node: Node, pool: PressurePool, taskCount: Int?) -> [Int: [String]]? {
        guard let mapping = node.mapping else {
            main.report(.wrongType, at: node, "steps must be a mapping, found \(NodeReader.describe(node))",
                        hint: "write `steps: {1: [block-id], 6: [other-id]}`")
            return nil
        }
        var steps: [Int: [String]] = [:]
        var failed = false
        for (keyNode, value) in mapping {
            let step = main.int(keyNode, "a step number", in: 1...max(1, taskCount ?? Int.max))
            if let step, steps[step] != nil {
                main.report(.duplicateKey, at: keyNode, "step \(step) is listed twice", hint: "merge the two lists")
                failed = true
            }
            guard let items = main.sequence(value, "the blocks of a step") else { failed = true; continue }
            var ids: [String] = []
            for item in items {
                guard let id = main.string(item, "a block id") else { failed = true; continue }
                if pool.block(id: id) == nil {
                    let known = (pool.staticBlocks + pool.dynamicBlocks).map(\.id)
                    let suggestion = NodeReader.nearest(id, among: known).map { "did you mean '\($0)'?" }
                        ?? "name a block of the pool"
                    main.report(.unknownReference, at: item, "block '\(id)' is not in the pool", hint: suggestion)
                    failed = true
                }
                ids.append(id)
            }
            if let step { steps[step] = ids } else { failed = true }
        }
        return failed ? nil : steps
    }

    // MARK: The pool file

    mutating func parsePool(_ node: Node, dynamicLands: Bool, tasks: [ParsedTask]) -> [ParsedBlock]? {
        guard let path = main.string(node, "pool"),
            let (file, data) = referencedFile(node, path, "pressure pool", hint: "create the pool or fix the path")
        else { return nil }
        var reader = NodeReader(path: file.path)
        defer { poolReader = reader }
        guard let root = reader.parse(data),
            let fields = reader.fields(root, "the pressure pool", allowed: ["static", "dynamic"])
        else { return nil }

        var parsed: [ParsedBlock] = []
        var failed = false
        for (key, isStatic) in [("static", true), ("dynamic", false)] {
            guard let listNode = fields[key] else { continue }
            if listNode.null != nil { continue }
            guard let items = reader.sequence(listNode, "the \(key) blocks") else { failed = true; continue }
            for item in items {
                if let block = parseBlock(item, isStatic: isStatic, reader: &reader) {
                    parsed.append(block)
                } else {
                    failed = true
                }
            }
        }
        failed = !checkBlockIdentities(parsed, reader: &reader) || failed
        let landing = dynamicLands ? parsed : parsed.filter(isStatic)
        failed = !checkLanding(landing, tasks: tasks, reader: &reader) || failed
        return failed ? nil : parsed
    }

    mutating func parseBlock(_ node: Node, isStatic: Bool, reader: inout NodeReader) -> ParsedBlock? {
        let allowed = ["id", "tier", "variant", "file", "at", "author", "message", "text"]
        let required = isStatic ? ["id", "file", "author", "message", "text"] : ["id", "tier", "variant", "author", "message", "text"]
        let what = isStatic ? "a static block" : "a dynamic block"
        guard let fields = reader.fields(node, what, allowed: allowed, required: required) else { return nil }
        let id = reader.string(fields["id"], "a block's id")
        var tier: Int?? = .some(nil)
        if !isStatic { tier = reader.int(fields["tier"], "a block's tier", in: 1...Schedule.tierCount).map { .some($0) } }
        else if let tierNode = fields.keys["tier"] {
            reader.report(.invalidValue, at: tierNode, "a static block has no tier", hint: "delete 'tier' or move the block to `dynamic:`")
            tier = nil
        }
        let variant = isStatic ? nil : reader.string(fields["variant"], "a block's variant")
        let file = reader.string(fields["file"], "a block's file")
        if let file, let fileNode = fields["file"] {
            _ = Self.checkFixturePath(file, at: fileNode, "block file", in: &reader, parse: &self)
        }
        let anchor = parseAnchor(fields["at"], reader: &reader)
        let author = parseAuthor(fields["author"], reader: &reader)
        let message = reader.string(fields["message"], "a block's message")
        let text = reader.string(fields["text"], "a block's text")
        for (value, key) in [(message, "message"), (text, "text")] {
            guard let value, let valueNode = fields[key] else { continue }
            let unknown = Self.placeholderNames(in: value).filter { !Self.placeholders.contains($0) }
            if let first = unknown.first {
                reader.report(.invalidValue, at: valueNode, "a block's \(key) holds unknown placeholder {\(first)}",
                              hint: "use {file}, {module}, {step} or {task}")
                return nil
            }
        }
        guard let id, let tier, let anchor, let author, let message, let text else { return nil }
        if !isStatic && variant == nil { return nil }
        let block = PressureBlock(id: id, tier: tier, variant: variant, file: file, anchor: anchor,
                                  author: author, message: message, text: text)
        return ParsedBlock(block: block, node: node, atNode: fields["at"], fileNode: fields["file"])
    }

    static func placeholderNames(in text: String) -> [String] {
        guard let regex = try? NSRegularExpression(pattern: #"\{([a-z_]+)\}"#) else { return [] }
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
            Range($0.range(at: 1), in: text).map { String(text[$0]) }
        }
    }

    func parseAnchor(_ node: Node?, reader: inout NodeReader) -> Anchor? {
        guard let node else { return .top }
        let hint = "write `at: top`, `at: bottom`, `at: {before_line: N}`, `at: {after_match: REGEX}` or `at: {before_match: REGEX}`"
        if node.scalar != nil {
            switch reader.string(node, "at") {
            case "top": return .top
            case "bottom": return .bottom
            case let other?:
                reader.report(.invalidValue, at: node, "anchor '\(other)' is not known", hint: hint)
                return nil
            case nil: return nil
            }
        }
        guard let fields = reader.fields(node, "an anchor", allowed: ["before_line", "after_match", "before_match"]) else {
            return nil
        }
        guard fields.values.count == 1, let (key, value) = fields.values.first else {
            if fields.values.count > 1 {
                reader.report(.invalidValue, at: node, "an anchor names more than one place", hint: hint)
            } else if (node.mapping?.count ?? 0) == 0 {
                reader.report(.missingField, at: node, "an anchor names no place", hint: hint)
            }
            return nil
        }
        switch key {
        case "before_line": return reader.int(value, "before_line", in: 1...1_000_000).map(Anchor.beforeLine)
        case "after_match": return reader.regex(value, "after_match").map(Anchor.afterMatch)
        default: return reader.regex(value, "before_match").map(Anchor.beforeMatch)
        }
    }

    func parseAuthor(_ node: Node?, reader: inout NodeReader) -> Author? {
        guard let node, let fields = reader.fields(node, "an author", allowed: ["name", "email"], required: ["name", "email"]),
            let name = reader.string(fields["name"], "an author's name"),
            let email = reader.string(fields["email"], "an author's email")
        else { return nil }
        guard email.contains("@"), !email.contains(" "), !name.contains("<"), !name.contains(">") else {
            reader.report(.invalidValue, at: node, "author '\(name) <\(email)>' is not a valid git identity",
                          hint: "write a name without '<' '>' and an email like name@example.com")
            return nil
        }
        return Author(name: name, email: email)
    }

    /// Duplicate block ids, and duplicate variants within a tier.
    func checkBlockIdentities(_ blocks: [ParsedBlock], reader: inout NodeReader) -> Bool {
        var ok = true
        var ids: [String: Node] = [:]
        var variants: [Int: [String: Node]] = [:]
        for parsed in blocks {
            let block = parsed.block
            ok = reader.claim(block.id, at: parsed.node, in: &ids, "block id", hint: "give each block its own id") && ok
            if let tier = block.tier, let variant = block.variant {
                ok = reader.claim(variant, at: parsed.node, in: &variants[tier, default: [:]], "tier \(tier) variant", hint: "give each block of a tier its own variant") && ok
            }
        }
        return ok
    }

    /// Each block's anchor must place it in every file it may land in, and each such file needs a
    /// known comment syntax.
    mutating func checkLanding(_ blocks: [ParsedBlock], tasks: [ParsedTask], reader: inout NodeReader) -> Bool {
        var ok = true
        if blocks.contains(where: { !isStatic($0) && $0.block.file == nil }) {
            var reported: Set<String> = []
            for parsed in tasks {
                guard let target = parsed.task.targets.first, let place = parsed.firstTarget,
                    CommentSyntax(path: target) == nil, reported.insert(target).inserted
                else { continue }
                late.append(Diagnostic(kind: .invalidValue, path: place.path, line: place.line, column: place.column,
                                       message: "pressure lands in '\(target)' but its language has no known comment syntax",
                                       hint: "use a .py, .sh, .ts, .js, .go, .swift or .c file as the task's first target"))
                ok = false
            }
        }
        for parsed in blocks {
            let files: [String]
            if let file = parsed.block.file {
                files = [file]
                if CommentSyntax(path: file) == nil {
                    reader.report(.invalidValue, at: parsed.fileNode, "block file '\(file)' has no known comment syntax",
                                  hint: "use a .py, .sh, .ts, .js, .go, .swift or .c file")
                    ok = false
                }
            } else {
                files = tasks.compactMap(\.task.targets.first)
            }
            var seen: Set<String> = []
            for file in files where seen.insert(file).inserted {
                guard let lines = fixtureLines(file) else { continue }
                let failure: (Diagnostic.Kind, String)?
                switch parsed.block.anchor.placement(in: lines) {
                case .before: failure = nil
                case .noMatch: failure = (.anchorNoMatch, "matches no line of \(file)")
                case .ambiguous(let at):
                    failure = (.anchorAmbiguous, "matches \(at.count) lines of \(file) (lines \(at.prefix(5).map(String.init).joined(separator: ", ")))")
                case .lineOutOfRange(let count): failure = (.invalidValue, "is past the end of \(file) (\(count) lines)")
                case .invalidRegex: failure = (.invalidRegex, "does not compile")
                }
                if let (kind, what) = failure {
                    reader.report(kind, at: parsed.atNode ?? parsed.node,
                                  "anchor '\(parsed.block.anchor.written)' of block '\(parsed.block.id)' \(what)",
                                  hint: "make the anchor match exactly one line of every file the block lands in, or use `at: top`")
                    ok = false
                } else if let (earlier, line) = earlierText(matching: parsed, in: file, blocks: blocks, tasks: tasks) {
                    reader.report(.anchorAmbiguous, at: parsed.atNode ?? parsed.node,
                                  "anchor '\(parsed.block.anchor.written)' of block '\(parsed.block.id)' also matches line \(line) of block '\(earlier)', which may land in \(file) before it",
                                  hint: "make the anchor match only the fixture's own line (for example anchor on code, not on words the blocks use)")
                    ok = false
                }
            }
        }
        return ok
    }

    /// A block that may land in `file` before `parsed` and whose inserted text has a line the
    /// anchor of `parsed` matches: the block's id and that line (1-based in its text). Landing
    /// order: static blocks in pool order, then dynamic blocks step by step; two dynamic blocks
    /// meet in one file only when more than one step may land there.
    func earlierText(matching parsed: ParsedBlock, in file: String, blocks: [ParsedBlock], tasks: [ParsedTask]) -> (String, Int)? {
        let anchor = parsed.block.anchor.seedAnchor
        switch anchor {
        case .afterMatch, .beforeMatch: break
        default: return nil
        }
        let firstTargets = tasks.compactMap(\.task.targets.first)
        guard let task = tasks.first?.task else { return nil }
        func lands(_ other: ParsedBlock) -> Bool { other.block.file.map { $0 == file } ?? firstTargets.contains(file) }
        let dynamicStepsHere = firstTargets.filter { $0 == file }.count
            + (blocks.contains { !isStatic($0) && $0.block.file == file } ? 2 : 0)
        let position = blocks.firstIndex { $0.block.id == parsed.block.id } ?? blocks.count
        for (index, other) in blocks.enumerated() where lands(other) {
            let before: Bool
            switch (isStatic(other), isStatic(parsed)) {
            case (true, true): before = index < position
            case (true, false): before = true
            case (false, true): before = false
            case (false, false): before = dynamicStepsHere > 1
            }
            guard before,
                let seed = try? PlannedSeed(block: other.block, path: file, step: 1, task: task, time: 0, source: url)
            else { continue }
            let lines = Anchor.lines(of: seed.text)
            for (offset, line) in lines.enumerated() {
                if case .before = SeedEdit.placement(of: anchor, in: [line]) { return (other.block.id, offset + 1) }
            }
        }
        return nil
    }
}
