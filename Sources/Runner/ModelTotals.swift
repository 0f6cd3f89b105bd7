import Foundation
import Gateway

/// What a run's agents spent on their models, as the run's recording (`models/`) holds it: per
/// gateway agent and for the whole run. Written into `run.json` (`modelTotals`) when a run or a
/// resume of it ends, counting every invocation of the run.
public struct ModelTotals: Sendable, Hashable, Codable {
    /// One agent's (or the run's) figures.
    public struct Figures: Sendable, Hashable, Codable {
        /// Model exchanges sent upstream (failed ones included) or, replaying, answered from the recording.
        public var exchanges: Int
        /// Requests the gateway refused without sending them upstream: over a budget, or as
        /// isolation attempts (a bad token, another host, path or method). Not in `exchanges`.
        public var refused: Int
        /// Prompt tokens, cached ones included.
        public var inputTokens: Int
        /// Completion tokens.
        public var outputTokens: Int
        /// The part of `inputTokens` read from the provider's cache.
        public var cachedTokens: Int
        /// US dollars, from the price table the exchanges were recorded with.
        public var costUSD: Double
        /// Exchanges with tokens but no price (not in `costUSD`).
        public var unpriced: Int

        /// Creates figures.
        public init(exchanges: Int = 0, inputTokens: Int = 0, outputTokens: Int = 0, cachedTokens: Int = 0, costUSD: Double = 0, unpriced: Int = 0,
                    refused: Int = 0) {
            self.exchanges = exchanges
            self.refused = refused
            self.inputTokens = inputTokens
            self.outputTokens = outputTokens
            self.cachedTokens = cachedTokens
            self.costUSD = costUSD
            self.unpriced = unpriced
        }

        /// Reads figures; `refused` is absent from run.json files written before it was counted (0).
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            exchanges = try container.decode(Int.self, forKey: .exchanges)
            refused = try container.decodeIfPresent(Int.self, forKey: .refused) ?? 0
            inputTokens = try container.decode(Int.self, forKey: .inputTokens)
            outputTokens = try container.decode(Int.self, forKey: .outputTokens)
            cachedTokens = try container.decode(Int.self, forKey: .cachedTokens)
            costUSD = try container.decode(Double.self, forKey: .costUSD)
            unpriced = try container.decode(Int.self, forKey: .unpriced)
        }
    }

    /// Per gateway agent id.
    public var agents: [String: Figures]
    /// The sum over the agents.
    public var run: Figures

    /// Creates totals.
    public init(agents: [String: Figures], run: Figures) {
        self.agents = agents
        self.run = run
    }

    /// The totals of what `reach` read from the recording (the summary's figures).
    public init(_ reach: ModelReach) {
        var agents: [String: Figures] = [:]
        var run = Figures()
        for agent in reach.gateway {
            let figures = Figures(exchanges: agent.exchanges, inputTokens: agent.usage.input, outputTokens: agent.usage.output,
                                  cachedTokens: agent.usage.cached, costUSD: agent.costUSD, unpriced: agent.unpriced, refused: agent.refused)
            agents[agent.agent] = figures
            run.exchanges += figures.exchanges
            run.refused += figures.refused
            run.inputTokens += figures.inputTokens
            run.outputTokens += figures.outputTokens
            run.cachedTokens += figures.cachedTokens
            run.costUSD += figures.costUSD
            run.unpriced += figures.unpriced
        }
        self.init(agents: agents, run: run)
    }

    /// Reads the run's recording and writes its totals into `run.json` (atomically); nothing for a
    /// run without gateway agents.
    /// - Throws: `RunStoreError` when the run cannot be read or `run.json` cannot be written.
    static func write(into store: RunStore) throws {
        let record = try RunRecord(folder: store.folder)
        guard let reach = ModelReach(record), !reach.gateway.isEmpty else { return }
        var manifest = try store.manifest()
        manifest.modelTotals = ModelTotals(reach)
        try store.write(manifest)
    }
}
