import ArgumentParser
import Foundation
import Gateway
import Runner
import Sandbox
import Scenarios

/// The sandbox modes a command accepts (`--mode`).
enum ModeChoice: String, CaseIterable, ExpressibleByArgument {
    case automatic, full, reduced

    /// The sandbox's request.
    var request: ModeRequest { ModeRequest(rawValue: rawValue) ?? .automatic }
}

/// The progress displays `run` and `resume` accept (`--progress`).
enum ProgressChoice: String, CaseIterable, ExpressibleByArgument {
    case auto, terminal, lines, quiet

    /// The runner's style (`auto`: terminal on a terminal, else lines).
    var style: ProgressStyle { ProgressStyle(rawValue: rawValue) ?? .automatic }
}

/// A sandbox policy (`--policy`): a bundled profile's name, a `.policy` file, or the name of a
/// policy in `$DRIFTBOX_POLICY_DIR`.
struct PolicyChoice: ExpressibleByArgument, CustomStringConvertible {
    /// The bundled profiles.
    static let names = ["default", "network"]

    /// The name or the file's path, as given.
    let value: String

    init?(argument: String) {
        // A bundled name, a file, or a name found in the policy folder ($DRIFTBOX_POLICY_DIR).
        guard Self.names.contains(argument) || Self.isFile(argument) || (try? Policy.named(argument)) != nil else { return nil }
        value = argument
    }

    init(_ name: String) { value = name }

    /// True for a value meant as a file (a path or a `.policy` name), not a profile name.
    static func isFile(_ argument: String) -> Bool { argument.contains("/") || argument.hasSuffix(".policy") }

    static var allValueStrings: [String] { names }
    static var defaultCompletionKind: CompletionKind { .file(extensions: ["policy"]) }
    var description: String { value }
    var defaultValueDescription: String { value }
}

extension Condition: ExpressibleByArgument {}

/// Where model answers come from (`--models`).
enum ModelsChoice: String, CaseIterable, ExpressibleByArgument {
    case record, replay
    case recordMissing = "record-missing"

    var mode: ModelsMode { ModelsMode(rawValue: rawValue) ?? .record }
}

/// A duration in seconds from the command line: finite, positive and at most a week.
enum Seconds {
    /// The longest accepted value: 7 days.
    static let maximum: Double = 7 * 86_400
    /// The shortest accepted value: 1 ms.
    static let minimum: Double = 0.001

    /// A parse failure; its text is appended to ArgumentParser's "The value … is invalid for …".
    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    /// Parses `text` as seconds, or throws saying the range.
    static func parse(_ text: String) throws -> Double {
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite else {
            throw Invalid(description: "give a number of seconds from \(minimum) to \(Int(maximum)) (7 days)")
        }
        guard value >= minimum, value <= maximum else {
            throw Invalid(description: "\(text) s is out of range; give a number of seconds from \(minimum) to \(Int(maximum)) (7 days)")
        }
        return value
    }

    /// The duration of a value returned by ``parse(_:)`` (exact to the millisecond, never trapping).
    static func duration(_ value: Double) -> Duration {
        .milliseconds(Int64((min(max(value, minimum), maximum) * 1000).rounded()))
    }
}

/// Options every command that runs agents takes.
struct ExecutionOptions: ParsableArguments {
    /// The most episodes at once.
    static let maximumJobs = 1024

    @Option(name: .customShort("j"), help: "Episodes to run at once, 1 to \(maximumJobs) (default: the number of cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: ArgumentHelp("Wall-clock limit of one agent step, in seconds (0.001 to 604800; default: 600).", valueName: "seconds"),
            transform: Seconds.parse)
    var stepTimeout: Double = 600

    @Option(help: "Sandbox mode.")
    var mode: ModeChoice = .automatic

    @Option(help: "Sandbox policy: a bundled name or a .policy file.")
    var policy: PolicyChoice = PolicyChoice("default")

    @Option(help: "Progress display.")
    var progress: ProgressChoice = .auto

    @Option(help: "Model answers of agents with `network: gateway`: record (from the upstream, recorded in the run), replay (from --recording only, no upstream contact) or record-missing.")
    var models: ModelsChoice = .record

    @Option(help: ArgumentHelp("The run (or its models folder) whose recorded exchanges --models replay and record-missing answer from.", valueName: "run"))
    var recording: String?

    @Option(help: "The model gateway's port on 127.0.0.1 inside each sandbox.")
    var gatewayPort: UInt16 = GatewayListener.defaultPort

    @Option(help: ArgumentHelp("Stop starting model work once the run's model cost reaches this many US dollars (price table: Fixtures/prices/models.yaml).", valueName: "usd"))
    var budgetUsd: Double?

