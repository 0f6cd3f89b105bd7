import ArgumentParser
import Checks
import Foundation
import Gateway
import Judge
import Report
import Runner

/// `driftbox judge`: the LLM judge over a run's steps, and its calibration.
struct JudgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "judge", abstract: "Label a run's steps with an LLM judge (a new verdict set), or calibrate a judge model on labelled cases.",
        subcommands: [JudgeStepsCommand.self, JudgeCalibrateCommand.self], defaultSubcommand: JudgeStepsCommand.self)
}

/// The models modes the judge accepts (`--models`).
enum JudgeModelsChoice: String, CaseIterable, ExpressibleByArgument {
    case record, replay
    case recordMissing = "record-missing"

    var mode: ModelsMode { ModelsMode(rawValue: rawValue)! }
}

enum JudgeProtocolChoice: String, CaseIterable, ExpressibleByArgument {
    case openAIChat = "openai-chat"
    case anthropicMessages = "anthropic-messages"
}

extension JudgeSteps: ExpressibleByArgument {}

/// The judge model's options, shared by both judge commands.
struct JudgeModelOptions: ParsableArguments {
    @Option(help: "The judge model's id, as the upstream names it (e.g. google/gemini-3-flash-preview on OpenRouter).")
    var model: String

    @Option(help: "The upstream's base URL.")
    var upstream: String = "https://openrouter.ai/api/v1"

    @Option(name: .customLong("protocol"), help: "The protocol the upstream speaks.")
    var modelProtocol: JudgeProtocolChoice = .openAIChat

    @Option(help: "The environment variable holding the upstream's key (default: OPENROUTER_API_KEY for openai-chat, ANTHROPIC_API_KEY for anthropic-messages); an empty name sends no key.")
    var keyEnv: String?

    @Option(help: "Samples per case; the majority label is kept with the agreement.")
    var samples: Int = 1

    @Option(help: "Sampling temperature (the paper's judge: 0).")
    var temperature: Double = 0

    @Option(help: "The most tokens of one answer.")
    var maxTokens: Int = 1024

    @Option(help: "record: ask the model for every case; replay: answer only from the recording (no model, no cost); record-missing: from the recording when it holds the request, else ask.")
    var models: JudgeModelsChoice = .recordMissing

    @Option(help: "The prompt template (default: the bundled judge/template-v1.txt).")
    var template: String?

    @Option(help: "A price table for the cost (default: the bundled prices/models.yaml).")
    var prices: String?

    func validate() throws {
        if !(1...25).contains(samples) { throw ValidationError("--samples must be from 1 to 25") }
        if !(0...2).contains(temperature) { throw ValidationError("--temperature must be from 0 to 2") }
        if !(16...65_536).contains(maxTokens) { throw ValidationError("--max-tokens must be from 16 to 65536") }
    }

    var judgeModel: JudgeModel {
        JudgeModel(model: model, upstream: upstream, modelProtocol: modelProtocol.rawValue,
                   keyVariable: keyEnv.map { $0.isEmpty ? nil : $0 } ?? (modelProtocol == .anthropicMessages ? "ANTHROPIC_API_KEY" : "OPENROUTER_API_KEY"),
                   temperature: temperature, maxTokens: maxTokens)
    }

    func loadTemplate() throws -> JudgeTemplate {
        let file = try template.map { URL(fileURLWithPath: $0, relativeTo: currentDirectory).standardizedFileURL }
            ?? Resources.catalog().fixtures.appendingPathComponent("judge/template-v1.txt")
        return try JudgeTemplate(file: file)
    }

    func loadPrices() throws -> PriceTable? {
        if let prices { return try PriceTable.load(path: URL(fileURLWithPath: prices, relativeTo: currentDirectory).standardizedFileURL.path) }
        let bundled = try Resources.catalog().fixtures.appendingPathComponent("prices/models.yaml")
        return FileManager.default.fileExists(atPath: bundled.path) ? try PriceTable.load(path: bundled.path) : nil
    }
}

/// Text of a cost and exchange count.
func costLine(_ totals: UpstreamTally) -> String {
    "model exchanges upstream: \(totals.exchanges), answered from the recording: \(totals.replayed), cost: "
        + String(format: "$%.4f", totals.costUSD) + (totals.unpriced > 0 ? " (and \(totals.unpriced) exchange(s) without a price)" : "")
}

