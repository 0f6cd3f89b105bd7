import Checks
import Foundation

/// One experiment condition: a fixture repository, a constraint document, ordered tasks,
/// pressure from colleagues, and the checks that judge each step.
public struct Scenario: Sendable, Hashable, Codable {
    /// One unit of work for the agent: a prompt and the files it is about.
    public struct Task: Sendable, Hashable, Codable {
        /// Identifier, unique in the scenario.
        public var id: String
        /// What the agent is asked to do.
        public var prompt: String
        /// Repository paths the task is about; each exists in the fixture. Dynamic pressure lands
        /// in the first one.
        public var targets: [String]

        /// Creates a task.
        public init(id: String, prompt: String, targets: [String]) {
            self.id = id
            self.prompt = prompt
            self.targets = targets
        }
    }

    /// Identifier, unique across a suite; `[a-z0-9-]+`.
    public var id: String
    /// A human title.
    public var title: String?
    /// The fixture's name (a folder under `Fixtures/repos`) or the path as written.
    public var fixture: String
    /// The fixture's folder on disk, resolved when loading.
    public var fixtureDirectory: URL
    /// The value pair, for example `utility-privacy`.
    public var valuePair: String
    /// The value the constraint document sides with, when stated.
    public var favours: String?
    /// Which cell of the 2×2 design this scenario is.
    public var condition: Condition
    /// The constraint document's path as written in the scenario.
    public var constraintPath: String
    /// The constraint document's text (placed as `AGENTS.md` at the workspace root).
    public var constraint: String
    /// The tasks, in file order.
    public var tasks: [Task]
    /// Whether the task order is shuffled per episode.
    public var order: OrderPolicy
    /// The commit time of the first seed commit of an episode.
    public var epoch: Date
    /// The pressure blocks available to the schedule.
    public var pool: PressurePool
    /// When dynamic pressure lands.
    public var schedule: Schedule
    /// The detectors that judge each step.
    public var checks: [DetectorSpec]
    /// The file the scenario was loaded from.
    public var source: URL
    /// What the scenario asks of the LLM judge (`judge:`); nil when it asks nothing.
    public var judge: JudgeDuty?

    /// Creates a scenario value (normally obtained from ``ScenarioLoader``).
    public init(
        id: String, title: String?, fixture: String, fixtureDirectory: URL, valuePair: String,
        favours: String?, condition: Condition, constraintPath: String, constraint: String,
        tasks: [Task], order: OrderPolicy, epoch: Date, pool: PressurePool, schedule: Schedule,
        checks: [DetectorSpec], source: URL, judge: JudgeDuty? = nil
    ) {
        self.judge = judge
        self.id = id
        self.title = title
        self.fixture = fixture
        self.fixtureDirectory = fixtureDirectory
        self.valuePair = valuePair
        self.favours = favours
        self.condition = condition
        self.constraintPath = constraintPath
        self.constraint = constraint
        self.tasks = tasks
        self.order = order
        self.epoch = epoch
        self.pool = pool
        self.schedule = schedule
        self.checks = checks
        self.source = source
    }

    /// The default commit time of the first seed when a scenario gives no `epoch`.
    public static let defaultEpoch = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
}

/// What a scenario asks of the LLM judge (`driftbox judge`).
public enum JudgeDuty: String, Sendable, Hashable, Codable, CaseIterable {
    /// The judge decides the steps this scenario's checks leave unscoreable (a judge as one more
    /// detector): whenever a run of it is judged, those steps are judged too and their verdict is
    /// the judge's.
    case unscoreable
}

/// Which cell of the 2×2 design a scenario is.
public enum Condition: String, Sendable, Hashable, Codable, CaseIterable {
    /// The constraint favours X; the environment pushes towards Y.
    case regular
    /// The constraint favours X; the environment is neutral.
    case baseline
    /// The constraint favours Y; the environment pushes towards X.
    case inverted
    /// The constraint favours Y; the environment is neutral.
    case invertedBaseline = "inverted-baseline"
}

/// Whether an episode's task order is the file order or a seeded shuffle.
public enum OrderPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// The tasks in file order.
    case fixed
    /// A Fisher–Yates shuffle driven by ``SplitMix64`` seeded with `base_seed + episode_index`.
    case shuffled
}

/// When dynamic pressure blocks land.
public enum Schedule: Sendable, Hashable, Codable {
    /// Before step k of n, one block of tier `ceil(k × 6 / n)`, its variant drawn by the seed.
    case tiered
    /// No dynamic pressure (static blocks still land before step 1).
    case none
    /// Before each listed step (1-based), the listed blocks in order.
    case explicit([Int: [String]])

    /// The number of severity tiers of a tiered schedule.
    public static let tierCount = 6

    /// The tier due before `step` (1-based) of `steps`: `ceil(step × 6 / steps)`.
    public static func tier(step: Int, of steps: Int) -> Int {
        precondition(steps > 0 && (1...steps).contains(step), "step \(step) is outside 1...\(steps)")
        return (step * tierCount + steps - 1) / steps
    }
}

/// The author of a seed commit: a named colleague.
public struct Author: Sendable, Hashable, Codable {
    /// The name, as git shows it.
    public var name: String
    /// The email, as git shows it.
    public var email: String

    /// Creates an author.
    public init(name: String, email: String) {
        self.name = name
        self.email = email
    }
}

/// Where a pressure block lands in its file.
///
/// Encoded as the scenario format writes it: `"top"`, `"bottom"`, `{"before_line": N}`,
/// `{"after_match": "REGEX"}` or `{"before_match": "REGEX"}`.
public enum Anchor: Sendable, Hashable, Codable {
    /// At the top, after a shebang or encoding line when there is one.
    case top
    /// At the end of the file.
    case bottom
    /// Before the given 1-based line (one past the last line means the end).
    case beforeLine(Int)
    /// After the single line that matches the regex.
    case afterMatch(String)
    /// Before the single line that matches the regex.
    case beforeMatch(String)
}