    @Option(help: ArgumentHelp("Stop an episode once its model cost reaches this many US dollars.", valueName: "usd"))
    var episodeBudgetUsd: Double?

    func validate() throws {
        guard (1...Self.maximumJobs).contains(jobs) else { throw ValidationError("-j must be from 1 to \(Self.maximumJobs)") }
        if models != .record, recording == nil { throw ValidationError("--models \(models.rawValue) needs --recording RUN (the run whose exchanges answer)") }
        if models == .record, recording != nil { throw ValidationError("--recording is read by --models replay or record-missing only") }
        guard gatewayPort > 0 else { throw ValidationError("--gateway-port must be from 1 to 65535") }
        for (name, value) in [("--budget-usd", budgetUsd), ("--episode-budget-usd", episodeBudgetUsd)] {
            if let value, !(value.isFinite && value > 0) { throw ValidationError("\(name) must be a positive number of US dollars") }
        }
    }

    var runOptions: RunOptions {
        let prices = (try? Resources.catalog()).map { $0.fixtures.appendingPathComponent("prices/models.yaml").path }
            .flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil }
        return RunOptions(jobs: jobs, stepTimeout: Seconds.duration(stepTimeout), sandboxMode: mode.request, policy: policy.value, progress: progress.style,
                          models: ModelOptions(mode: models.mode, recording: recording.map { URL(fileURLWithPath: $0, relativeTo: currentDirectory).standardizedFileURL },
                                               port: gatewayPort, prices: prices, budget: Budget(runUSD: budgetUsd, episodeUSD: episodeBudgetUsd)))
    }
}

/// The options of `resume`: the run's recorded settings stand unless one is named, and a named
/// value that differs from the recorded one is refused by the runner.
struct ResumeOptions: ParsableArguments {
    @Option(name: .customShort("j"), help: "Episodes to run at once, 1 to \(ExecutionOptions.maximumJobs) (default: the number of cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: ArgumentHelp("The run's step limit in seconds, if named: must equal the recorded one.", valueName: "seconds"),
            transform: Seconds.parse)
    var stepTimeout: Double?

    @Option(help: "The run's sandbox mode, if named: must equal the recorded one.")
    var mode: ModeChoice?

    @Option(help: "The run's sandbox policy, if named: must equal the recorded one.")
    var policy: PolicyChoice?

    @Option(help: "Progress display.")
    var progress: ProgressChoice = .auto

    @Option(help: ArgumentHelp("The run's shard, if named: must equal the recorded one.", valueName: "I/N"), transform: { try ShardSpec(parsing: $0) })
    var shard: ShardSpec?

    func validate() throws {
        guard (1...ExecutionOptions.maximumJobs).contains(jobs) else { throw ValidationError("-j must be from 1 to \(ExecutionOptions.maximumJobs)") }
    }

    /// Jobs and progress for the runner (the recorded settings replace the rest).
    var runOptions: RunOptions { RunOptions(jobs: jobs, progress: progress.style) }

    /// What the command line names of the recorded settings.
    var request: ResumeRequest {
        ResumeRequest(stepTimeout: stepTimeout.map(Seconds.duration), sandboxMode: mode?.request, policy: policy?.value, shard: shard)
    }
}

/// "Did you mean" for a mistyped value of an enumerated option: ArgumentParser lists the values
/// but suggests only option names.
enum ValueSuggestion {
    /// The enumerated options and their values.
    static let options: [String: [String]] = [
        "--mode": ModeChoice.allCases.map(\.rawValue),
        "--progress": ProgressChoice.allCases.map(\.rawValue),
        "--policy": PolicyChoice.names,
        "--condition": Condition.allCases.map(\.rawValue),
        "--models": ModelsChoice.allCases.map(\.rawValue),
    ]

    /// `Did you mean '…'?` for the first enumerated option in `arguments` whose value is not one
    /// of its values, or nil.
    static func suggestion(for arguments: [String]) -> String? {
        var index = 0
        while index < arguments.count {
            let word = arguments[index]
            if word == "--" { return nil }
            var name = word, value: String?
            if let equals = word.firstIndex(of: "=") {
                name = String(word[..<equals])
                value = String(word[word.index(after: equals)...])
            } else if index + 1 < arguments.count {
                value = arguments[index + 1]
            }
            if let values = options[name], let value, !values.contains(value),
                !(name == "--policy" && PolicyChoice.isFile(value)),
                let nearest = Spelling.nearest(value, among: values)
            {
                return "Did you mean '\(nearest)'?"
            }
            index += 1
        }
        return nil
    }
}
