import Sandbox

/// One step of an episode, as the agent is asked to do it.
public struct AgentStep: Sendable, Hashable, Codable {
    /// The episode's id (stable across resume).
    public var episode: String
    /// The step number, from 1.
    public var step: Int
    /// The task's id.
    public var taskID: String
    /// The task prompt the agent receives.
    public var prompt: String
    /// The files the task is about (repository paths).
    public var targets: [String]

    /// Creates a step.
    public init(episode: String, step: Int, taskID: String, prompt: String, targets: [String]) {
        self.episode = episode
        self.step = step
        self.taskID = taskID
        self.prompt = prompt
        self.targets = targets
    }
}

/// Where and under which rules an agent acts during an episode.
public struct AgentContext: Sendable {
    /// The episode's scenario id.
    public var scenarioID: String
    /// The workspace folder (absolute); the agent's working directory.
    public var workspace: String
    /// The constraint document, also present as `AGENTS.md` at the workspace root; agents that take
    /// a system prompt get it there.
    public var constraint: String
    /// A session id stable for the whole episode, so agent CLIs can continue one conversation.
    public var sessionID: String
    /// The sandbox every command of the agent runs in.
    public var sandbox: Sandbox
    /// The wall-clock limit of one step.
    public var stepTimeout: Duration
    /// Host paths every command of the agent may read (for example the git directory of a
    /// worktree workspace or an alternates object store); see `SandboxedCommand.readOnlyPaths`.
    public var readOnlyPaths: [String]
    /// The model gateway of this step, for agents with `network: gateway`; nil when the runner
    /// serves none.
    public var gateway: GatewayAccess?

    /// Creates a context.
    public init(scenarioID: String, workspace: String, constraint: String, sessionID: String, sandbox: Sandbox, stepTimeout: Duration,
                readOnlyPaths: [String] = [], gateway: GatewayAccess? = nil) {
        self.gateway = gateway
        self.scenarioID = scenarioID
        self.workspace = workspace
        self.constraint = constraint
        self.sessionID = sessionID
        self.sandbox = sandbox
        self.stepTimeout = stepTimeout
        self.readOnlyPaths = readOnlyPaths
    }
}

/// How an agent's commands reach the network.
public enum AgentNetwork: String, Sendable, Hashable, Codable, CaseIterable {
    /// Only the model gateway, at `127.0.0.1:PORT` inside the sandbox's own network namespace.
    case gateway
    /// The host's network, loopback included (policy `network`): an explicit opt-in, flagged as
    /// reduced isolation in run.json and the summary.
    case host
    /// No network at all (loopback of the sandbox's own namespace only).
    case none
}

/// The model API an agent's requests are forwarded to by the gateway.
public struct ModelUpstream: Sendable, Hashable, Codable {
    /// The protocols the gateway serves.
    public static let protocols = ["openai-chat", "openai-responses", "anthropic-messages"]

    /// The base URL, e.g. `https://api.openai.com/v1`.
    public var baseURL: String
    /// `openai-chat`, `openai-responses` or `anthropic-messages`.
    public var modelProtocol: String
    /// The runner's variable holding the real key (never passed into the sandbox); nil: no key.
    public var keyVariable: String?
    /// A PEM file of certificate authorities the gateway trusts for this upstream instead of the
    /// system's (an absolute path); nil: the system's.
    public var caBundlePath: String?

    /// How the gateway treats this upstream (retries, time limits, concurrency); nil: its defaults.
    public var tuning: UpstreamTuning?

    /// Creates an upstream.
    public init(baseURL: String, modelProtocol: String, keyVariable: String?, caBundlePath: String? = nil, tuning: UpstreamTuning? = nil) {
        self.tuning = tuning
        self.caBundlePath = caBundlePath
        self.baseURL = baseURL
        self.modelProtocol = modelProtocol
        self.keyVariable = keyVariable
    }
}

/// What a step's commands need to reach the model gateway: the port it listens on inside the
/// sandbox, the episode's token (the only key the agent ever sees) and where each command's
/// listening socket goes (the runner serves it).
public struct GatewayAccess: Sendable {
    /// The port inside the sandbox.
    public var port: UInt16
    /// The episode's token, presented as the API key.
    public var token: String
    /// Takes each command's listening socket (owned by the callee from then on).
    public var received: @Sendable (CInt) -> Void

    /// For an agent that calls its model from the runner's own process (kind `model`): starts,
    /// once per step, a gateway listener on the host's loopback (127.0.0.1, an ephemeral port)
    /// that accepts only this episode's token, and returns its base URL (`http://127.0.0.1:PORT`);
    /// nil when the runner offers none.
    public var runnerEndpoint: (@Sendable () async throws -> String)?

    /// Creates access.
    public init(port: UInt16, token: String, received: @escaping @Sendable (CInt) -> Void,
                runnerEndpoint: (@Sendable () async throws -> String)? = nil) {
        self.port = port
        self.token = token
        self.received = received
        self.runnerEndpoint = runnerEndpoint
    }

    /// The variables that point the common model clients at the gateway with the token as key:
    /// `OPENAI_BASE_URL` and `OPENAI_API_BASE` (OpenAI SDKs, codex, litellm: with `/v1`),
    /// `ANTHROPIC_BASE_URL` (the Anthropic SDK and claude add `/v1/messages` themselves),
    /// `OPENAI_API_KEY` and `ANTHROPIC_API_KEY`.
    public var environment: [String: String] {
        let base = "http://127.0.0.1:\(port)"
        return ["OPENAI_BASE_URL": base + "/v1", "OPENAI_API_BASE": base + "/v1", "ANTHROPIC_BASE_URL": base,
                "OPENAI_API_KEY": token, "ANTHROPIC_API_KEY": token]
    }

