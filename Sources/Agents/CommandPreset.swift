/// How an agent CLI is called and how its output is read: the settings a `command` agent gets
/// from `preset: NAME`.
public struct CommandPreset: Sendable, Hashable {
    /// How the final message (and token counts) are read from the CLI's stdout.
    public enum Output: String, Sendable, Hashable {
        /// The stdout tail, as text.
        case text
        /// opencode's `--format json` events: the last `text` part; tokens of `step_finish` parts.
        case opencodeEvents
        /// `claude -p --output-format json`: the `result` object's text and usage.
        case claudeJSON
        /// `codex exec --json` events: the last `agent_message` item; usage of `turn.completed`.
        case codexEvents
    }

    /// The preset's name (the `preset` setting).
    public var name: String
    /// The program (looked up in the sandbox's PATH).
    public var program: String
    /// Argument template of an episode's first step.
    public var firstStep: [String]
    /// Argument template of later steps (continuing the session).
    public var laterSteps: [String]
    /// Arguments added when the `model` setting is given.
    public var modelArguments: [String]
    /// Variables set inside (templates; settings `env.NAME` override them).
    public var environment: [String: String]
    /// How the output is read.
    public var output: Output
    /// Whether the prompt goes to stdin (unless the `prompt_stdin` setting says otherwise).
    public var promptOnStdin: Bool
    /// The model protocol the CLI speaks (the upstream's `protocol` unless the setting says otherwise).
    public var modelProtocol: String
    /// Names at the workspace root the step snapshots leave out: the CLI's state that differs
    /// from run to run (`stateFolder` for every preset, plus the CLI's own history and cache files).
    public var snapshotIgnore: [String]
    /// Files written before the CLI runs, every step, through the sandbox (one `sh` and `cat`):
    /// path inside the workspace (under `stateFolder`) and content. For settings a CLI reads only
    /// from files, e.g. aider's price-list cache.
    public var setupFiles: [String: String]

    /// Creates a preset.
    public init(name: String, program: String, firstStep: [String], laterSteps: [String]? = nil, modelArguments: [String] = ["--model", "{model}"],
                environment: [String: String] = [:], output: Output = .text, promptOnStdin: Bool = false,
                modelProtocol: String = "openai-chat", snapshotIgnore: [String] = [], setupFiles: [String: String] = [:]) {
        self.setupFiles = setupFiles
        self.modelProtocol = modelProtocol
        self.snapshotIgnore = [Self.stateFolder] + snapshotIgnore
        self.name = name
        self.program = program
        self.firstStep = firstStep
        self.laterSteps = laterSteps ?? firstStep
        self.modelArguments = modelArguments
        self.environment = environment
        self.output = output
        self.promptOnStdin = promptOnStdin
    }

    /// The folder, inside the workspace, where CLIs keep the state that continues a session from
    /// step to step (the sandbox gives every command a fresh, empty home).
    public static let stateFolder = ".agent-state"

    /// aider without questions, commits of its own, update checks, analytics or terminal
    /// styling. It runs in the workspace's git repository, as its users do: its root is then the
    /// repository's, so paths (`AGENTS.md`, the targets) reach the model as the repository names
    /// them (without git, aider's root would be the folder of the files in the chat, and the
    /// constraint would reach the model as `../AGENTS.md`). The git directory is read-only inside,
    /// so aider makes no commits and leaves `.gitignore` alone; its repository map is off, so a
    /// request holds only what the step gave it.
    static let aiderOptions = ["--yes-always", "--no-auto-commits", "--no-dirty-commits", "--no-gitignore", "--map-tokens", "0",
                               "--no-check-update", "--no-analytics", "--no-show-release-notes",
                               "--no-show-model-warnings", "--no-pretty", "--no-stream", "--no-fancy-input"]

    /// Where the aider preset writes the step's prompt for `--message-file` (a prompt of several
    /// lines on aider's command line would break the command line aider writes into its chat
    /// history, and so the history it restores).
    static let aiderPrompt = "\(stateFolder)/aider-prompt.md"

