import ArgumentParser
import Checks
import Foundation
import ModelAgent
import Report
import Runner
import Sandbox
import Scenarios

/// Prints the run's summary and where it is; exits 2 when any episode of the run failed.
func finish(_ outcome: RunOutcome) throws {
    let record = try RunRecord(folder: outcome.folder)
    print("run: \(TerminalText.escaped(outcome.folder.path))")
    print(RunSummary(record).render(), terminator: "")
    let failed = record.ends.values.filter { $0.status == .failed }.count
    let unreached = ModelReach(record)?.unreachedEpisodes ?? []
    if !unreached.isEmpty {
        FileHandle.standardError.write(Data("driftbox: \(unreached.count) episode(s) of a model-driven agent never reached its model (no exchange through the gateway): \(TerminalText.escaped(unreached.joined(separator: ", "))); the agent's commands in transcripts/ show why\n".utf8))
    }
    if failed > 0 {
        FileHandle.standardError.write(Data("driftbox: \(failed) episode(s) failed; `jq 'select(.type==\"end\" and .end.status==\"failed\")' \(TerminalText.escaped(outcome.folder.path))/events.jsonl` shows why\n".utf8))
        throw ExitCode(ExitStatus.episodeFailed)
    }
    if !unreached.isEmpty { throw ExitCode(ExitStatus.modelUnreached) }
}

/// `driftbox run`: run a suite or a scenario.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a suite (default: the bundled paper suite) or one scenario, and print the summary.")

    @Argument(help: "A suite file or bundled suite name, or a scenario file or bundled scenario id.")
    var target: String?

    @Option(help: "Keep only this agent of the suite (repeatable).")
    var agent: [String] = []

    @Option(help: "Episodes per cell, 1 to \(Suite.maximumRepetitions) (overrides the suite).")
    var repetitions: Int?

    @Option(help: "Base seed (overrides the suite).")
    var seed: UInt64?

    @Option(help: "Folder for run folders.")
    var out: String = "runs"

    @Option(help: "The run's id (default: suite id, time and a random suffix).")
    var runID: String?

    @Option(help: ArgumentHelp("Run only shard I of N (from 0): a fixed part of the suite's episodes, by episode id (docs/cluster.md).", valueName: "I/N"),
            transform: { try ShardSpec(parsing: $0) })
    var shard: ShardSpec?

    @Option(help: ArgumentHelp("The model every `kind: model` agent of the suite talks to (replaces its `model` setting; recorded in run.json).", valueName: "name"))
    var model: String?

    @Option(help: ArgumentHelp("The upstream's base URL for every `kind: model` agent (replaces its `base_url`).", valueName: "url"))
    var baseURL: String?

    @OptionGroup var execution: ExecutionOptions

    func validate() throws {
        if let repetitions, !(1...Suite.maximumRepetitions).contains(repetitions) {
            throw ValidationError("--repetitions must be from 1 to \(Suite.maximumRepetitions), the cap a suite's `repetitions` has too")
        }
        if let runID, runID.isEmpty || runID.contains("/") || runID.hasPrefix(".") { throw ValidationError("--run-id must be a plain folder name") }
    }

    func run() async throws {
        try await failing("run") {
            let file = try Self.resolve(target)
            let paper = try file.flatMap { Catalog.role(of: $0) == .suite ? $0 : nil }
                ?? Resources.catalog().fixtures.appendingPathComponent("suites/paper.yaml")
            var definition = try RunDefinition.load(file ?? paper, agentsSuite: paper, seed: seed, repetitions: repetitions, agents: agent)
            definition.shard = shard
            let overrides = ["model": model, "base_url": baseURL].compactMapValues { $0 }
            if !overrides.isEmpty {
                guard definition.suite.agents.contains(where: { $0.kind == ModelAgent.kind }) else {
                    throw ValidationError("--model and --base-url set the model of `kind: model` agents, and the suite has none")
                }
                definition.suite.agents = definition.suite.agents.map { Self.overriding($0, overrides) }
            }
            // The agents that will run are checked against the scenarios they will run, before
            // anything is created: an agent that cannot run would otherwise fail every one of its
            // episodes at step 1. Problems are located in the suite that declares the agents.
            let kept = Set(definition.suite.agents.map(\.id)), scenarioIDs = definition.suite.scenarios.map(\.id)
            _ = try SuiteLoader(agentCheck: { spec, folder, _ in
                kept.contains(spec.id) ? AgentChecks.check(Self.overriding(spec, overrides), folder, scenarioIDs) : []
            }).load(paper)
            let runs = URL(fileURLWithPath: out, relativeTo: currentDirectory).standardizedFileURL
            let id = runID ?? Runner.defaultRunID(suite: definition.suite.id)
            FileHandle.standardError.write(Data("driftbox: recording into \(TerminalText.escaped(runs.appendingPathComponent(id).path)); if interrupted, `driftbox resume` it\n".utf8))
            let outcome = try await Runner.start(definition, runsFolder: runs, runID: id, options: execution.runOptions, makeAgent: Runner.standardAgents)
            try finish(outcome)
        }
    }

    /// A `kind: model` agent with the command line's settings in place of the suite's.
    static func overriding(_ spec: AgentSpec, _ overrides: [String: String]) -> AgentSpec {
        guard spec.kind == ModelAgent.kind else { return spec }
        var spec = spec
        spec.settings.merge(overrides) { $1 }
        return spec
    }

    /// A suite or scenario file from a path, a bundled suite name or a bundled scenario id.
    static func resolve(_ target: String?) throws -> URL? {
        guard let target else { return nil }
        let path = URL(fileURLWithPath: target, relativeTo: currentDirectory).standardizedFileURL
        if FileManager.default.fileExists(atPath: path.path) { return path }
        let catalog = try Resources.catalog()
        if let suite = catalog.suiteFiles().first(where: { $0.deletingPathExtension().lastPathComponent == target }) { return suite }
        return try catalog.scenarioFile(target, relativeTo: currentDirectory)
    }
}