extension Anchor {
    private enum Key: String, CodingKey {
        case beforeLine = "before_line", afterMatch = "after_match", beforeMatch = "before_match"
    }

    /// Reads the scenario format's form of an anchor.
    public init(from decoder: any Decoder) throws {
        if let word = try? decoder.singleValueContainer().decode(String.self) {
            switch word {
            case "top": self = .top
            case "bottom": self = .bottom
            default:
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                        debugDescription: "anchor '\(word)' is not top or bottom"))
            }
            return
        }
        let keyed = try decoder.container(keyedBy: Key.self)
        if let line = try keyed.decodeIfPresent(Int.self, forKey: .beforeLine) {
            self = .beforeLine(line)
        } else if let pattern = try keyed.decodeIfPresent(String.self, forKey: .afterMatch) {
            self = .afterMatch(pattern)
        } else if let pattern = try keyed.decodeIfPresent(String.self, forKey: .beforeMatch) {
            self = .beforeMatch(pattern)
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "an anchor is top, bottom, before_line, after_match or before_match"))
        }
    }

    /// Writes the anchor as the scenario format does.
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .top, .bottom:
            var single = encoder.singleValueContainer()
            try single.encode(self == .top ? "top" : "bottom")
        case .beforeLine(let line):
            var keyed = encoder.container(keyedBy: Key.self)
            try keyed.encode(line, forKey: .beforeLine)
        case .afterMatch(let pattern):
            var keyed = encoder.container(keyedBy: Key.self)
            try keyed.encode(pattern, forKey: .afterMatch)
        case .beforeMatch(let pattern):
            var keyed = encoder.container(keyedBy: Key.self)
            try keyed.encode(pattern, forKey: .beforeMatch)
        }
    }
}

/// A colleague's comment block, landed as its own commit.
public struct PressureBlock: Sendable, Hashable, Codable {
    /// Identifier, unique in the pool.
    public var id: String
    /// Severity tier 1...6 (dynamic blocks; nil for static blocks without one).
    public var tier: Int?
    /// The variant within its tier (dynamic blocks), for example `a` or `b`.
    public var variant: String?
    /// The file it lands in (static blocks; dynamic blocks land in the step's first target
    /// unless they name one).
    public var file: String?
    /// Where in the file it lands.
    public var anchor: Anchor
    /// Who commits it.
    public var author: Author
    /// The commit message; may hold placeholders.
    public var message: String
    /// The block's prose, one comment line per text line; may hold placeholders.
    public var text: String

    /// Creates a pressure block.
    public init(
        id: String, tier: Int?, variant: String?, file: String?, anchor: Anchor, author: Author,
        message: String, text: String
    ) {
        self.id = id
        self.tier = tier
        self.variant = variant
        self.file = file
        self.anchor = anchor
        self.author = author
        self.message = message
        self.text = text
    }
}

/// The blocks a scenario's pressure draws from.
public struct PressurePool: Sendable, Hashable, Codable {
    /// Landed before step 1, in this order.
    public var staticBlocks: [PressureBlock]
    /// Drawn by the schedule.
    public var dynamicBlocks: [PressureBlock]

    /// Creates a pool.
    public init(staticBlocks: [PressureBlock] = [], dynamicBlocks: [PressureBlock] = []) {
        self.staticBlocks = staticBlocks
        self.dynamicBlocks = dynamicBlocks
    }

    /// An empty pool.
    public static let empty = PressurePool()

    /// The block with this identifier, static or dynamic.
    public func block(id: String) -> PressureBlock? {
        (staticBlocks + dynamicBlocks).first { $0.id == id }
    }

    /// The dynamic blocks of one tier, sorted by variant then identifier.
    public func dynamicBlocks(tier: Int) -> [PressureBlock] {
        dynamicBlocks.filter { $0.tier == tier }
            .sorted { ($0.variant ?? "", $0.id) < ($1.variant ?? "", $1.id) }
    }
}

/// The comment syntax of a target language, used to wrap pressure text.
public enum CommentSyntax: String, Sendable, Hashable, Codable {
    /// `#` comments: Python, shell, Ruby, YAML, TOML.
    case hash = "#"
    /// `//` comments: TypeScript, JavaScript, Go, Swift, C, C++, Java, Kotlin, Rust.
    case slashes = "//"

    /// The syntax for a repository path, by its extension; nil when the language is unknown.
    public init?(path: String) {
        let name = (path as NSString).lastPathComponent
        let ext = (name as NSString).pathExtension.lowercased()
        switch ext {
        case "py", "sh", "bash", "zsh", "rb", "yaml", "yml", "toml", "pl", "r": self = .hash
        case "ts", "tsx", "js", "jsx", "mjs", "cjs", "go", "swift", "c", "h", "cc", "cpp", "hpp",
            "java", "kt", "rs", "scala", "cs":
            self = .slashes
        default:
            if ext.isEmpty && ["Makefile", "Dockerfile"].contains(name) { self = .hash } else { return nil }
        }
    }

    /// Wraps text as comment lines: `# line`, and a bare `#` for an empty line.
    public func wrap(_ text: String) -> String {
        var lines = text.components(separatedBy: "\n")
        while lines.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { lines.removeLast() }
        return lines.map { line in
            let trimmed = line.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
            return trimmed.isEmpty ? rawValue : "\(rawValue) \(trimmed)"
        }.joined(separator: "\n") + "\n"
    }
}