    /// What aider writes at the root of the folder it runs in, besides the files it edits: the
    /// chat and input histories (with the time of each session) and its repository map's caches
    /// (one folder per cache format version).
    static let aiderState = [".aider.chat.history.md", ".aider.input.history", ".aider.llm.history",
                             ".aider.tags.cache.v3", ".aider.tags.cache.v4"]

    /// The price-list cache aider finds instead of fetching: a list without the model (aider then
    /// asks litellm's local copy), not empty (an empty one is fetched again).
    static let aiderPriceCache = "{\"sample_spec\": {\"mode\": \"chat\"}}\n"

    /// The bundled presets by name.
    public static let all: [String: CommandPreset] = Dictionary(uniqueKeysWithValues: [
        CommandPreset(
            name: "opencode", program: "opencode",
            firstStep: ["run", "--format", "json", "{prompt}"],
            laterSteps: ["run", "--format", "json", "--continue", "{prompt}"],
            environment: ["XDG_DATA_HOME": "{workspace}/\(stateFolder)/opencode"],
            output: .opencodeEvents),
        CommandPreset(
            name: "aider", program: "aider",
            firstStep: aiderOptions + ["--read", "AGENTS.md", "--message-file", aiderPrompt, "{targets}"],
            // The chat history is the workspace's .aider.chat.history.md.
            laterSteps: aiderOptions + ["--restore-chat-history", "--read", "AGENTS.md", "--message-file", aiderPrompt, "{targets}"],
            // aider's home (its caches) in the state folder, with a price-list cache that is
            // never empty: aider then does not fetch litellm's price list from the network, and
            // reads the model's limits and prices from the copy litellm ships (local map).
            // Its `git add` of a file it makes writes an index and objects of its own in the state
            // folder (the workspace's git directory is read-only), reading the repository's objects.
            environment: ["HOME": "{workspace}/\(stateFolder)/aider-home", "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                          "GIT_INDEX_FILE": "{workspace}/\(stateFolder)/aider-git/index",
                          "GIT_OBJECT_DIRECTORY": "{workspace}/\(stateFolder)/aider-git/objects"],
            snapshotIgnore: aiderState,
            setupFiles: ["\(stateFolder)/aider-home/.aider/caches/model_prices_and_context_window.json": aiderPriceCache,
                         aiderPrompt: "{prompt}",
                         "\(stateFolder)/aider-git/objects/info/alternates": "{workspace}/../git/objects\n",
                         // A git identity aider finds, or it writes one into the (read-only) repository's config.
                         "\(stateFolder)/aider-home/.gitconfig": "[user]\n\tname = aider\n\temail = aider@localhost\n"]),
        CommandPreset(
            name: "claude", program: "claude",
            firstStep: ["-p", "{prompt}", "--output-format", "json", "--dangerously-skip-permissions", "--session-id", "{session_uuid}"],
            laterSteps: ["-p", "{prompt}", "--output-format", "json", "--dangerously-skip-permissions", "--resume", "{session_uuid}"],
            // IS_SANDBOX: claude refuses to skip permissions as root unless told it runs in a sandbox.
            environment: ["CLAUDE_CONFIG_DIR": "{workspace}/\(stateFolder)/claude", "IS_SANDBOX": "1"],
            output: .claudeJSON, modelProtocol: "anthropic-messages"),
        CommandPreset(
            name: "codex", program: "codex",
            // `exec` options go before `resume`, which accepts few of its own; `-` reads the prompt
            // from stdin (a positional prompt after `--last` is taken for a session id by some versions).
            firstStep: ["exec", "--json", "--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox", "-"],
            laterSteps: ["exec", "--json", "--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox", "resume", "--last", "-"],
            modelArguments: ["-m", "{model}"],
            environment: ["CODEX_HOME": "{workspace}/\(stateFolder)/codex"],
            output: .codexEvents, promptOnStdin: true, modelProtocol: "openai-responses"),
        CommandPreset(
            name: "mini-swe-agent", program: "mini",
            firstStep: ["--yolo", "--exit-immediately", "--task", "{constraint}\n\n---\n\n{prompt}"],
            environment: ["MSWEA_CONFIGURED": "true", "MSWEA_COST_TRACKING": "ignore_errors", "LITELLM_LOCAL_MODEL_COST_MAP": "True"]),
    ].map { ($0.name, $0) })
}
