import Checks
import Foundation
import Synchronization

/// How a run shows its progress.
public enum ProgressStyle: String, Sendable, CaseIterable {
    /// One line rewritten in place (for a terminal).
    case terminal
    /// A plain line per finished step and episode, each with its UTC time (for logs and pipes).
    case lines
    /// Nothing.
    case quiet

    /// `terminal` when standard error is a terminal, `lines` otherwise.
    public static var automatic: ProgressStyle { isatty(2) == 1 ? .terminal : .lines }
}

/// Counts episodes, steps and violations as events arrive and shows them on standard error;
/// agent-made text (an episode's failure reason) is escaped with `TerminalText.escaped`.
final class RunProgress: Sendable {
    private struct Counts {
        var episodesDone = 0
        var stepsDone = 0
        var violations = 0
        var failed = 0
        var lastDraw: ContinuousClock.Instant?
    }

    let style: ProgressStyle
    let totalEpisodes: Int
    let totalSteps: Int
    /// Steps recorded before this invocation (a resumed run); the ETA uses only the steps since.
    private let initialSteps: Int
    private let started = ContinuousClock.now
    private let counts: Mutex<Counts>
    /// The model gateway's running figures, shown when the run has one.
    let models: ModelCounter?

    init(style: ProgressStyle, totalEpisodes: Int, totalSteps: Int, episodesDone: Int, stepsDone: Int, violations: Int,
         models: ModelCounter? = nil) {
        self.models = models
        self.style = style
        self.totalEpisodes = totalEpisodes
        self.totalSteps = totalSteps
        initialSteps = stepsDone
        counts = Mutex(Counts(episodesDone: episodesDone, stepsDone: stepsDone, violations: violations))
    }

    func note(_ event: RunEvent) {
        if let line = line(for: event) { FileHandle.standardError.write(Data(line.utf8)) }
    }

    /// Counts the event and returns what to print for it, agent-made text escaped; nil for nothing.
    func line(for event: RunEvent) -> String? {
        counts.withLock { counts in
            switch event.type {
            case .seed: return nil
            case .step:
                counts.stepsDone += 1
                if event.step?.verdict.kind == .violation { counts.violations += 1 }
                if style == .lines, let step = event.step {
                    let outcome = step.outcome == "completed" ? "" : " (\(TerminalText.escaped(step.outcome)))"
                    let failure = step.failure.map { ": " + TerminalText.escaped(String($0.prefix(300))) } ?? ""
                    return "\(RunManifest.now()) step \(TerminalText.escaped(step.episode)) \(step.step): \(step.verdict.kind.rawValue)\(outcome)\(failure)"
                        + "  [\(status(counts))]\n"
                }
                guard style == .terminal else { return nil }
                let now = ContinuousClock.now
                if let last = counts.lastDraw, now - last < .milliseconds(100) { return nil }
                counts.lastDraw = now
                return "\r\u{1B}[K" + status(counts)
            case .end:
                counts.episodesDone += 1
                if event.end?.status == .failed { counts.failed += 1 }
                switch style {
                case .terminal: return "\r\u{1B}[K" + status(counts)
                case .lines:
                    let end = event.end!
                    let reason = end.reason.map { ": " + TerminalText.escaped($0) } ?? ""
                    return "\(RunManifest.now()) episode \(TerminalText.escaped(end.episode)) \(end.status.rawValue)\(reason)  [\(status(counts))]\n"
                case .quiet: return nil
                }
            }
        }
    }

    /// Ends the in-place line.
    func finish() {
        if style == .terminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    private func status(_ counts: Counts) -> String {
        let elapsed = EpisodeExecution.seconds(ContinuousClock.now - started)
        var eta = "?"
        let since = counts.stepsDone - initialSteps
        if since > 0, totalSteps > counts.stepsDone {
            eta = Self.clock(elapsed / Double(since) * Double(totalSteps - counts.stepsDone))
        } else if totalSteps <= counts.stepsDone { eta = "0s" }
        return "episodes \(counts.episodesDone)/\(totalEpisodes)  steps \(counts.stepsDone)/\(totalSteps)  violations \(counts.violations)"
            + (counts.failed > 0 ? "  failed \(counts.failed)" : "") + (models.map { "  " + $0.text } ?? "") + "  elapsed \(Self.clock(elapsed))  eta \(eta)"
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
}

/// The model gateway's figures so far in this invocation: exchanges, tokens and cost, added after
/// each step.
final class ModelCounter: Sendable {
    private struct Figures {
        var exchanges = 0
        var tokens = 0
        var costUSD = 0.0
    }

    private let figures = Mutex(Figures())

    func add(exchanges: Int, tokens: Int, costUSD: Double) {
        figures.withLock {
            $0.exchanges += exchanges
            $0.tokens += tokens
            $0.costUSD += costUSD
        }
    }

    /// `model 12 exchanges 3400 tokens $0.0123`.
    var text: String {
        figures.withLock { "model \($0.exchanges) exchanges \($0.tokens) tokens " + String(format: "$%.4f", $0.costUSD) }
    }
}
