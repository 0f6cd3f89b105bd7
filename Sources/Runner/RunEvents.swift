import Agents
import Checks
import Foundation
import GitStore

/// A seed commit landed before a step: a colleague's pressure block, or the constraint as `AGENTS.md`.
public struct SeedRecord: Sendable, Hashable, Codable {
    /// The episode's id.
    public var episode: String
    /// The step the seed precedes (from 1).
    public var step: Int
    /// The seed's position among the seeds of that step (from 0).
    public var index: Int
    /// The pressure block's id, or `constraint` for `AGENTS.md`.
    public var block: String
    /// The block's severity tier (dynamic blocks).
    public var tier: Int?
    /// The block's variant within its tier.
    public var variant: String?
    /// The colleague's name.
    public var author: String
    /// The colleague's e-mail.
    public var email: String
    /// The file it landed in.
    public var path: String
    /// The seed commit.
    public var commit: ObjectID
    /// The commit message's first line.
    public var message: String

    /// Creates a seed record.
    public init(episode: String, step: Int, index: Int, block: String, tier: Int?, variant: String?, author: String, email: String,
                path: String, commit: ObjectID, message: String) {
        self.episode = episode
        self.step = step
        self.index = index
        self.block = block
        self.tier = tier
        self.variant = variant
        self.author = author
        self.email = email
        self.path = path
        self.commit = commit
        self.message = message
    }
}

/// One finished agent step: its commit, its verdict and how the agent's turn ended.
public struct StepRecord: Sendable, Hashable, Codable {
    /// The episode's id.
    public var episode: String
    /// The step number (from 1).
    public var step: Int
    /// The task's id.
    public var task: String
    /// The task's target files.
    public var targets: [String]
    /// The pressure tier due at this step (tiered schedules).
    public var tier: Int?
    /// The commit before the step (the last seed or the previous step).
    public var parent: ObjectID
    /// The step's commit.
    public var commit: ObjectID
    /// What the checks found.
    public var verdict: Verdict
    /// `completed`, `timedOut` or `failed`.
    public var outcome: String
    /// Why the agent failed, when it did.
    public var failure: String?
    /// Paths the snapshot could not store.
    public var skipped: [SkippedPath]
    /// Wall-clock seconds the agent took.
    public var agentSeconds: Double
    /// Wall-clock seconds of seeds, snapshot, diff and checks.
    public var harnessSeconds: Double
    /// Wall-clock seconds of recording the step before its log line: object copy into the run
    /// repository, ref update, transcript line.
    public var recordSeconds: Double

    /// Creates a step record.
    public init(episode: String, step: Int, task: String, targets: [String], tier: Int?, parent: ObjectID, commit: ObjectID,
                verdict: Verdict, outcome: String, failure: String?, skipped: [SkippedPath], agentSeconds: Double, harnessSeconds: Double, recordSeconds: Double = 0) {
        self.episode = episode
        self.step = step
        self.task = task
        self.targets = targets
        self.tier = tier
        self.parent = parent
        self.commit = commit
        self.verdict = verdict
        self.outcome = outcome
        self.failure = failure
        self.skipped = skipped
        self.agentSeconds = agentSeconds
        self.harnessSeconds = harnessSeconds
        self.recordSeconds = recordSeconds
    }
}

/// How an episode ended.
public struct EpisodeEnd: Sendable, Hashable, Codable {
    /// `completed` when every planned step ran, `failed` otherwise.
    public enum Status: String, Sendable, Hashable, Codable {
        /// Every planned step ran.
        case completed
        /// The episode stopped early; `reason` says why.
        case failed
    }

    /// The episode's id.
    public var episode: String
    /// How it ended.
    public var status: Status
    /// Why it failed.
    public var reason: String?
    /// The number of recorded steps.
    public var steps: Int
    /// The last commit (what `refs/episodes/<id>` points to).
    public var tip: ObjectID?

    /// Creates an end record.
    public init(episode: String, status: Status, reason: String?, steps: Int, tip: ObjectID?) {
        self.episode = episode
        self.status = status
        self.reason = reason
        self.steps = steps
        self.tip = tip
    }
}

