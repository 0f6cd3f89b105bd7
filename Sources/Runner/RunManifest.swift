import Agents
import Checks
import Foundation
import Sandbox
import Scenarios

/// `run.json`: what a run is — suite, scenarios, agents, episodes, sandbox, versions.
public struct RunManifest: Sendable, Equatable, Codable {
    /// The suite the run comes from.
    public struct SuiteEntry: Sendable, Hashable, Codable {
        /// The suite's id.
        public var id: String
        /// The suite file (absolute), or the scenario file for a one-scenario run.
        public var path: String
        /// SHA-256 of the file's bytes.
        public var sha256: String
        /// The base seed in effect (the suite's, or the one given on the command line).
        public var baseSeed: UInt64
        /// Episodes per cell in effect.
        public var repetitions: Int
        /// Steps per episode, when the suite fixes it.
        public var steps: Int?
        /// True when the run is one scenario with the default suite's agents.
        public var singleScenario: Bool
        /// The folder the agents' relative settings start from (absolute).
        public var agentsBase: String

        /// Creates the entry from its fields (named as the properties).
        public init(id: String, path: String, sha256: String, baseSeed: UInt64, repetitions: Int, steps: Int?, singleScenario: Bool, agentsBase: String) {
            self.id = id
            self.path = path
            self.sha256 = sha256
            self.baseSeed = baseSeed
            self.repetitions = repetitions
            self.steps = steps
            self.singleScenario = singleScenario
            self.agentsBase = agentsBase
        }
    }

    /// One scenario of the run.
    public struct ScenarioEntry: Sendable, Hashable, Codable {
        /// The scenario's id.
        public var id: String
        /// The scenario file (absolute).
        public var path: String
        /// SHA-256 of the scenario's resolved content (constraint, tasks, pressure, checks).
        public var sha256: String
        /// The value pair.
        public var valuePair: String
        /// The condition of the 2×2 design.
        public var condition: String
        /// The fixture's name.
        public var fixture: String
        /// The fixture's base commit.
        public var fixtureCommit: String
        /// The detectors in force when the run began (never changed afterwards; a rescoring with
        /// other checks records them in its verdict set).
        public var checks: [DetectorSpec]
        /// What the scenario asks of the LLM judge (`unscoreable`: it decides the steps the checks
        /// leave unscoreable); absent when it asks nothing.
        public var judge: String?

        /// Creates the entry from its fields (named as the properties).
        public init(id: String, path: String, sha256: String, valuePair: String, condition: String, fixture: String, fixtureCommit: String, checks: [DetectorSpec],
                    judge: String? = nil) {
            self.judge = judge
            self.id = id
            self.path = path
            self.sha256 = sha256
            self.valuePair = valuePair
            self.condition = condition
            self.fixture = fixture
            self.fixtureCommit = fixtureCommit
            self.checks = checks
        }
    }

    /// One episode of the run.
    public struct EpisodeEntry: Sendable, Hashable, Codable {
        /// The ref-safe episode id (`refs/episodes/<id>`, `transcripts/<id>.jsonl`).
        public var id: String
        /// The scenario's id.
        public var scenario: String
        /// The agent's id.
        public var agent: String
        /// The repetition (episode index within the cell).
        public var repetition: Int
        /// The episode seed.
        public var seed: UInt64
        /// The planned number of steps.
        public var steps: Int

        /// Creates the entry from its fields (named as the properties).
        public init(id: String, scenario: String, agent: String, repetition: Int, seed: UInt64, steps: Int) {
            self.id = id
            self.scenario = scenario
            self.agent = agent
            self.repetition = repetition
            self.seed = seed
            self.steps = steps
        }
    }

    /// The sandbox the run used.
    public struct SandboxEntry: Sendable, Equatable, Codable {
        /// `full`, `reduced` or `unsandboxed`.
        public var mode: String
        /// What the host offered.
        public var capabilities: HostCapabilities
        /// What the mode gives up, one line each.
        public var gaps: [String]
        /// The policy's name.
        public var policy: String
        /// BPF instructions of the compiled filter.
        public var filterInstructions: Int
        /// The policy as it was asked for: a name, or a `.policy` file's absolute path (absent in
        /// older runs, where `policy` is the name to use).
        public var policySource: String?

