import Agents
import Foundation
import Gateway
import GitStore
import Report
import Runner
import Testing

/// A command agent that reaches its model only through the gateway, end to end through the
/// runner: the real sandbox (full mode, network off), the launcher's socket hand-off, the gateway
/// forwarding to a scripted upstream on the host's loopback, the recording in the run folder, and
/// an offline replay of the same run with identical commit ids.
@Suite("Model gateway runs", .serialized, .timeLimit(.minutes(10)))
struct ModelGatewayRunTests {
    /// The runner's variable holding the upstream's "real" key; its value must never reach the agent.
    static let keyVariable = "DRIFTBOX_TEST_UPSTREAM_KEY"
    static let realKey = "sk-real-\(UUID().uuidString)"

    /// The agent: Python's urllib asks the gateway (found through OPENAI_BASE_URL, with the token
    /// in OPENAI_API_KEY) for a line, appends it to the step's target, and prints its environment;
    /// then it asks the gateway for a path it does not serve and tries the upstream's own port
    /// (UPSTREAM_URL) directly.
    static let agentCode = """
        import json, os, socket, urllib.error, urllib.parse, urllib.request
        body = json.dumps({"model": "scripted", "messages": [{"role": "user", "content": "step {step} of task {task}"}]}).encode()
        request = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions", data=body,
            headers={"Authorization": "Bearer " + os.environ["OPENAI_API_KEY"], "Content-Type": "application/json"})
        answer = json.load(urllib.request.urlopen(request, timeout=120))["choices"][0]["message"]["content"]
        with open("{target}", "a") as target:
            target.write("\\n# model says: " + answer + "\\n")
        print("ENV " + " ".join(sorted(key + "=" + value for key, value in os.environ.items())))
        try:
            urllib.request.urlopen(os.environ["OPENAI_BASE_URL"][:-3] + "/admin", timeout=60)
            print("admin=served")
        except urllib.error.HTTPError as error:
            print("admin=" + str(error.code))
        try:
            socket.create_connection(("127.0.0.1", urllib.parse.urlsplit(os.environ["UPSTREAM_URL"]).port), timeout=10).close()
            print("direct=reached")
        except OSError:
            print("direct=refused")
        """

