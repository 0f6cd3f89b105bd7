import Foundation

/// Everything an episode lands and asks, decided before it runs: a pure function of the
/// scenario, the base seed and the episode index.
///
/// The episode's seed is `baseSeed &+ episodeIndex`. Two generators derive from it:
/// the task order uses ``SplitMix64`` seeded with the episode seed; the choice of variants uses
/// ``SplitMix64`` seeded with `episodeSeed ^ 0x5052_4553_5355_5245` ("PRESSURE"), so changing
/// the order policy never changes which variants land.
///
/// Seed commit times: the seeds before step k (1-based) are committed at
/// `epoch + (k − 1) × 3600 + j × 60` seconds for the j-th seed (0-based) of that step, leaving the
/// rest of each hour to the step's own commit.
public struct EpisodePlan: Sendable, Hashable, Codable {
    /// The scenario's identifier.
    public var scenarioID: String
    /// The suite's base seed.
    public var baseSeed: UInt64
    /// The episode's index within its cell (0-based).
    public var episodeIndex: Int
    /// `baseSeed &+ episodeIndex`.
    public var episodeSeed: UInt64
    /// The constraint document, placed as `AGENTS.md` at the workspace root.
    public var constraint: String
    /// The steps, in the order the agent meets them.
    public var steps: [PlannedStep]

    /// Seconds between the first seeds of consecutive steps.
    public static let stepInterval: Int64 = 3600
    /// Seconds between consecutive seeds of one step.
    public static let seedInterval: Int64 = 60
    /// Mixed into the episode seed for the variant generator.
    public static let pressureSalt: UInt64 = 0x5052_4553_5355_5245

    /// Creates a plan from its parts (normally obtained from ``make(scenario:seed:episodeIndex:steps:)``).
    public init(scenarioID: String, baseSeed: UInt64, episodeIndex: Int, episodeSeed: UInt64, constraint: String, steps: [PlannedStep]) {
        self.scenarioID = scenarioID
        self.baseSeed = baseSeed
        self.episodeIndex = episodeIndex
        self.episodeSeed = episodeSeed
        self.constraint = constraint
        self.steps = steps
    }

    /// Plans one episode.
    ///
    /// - Parameters:
    ///   - scenario: a loaded scenario.
    ///   - seed: the suite's base seed.
    ///   - episodeIndex: the episode's index within its cell (0-based).
    ///   - steps: how many steps to run; nil means one per task. At most the number of tasks.
    /// - Returns: the plan.
    /// - Throws: ``ScenarioError`` when `steps` is out of range, a planned block is missing from
    ///   the pool, or a target's language has no known comment syntax (a loaded scenario has none
    ///   of these problems).
    public static func make(scenario: Scenario, seed: UInt64, episodeIndex: Int, steps: Int? = nil) throws(ScenarioError) -> EpisodePlan {
        let count = steps ?? scenario.tasks.count
        guard (1...max(1, scenario.tasks.count)).contains(count), !scenario.tasks.isEmpty else {
            throw ScenarioError(.invalidValue, path: scenario.source.path,
                                "\(count) steps asked of a scenario with \(scenario.tasks.count) tasks",
                                hint: "ask for 1 to \(scenario.tasks.count) steps")
        }
        let episodeSeed = seed &+ UInt64(bitPattern: Int64(episodeIndex))
        var tasks = scenario.tasks
        if scenario.order == .shuffled {
            var orderGenerator = SplitMix64(seed: episodeSeed)
            orderGenerator.shuffle(&tasks)
        }
        tasks = Array(tasks.prefix(count))
        var variantGenerator = SplitMix64(seed: episodeSeed ^ pressureSalt)
        let epoch = Int64(scenario.epoch.timeIntervalSince1970.rounded(.down))

        var planned: [PlannedStep] = []
        for (offset, task) in tasks.enumerated() {
            let step = offset + 1
            var due: [(PressureBlock, file: String)] = []
            if step == 1 {
                due += scenario.pool.staticBlocks.map { ($0, $0.file ?? task.targets[0]) }
            }
            var tier: Int?
            switch scenario.schedule {
            case .none: break
            case .tiered:
                let stepTier = Schedule.tier(step: step, of: count)
                tier = stepTier
                let candidates = scenario.pool.dynamicBlocks(tier: stepTier)
                if !candidates.isEmpty {
                    let block = candidates[Int(variantGenerator.next(below: UInt64(candidates.count)))]
                    due.append((block, block.file ?? task.targets[0]))
                }
            case .explicit(let schedule):
                for id in schedule[step] ?? [] {
                    guard let block = scenario.pool.block(id: id) else {
                        throw ScenarioError(.unknownReference, path: scenario.source.path,
                                            "step \(step) names block '\(id)', which is not in the pool",
                                            hint: "load the scenario with ScenarioLoader, which checks this")
                    }
                    due.append((block, block.file ?? task.targets[0]))
                }
            }
            var seeds: [PlannedSeed] = []
            for (index, (block, file)) in due.enumerated() {
                let time = epoch + Int64(offset) * stepInterval + Int64(index) * seedInterval
                seeds.append(try PlannedSeed(block: block, path: file, step: step, task: task, time: time, source: scenario.source))
            }
            planned.append(PlannedStep(number: step, task: task, tier: tier, seeds: seeds))
        }
        return EpisodePlan(scenarioID: scenario.id, baseSeed: seed, episodeIndex: episodeIndex, episodeSeed: episodeSeed,
                           constraint: scenario.constraint, steps: planned)
    }
}