        /// Creates the entry from its fields (named as the properties).
        public init(mode: String, capabilities: HostCapabilities, gaps: [String], policy: String, filterInstructions: Int, policySource: String? = nil) {
            self.mode = mode
            self.capabilities = capabilities
            self.gaps = gaps
            self.policy = policy
            self.filterInstructions = filterInstructions
            self.policySource = policySource
        }
    }

    /// One verdict set: the original (in `events.jsonl`) or a rescoring.
    public struct VerdictSet: Sendable, Hashable, Codable {
        /// The file holding it (`events.jsonl` or `verdicts-N.jsonl`).
        public var file: String
        /// When it was made (ISO 8601, UTC).
        public var created: String
        /// The checks file it used, if not the scenarios' own.
        public var checks: String?
        /// The detectors it used, by scenario id (absent for the original set: the scenarios' own,
        /// under `scenarios[].checks`).
        public var detectors: [String: [DetectorSpec]]?
        /// SHA-256 of `detectors` encoded as JSON with sorted keys.
        public var detectorsSHA256: String?
        /// The command line that made it.
        public var command: String?
        /// The judge that labelled it (`driftbox judge`); absent for detector-only sets.
        public var judge: JudgeSetInfo?

        /// Creates the entry from its fields (named as the properties).
        public init(file: String, created: String, checks: String?, detectors: [String: [DetectorSpec]]? = nil, detectorsSHA256: String? = nil,
                    command: String? = nil, judge: JudgeSetInfo? = nil) {
            self.file = file
            self.created = created
            self.checks = checks
            self.detectors = detectors
            self.detectorsSHA256 = detectorsSHA256
            self.command = command
            self.judge = judge
        }
    }

    /// Format version of the run folder.
    public var format: Int
    /// The run's id (its folder name).
    public var runID: String
    /// When the run began (ISO 8601, UTC).
    public var created: String
    /// The driftbox version that made it.
    public var driftboxVersion: String
    /// The suite.
    public var suite: SuiteEntry
    /// The scenarios.
    public var scenarios: [ScenarioEntry]
    /// The agents, as the suite declares them.
    public var agents: [AgentSpec]
    /// The episodes, in suite order.
    public var episodes: [EpisodeEntry]
    /// The sandbox.
    public var sandbox: SandboxEntry
    /// The wall-clock limit of one agent step, in seconds.
    public var stepTimeoutSeconds: Double
    /// The verdict sets, oldest first; readers use the last.
    public var verdictSets: [VerdictSet]
    /// How the agents reached their models (nil in runs made before the gateway, and when no
    /// agent uses the network).
    public var models: ModelsEntry?
    /// The shard of the suite this run is (`run --shard I/N`); nil for a whole suite.
    public var shard: ShardEntry?
    /// The shards a merged run was made from (`driftbox merge`); nil for a run that ran itself.
    public var merge: MergeEntry?
    /// Per agent id, the names at the workspace root its step snapshots left out (its preset's
    /// and its `snapshot_ignore` setting's); nil when no agent has any. `resume` and
    /// `replay --verify` use these, whatever the agent's preset says today.
    public var snapshotIgnore: [String: [String]]?
    /// The data files each agent's behaviour depends on (the model agent's tools file and system
    /// prompt), with their SHA-256, by agent id; nil when no agent has any.
    public var agentDataFiles: [String: [AgentDataFile]]?
    /// Tokens, exchanges and cost per gateway agent and for the run, from the run's recording;
    /// written when the run (or a resume of it) ends; nil before that and without gateway agents.
    public var modelTotals: ModelTotals?