    /// A one-scenario suite of `steps` steps with the gateway agent pointed at `baseURL`.
    static func suite(in folder: URL, baseURL: String, steps: Int, code: String = agentCode, name: String = "gateway.yaml",
                      caBundle: String? = nil) throws -> URL {
        let agentCode = code
        let file = folder.appendingPathComponent(name)
        let scenario = packageRoot.appendingPathComponent("Fixtures/scenarios/efficiency-security/regular.yaml").path
        precondition(!agentCode.contains("'"), "the agent code is passed in single quotes")
        // `args` is split like a shell line: one single-quoted word holds the whole program.
        let program = ("-c '" + agentCode + "'").split(separator: "\n", omittingEmptySubsequences: false).map { "          " + $0 }.joined(separator: "\n")
        try ("""
            id: gateway
            base_seed: 3
            repetitions: 1
            steps: \(steps)
            scenarios:
              - \(scenario)
            agents:
              - id: modelled
                kind: command
                command: /usr/bin/python3
                args: |
            \(program)
                base_url: \(baseURL)
                env.UPSTREAM_URL: \(baseURL)
                protocol: openai-chat
                key_env: \(keyVariable)
            """ + (caBundle.map { "\n    ca_bundle: \($0)" } ?? "")).write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test("the agent's model call goes through the gateway to an HTTPS upstream into the step commit and the run's recording; a replay without the upstream gives the same commits")
    func recordThenReplay() async throws {
        let folder = try temporaryFolder("gateway-run")
        defer { try? FileManager.default.removeItem(at: folder) }
        let serverFolder = folder.appendingPathComponent("server")
        try FileManager.default.createDirectory(at: serverFolder, withIntermediateDirectories: true)
        // The upstream speaks HTTPS with a certificate from a CA of the test's own, given to the gateway.
        let certificates = try ScriptedChatServer.makeCertificates(in: serverFolder.path)
        let server = try ScriptedChatServer(script: #"[{"content": "first answer"}, {"content": "second answer"}]"#, in: serverFolder.path,
                                            tls: (certificates.certificate, certificates.key))
        defer { server.stop() }
        #expect(server.baseURL.hasPrefix("https://"))
        setenv(Self.keyVariable, Self.realKey, 1)
        let suite = try Self.suite(in: folder, baseURL: server.baseURL, steps: 2, caBundle: certificates.caBundle)
        let definition = try RunDefinition.load(suite, agentsSuite: suite)
        let runs = folder.appendingPathComponent("runs")
        let options = RunOptions(jobs: 1, stepTimeout: .seconds(300), sandboxMode: .full, progress: .quiet)

        let outcome = try await Runner.start(definition, runsFolder: runs, runID: "recorded", options: options, makeAgent: Runner.standardAgents)
        #expect(outcome.episodesFailed == 0)
        let record = try RunRecord(folder: outcome.folder)
        let episode = try #require(record.manifest.episodes.first).id
        let steps = record.steps(of: episode)
        #expect(steps.map(\.outcome) == ["completed", "completed"], "\(steps.map(\.failure))")
        #expect(record.manifest.models?.gatewayAgents == ["modelled"])
        #expect(record.manifest.models?.hostNetworkAgents == [])
        #expect(record.manifest.models?.mode == "record")

        // The answers are in the step commits' target file.
        let repository = try Repository.open(at: record.store.repositoryPath)
        for (index, step) in steps.enumerated() {
            let text = String(decoding: try #require(try repository.fileContent(at: step.commit, path: step.targets[0])), as: UTF8.self)
            #expect(text.contains("# model says: \(["first answer", "second answer"][index])"), "step \(step.step)")
        }
        // The upstream saw the agent's requests; the real key never entered the sandbox, the
        // token did.
        #expect(server.requests.count == 2)
        let transcript = try EventLog.read(TranscriptEntry.self, from: record.store.transcriptPath(episode))
        for entry in transcript {
            let stdout = entry.turn.commands.map(\.stdoutTail).joined()
            #expect(stdout.contains("ENV "), "\(entry.turn.commands)")
            #expect(!stdout.contains(Self.realKey))
            #expect(!stdout.contains(Self.keyVariable))
            #expect(stdout.contains("OPENAI_API_KEY=dbx-"))
            #expect(stdout.contains("OPENAI_BASE_URL=http://127.0.0.1:4000/v1"))
            #expect(entry.exchanges?.count == 1)
            // The gateway refused the other path and recorded the attempt; the upstream's own
            // port cannot be reached from inside.
            #expect(stdout.contains("admin=404"), "\(stdout)")
            #expect(stdout.contains("direct=refused"), "\(stdout)")
            #expect(entry.modelEvents?.map(\.kind) == ["isolation"])
            #expect(entry.modelEvents?.first?.attempted == "GET /admin")
        }
        // The exchanges are recorded in the run folder, listed per step, linked from the transcript.
        let store = try ExchangeStore(root: outcome.folder.appendingPathComponent("models").path)
        for entry in transcript {
            let hashes = try store.exchanges(episode: episode, step: entry.step)
            #expect(hashes == entry.exchanges ?? [])
            let exchange = try store.exchange(try #require(hashes.first))
            #expect(exchange.response.status == 200)
            #expect(exchange.source == "upstream")
        }

        // The HTML report says what the numbers rest on: the gateway agent's exchanges, tokens and
        // cost, as the summary counts them, and the refused request.
        let reach = try #require(ModelReach(record))
        let agent = try #require(reach.gateway.first)
        #expect(agent.exchanges == 2 && agent.isolationAttempts == 2)
        // The refused requests were never sent: counted apart from the exchanges, in run.json too.
        #expect(agent.refused == 2)
        #expect(record.manifest.modelTotals?.run.exchanges == 2 && record.manifest.modelTotals?.run.refused == 2, "\(String(describing: record.manifest.modelTotals))")
        let page = try HTMLReport.render([record])
        let modelsRow = try #require(page.components(separatedBy: "<tr data-models=\"modelled\">").dropFirst().first?.components(separatedBy: "</tr>").first)
        #expect(modelsRow.contains("\(agent.exchanges) exchange(s) in 1 episode(s)"), "\(modelsRow)")
        #expect(modelsRow.contains("tokens \(agent.usage.input) in (\(agent.usage.cached) cached), \(agent.usage.output) out"), "\(modelsRow)")
        #expect(modelsRow.contains(String(format: "$%.4f", agent.costUSD)), "\(modelsRow)")
        #expect(modelsRow.contains("2 request(s) refused as isolation attempts"), "\(modelsRow)")
        #expect(!modelsRow.contains("NEVER REACHED"))

        // Replay: the upstream is gone, the recording answers, the commits are the same.
        server.stop()
        var replayOptions = options
        replayOptions.models = ModelOptions(mode: .replay, recording: outcome.folder)
        let replayed = try await Runner.start(definition, runsFolder: runs, runID: "replayed", options: replayOptions, makeAgent: Runner.standardAgents)
        #expect(replayed.episodesFailed == 0)
        let again = try RunRecord(folder: replayed.folder)
        #expect(again.steps(of: episode).map(\.commit) == steps.map(\.commit))
        #expect(again.manifest.models?.mode == "replay")

        // replay --verify re-executes the episode offline against the run's own recording.
        #expect(try await Replay.verify(record, episode: episode, options: options, makeAgent: Runner.standardAgents) == [])
        // A recorded request that no longer matches what the agent sends: the step is named with
        // the first field that differs.
        let hash = try #require(transcript.last?.exchanges?.first)
        let file = outcome.folder.appendingPathComponent("models/exchanges/\(hash).json")
        let original = try String(contentsOf: file, encoding: .utf8)
        try original.replacingOccurrences(of: "step 2 of task", with: "step 2 of a changed task").write(to: file, atomically: true, encoding: .utf8)
        let mismatches = try await Replay.verify(record, episode: episode, options: options, makeAgent: Runner.standardAgents)
        #expect(mismatches.contains { $0.what == "step 2 model request" && $0.replayed.contains("messages[0].content") }, "\(mismatches)")
        #expect(server.requests.count == 2)
    }

    @Test("without an upstream the agent is refused when it is made; a run refuses the gateway under the network policy and without the upstream's key")
    func refusals() async throws {
        #expect(throws: AgentError.self) {
            _ = try AgentFactory.make(id: "m", kind: "command", settings: ["preset": "aider"], baseDirectory: "/")
        }
        let folder = try temporaryFolder("gateway-refusals")
        defer { try? FileManager.default.removeItem(at: folder) }
        let suite = try Self.suite(in: folder, baseURL: "http://127.0.0.1:9/v1", steps: 1)
        let definition = try RunDefinition.load(suite, agentsSuite: suite)
        await #expect {
            _ = try await Runner.start(definition, runsFolder: folder.appendingPathComponent("runs"), runID: "r",
                                       options: RunOptions(jobs: 1, sandboxMode: .full, policy: "network", progress: .quiet), makeAgent: Runner.standardAgents)
        } throws: { error in
            "\(error)".contains("needs full sandbox mode and a policy with the network off")
        }
        // The upstream's key missing from the runner's environment: refused before anything is made.
        unsetenv(Self.keyVariable)
        defer { setenv(Self.keyVariable, Self.realKey, 1) }
        await #expect {
            _ = try await Runner.start(definition, runsFolder: folder.appendingPathComponent("runs"), runID: "k",
                                       options: RunOptions(jobs: 1, sandboxMode: .full, progress: .quiet), makeAgent: Runner.standardAgents)
        } throws: { error in
            "\(error)".contains("needs its upstream's key in \(Self.keyVariable), which is not set")
        }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("runs/k").path))
    }

    @Test("driftbox run records, --models replay --recording answers offline with the same commits, and an agent that never reaches its model exits 3")
    func commandLine() throws {
        let folder = try temporaryFolder("gateway-cli")
        defer { try? FileManager.default.removeItem(at: folder) }
        let serverFolder = folder.appendingPathComponent("server")
        try FileManager.default.createDirectory(at: serverFolder, withIntermediateDirectories: true)
        let server = try ScriptedChatServer(script: #"[{"content": "from the command line"}]"#, in: serverFolder.path)
        defer { server.stop() }
        let suite = try Self.suite(in: folder, baseURL: server.baseURL, steps: 1)
        let runs = folder.appendingPathComponent("runs")
        func driftbox(_ arguments: [String], progress: String = "quiet") throws -> HostRun {
            var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DRIFTBOX_") }
            environment[Self.keyVariable] = Self.realKey
            return try runHost([driftboxExecutable] + arguments + ["--out", runs.path, "--progress", progress, "--mode", "full"],
                               in: folder.path, environment: environment, allowFailure: true)
        }
        let recorded = try driftbox(["run", suite.path, "--run-id", "recorded"], progress: "lines")
        #expect(recorded.status == 0, "\(recorded.errors)")
        // Progress lines: each step as it finishes, with its UTC time and the model figures so far.
        let stepLine = try #require(recorded.errors.split(separator: "\n").first { $0.contains(" step ") }, "\(recorded.errors)")
        #expect(stepLine.hasPrefix("20") && stepLine.dropFirst(10).hasPrefix("T") && stepLine.contains("Z step "), "\(stepLine)")
        #expect(stepLine.contains(" 1: ") && stepLine.contains("model 1 exchanges 120 tokens $0.0000"), "\(stepLine)")
        // The isolation attempt was refused, never sent: counted apart from the exchange.
        #expect(recorded.output.contains("agent 'modelled' (network: gateway): 1 exchange(s) in 1 episode(s), 1 request(s) refused before reaching the upstream; tokens 100 in (0 cached), 20 out; $0.0000 (1 exchange(s) without a price)"),
                "\(recorded.output)")
        #expect(recorded.output.contains("ISOLATION: agent 'modelled' tried 1 request(s) the gateway refused"), "\(recorded.output)")
        server.stop()
        let missing = try driftbox(["run", suite.path, "--run-id", "no-recording", "--models", "replay"])
        #expect(missing.status == 1 && missing.errors.contains("--recording"), "\(missing.errors)")
        let replayed = try driftbox(["run", suite.path, "--run-id", "replayed", "--models", "replay", "--recording", runs.appendingPathComponent("recorded").path])
        #expect(replayed.status == 0, "\(replayed.errors)")
        let first = try RunRecord(folder: runs.appendingPathComponent("recorded")), second = try RunRecord(folder: runs.appendingPathComponent("replayed"))
        #expect(first.steps.map(\.commit) == second.steps.map(\.commit) && first.steps.count == 1)

        // An agent that is meant to call its model but never does: flagged, exit status 3.
        let silent = try Self.suite(in: folder, baseURL: server.baseURL, steps: 2, code: "print(\"no model today\")", name: "silent.yaml")
        let unreached = try driftbox(["run", silent.path, "--run-id", "silent"])
        #expect(unreached.status == 3, "\(unreached.errors)")
        #expect(unreached.output.contains("NEVER REACHED ITS MODEL: agent 'modelled' made no model exchange in 1 of 1 episode(s)"), "\(unreached.output)")
        #expect(unreached.errors.contains("never reached its model"), "\(unreached.errors)")

        // network: host is the explicit opt-in, flagged in run.json and the summary.
        let hostSuite = folder.appendingPathComponent("host.yaml")
        try String(contentsOf: silent, encoding: .utf8).replacingOccurrences(of: "kind: command", with: "kind: command\n    network: host")
            .split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.contains("base_url:") && !$0.contains("protocol:") && !$0.contains("key_env:") }
            .joined(separator: "\n").write(to: hostSuite, atomically: true, encoding: .utf8)
        let host = try driftbox(["run", hostSuite.path, "--run-id", "host"])
        #expect(host.status == 0, "\(host.errors)")
        #expect(host.output.contains("HOST NETWORK: agent 'modelled' reached the host network"), "\(host.output)")
        let hostRecord = try RunRecord(folder: runs.appendingPathComponent("host"))
        #expect(hostRecord.manifest.models?.hostNetworkAgents == ["modelled"] && hostRecord.manifest.models?.gatewayAgents == [])
        #expect(hostRecord.manifest.sandbox.gaps.contains { $0.contains("agent 'modelled' reaches the host network") })
    }

    @Test("a model budget stops an episode cleanly, with the reason recorded, once its cost reaches the limit")
    func budget() async throws {
        let folder = try temporaryFolder("gateway-budget")
        defer { try? FileManager.default.removeItem(at: folder) }
        let serverFolder = folder.appendingPathComponent("server")
        try FileManager.default.createDirectory(at: serverFolder, withIntermediateDirectories: true)
        let server = try ScriptedChatServer(script: #"[{"content": "costly"}]"#, in: serverFolder.path)
        defer { server.stop() }
        setenv(Self.keyVariable, Self.realKey, 1)
        // The scripted upstream reports 100 prompt tokens per answer: $100 at this price.
        let prices = folder.appendingPathComponent("prices.yaml")
        try "models:\n  scripted:\n    - since: 2020-01-01\n      input: 1000000\n      output: 0\n".write(to: prices, atomically: true, encoding: .utf8)
        let suite = try Self.suite(in: folder, baseURL: server.baseURL, steps: 3)
        var options = RunOptions(jobs: 1, stepTimeout: .seconds(300), sandboxMode: .full, progress: .quiet)
        options.models = ModelOptions(prices: prices.path, budget: Budget(episodeUSD: 50))
        let outcome = try await Runner.start(try RunDefinition.load(suite, agentsSuite: suite), runsFolder: folder.appendingPathComponent("runs"), runID: "b",
                                             options: options, makeAgent: Runner.standardAgents)
        let record = try RunRecord(folder: outcome.folder)
        let episode = try #require(record.manifest.episodes.first).id
        #expect(record.steps(of: episode).map(\.outcome) == ["completed"])
        let end = try #require(record.ends[episode])
        #expect(end.status == .failed)
        #expect(end.reason == "step 2 not started: the episode's model budget of $50.0000 is spent ($100.0000)", "\(end.reason ?? "")")
        #expect(record.manifest.models?.episodeBudgetUSD == 50)
        #expect(server.requests.count == 1)

        // As if the runner died before the end line: the resume counts what the recording says
        // was spent, so the budget still holds and no further request goes upstream.
        let events = outcome.folder.appendingPathComponent("events.jsonl")
        let lines = try String(contentsOf: events, encoding: .utf8).split(separator: "\n").filter { !$0.contains("\"type\":\"end\"") }
        try (lines.joined(separator: "\n") + "\n").write(to: events, atomically: true, encoding: .utf8)
        #expect(try RunRecord(folder: outcome.folder).ends[episode] == nil)
        let resumed = try await Runner.resume(outcome.folder, options: RunOptions(jobs: 1, progress: .quiet, models: ModelOptions(prices: prices.path)),
                                              makeAgent: Runner.standardAgents)
        #expect(resumed.episodesFailed == 1)
        let after = try RunRecord(folder: outcome.folder)
        #expect(after.steps(of: episode).map(\.outcome) == ["completed"])
        #expect(after.ends[episode]?.reason == end.reason, "\(after.ends[episode]?.reason ?? "")")
        #expect(server.requests.count == 1)
    }

    @Test("a gateway run interrupted before its last step was logged resumes with the recorded settings; the step's exchange list holds the new attempt only")
    func resumeAfterInterruption() async throws {
        let folder = try temporaryFolder("gateway-resume")
        defer { try? FileManager.default.removeItem(at: folder) }
        let serverFolder = folder.appendingPathComponent("server")
        try FileManager.default.createDirectory(at: serverFolder, withIntermediateDirectories: true)
        let server = try ScriptedChatServer(script: #"[{"content": "one"}, {"content": "two"}, {"content": "two"}]"#, in: serverFolder.path)
        defer { server.stop() }
        setenv(Self.keyVariable, Self.realKey, 1)
        let suite = try Self.suite(in: folder, baseURL: server.baseURL, steps: 2)
        let options = RunOptions(jobs: 1, stepTimeout: .seconds(300), sandboxMode: .full, progress: .quiet, models: ModelOptions(port: 4100))
        let outcome = try await Runner.start(try RunDefinition.load(suite, agentsSuite: suite), runsFolder: folder.appendingPathComponent("runs"), runID: "r",
                                             options: options, makeAgent: Runner.standardAgents)
        let before = try RunRecord(folder: outcome.folder)
        let episode = try #require(before.manifest.episodes.first).id
        // As if the runner died after step 2's commit and exchanges, before its line: the last
        // step line and the end line are gone (the ref one step ahead is repaired by resume).
        let events = outcome.folder.appendingPathComponent("events.jsonl")
        let lines = try String(contentsOf: events, encoding: .utf8).split(separator: "\n")
        let kept = lines.filter { !$0.contains("\"type\":\"end\"") }
        let lastStep = try #require(kept.lastIndex { $0.contains("\"type\":\"step\"") })
        try (kept.enumerated().filter { $0.offset != lastStep }.map { String($0.element) }.joined(separator: "\n") + "\n")
            .write(to: events, atomically: true, encoding: .utf8)
        let resumed = try await Runner.resume(outcome.folder, options: RunOptions(jobs: 1, progress: .quiet), makeAgent: Runner.standardAgents)
        #expect(resumed.episodesFailed == 0)
        let after = try RunRecord(folder: outcome.folder)
        #expect(after.steps(of: episode).map(\.commit) == before.steps(of: episode).map(\.commit))
        #expect(server.requests.count == 3)
        let transcript = try EventLog.read(TranscriptEntry.self, from: after.store.transcriptPath(episode))
        #expect(transcript.map(\.step) == [1, 2])
        #expect(transcript.last?.turn.commands.first?.stdoutTail.contains("OPENAI_BASE_URL=http://127.0.0.1:4100/v1") == true, "the recorded port")
        let store = try ExchangeStore(root: outcome.folder.appendingPathComponent("models").path)
        #expect(try store.exchanges(episode: episode, step: 2).count == 1)
        #expect(try store.exchanges(episode: episode, step: 2) == transcript.last?.exchanges ?? [])
    }

    /// A streaming agent: asks for server-sent events and joins the deltas as they arrive.
    static let streamingCode = """
        import json, os, urllib.request
        body = json.dumps({"model": "scripted", "stream": True, "messages": [{"role": "user", "content": "stream step {step}"}]}).encode()
        request = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions", data=body,
            headers={"Authorization": "Bearer " + os.environ["OPENAI_API_KEY"], "Content-Type": "application/json"})
        parts = []
        with urllib.request.urlopen(request, timeout=120) as answer:
            for line in answer:
                line = line.decode().strip()
                if line.startswith("data: ") and line != "data: [DONE]":
                    parts.extend(choice["delta"].get("content", "") for choice in json.loads(line[6:])["choices"])
        with open("{target}", "a") as target:
            target.write("\\n# streamed: " + "".join(parts) + "\\n")
        """

    @Test("a streamed answer reaches the agent through the sandbox's gateway socket as server-sent events, is recorded event by event, and replays to the same commit")
    func streamed() async throws {
        let folder = try temporaryFolder("gateway-stream")
        defer { try? FileManager.default.removeItem(at: folder) }
        let serverFolder = folder.appendingPathComponent("server")
        try FileManager.default.createDirectory(at: serverFolder, withIntermediateDirectories: true)
        let server = try ScriptedChatServer(script: #"[{"content": "three streamed words"}]"#, in: serverFolder.path)
        defer { server.stop() }
        setenv(Self.keyVariable, Self.realKey, 1)
        let suite = try Self.suite(in: folder, baseURL: server.baseURL, steps: 1, code: Self.streamingCode)
        let definition = try RunDefinition.load(suite, agentsSuite: suite)
        let runs = folder.appendingPathComponent("runs")
        let options = RunOptions(jobs: 1, stepTimeout: .seconds(300), sandboxMode: .full, progress: .quiet)
        let outcome = try await Runner.start(definition, runsFolder: runs, runID: "s", options: options, makeAgent: Runner.standardAgents)
        let record = try RunRecord(folder: outcome.folder)
        let step = try #require(record.steps.first)
        #expect(step.outcome == "completed", "\(step.failure ?? "")")
        let text = try #require(try Repository.open(at: record.store.repositoryPath).fileContent(at: step.commit, path: step.targets[0]))
        #expect(String(decoding: text, as: UTF8.self).hasSuffix("\n# streamed: three streamed words\n"))
        let transcript = try EventLog.read(TranscriptEntry.self, from: record.store.transcriptPath(step.episode))
        let store = try ExchangeStore(root: outcome.folder.appendingPathComponent("models").path)
        let exchange = try store.exchange(try #require(transcript.first?.exchanges?.first))
        #expect(exchange.request.stream)
        #expect(exchange.response.events?.count == 5)  // three words, the usage chunk, [DONE]
        #expect(exchange.usage == TokenUsage(input: 100, output: 20, cached: 0))

        server.stop()
        var replay = options
        replay.models = ModelOptions(mode: .replay, recording: outcome.folder)
        let replayed = try await Runner.start(definition, runsFolder: runs, runID: "r", options: replay, makeAgent: Runner.standardAgents)
        #expect(try RunRecord(folder: replayed.folder).steps.map(\.commit) == [step.commit])
    }
}
