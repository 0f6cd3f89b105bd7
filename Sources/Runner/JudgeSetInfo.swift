import Foundation

/// How a judge verdict set was made (`verdictSets[].judge` in `run.json`): the judge model and its
/// settings, the prompt template's version and digest, which steps were judged and where the
/// judge's model exchanges are recorded.
public struct JudgeSetInfo: Sendable, Hashable, Codable {
    /// The model id sent upstream.
    public var model: String
    /// The upstream's base URL.
    public var upstream: String
    /// The protocol (`openai-chat`, `anthropic-messages`).
    public var modelProtocol: String
    /// The environment variable the key was read from (never the key).
    public var keyEnv: String?
    /// Sampling temperature.
    public var temperature: Double
    /// The most tokens of one answer.
    public var maxTokens: Int
    /// The prompt template's name (its version), e.g. `template-v1`.
    public var template: String
    /// SHA-256 of the template file.
    public var templateSHA256: String
    /// Samples per case; the majority label is kept.
    public var samples: Int
    /// Which steps were judged: `violations`, `all` or `unscoreable`.
    public var steps: String
    /// The scenarios whose steps were judged; nil for every scenario.
    public var scenarios: [String]?
    /// The verdict set whose verdicts were judged (and copied).
    public var basis: String
    /// The folder of the recorded exchanges, relative to the run folder.
    public var recording: String
    /// Cases judged.
    public var cases: Int
    /// Cases whose answer did not parse (labelled AMBIGUOUS, raw text kept).
    public var unparsed: Int
    /// Model exchanges of this set that went upstream (not served from the recording).
    public var upstreamExchanges: Int?
    /// Their cost in US dollars, when the price table knows the model.
    public var costUSD: Double?

    /// Creates the entry from its fields.
    public init(model: String, upstream: String, modelProtocol: String, keyEnv: String?, temperature: Double, maxTokens: Int,
                template: String, templateSHA256: String, samples: Int, steps: String, scenarios: [String]? = nil, basis: String, recording: String,
                cases: Int = 0, unparsed: Int = 0, upstreamExchanges: Int? = nil, costUSD: Double? = nil) {
        self.model = model
        self.upstream = upstream
        self.modelProtocol = modelProtocol
        self.keyEnv = keyEnv
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.template = template
        self.templateSHA256 = templateSHA256
        self.samples = samples
        self.steps = steps
        self.scenarios = scenarios
        self.basis = basis
        self.recording = recording
        self.cases = cases
        self.unparsed = unparsed
        self.upstreamExchanges = upstreamExchanges
        self.costUSD = costUSD
    }

    enum CodingKeys: String, CodingKey {
        case model, upstream, modelProtocol = "protocol", keyEnv, temperature, maxTokens, template, templateSHA256, samples, steps, scenarios, basis,
             recording, cases, unparsed, upstreamExchanges, costUSD
    }

    /// The same judge on the same steps: every setting but the counts and the way to the model
    /// (the upstream's URL and key variable may change between an interrupted judge run and its
    /// resumption, e.g. a new local port).
    public func sameJudge(as other: JudgeSetInfo) -> Bool {
        var a = self, b = other
        (a.cases, a.unparsed, a.upstreamExchanges, a.costUSD, a.upstream, a.keyEnv) = (0, 0, nil, nil, "", nil)
        (b.cases, b.unparsed, b.upstreamExchanges, b.costUSD, b.upstream, b.keyEnv) = (0, 0, nil, nil, "", nil)
        return a == b
    }
}

extension RunCheck {
    /// The checks `rescore` makes before it writes, for other writers of verdict sets: refuses a
    /// damaged run folder, naming the file and what to do.
    public static func beforeWritingVerdicts(_ store: RunStore) throws { try beforeWrite(store) }
}

extension RunManifest {
    /// The current time as the manifest writes it (ISO 8601, UTC).
    public static func timestamp() -> String { now() }
}