/// `driftbox resume`: finish an interrupted run.
struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume", abstract: "Finish an interrupted run: every unfinished episode continues from its last recorded step.")

    @Argument(help: "The run folder.")
    var run: String

    @OptionGroup var execution: ResumeOptions

    func run() async throws {
        try await failing("resume") {
            let folder = URL(fileURLWithPath: run, relativeTo: currentDirectory).standardizedFileURL
            try finish(try await Runner.resume(folder, options: execution.runOptions, requested: execution.request, makeAgent: Runner.standardAgents))
        }
    }
}

/// `driftbox replay`: materialise or verify an episode.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay", abstract: "Write an episode's workspace at a step into a folder, or re-execute it and compare commit ids.")

    @Argument(help: "The run folder.")
    var run: String

    @Argument(help: "The episode's id (see run.json).")
    var episode: String

    @Option(help: "The step (0: the fixture; default: the last recorded step).")
    var step: Int?

    @Option(help: "A recorded seed or step commit of the episode (4+ hex digits) instead of --step.")
    var commit: String?

    @Option(help: "The folder to write the workspace into (default: replay-<episode>-<step>).")
    var to: String?

    @Flag(help: "Re-execute the episode (agents with the gateway, the built-in model agent included, answered from the run's recording, offline) and check that every commit id matches the recorded one.")
    var verify = false

    @Flag(help: "Replace what is in the --to folder (without it, a non-empty folder is refused).")
    var force = false

    @OptionGroup var execution: ExecutionOptions

    func validate() throws {
        if commit != nil, step != nil { throw ValidationError("give --step or --commit, not both") }
        if let step, step < 0 { throw ValidationError("--step must be 0 (the fixture) or a step number") }
    }

    func run() async throws {
        try await failing("replay") {
            let record = try RunRecord(folder: URL(fileURLWithPath: run, relativeTo: currentDirectory).standardizedFileURL)
            if verify {
                let mismatches = try await Replay.verify(record, episode: episode, options: execution.runOptions, makeAgent: Runner.standardAgents)
                if mismatches.isEmpty {
                    print("verified: \(record.steps(of: episode).count) step(s) and \(record.seeds(of: episode).count) seed(s) of \(episode) give the recorded commit ids")
                    return
                }
                for mismatch in mismatches { print("MISMATCH \(mismatch)") }
                throw ExitCode(ExitStatus.error)
            }
            let chosen = try commit.map { try Replay.commit(in: record, episode: episode, prefix: $0) }
                ?? Replay.commit(in: record, episode: episode, step: step)
            let name = "replay-\(episode)-\(commit ?? step.map(String.init) ?? "last")"
            let folder = URL(fileURLWithPath: to ?? name, relativeTo: currentDirectory).standardizedFileURL
            try Overwrite.prepareFolder(folder, force: force, runFolder: record.store.folder)
            print("\(folder.path)  (commit \(try Replay.materialise(record, commit: chosen, into: folder)))")
        }
    }
}