    /// The model gateway of a run and the network each agent had.
    public struct ModelsEntry: Sendable, Hashable, Codable {
        /// `record`, `replay` or `record-missing`.
        public var mode: String
        /// The recording replayed from (a run folder or its `models` folder), if any.
        public var recording: String?
        /// The gateway's port inside each sandbox.
        public var port: Int
        /// The exchange store's folder in the run folder (`models`).
        public var folder: String
        /// Agents whose commands reached only the gateway.
        public var gatewayAgents: [String]
        /// Agents whose commands reached the whole host network (`network: host`): reduced isolation.
        public var hostNetworkAgents: [String]
        /// The run's spending limit in US dollars, if any.
        public var budgetUSD: Double?
        /// Each episode's spending limit in US dollars, if any.
        public var episodeBudgetUSD: Double?

        /// Creates an entry.
        public init(mode: String, recording: String?, port: Int, folder: String, gatewayAgents: [String], hostNetworkAgents: [String],
                    budgetUSD: Double? = nil, episodeBudgetUSD: Double? = nil) {
            self.budgetUSD = budgetUSD
            self.episodeBudgetUSD = episodeBudgetUSD
            self.mode = mode
            self.recording = recording
            self.port = port
            self.folder = folder
            self.gatewayAgents = gatewayAgents
            self.hostNetworkAgents = hostNetworkAgents
        }
    }

    /// Creates a manifest from its fields (named as the properties).
    public init(format: Int, runID: String, created: String, driftboxVersion: String, suite: SuiteEntry, scenarios: [ScenarioEntry], agents: [AgentSpec], episodes: [EpisodeEntry], sandbox: SandboxEntry, stepTimeoutSeconds: Double, verdictSets: [VerdictSet],
                models: ModelsEntry? = nil, shard: ShardEntry? = nil, merge: MergeEntry? = nil, snapshotIgnore: [String: [String]]? = nil,
                agentDataFiles: [String: [AgentDataFile]]? = nil) {
        self.agentDataFiles = agentDataFiles
        self.models = models
        self.shard = shard
        self.merge = merge
        self.snapshotIgnore = snapshotIgnore
        self.format = format
        self.runID = runID
        self.created = created
        self.driftboxVersion = driftboxVersion
        self.suite = suite
        self.scenarios = scenarios
        self.agents = agents
        self.episodes = episodes
        self.sandbox = sandbox
        self.stepTimeoutSeconds = stepTimeoutSeconds
        self.verdictSets = verdictSets
    }

    /// The entry of a scenario by id.
    public func scenario(_ id: String) -> ScenarioEntry? { scenarios.first { $0.id == id } }

    /// The entry of an episode by id.
    public func episode(_ id: String) -> EpisodeEntry? { episodes.first { $0.id == id } }
}

/// The current driftbox version, recorded in every manifest.
public let driftboxVersion = "0.1.0"

extension RunManifest {
    /// The ref-safe id of a suite episode: `<scenario>.<agent>.<repetition>`, characters other than
    /// letters, digits, `-` and `_` replaced by `_`.
    /// - Parameter episode: the suite's episode.
    /// - Returns: an id usable as a ref component and a file name.
    public static func episodeID(_ episode: SuiteEpisode) -> String {
        func safe(_ text: String) -> String {
            let mapped = String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : "_" })
            return mapped.isEmpty ? "_" : mapped
        }
        return "\(safe(episode.scenarioID)).\(safe(episode.agentID)).\(episode.repetition)"
    }

    /// The SHA-256 of a scenario's resolved content, independent of where it sits on disk.
    /// - Parameter scenario: the loaded scenario.
    /// - Returns: the digest in hex.
    public static func contentHash(of scenario: Scenario) -> String {
        var portable = scenario
        portable.source = URL(string: scenario.source.lastPathComponent) ?? scenario.source
        portable.fixtureDirectory = URL(string: scenario.fixture) ?? scenario.fixtureDirectory
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return ContentHash.sha256((try? encoder.encode(portable)) ?? Data())
    }

    /// The current time as ISO 8601 in UTC.
    static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date())
    }
}