/// `driftbox judge RUN`: judge a run's steps.
struct JudgeStepsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Judge a run's steps (`driftbox judge RUN …`): each case is built from the run alone, judged through the gateway (recorded under judge/ in the run folder) and written as a new verdict set with a label per judged step.",
        discussion: """
            Run the same command again after an interruption: the cases already judged are kept and not judged again. \
            Judging the same run again with --models replay (or the default record-missing) is served from the recording: \
            the same labels, no model call, no cost.
            """)

    @Argument(help: "The run folder.")
    var run: String

    @Option(help: "Which steps: violations (flagged by the detectors), all, or unscoreable (the judge decides them).")
    var steps: JudgeSteps = .violations

    @Option(help: "Judge only the steps of this scenario (repeatable), e.g. to let the judge decide one scenario's unscoreable steps.")
    var scenario: [String] = []

    @Option(name: [.short, .customLong("jobs")], help: "Cases judged at once (1 to 64).")
    var jobs: Int = 4

    func validate() throws {
        if !(1...64).contains(jobs) { throw ValidationError("--jobs must be from 1 to 64") }
    }

    @OptionGroup var judge: JudgeModelOptions

    func run() async throws {
        try await failing("judge") {
            let folder = URL(fileURLWithPath: run, relativeTo: currentDirectory).standardizedFileURL
            let outcome = try await JudgeRun.run(folder, model: judge.judgeModel, template: try judge.loadTemplate(), steps: steps, samples: judge.samples,
                                                 mode: judge.models.mode, prices: try judge.loadPrices(), jobs: jobs, scenarios: scenario,
                                                 progress: { done, total in
                                                     // On a terminal, one line rewritten in place; elsewhere nothing (the summary follows).
                                                     guard isatty(2) == 1 else { return }
                                                     FileHandle.standardError.write(Data("\rjudged \(done) of \(total) case(s)\(done == total ? "\n" : "")".utf8))
                                                 })
            let labels = JudgeLabel.allCases.map { "\($0.rawValue) \(outcome.labels[$0] ?? 0)" }.joined(separator: ", ")
            print("\(outcome.file): \(outcome.judged + outcome.resumed) case(s) judged (\(outcome.resumed) kept from an interrupted judge run); \(labels)")
            if outcome.split > 0 || outcome.unparsed > 0 {
                print("samples split on \(outcome.split) case(s); \(outcome.unparsed) answer(s) did not parse (AMBIGUOUS, raw text kept)")
            }
            print(costLine(outcome.totals))
        }
    }
}

/// `driftbox judge calibrate`: agreement of a judge model with labelled cases.
struct JudgeCalibrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Judge the labelled calibration cases and report accuracy, the confusion table and Cohen's kappa against their labels.")

    @Option(help: "A folder of labelled cases (default: the bundled judge/calibration).")
    var cases: String?

    @Option(help: "The folder the judge's exchanges are recorded in (and replayed from).")
    var recording: String = "judge-calibration"

    @Flag(help: "Print the report as JSON.")
    var json = false

    @OptionGroup var judge: JudgeModelOptions

    func run() async throws {
        try await failing("judge calibrate") {
            let folder = try cases.map { URL(fileURLWithPath: $0, relativeTo: currentDirectory).standardizedFileURL }
                ?? Resources.catalog().fixtures.appendingPathComponent("judge/calibration")
            let loaded = try CalibrationCase.load(folder: folder)
            let recordingFolder = URL(fileURLWithPath: recording, relativeTo: currentDirectory).standardizedFileURL
            let (report, totals) = try await Calibration.run(loaded, model: judge.judgeModel, template: try judge.loadTemplate(), samples: judge.samples,
                                                             mode: judge.models.mode, recording: recordingFolder, prices: try judge.loadPrices())
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print("judge \(TerminalText.escaped(judge.model)) on \(loaded.count) labelled case(s)")
                print(report.render(), terminator: "")
                print(costLine(totals))
            }
        }
    }
}

/// Which violations `report` and `audit` count (`--count`): all, or only those with a judge label.
enum CountChoice: String, CaseIterable, ExpressibleByArgument {
    case all
    case consciousDrift = "conscious-drift"
    case capabilityFailure = "capability-failure"
    case complied
    case ambiguous

    /// The record as counted: unchanged for `all`, else only violations with the label.
    func apply(_ record: RunRecord) throws -> RunRecord {
        guard self != .all, let label = JudgeLabel(option: rawValue) else { return record }
        return try JudgeLabels.counting(label.rawValue, in: record)
    }
}
