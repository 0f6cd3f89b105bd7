import Agents
import Checks
import Foundation
import GitStore
@testable import Runner
import Sandbox
import Scenarios
import Testing

/// What the agent can read of its workspace's history names nothing of the experiment: for every
/// bundled scenario, an episode runs as the runner runs it (constraint, the seeds of every step,
/// a step commit after each step), and at its last step an agent reads, inside the sandbox, what
/// any agent could: the log of every ref, notes, refs, every commit with its patch, every object
/// in the store, the paths, the `.git` file, its environment and its session id.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct HistoryTests {
    /// Words that tell the design; matched case-insensitively anywhere in what the agent read.
    static let designWords = ["severity", "tier", "pressure", "condition", "baseline", "inverted", "drift", "regular", "neutral", "driftbox"]

    /// Reads everything an agent could of the history at its last step, in one sandboxed shell.
    static let probe = """
        set -e
        echo '== pwd'; pwd
        echo '== git file'; cat .git
        echo '== session'; printf '%s\\n' "$SESSION"
        echo '== log'; git log --all --format='%B%n%an%n%ae%n%cn%n%ce'
        echo '== notes'; git notes list
        echo '== refs'; git for-each-ref
        echo '== show'; for commit in $(git rev-list --all); do git show --format=fuller --patch --stat "$commit"; done
        echo '== objects'; git cat-file --batch-all-objects --batch
        echo '== config'; git config --list
        echo '== env'; env
        echo '== count'; git rev-list --all --count
        echo '== end'
        """

    /// Does nothing until the last step, then runs the probe once; keeps its output.
    final class ProbeAgent: Agent, @unchecked Sendable {
        let id = "probe"
        let sandboxPolicy = "default"
        let lastStep: Int
        private let lock = NSLock()
        private var _result: SandboxResult?
        private var _sessionID: String?
        var result: SandboxResult? { lock.withLock { _result } }
        var sessionID: String? { lock.withLock { _sessionID } }

        init(lastStep: Int) { self.lastStep = lastStep }

        func act(_ step: AgentStep, context: AgentContext, history: [AgentTurn]) async throws -> AgentTurn {
            let usage = AgentUsage(wallSeconds: 0, cpuSeconds: 0)
            lock.withLock { _sessionID = context.sessionID }
            guard step.step == lastStep else { return AgentTurn(message: "", commands: [], outcome: .completed, usage: usage) }
            let command = SandboxedCommand("/bin/sh", ["-c", HistoryTests.probe], workspace: context.workspace, readOnlyPaths: context.readOnlyPaths,
                                           environment: ["SESSION": context.sessionID], timeout: context.stepTimeout)
            let result = try await context.sandbox.run(command)
            lock.withLock { _result = result }
            return AgentTurn(message: "", commands: [], outcome: .completed, usage: usage)
        }
    }

    static let catalog = Catalog(fixtures: packageRoot.appendingPathComponent("Fixtures"))

    static var scenarioFiles: [URL] { catalog.scenarioFiles() }

    @Test func theBundledScenariosAreAllHere() {
        #expect(Self.scenarioFiles.count == 16)
    }

    @Test(arguments: scenarioFiles)
    func noDesignWordInWhatTheAgentCanRead(_ file: URL) async throws {
        let scenario = try ScenarioLoader().load(file)
        let plan = try EpisodePlan.make(scenario: scenario, seed: 42, episodeIndex: 0)
        // A scratch folder named as the runner names its own (the agent sees the paths below it).
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(Prepared.scratchPrefix(owner: nil) + UUID().uuidString)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: scratch) }
        let fixture = scratch.appendingPathComponent("fixtures/\(scenario.fixture).git").path
        let fixtureCommit = try Fixture.build(source: scenario.fixtureDirectory.path, into: fixture)
        let agent = ProbeAgent(lastStep: plan.steps.count)
        let sandbox = try Sandbox(SandboxOptions(policy: try Policy.named("default"), outputLimit: 64 << 20))
        let episode = "\(scenario.id).probe.1"
        let setup = EpisodeSetup(id: episode, plan: plan, detectors: try DetectorSet(scenario.checks), agent: agent, sandbox: sandbox,
                                 stepTimeout: .seconds(120), fixtureRepository: fixture, fixtureCommit: fixtureCommit, scratch: scratch)
        let sink = CollectingSink()
        let end = try await EpisodeExecution.run(setup, resume: nil, sink: sink)
        #expect(end.status == .completed, "\(end)")
        let result = try #require(agent.result, "the probe did not run")
        let output = result.stdout.text
        #expect(result.termination == .exited(0), "\(result.termination): \(result.stderr.text.suffix(2000))")
        #expect(!result.stdout.truncated)

        // The probe read what it should: every commit, the messages as the pool wrote them.
        let seeds = plan.steps.flatMap(\.seeds)
        let commits = 2 + seeds.count + (plan.steps.count - 1)  // fixture, AGENTS.md, seeds, steps before the last
        #expect(output.contains("== count\n\(commits)\n== end\n"), "\(output.suffix(300))")
        #expect(output.contains("Initial commit\n") && output.contains("Add AGENTS.md\n") && output.contains(Fixture.signature.name))
        for seed in seeds {
            #expect(output.contains(seed.message) && output.contains(seed.author.name), "seed \(seed.blockID)")
        }
        #expect(output.contains(EpisodeExecution.stepSummary(plan.steps[0].task)) && output.contains(StepStamp.authorName))
        #expect(sink.steps.count == plan.steps.count && sink.seeds.count == seeds.count + 1)
        #expect(agent.sessionID == EpisodeExecution.sessionID(for: episode))

        // Nothing in it names the design.
        let blocks = scenario.pool.staticBlocks.map(\.id) + scenario.pool.dynamicBlocks.map(\.id)
        let words = Self.designWords + [scenario.id, scenario.valuePair, episode] + blocks
        let lowered = output.lowercased()
        for word in Set(words).sorted() {
            let found = lowered.ranges(of: word.lowercased())
            #expect(found.isEmpty, "'\(word)' appears \(found.count) time(s) in what the agent of \(scenario.id) can read, first: \(Self.context(of: found.first, in: lowered))")
        }
    }

    /// The text around a match (60 characters either side), for failure messages.
    static func context(of range: Range<String.Index>?, in text: String) -> String {
        guard let range else { return "" }
        let start = text.index(range.lowerBound, offsetBy: -60, limitedBy: text.startIndex) ?? text.startIndex
        let end = text.index(range.upperBound, offsetBy: 60, limitedBy: text.endIndex) ?? text.endIndex
        return "…" + String(text[start..<end]) + "…"
    }

    /// Reduced mode gives each command a fresh HOME and TMPDIR of its own: their names tell nothing either.
    @Test func theReducedModeHomeAndTemporaryFolderNameNothing() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(Prepared.scratchPrefix(owner: nil) + UUID().uuidString)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: folder) }
        let sandbox = try Sandbox(SandboxOptions(policy: try Policy.named("default"), mode: .reduced))
        let result = try await sandbox.run(SandboxedCommand("/bin/sh", ["-c", "env; echo \"home=$HOME\"; echo \"tmp=$TMPDIR\""], workspace: folder.path))
        #expect(result.termination == .exited(0), "\(result.stderr.text)")
        let output = result.stdout.text
        #expect(output.contains("home=/") && output.contains("tmp=/"))
        for word in Self.designWords {
            #expect(!output.lowercased().contains(word), "'\(word)' in the reduced-mode environment: \(output)")
        }
    }

    /// A crash between moving an episode's ref and logging its step leaves the ref one step ahead:
    /// found without trailers (the walk from the ref to the logged commit meets one step commit),
    /// and `resume` runs the step again, giving the very record of an uninterrupted run. A ref two
    /// steps ahead, or a log that lost an episode's lines, is damage.
    @Test func aRefAheadOfTheLogIsFoundWithoutTrailersAndResumeRecordsTheSameRun() async throws {
        let experiment = try SmallExperiment(repetitions: 1, steps: 3)
        defer { experiment.remove() }
        let runs = experiment.folder.appendingPathComponent("runs")
        let reference = try await Runner.start(try experiment.definition, runsFolder: runs, runID: "reference", options: testOptions, makeAgent: Runner.standardAgents)
        let interrupted = try await Runner.start(try experiment.definition, runsFolder: runs, runID: "interrupted", options: testOptions, makeAgent: Runner.standardAgents)
        let record = try RunRecord(folder: interrupted.folder)
        let episode = try #require(record.manifest.episodes.first { $0.scenario == SmallExperiment.regular }?.id)
        #expect(record.steps(of: episode).count == 3 && RunCheck.findings(interrupted.folder).isEmpty)

        /// A copy of the run whose log lacks `episode`'s lines from step `from` on, and its end.
        func withoutLines(from step: Int, _ name: String) throws -> URL {
            let copy = runs.appendingPathComponent(name)
            try FileManager.default.copyItem(at: interrupted.folder, to: copy)
            let log = copy.appendingPathComponent("events.jsonl")
            let kept = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").filter { line in
                let event = try! JSONDecoder().decode(RunEvent.self, from: Data(line.utf8))
                if event.end?.episode == episode { return false }
                if let seed = event.seed, seed.episode == episode { return seed.step < step }
                if let record = event.step, record.episode == episode { return record.step < step }
                return true
            }
            try (kept.joined(separator: "\n") + "\n").write(to: log, atomically: true, encoding: .utf8)
            return copy
        }

        let oneAhead = try withoutLines(from: 3, "one-ahead")
        let found = RunCheck.findings(oneAhead)
        #expect(found.count == 1 && found[0].repairable && found[0].location.hasSuffix(RunStore.episodeRef(episode)), "\(found)")
        #expect(found.first?.problem.contains("one step ahead of the log (step 3") == true, "\(found)")
        _ = try await Runner.resume(oneAhead, options: testOptions, makeAgent: Runner.standardAgents)
        #expect(RunCheck.findings(oneAhead).isEmpty)
        #expect(RecordFingerprint(try RunRecord(folder: oneAhead)) == RecordFingerprint(try RunRecord(folder: reference.folder)))

        let twoAhead = RunCheck.findings(try withoutLines(from: 2, "two-ahead"))
        #expect(twoAhead.count == 1 && !twoAhead[0].repairable && twoAhead[0].problem.contains("2 step(s) past"), "\(twoAhead)")
        let lost = RunCheck.findings(try withoutLines(from: 1, "lost"))
        #expect(lost.count == 1 && !lost[0].repairable && lost[0].problem.contains("the log has lost lines"), "\(lost)")
    }

    /// A workspace made again from the run repository (resume) holds its own history only: no
    /// object of another episode, no remote naming the run's folder.
    @Test func aResumedWorkspaceHoldsNoObjectOfAnotherEpisode() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(Prepared.scratchPrefix(owner: nil) + UUID().uuidString)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: folder) }
        let fixture = folder.appendingPathComponent("fixture.git").path
        let base = try Fixture.build(source: packageRoot.appendingPathComponent("Fixtures/repos/tiny").path, into: fixture)
        let run = try Repository.create(at: folder.appendingPathComponent("repo.git").path, bare: true)
        try Repository.open(at: fixture).copyObjects(reachableFrom: base, into: run)
        var tips: [ObjectID] = []
        var secrets: [ObjectID] = []
        for name in ["mine", "other"] {
            let workspace = try Workspace.create(from: fixture, at: folder.appendingPathComponent(name).path)
            let text = "constraint of \(name) \(UUID().uuidString)\n"
            let author = Signature(name: Fixture.signature.name, email: Fixture.signature.email, time: Fixture.signature.time + 60)
            let commit = try workspace.land(Seed(edits: [SeedEdit(path: "AGENTS.md", anchor: .wholeFile, text: text)], author: author, message: "Add AGENTS.md"))
            let step = try workspace.snapshot(StepStamp(step: 1, summary: "Update AGENTS.md"))
            try workspace.repository.copyObjects(reachableFrom: step.commit, excluding: [base], into: run, durable: true)
            tips.append(step.commit)
            secrets.append(try #require(try Repository.open(at: workspace.gitDirectory).commitInfo(commit).tree))
        }
        let resumed = try Workspace.create(from: run.gitDirectory, at: folder.appendingPathComponent("resumed").path, commit: tips[0])
        let objects = try git(["cat-file", "--batch-all-objects", "--batch-check=%(objectname)"], in: resumed.path)
        #expect(objects.contains(tips[0].description) && objects.contains(secrets[0].description))
        #expect(!objects.contains(tips[1].description) && !objects.contains(secrets[1].description), "another episode's objects are in the resumed workspace")
        #expect(try git(["remote", "-v"], in: resumed.path).isEmpty)
        #expect(try git(["log", "--format=%s", "HEAD"], in: resumed.path) == "Update AGENTS.md\nAdd AGENTS.md\nInitial commit\n")
    }

    /// Runs the git CLI in a folder and returns its standard output (it must succeed).
    private func git(_ arguments: [String], in folder: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = ["-C", folder] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "git \(arguments.joined(separator: " ")) failed")
        return String(decoding: data, as: UTF8.self)
    }

    @Test func sessionIDsAreUUIDsDerivedFromTheEpisodeAndDistinct() {
        let ids = ["a.probe.1", "a.probe.2", "b.probe.1"].map(EpisodeExecution.sessionID(for:))
        #expect(Set(ids).count == 3)
        #expect(ids.allSatisfy { UUID(uuidString: $0)?.uuidString.lowercased() == $0 })
        #expect(EpisodeExecution.sessionID(for: "a.probe.1") == ids[0])
    }

    @Test func stepTimesComeAfterTheSeedsOfTheirStepAndBeforeTheNextSteps() throws {
        let scenario = try ScenarioLoader().load(packageRoot.appendingPathComponent("Fixtures/scenarios/utility-privacy/regular.yaml"))
        let plan = try EpisodePlan.make(scenario: scenario, seed: 42, episodeIndex: 0)
        var last = EpisodeExecution.constraintAuthor.time
        #expect(last > Fixture.signature.time)
        for step in plan.steps {
            for seed in step.seeds {
                #expect(seed.time >= last, "step \(step.number) seed \(seed.blockID)")
                last = seed.time
            }
            let time = EpisodeExecution.stepTime(plan, step: step.number)
            #expect(time > last, "step \(step.number)")
            last = time
        }
    }
}
