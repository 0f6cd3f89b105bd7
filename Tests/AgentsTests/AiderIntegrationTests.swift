import Agents
import Foundation
import Glibc
import GitStore
import Runner
import Scenarios
import Testing

/// The real aider (aider-chat from PyPI) run by the `aider` preset through the runner, under the
/// default policy, reaching its model only through the gateway, against a scripted upstream
/// served over HTTPS on loopback.
@Suite(.serialized, .timeLimit(.minutes(15)))
struct AiderIntegrationTests {
    /// Where `.ci/run` installs the pinned aider-chat (a virtual environment under /opt, which the
    /// sandbox may read); `DRIFTBOX_AIDER` names another `aider` program.
    static let candidates = ["/opt/driftbox-agents/aider/bin/aider", "/usr/local/bin/aider", "/usr/bin/aider"]

    /// The installed `aider`; a skip with the reason where it is missing, a recorded issue (nil)
    /// where CI is set.
    static func requireAider() throws -> String? {
        let override = ProcessInfo.processInfo.environment["DRIFTBOX_AIDER"].map { [$0] } ?? []
        if let aider = (override + candidates).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return aider }
        let reason = "aider-chat is not installed (looked at \(candidates.joined(separator: ", ")) and DRIFTBOX_AIDER); .ci/run installs it"
        if isCI {
            Issue.record("CI is set, so this test must run: \(reason)")
            return nil
        }
        try Test.cancel(Comment(rawValue: reason))
    }

    /// A TCP listener on the host's loopback that nothing should ever reach from inside.
    struct Canary {
        let descriptor: Int32
        let port: Int

        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard fd >= 0, bound == 0, listen(fd, 16) == 0 else { throw AgentError(.invalidSetting, "the canary listener could not be set up") }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
            descriptor = fd
            port = Int(UInt16(bigEndian: address.sin_port))
        }

        /// Connections made to it so far (accepted now, without waiting).
        func connections() -> Int {
            var count = 0
            while true {
                let accepted = accept(descriptor, nil, nil)
                guard accepted >= 0 else { return count }
                Glibc.close(accepted)
                count += 1
            }
        }

        func close() { Glibc.close(descriptor) }
    }

    /// A probe the scripted model has aider write and then run as its test command: from inside
    /// the sandbox, a connection to the host's canary, one straight to the upstream's port, and a
    /// proxy request for the upstream through the gateway's port. It writes what happened.
    static func probe(canary: Int, upstream: String) -> String {
        """
        import socket

        def attempt(port, payload=None):
            connection = socket.socket()
            connection.settimeout(10)
            try:
                connection.connect(("127.0.0.1", port))
                if payload is None:
                    return "connected"
                connection.sendall(payload)
                return connection.recv(200).decode("latin-1").split("\\r\\n")[0]
            except OSError as error:
                return type(error).__name__
            finally:
                connection.close()

        proxy = b"GET https://127.0.0.1:\(upstream)/v1/models HTTP/1.1\\r\\nHost: 127.0.0.1:\(upstream)\\r\\n\\r\\n"
        with open("network-probe.txt", "w") as out:
            out.write("canary: %s\\n" % attempt(\(canary)))
            out.write("upstream: %s\\n" % attempt(\(upstream)))
            out.write("proxy: %s\\n" % attempt(4000, proxy))
        """
    }

    /// An answer in aider's `diff` edit format: one SEARCH/REPLACE block per file; an empty
    /// SEARCH section appends to the file (or makes it).
    static func blocks(_ edits: [(path: String, text: String)]) -> String {
        edits.map { "\($0.path)\n```\n<<<<<<< SEARCH\n=======\n\($0.text)>>>>>>> REPLACE\n```\n" }.joined(separator: "\n")
    }

    @Test("aider through the gateway under the default policy, to an HTTPS upstream, for two steps: its edits land in the step commits, its own state stays out of them, nothing inside reaches the host's loopback, and the episode replays offline with the same commits")
    func aiderThroughTheGateway() async throws {
        guard let aider = try Self.requireAider() else { return }
        let dir = try TempDir("aider-gateway")
        defer { dir.cleanup() }
        let canary = try Canary()
        defer { canary.close() }
        let scenario = packageRoot + "/Fixtures/scenarios/efficiency-security/regular.yaml"
        let suiteFile = URL(fileURLWithPath: dir.path + "/aider.yaml")
        func writeSuite(baseURL: String, caBundle: String = "") throws {
            try ("""
                id: aider
                base_seed: 11
                repetitions: 1
                steps: 2
                scenarios:
                  - \(scenario)
                agents:
                  - id: aider
                    kind: command
                    preset: aider
                    command: \(aider)
                    model: openai/driftbox-scripted
                    base_url: \(baseURL)
                    key_env: DRIFTBOX_TEST_AIDER_KEY
                    extra_args: --edit-format diff --no-auto-lint --auto-test --test-cmd "python3 probe.py"
                """ + (caBundle.isEmpty ? "" : "\n    ca_bundle: \(caBundle)")).write(to: suiteFile, atomically: true, encoding: .utf8)
        }
        try writeSuite(baseURL: "http://127.0.0.1:9/v1")
        let probePlan = try SuiteLoader().load(suiteFile)
        let plan = try probePlan.plan(for: probePlan.episodes()[0])
        let targets = plan.steps.map { $0.task.targets[0] }
        let certificates = try ScriptedChatServer.makeCertificates(in: dir.path)
        let first = "I will add a network probe as the test and note the review.\n\n" + Self.blocks([
            ("probe.py", Self.probe(canary: canary.port, upstream: "{SERVER_PORT}") + "\n"),
            (targets[0], "\nREVIEWED_BY_AIDER_STEP = 1\n"),
        ])
        let second = "Noted.\n\n" + Self.blocks([(targets[1], "\nREVIEWED_BY_AIDER_STEP = 2\n")])
        let script = String(decoding: try JSONSerialization.data(withJSONObject: [["content": first], ["content": second]]), as: UTF8.self)
        // `{SERVER_PORT}` in an answer is the scripted server's own port: the probe tries it.
        let server = try ScriptedChatServer(script: script, in: dir.path, tls: (certificates.certificate, certificates.key))
        defer { server.stop() }
        try writeSuite(baseURL: server.baseURL, caBundle: certificates.caBundle)
        setenv("DRIFTBOX_TEST_AIDER_KEY", "sk-aider-real-\(UUID().uuidString)", 1)
        let definition = try RunDefinition.load(suiteFile, agentsSuite: suiteFile)
        let runs = URL(fileURLWithPath: dir.path + "/runs")
        let options = RunOptions(jobs: 1, stepTimeout: .seconds(600), sandboxMode: .full, progress: .quiet)
        let outcome = try await Runner.start(definition, runsFolder: runs, runID: "recorded", options: options, makeAgent: Runner.standardAgents)
        let record = try RunRecord(folder: outcome.folder)
        let episode = try #require(record.manifest.episodes.first).id
        let steps = record.steps(of: episode)
        let transcript = try EventLog.read(TranscriptEntry.self, from: record.store.transcriptPath(episode))
        let output = transcript.flatMap(\.turn.commands).map { "\($0.argv.first ?? ""): \($0.stdoutTail)\n\($0.stderrTail)" }.joined(separator: "\n---\n")
        #expect(steps.map(\.outcome) == ["completed", "completed"], "\(steps.map(\.failure)); \(output)")
        try #require(steps.count == 2)

        // The edits, in aider's diff format, are in the step commits.
        let repository = try Repository.open(at: record.store.repositoryPath)
        func text(_ step: Int, _ path: String) throws -> String? {
            try repository.fileContent(at: steps[step].commit, path: path).map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(try text(0, targets[0])?.hasSuffix("\nREVIEWED_BY_AIDER_STEP = 1\n") == true, "\(output)")
        #expect(try text(1, targets[1])?.contains("\nREVIEWED_BY_AIDER_STEP = 2\n") == true, "\(output)")
        // From inside: the host's canary and the upstream's port are refused, the proxy request
        // through the gateway's port is answered 403 by the gateway.
        #expect(try text(0, "network-probe.txt") == "canary: ConnectionRefusedError\nupstream: ConnectionRefusedError\nproxy: HTTP/1.1 403 Forbidden\n", "\(output)")
        #expect(canary.connections() == 0)
        #expect(server.requests.count == 2, "only the gateway's two requests reached the upstream")
        #expect(transcript.allSatisfy { ($0.modelEvents ?? []).contains { $0.kind == "isolation" && $0.attempted.contains("127.0.0.1:\(server.port)") } },
                "\(transcript.map(\.modelEvents))")
        // aider's own state (histories, its home with the price-list cache) stays out of the commits.
        for step in steps.indices {
            for path in [".aider.chat.history.md", ".aider.input.history", ".agent-state/aider-home/.aider/caches/model_prices_and_context_window.json"] {
                #expect(try repository.fileContent(at: steps[step].commit, path: path) == nil, "\(path) in step \(step + 1)")
            }
        }
        #expect(record.manifest.snapshotIgnore?["aider"]?.contains(".aider.chat.history.md") == true)

        // What the model saw: the constraint as the read-only file AGENTS.md at the root, the task
        // prompt; the second step restores the first step's exchange from aider's chat history.
        let requests = server.requests
        #expect(requests.count == 2)
        func messages(_ request: [String: Any]) -> String {
            ((request["messages"] as? [[String: Any]]) ?? []).compactMap { $0["content"] as? String }.joined(separator: "\n")
        }
        let constraint = try String(contentsOfFile: packageRoot + "/Fixtures/scenarios/efficiency-security/constraints/favour-efficiency.md", encoding: .utf8)
        let firstLine = try #require(constraint.split(separator: "\n").first.map(String.init))
        if let request = requests.first {
            #expect(messages(request).contains("READ ONLY files"))
            #expect(messages(request).contains("\nAGENTS.md\n````\n"), "\(messages(request))")
            #expect(!messages(request).contains("../AGENTS.md"))
            #expect(messages(request).contains(firstLine))
            #expect(messages(request).contains(plan.steps[0].task.prompt.split(separator: "\n")[0]))
        }
        if requests.count == 2 {
            #expect(messages(requests[1]).contains("REVIEWED_BY_AIDER_STEP = 1"))
            #expect(messages(requests[1]).contains(plan.steps[1].task.prompt.split(separator: "\n")[0]))
        }
        #expect(transcript.map { $0.exchanges?.count } == [1, 1])

        // Offline: the upstream is stopped; the episode re-executed from the recording gives the
        // same commits, and a recorded prompt that no longer matches is located.
        server.stop()
        #expect(try await Replay.verify(record, episode: episode, options: options, makeAgent: Runner.standardAgents) == [])
        let hash = try #require(transcript.last?.exchanges?.first)
        let file = outcome.folder.appendingPathComponent("models/exchanges/\(hash).json")
        let original = try String(contentsOf: file, encoding: .utf8)
        let changed = original.replacingOccurrences(of: "I will add a network probe", with: "I will add a network check")
        #expect(changed != original)
        try changed.write(to: file, atomically: true, encoding: .utf8)
        let mismatches = try await Replay.verify(record, episode: episode, options: options, makeAgent: Runner.standardAgents)
        #expect(mismatches.contains { $0.what == "step 2 model request" && $0.replayed.contains("messages[") }, "\(mismatches)")
        #expect(canary.connections() == 0)
    }
}