/// One line of `events.jsonl`: `type` names which of the other fields is present.
public struct RunEvent: Sendable, Hashable, Codable {
    /// The kinds of lines.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// A seed commit landed.
        case seed
        /// A step finished.
        case step
        /// An episode ended.
        case end
    }

    /// Which record this line holds.
    public var type: Kind
    /// The seed, for `seed` lines.
    public var seed: SeedRecord?
    /// The step, for `step` lines.
    public var step: StepRecord?
    /// The end, for `end` lines.
    public var end: EpisodeEnd?
    /// When the line was written: UTC wall-clock time with milliseconds (RFC 3339), to line the
    /// log up with other logs (an upstream's, a gateway's). A note, not part of the record: it
    /// takes no part in equality, and lines written before it existed have none.
    public var at: String?

    /// A `seed` line.
    public static func seed(_ record: SeedRecord) -> RunEvent { RunEvent(type: .seed, seed: record) }
    /// A `step` line.
    public static func step(_ record: StepRecord) -> RunEvent { RunEvent(type: .step, step: record) }
    /// An `end` line.
    public static func end(_ record: EpisodeEnd) -> RunEvent { RunEvent(type: .end, end: record) }

    /// Equal when the records are equal, whenever they were written.
    public static func == (lhs: RunEvent, rhs: RunEvent) -> Bool {
        lhs.type == rhs.type && lhs.seed == rhs.seed && lhs.step == rhs.step && lhs.end == rhs.end
    }

    /// Hashes the record, not its time.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(type)
        hasher.combine(seed)
        hasher.combine(step)
        hasher.combine(end)
    }

    /// This line stamped with `date` as ``at``.
    func stamped(_ date: Date) -> RunEvent {
        var stamped = self
        stamped.at = Self.timestamp(date)
        return stamped
    }

    /// `date` as RFC 3339 UTC with milliseconds, e.g. `2026-12-03T06:07:28.123Z`.
    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))
    }
}

/// One line of a newer verdict set (`verdicts-N.jsonl`), written by rescoring.
public struct VerdictRecord: Sendable, Hashable, Codable {
    /// The episode's id.
    public var episode: String
    /// The step number.
    public var step: Int
    /// The step's commit, which the verdict judges.
    public var commit: ObjectID
    /// The verdict.
    public var verdict: Verdict

    /// Creates a verdict line.
    public init(episode: String, step: Int, commit: ObjectID, verdict: Verdict) {
        self.episode = episode
        self.step = step
        self.commit = commit
        self.verdict = verdict
    }
}

/// One line of `transcripts/<episode>.jsonl`: what the agent said and did in a step.
/// Something the model gateway refused or reported during a step.
public struct ModelEvent: Sendable, Hashable, Codable {
    /// `isolation`, `replay-miss`, `budget`, `upstream-error` or `retry`.
    public var kind: String
    /// What was attempted, e.g. `CONNECT example.com:443` or `GET /admin`.
    public var attempted: String
    /// What happened, in words.
    public var detail: String
    /// When (ISO 8601, UTC).
    public var time: String

    /// Creates an event.
    public init(kind: String, attempted: String, detail: String, time: String) {
        self.kind = kind
        self.attempted = attempted
        self.detail = detail
        self.time = time
    }
}

public struct TranscriptEntry: Sendable, Hashable, Codable {
    /// The step number.
    public var step: Int
    /// The prompt it got.
    public var prompt: String
    /// Its turn: message, commands, outcome, usage.
    public var turn: AgentTurn
    /// The content hashes of the step's model exchanges, in order (`models/exchanges/<hash>.json`);
    /// nil for an agent without the gateway.
    public var exchanges: [String]?
    /// What the gateway refused or reported during the step (isolation attempts, replay misses,
    /// retries, upstream errors), oldest first; nil for an agent without the gateway.
    public var modelEvents: [ModelEvent]?
    /// Events of the step beyond the 1,000 kept.
    public var modelEventsDropped: Int?

    /// Creates a transcript line.
    public init(step: Int, prompt: String, turn: AgentTurn, exchanges: [String]? = nil, modelEvents: [ModelEvent]? = nil, modelEventsDropped: Int? = nil) {
        self.exchanges = exchanges
        self.modelEvents = modelEvents
        self.modelEventsDropped = modelEventsDropped
        self.step = step
        self.prompt = prompt
        self.turn = turn
    }
}
