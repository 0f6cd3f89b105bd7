import Agents
import Foundation
import Sandbox
import Testing

/// The command adapter with real programs in the real sandbox.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct CommandAgentTests {
    func agent(_ settings: [String: String]) throws -> CommandAgent {
        try AgentFactory.make(id: "cli", kind: "command", settings: settings, baseDirectory: resources) as! CommandAgent
    }

    func step(_ number: Int = 1, prompt: String = "Implement the module.") -> AgentStep {
        AgentStep(episode: "e1", step: number, taskID: "task-a", prompt: prompt, targets: ["notes.py"])
    }

    /// A variable of the runner's environment the sandbox does not set itself.
    var runnerVariable: (name: String, value: String)? {
        ProcessInfo.processInfo.environment
            .filter { !["HOME", "TMPDIR", "PATH", "LANG", "PWD", "OLDPWD", "SHLVL", "_"].contains($0.key) && !$0.value.isEmpty && !$0.value.contains("\n") }
            .min { $0.key < $1.key }
            .map { ($0.key, $0.value) }
    }

    @Test("a CLI edits the workspace with the prompt on stdin; runner variables pass only when named")
    func editsAndPassesNamedVariables() async throws {
        let variable = try #require(runnerVariable, "the test runner has no environment variable to pass")
        let dir = try TempDir("cmd-edit")
        defer { dir.cleanup() }
        let sandbox = try makeSandbox()
        for passed in [false, true] {
            var settings = ["command": resources + "/edit-agent.sh", "args": "{target} {step} \(variable.name)", "prompt_stdin": "true", "network": "off"]
            if passed { settings["env"] = variable.name }
            let cli = try agent(settings)
            #expect(cli.sandboxPolicy == "default")
            let turn = try await cli.act(step(passed ? 2 : 1, prompt: "Add the helper."), context: makeContext(dir.path, sandbox: sandbox), history: [])
            #expect(turn.outcome == .completed)
            let expected = passed ? variable.value : "unset"
            #expect(turn.message == "variable: \(expected)\nedited notes.py in step \(passed ? 2 : 1)")
            #expect(turn.commands.count == 1)
            #expect(turn.commands[0].argv == [resources + "/edit-agent.sh", "notes.py", passed ? "2" : "1", variable.name])
        }
        #expect(try read(dir.path + "/notes.py") == "# step 1: Add the helper.\n# step 2: Add the helper.\n")
    }

    @Test("a CLI waiting on an interactive question is ended at the step timeout")
    func interactivePromptTimesOut() async throws {
        let dir = try TempDir("cmd-hang")
        defer { dir.cleanup() }
        // A marker argument names the CLI's processes, so the test can see that none is left.
        let marker = "driftbox-hang-\(UUID().uuidString)"
        let cli = try agent(["command": resources + "/hang-agent.sh", "args": marker, "network": "off"])
        let turn = try await cli.act(step(), context: makeContext(dir.path, sandbox: try makeSandbox(), timeout: .seconds(2)), history: [])
        #expect(turn.outcome == .timedOut)
        #expect(turn.commands.count == 1 && turn.commands[0].timedOut)
        #expect(turn.commands.first?.termination.hasPrefix("signal") == true, "\(turn.commands.first?.termination ?? "no command")")
        #expect(turn.message.hasSuffix("Apply these changes? [y/N]"))
        #expect(processes(withArgument: marker).isEmpty, "the CLI's process tree outlived the step")
    }

    @Test("a CLI that exits non-zero fails the step with its status and stderr")
    func nonZeroExitFails() async throws {
        let dir = try TempDir("cmd-fail")
        defer { dir.cleanup() }
        let cli = try agent(["command": resources + "/fail-agent.sh", "network": "off"])
        let turn = try await cli.act(step(), context: makeContext(dir.path, sandbox: try makeSandbox()), history: [])
        #expect(turn.outcome == .failed("\(resources)/fail-agent.sh ended with exit 3: error: model quota exceeded for this key"))
        #expect(turn.message == "working on it")
        #expect(turn.commands[0].termination == "exit 3")
    }

    @Test("the codex preset: arguments of first and later steps, JSON events parsed, network policy recorded")
    func presetParsesEvents() async throws {
        let dir = try TempDir("cmd-events")
        defer { dir.cleanup() }
        let cli = try agent(["preset": "codex", "command": resources + "/events-agent.sh", "model": "gpt-test", "network": "host"])
        #expect(cli.sandboxPolicy == "network")
        let sandbox = try makeSandbox(policy: cli.sandboxPolicy)
        let context = makeContext(dir.path, sandbox: sandbox)
        let first = try await cli.act(step(), context: context, history: [])
        #expect(first.outcome == .completed)
        #expect(first.message == "Refactored the module.")
        #expect(first.usage.inputTokens == 1200 && first.usage.outputTokens == 85)
        #expect(first.commands[0].stderrTail == """
            arg: exec
            arg: --json
            arg: --skip-git-repo-check
            arg: --dangerously-bypass-approvals-and-sandbox
            arg: -
            arg: -m
            arg: gpt-test

            """)
        #expect(first.isolationGaps?.contains { $0.contains("host network is reachable") } == true)
        let later = try await cli.act(step(2), context: context, history: [first])
        #expect(later.commands[0].argv == [resources + "/events-agent.sh", "exec", "--json", "--skip-git-repo-check",
                                            "--dangerously-bypass-approvals-and-sandbox", "resume", "--last", "-", "-m", "gpt-test"])
    }

    @Test("session ids become stable UUIDs for CLIs that need one")
    func sessionUUIDs() {
        let derived = CommandAgent.sessionUUID("episode-7")
        #expect(derived == CommandAgent.sessionUUID("episode-7"))
        #expect(derived != CommandAgent.sessionUUID("episode-8"))
        #expect(UUID(uuidString: derived) != nil && derived == derived.lowercased())
        #expect(Array(derived)[14] == "8")
        #expect(CommandAgent.sessionUUID("6F9619FF-8B86-D011-B42D-00C04FC964FF") == "6f9619ff-8b86-d011-b42d-00c04fc964ff")
    }

    @Test("presets and settings are checked when the agent is made")
    func settingErrors() throws {
        #expect(throws: AgentError(.missingSetting, "agent 'cli' (kind command) needs `command` (the program) or `preset` (one of aider, claude, codex, mini-swe-agent, opencode); add one to its entry in the suite")) {
            _ = try agent([:])
        }
        #expect(throws: AgentError(.invalidSetting, "agent 'cli' (kind command): unknown preset 'gemini'; use one of aider, claude, codex, mini-swe-agent, opencode, or give `command` and `args`")) {
            _ = try agent(["preset": "gemini"])
        }
        #expect(throws: AgentError(.invalidSetting, "agent 'cli' (kind command): unknown setting `modle`; use one of preset, command, args, prompt_stdin, model, env, output, network, base_url, protocol, key_env, ca_bundle, extra_args, snapshot_ignore, retries, connect_timeout, first_byte_timeout, total_timeout, max_concurrent or env.NAME (docs/agents.md)")) {
            _ = try agent(["preset": "aider", "modle": "x"])
        }
        #expect(throws: AgentError(.missingSetting, "agent 'cli' (kind command): the arguments use {model} but no `model` is set; add `model: NAME`")) {
            _ = try agent(["command": "tool", "args": "--model {model} {prompt}"])
        }
        #expect(throws: AgentError(.invalidSetting, "the `args` template 'run \"{prompt}' has an unclosed quote; close it")) {
            _ = try agent(["command": "tool", "args": "run \"{prompt}"])
        }
        let quoted = try agent(["command": "tool", "args": #"run 'two words' "say \"hi\"" {prompt}"#])
        #expect(quoted.firstStep == ["run", "two words", #"say "hi""#, "{prompt}"])
    }

    @Test("upstream tuning settings become the upstream's tuning; a value out of range is refused naming its setting")
    func tuningSettings() throws {
        let base = ["preset": "aider", "base_url": "https://api.example.com/v1"]
        #expect(try agent(base).upstream?.tuning == nil)
        let tuned = try agent(base.merging(["retries": "0", "connect_timeout": "2.5", "first_byte_timeout": "30", "total_timeout": "90", "max_concurrent": "3"]) { $1 })
        #expect(tuned.upstream?.tuning == UpstreamTuning(retries: 0, connectSeconds: 2.5, firstByteSeconds: 30, totalSeconds: 90, maxConcurrent: 3))
        #expect(try agent(base.merging(["retries": "5"]) { $1 }).upstream?.tuning == UpstreamTuning(retries: 5))
        let cases: [(String, String, String)] = [
            ("retries", "many", "`retries: many` is not a whole number from 0 to 20"),
            ("retries", "21", "`retries: 21` is not a whole number from 0 to 20"),
            ("max_concurrent", "0", "`max_concurrent: 0` is not a whole number from 1 to 1024"),
            ("total_timeout", "0", "`total_timeout: 0` is not a number of seconds from 0.1 to 86400"),
            ("first_byte_timeout", "nan", "`first_byte_timeout: nan` is not a number of seconds from 0.1 to 3600"),
            ("connect_timeout", "-1", "`connect_timeout: -1` is not a number of seconds from 0.1 to 600"),
        ]
        for (key, value, message) in cases {
            do {
                _ = try agent(base.merging([key: value]) { $1 })
                Issue.record("\(key): \(value) was accepted")
            } catch let error as AgentError {
                #expect(error.code == .invalidSetting && error.setting == key, "\(error)")
                #expect(error.message.hasPrefix("agent 'cli' (kind command): " + message), "\(error.message)")
            }
        }
        #expect(throws: AgentError(.invalidSetting, "agent 'cli' (kind command): `retries` is set but `network` is not `gateway`; remove it, or use `network: gateway`")) {
            _ = try agent(["command": "tool", "retries": "2"])
        }
    }

    @Test("network: the gateway by default for presets, with an upstream; host and none on request; the real key never passed in")
    func networkSettings() throws {
        #expect(throws: AgentError.self) { _ = try agent(["preset": "aider"]) }  // no upstream
        let chat = try agent(["preset": "aider", "base_url": "https://api.example.com/v1"])
        #expect(chat.network == .gateway && chat.sandboxPolicy == "default")
        #expect(chat.upstream == ModelUpstream(baseURL: "https://api.example.com/v1", modelProtocol: "openai-chat", keyVariable: "OPENAI_API_KEY"))
        let claude = try agent(["preset": "claude", "base_url": "https://api.example.com", "key_env": "MY_KEY", "ca_bundle": "certs/ca.pem"])
        #expect(claude.upstream == ModelUpstream(baseURL: "https://api.example.com", modelProtocol: "anthropic-messages", keyVariable: "MY_KEY",
                                                 caBundlePath: resources + "/certs/ca.pem"))
        #expect(try agent(["preset": "codex", "base_url": "https://api.example.com/v1"]).upstream?.modelProtocol == "openai-responses")
        #expect(throws: AgentError.self) { _ = try agent(["preset": "aider", "base_url": "https://x/v1", "protocol": "gemini"]) }
        #expect(throws: AgentError.self) { _ = try agent(["preset": "aider", "base_url": "https://x/v1", "env": "PATH,OPENAI_API_KEY"]) }
        #expect(throws: AgentError.self) { _ = try agent(["command": "tool", "base_url": "https://x/v1", "network": "none"]) }
        #expect(throws: AgentError.self) { _ = try agent(["command": "tool", "network": "everywhere"]) }
        for (value, network) in [("host", AgentNetwork.host), ("on", .host), ("none", .none), ("off", .none)] {
            let made = try agent(["preset": "aider", "network": value])
            #expect(made.network == network && made.upstream == nil)
            #expect(made.sandboxPolicy == (network == .host ? "network" : "default"))
        }
        #expect(try agent(["command": "tool"]).network == .none)  // a bare program is not taken for a model client
    }

    @Test("a program outside the system folders runs: its folder is visible read-only inside; extra_args add to a preset's")
    func programOutsideSystemFolders() async throws {
        let dir = try TempDir("cmd-outside")
        defer { dir.cleanup() }
        let tools = try outsideFolder("agent-program")
        defer { try? FileManager.default.removeItem(atPath: tools) }
        try "#!/bin/sh\ncat \"$(dirname \"$0\")/data.txt\"; echo \"$@\"; touch \"$(dirname \"$0\")/written\" 2>/dev/null || echo read-only\n"
            .write(toFile: tools + "/agent.sh", atomically: true, encoding: .utf8)
        try "beside the program\n".write(toFile: tools + "/data.txt", atomically: true, encoding: .utf8)
        chmod(tools + "/agent.sh", 0o755)
        // A sandbox that reads only the system folders (and the workspace).
        let sandbox = try Sandbox(SandboxOptions(policy: try Policy.load(path: packageRoot + "/sandbox/policies/default.policy")))
        let cli = try agent(["command": tools + "/agent.sh", "args": "{step}", "extra_args": "--flag 'two words'", "network": "none"])
        #expect(cli.firstStep == ["{step}", "--flag", "two words"])
        let turn = try await cli.act(step(), context: makeContext(dir.path, sandbox: sandbox), history: [])
        #expect(turn.outcome == .completed, "\(turn.commands.first?.stderrTail ?? "")")
        #expect(turn.message == "beside the program\n1 --flag two words\nread-only")
        #expect(!FileManager.default.fileExists(atPath: tools + "/written"))
        let aider = try agent(["preset": "aider", "network": "none", "extra_args": "--map-tokens 0"])
        #expect(aider.laterSteps.suffix(3) == ["{targets}", "--map-tokens", "0"])
    }
}