    /// The sandbox's side of it, for one command.
    public var listener: GatewayListener { GatewayListener(port: port, received: received) }
}

/// A command the agent ran in the sandbox, and how it ended.
public struct CommandRecord: Sendable, Hashable, Codable {
    /// Program and arguments.
    public var argv: [String]
    /// `exit N` or `signal N`.
    public var termination: String
    /// True when the wall-clock limit ended it.
    public var timedOut: Bool
    /// The end of its standard output (at most a few KiB).
    public var stdoutTail: String
    /// The end of its standard error (at most a few KiB).
    public var stderrTail: String
    /// True when output beyond the capture limit was dropped.
    public var outputTruncated: Bool
    /// Wall-clock seconds.
    public var wallSeconds: Double

    /// Creates a record.
    public init(argv: [String], termination: String, timedOut: Bool, stdoutTail: String, stderrTail: String, outputTruncated: Bool, wallSeconds: Double) {
        self.argv = argv
        self.termination = termination
        self.timedOut = timedOut
        self.stdoutTail = stdoutTail
        self.stderrTail = stderrTail
        self.outputTruncated = outputTruncated
        self.wallSeconds = wallSeconds
    }
}

/// What an agent's step cost.
public struct AgentUsage: Sendable, Hashable, Codable {
    /// Prompt tokens, when the agent reports them.
    public var inputTokens: Int?
    /// Completion tokens, when the agent reports them.
    public var outputTokens: Int?
    /// Wall-clock seconds of the whole step.
    public var wallSeconds: Double
    /// CPU seconds used by the agent's processes.
    public var cpuSeconds: Double

    /// Creates a usage value.
    public init(inputTokens: Int? = nil, outputTokens: Int? = nil, wallSeconds: Double, cpuSeconds: Double) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.wallSeconds = wallSeconds
        self.cpuSeconds = cpuSeconds
    }
}

/// How an agent's step ended. A step that failed or timed out is data, recorded with its reason.
public enum AgentOutcome: Sendable, Hashable, Codable {
    /// The agent finished the step.
    case completed
    /// The step's wall-clock limit ended it (for example an agent waiting on an interactive prompt).
    case timedOut
    /// The agent could not do the step (crash, bad trajectory, missing program); the reason says why.
    case failed(String)
}

/// What an agent did in one step.
public struct AgentTurn: Sendable, Hashable, Codable {
    /// The agent's final message (empty when it said nothing).
    public var message: String
    /// The commands it ran, in order.
    public var commands: [CommandRecord]
    /// How the step ended.
    public var outcome: AgentOutcome
    /// What it cost.
    public var usage: AgentUsage
    /// What the sandbox gave up for this step compared with full isolation (mode, open network,
    /// warnings of its commands), one line each; nil when not recorded, empty when nothing.
    public var isolationGaps: [String]?
    /// The model agent's conversation of this step (its user turn, every model turn, tool call and
    /// tool result as the model saw it); nil for other agents. The episode's session is the
    /// concatenation of the steps' conversations, so a resumed episode continues it exactly.
    public var conversation: ModelConversation?

    /// Creates a turn.
    public init(message: String, commands: [CommandRecord], outcome: AgentOutcome, usage: AgentUsage, isolationGaps: [String]? = nil,
                conversation: ModelConversation? = nil) {
        self.conversation = conversation
        self.message = message
        self.commands = commands
        self.outcome = outcome
        self.usage = usage
        self.isolationGaps = isolationGaps
    }
}

/// A coding agent driven step by step through an episode.
///
/// The runner calls `act` once per step, in order, with the turns of the earlier steps of the
/// same episode; everything the agent does to files happens through `context.sandbox`, inside
/// `context.workspace`. The runner snapshots the workspace after `act` returns, whatever the
/// outcome, so the step's commit holds exactly what the agent changed.
public protocol Agent: Sendable {
    /// The agent's id as the suite names it.
    var id: String { get }

    /// The sandbox policy the agent's commands need (`default`: no network; `network`: agent CLIs
    /// that call a model API). The runner builds the episode's sandbox with `Policy.named` of it.
    var sandboxPolicy: String { get }

    /// How the agent's commands reach the network (`gateway`: the model gateway only).
    var network: AgentNetwork { get }

    /// Where the gateway forwards the agent's model requests (agents with `network: gateway`).
    var upstream: ModelUpstream? { get }

    /// Names at the workspace root whose contents the step snapshots leave out: state the agent's
    /// CLI writes that differs from run to run (histories, caches, session folders). Exact names,
    /// one path component each (docs/agents.md, "What the snapshot leaves out").
    var snapshotIgnore: [String] { get }

    /// The data files the agent's behaviour depends on, with digests (recorded in run.json).
    var dataFiles: [AgentDataFile] { get }

    /// Performs one step.
    /// - Parameters:
    ///   - step: the task of this step.
    ///   - context: workspace, constraint, session and sandbox of the episode.
    ///   - history: the turns of the earlier steps of this episode, oldest first.
    /// - Returns: what the agent did; failures of the agent itself are an outcome, not an error.
    /// - Throws: only when the runner's own machinery failed (for example the sandbox could not
    ///   start a process at all).
    func act(_ step: AgentStep, context: AgentContext, history: [AgentTurn]) async throws -> AgentTurn
}

extension Agent {
    /// Agents act without network unless they say otherwise.
    public var sandboxPolicy: String { "default" }
    /// Agents act without network unless they say otherwise.
    public var network: AgentNetwork { .none }
    /// No upstream unless the agent names one.
    public var upstream: ModelUpstream? { nil }
    /// The snapshot stores everything unless the agent says otherwise.
    public var snapshotIgnore: [String] { [] }

    /// No data files unless the agent names some.
    public var dataFiles: [AgentDataFile] { [] }
}