/// One step of a planned episode.
public struct PlannedStep: Sendable, Hashable, Codable {
    /// The step's number, from 1.
    public var number: Int
    /// The task the agent gets at this step.
    public var task: Scenario.Task
    /// The tier of the step under a tiered schedule; nil otherwise.
    public var tier: Int?
    /// The seed commits landed before the step, in order.
    public var seeds: [PlannedSeed]

    /// Creates a planned step.
    public init(number: Int, task: Scenario.Task, tier: Int?, seeds: [PlannedSeed]) {
        self.number = number
        self.task = task
        self.tier = tier
        self.seeds = seeds
    }
}

/// One pressure block, ready to land as a commit: placeholders filled, text wrapped in the target
/// language's comment syntax.
public struct PlannedSeed: Sendable, Hashable, Codable {
    /// The pool block it comes from.
    public var blockID: String
    /// The block's tier (dynamic blocks).
    public var tier: Int?
    /// The block's variant (dynamic blocks).
    public var variant: String?
    /// Who commits it.
    public var author: Author
    /// Commit time in seconds since 1970-01-01T00:00:00Z (UTC, offset 0).
    public var time: Int64
    /// The commit message, placeholders filled, ending in a newline.
    public var message: String
    /// The comment lines to insert, each ending in a newline.
    public var text: String
    /// The repository path it lands in.
    public var path: String
    /// Where in the file it lands.
    public var anchor: Anchor

    /// Creates a seed from its parts.
    public init(blockID: String, tier: Int?, variant: String?, author: Author, time: Int64, message: String, text: String, path: String, anchor: Anchor) {
        self.blockID = blockID
        self.tier = tier
        self.variant = variant
        self.author = author
        self.time = time
        self.message = message
        self.text = text
        self.path = path
        self.anchor = anchor
    }

    /// Creates a seed from a block for a step.
    ///
    /// - Throws: ``ScenarioError`` when `path`'s language has no known comment syntax.
    init(block: PressureBlock, path: String, step: Int, task: Scenario.Task, time: Int64, source: URL) throws(ScenarioError) {
        guard let syntax = CommentSyntax(path: path) else {
            throw ScenarioError(.invalidValue, path: source.path, "block '\(block.id)' lands in '\(path)', whose language has no known comment syntax",
                                hint: "land pressure only in .py, .sh, .ts, .js, .go, .swift or .c files")
        }
        let module = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let values = ["file": path, "module": module, "step": String(step), "task": task.id]
        func fill(_ text: String) -> String {
            values.keys.sorted().reduce(text) { $0.replacingOccurrences(of: "{\($1)}", with: values[$1]!) }
        }
        self.init(blockID: block.id, tier: block.tier, variant: block.variant, author: block.author, time: time,
                  message: fill(block.message).trimmingCharacters(in: .whitespacesAndNewlines) + "\n",
                  text: syntax.wrap(fill(block.text)), path: path, anchor: block.anchor)
    }

    /// The file's new content with this seed's comment lines inserted at its anchor.
    ///
    /// - Parameter content: the file's current content.
    /// - Returns: the content with the block inserted; it ends in a newline.
    /// - Throws: ``ScenarioError`` when the anchor does not match exactly one line of `content`.
    public func inserted(into content: String) throws(ScenarioError) -> String {
        var lines = Anchor.lines(of: content)
        guard case .before(let index) = anchor.placement(in: lines) else {
            throw ScenarioError(.anchorNoMatch, path: path,
                                "anchor '\(anchor.written)' of block '\(blockID)' does not place it in \(path) as it is now",
                                hint: "make the anchor match exactly one line, or use `at: top`")
        }
        lines.insert(contentsOf: Anchor.lines(of: text), at: index)
        return lines.joined(separator: "\n") + "\n"
    }
}