/// `driftbox audit`: violations with their diff lines, and steps the checks could not see whole.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Show each violation (scenario, step, task, the pressure before it, the violating diff lines) and each step unscoreable for what the agent left.")

    @Argument(help: "The run folder.")
    var run: String

    @Option(help: "Only this episode.")
    var episode: String?

    @Option(help: "Only this condition.")
    var condition: Condition?

    @Option(help: "Which violations: all, or only those the judge labelled conscious-drift (capability-failure, complied, ambiguous).")
    var count: CountChoice = .all

    func run() async throws {
        try await failing("audit") {
            let record = try count.apply(try RunRecord(folder: URL(fileURLWithPath: run, relativeTo: currentDirectory).standardizedFileURL))
            print(Audit.render(try Audit.items(record, episode: episode, condition: condition?.rawValue), colour: isatty(1) == 1), terminator: "")
        }
    }
}

/// `driftbox rescore`: recompute verdicts from the recorded commits.
struct RescoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rescore", abstract: "Recompute every verdict from the recorded commits (no agent runs) as a new verdict set.")

    @Argument(help: "The run folder.")
    var run: String

    @Option(help: "A YAML/JSON file of detectors (a list, or scenario id → list) instead of the scenarios' own.")
    var checks: String?

    func run() async throws {
        try await failing("rescore") {
            let folder = URL(fileURLWithPath: run, relativeTo: currentDirectory).standardizedFileURL
            let checksFile = checks.map { URL(fileURLWithPath: $0, relativeTo: currentDirectory).standardizedFileURL }
            if let checksFile { try Overwrite.checkYAMLDepth(checksFile) }
            let result = try Rescore.run(folder, checksFile: checksFile)
            print("\(result.file): \(result.steps) step(s) rescored, \(result.changed) verdict(s) changed")
        }
    }
}

/// `driftbox report`: the summary again, as text, JSON or one HTML page.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print a run's tables and drift curves (from its newest verdict set), or write them as JSON or one HTML page.",
        discussion: """
            With --html, several runs (a model per run, say) are drawn side by side in the paper's figure: per value pair, \
            the four conditions labelled by direction, one colour per agent and run. The page is self-contained: no script, \
            font or image from anywhere.
            """)

    @Argument(help: "The run folder(s); several only with --html.")
    var runs: [String]

    @Option(help: "Write one self-contained HTML page to this file.")
    var html: String?

    @Flag(help: "Print the summary as JSON (one run).")
    var json = false

    @Flag(help: "Replace the --html file if it exists.")
    var force = false

    @Option(help: "Which violations the tables and curves count: all, or only those the judge labelled conscious-drift (capability-failure, complied, ambiguous).")
    var count: CountChoice = .all

    func validate() throws {
        if runs.isEmpty { throw ValidationError("give a run folder") }
        if html != nil, json { throw ValidationError("give --html or --json, not both") }
        if html == nil, runs.count > 1 { throw ValidationError("several runs are compared only in the HTML page: add --html FILE") }
        if html == nil, force { throw ValidationError("--force applies to --html only") }
        if html != nil, count != .all { throw ValidationError("the HTML page has a switch for every judge label; --count applies to the text and JSON reports") }
    }

    func run() async throws {
        try await failing("report") {
            let records = try runs.map { try count.apply(try RunRecord(folder: URL(fileURLWithPath: $0, relativeTo: currentDirectory).standardizedFileURL)) }
            if let html {
                let file = URL(fileURLWithPath: html, relativeTo: currentDirectory).standardizedFileURL
                try OutputFile.write(Data(try HTMLReport.render(records).utf8), to: file, force: force)
                print(TerminalText.escaped(file.path))
            } else if json {
                print(try Export.summaryJSON(records[0]), terminator: "")
            } else {
                if count != .all { print("counting only the violations the judge labelled \(count.rawValue) in \(records[0].verdictSet)") }
                print(RunSummary(records[0]).render(), terminator: "")
            }
        }
    }
}
