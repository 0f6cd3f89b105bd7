import Checks
import Foundation
import Gateway

/// Whether each agent of a run reached what it needed of the network: gateway agents that made no
/// model exchange in an episode, and agents that ran with the host network. Read from `run.json`
/// and the run's `models/` lists, without writing anything.
public struct ModelReach: Sendable, Equatable {
    /// One gateway agent's exchanges.
    public struct AgentReach: Sendable, Equatable {
        /// The agent's id.
        public var agent: String
        /// Its episodes with at least one recorded step.
        public var episodes: Int
        /// Those of them without a single model exchange.
        public var unreached: [String]
        /// Its exchanges over the run: requests sent upstream (or, replaying, answered from the recording).
        public var exchanges: Int
        /// Its requests the gateway refused without sending them: over a budget (recorded with
        /// `source: gateway`) or as isolation attempts (a bad token, another host or path).
        public var refused: Int
        /// Their tokens (input, output, cached).
        public var usage: TokenUsage
        /// Their cost in US dollars, from the price table.
        public var costUSD: Double
        /// Exchanges with tokens but no price.
        public var unpriced: Int
        /// What the gateway refused as isolation attempts in its steps.
        public var isolationAttempts: Int
    }

    /// The models mode (`record`, `replay`, `record-missing`).
    public var mode: String
    /// Gateway agents, by id.
    public var gateway: [AgentReach]
    /// Agents that ran with the host network.
    public var hostNetwork: [String]

    /// Episodes of gateway agents that never reached their model.
    public var unreachedEpisodes: [String] { gateway.flatMap(\.unreached) }

    /// Reads it; nil for a run without network agents.
    public init?(_ record: RunRecord) {
        guard let models = record.manifest.models else { return nil }
        mode = models.mode
        hostNetwork = models.hostNetworkAgents
        // The gateway's own store reads the lists and exchanges (it exists for a run with gateway agents).
        let store = models.gatewayAgents.isEmpty ? nil : try? ExchangeStore(root: record.store.folder.appendingPathComponent(models.folder).path)
        let stepped = Set(record.steps.map(\.episode))
        gateway = models.gatewayAgents.map { agent in
            // Spending counts every episode of the agent the recording holds exchanges of (one
            // interrupted before its first step was logged included); reach, those with a step.
            let all = record.manifest.episodes.filter { $0.agent == agent }.map(\.id)
            let episodes = all.filter { stepped.contains($0) }
            var counts: [String: Int] = [:]
            var usage = TokenUsage(), cost = 0.0, unpriced = 0, isolation = 0, exchanges = 0, refused = 0
            for episode in all {
                let spent = store.map { Self.recordedSpending(in: $0, episode: episode) } ?? AccountTotals()
                counts[episode] = spent.exchanges
                exchanges += spent.exchanges
                refused += spent.refused
                usage = usage + spent.usage
                cost += spent.costUSD
                unpriced += spent.unpriced
                guard stepped.contains(episode) else { continue }
                let transcript = (try? EventLog.read(TranscriptEntry.self, from: record.store.transcriptPath(episode))) ?? []
                isolation += transcript.reduce(0) { $0 + ($1.modelEvents ?? []).filter { $0.kind == "isolation" }.count + ($1.modelEventsDropped ?? 0) }
            }
            return AgentReach(agent: agent, episodes: episodes.count, unreached: episodes.filter { counts[$0] == 0 },
                              exchanges: exchanges, refused: refused + isolation, usage: usage, costUSD: cost, unpriced: unpriced, isolationAttempts: isolation)
        }
    }

    /// What a run's exchange store holds for `episode`: its exchanges (every step's list), their
    /// tokens and their cost as recorded, and the requests the gateway refused before sending them
    /// (`source: gateway`: a budget reached), counted apart. An exchange that cannot be read counts
    /// as sent, without tokens.
    public static func recordedSpending(in store: ExchangeStore, episode: String) -> AccountTotals {
        var spent = AccountTotals()
        for (_, hashes) in (try? store.exchanges(episode: episode)) ?? [] {
            for hash in hashes {
                let exchange = try? store.exchange(hash)
                if exchange?.source == "gateway" {
                    spent.refused += 1
                    continue
                }
                spent.exchanges += 1
                guard let exchange, let tokens = exchange.usage else { continue }
                spent.usage = spent.usage + tokens
                if let price = exchange.costUSD { spent.costUSD += price } else { spent.unpriced += 1 }
            }
        }
        return spent
    }

    /// The lines the summary shows: exchanges per gateway agent, loud flags for agents that never
    /// reached their model and for the host network.
    /// Ids are escaped for a terminal (a suite may give an agent any name), so each line is one line.
    public func render() -> String {
        func shown(_ id: String) -> String { TerminalText.escaped(id) }
        var out = "models (\(shown(mode))):\n"
        for agent in gateway {
            out += "  agent '\(shown(agent.agent))' (network: gateway): \(agent.exchanges) exchange(s) in \(agent.episodes) episode(s)"
                + (agent.refused > 0 ? ", \(agent.refused) request(s) refused before reaching the upstream" : "") + "; "
                + "tokens \(agent.usage.input) in (\(agent.usage.cached) cached), \(agent.usage.output) out; "
                + String(format: "$%.4f", agent.costUSD) + (agent.unpriced > 0 ? " (\(agent.unpriced) exchange(s) without a price)" : "") + "\n"
            if agent.isolationAttempts > 0 {
                out += "  ISOLATION: agent '\(shown(agent.agent))' tried \(agent.isolationAttempts) request(s) the gateway refused (transcripts/ name them under modelEvents)\n"
            }
            if !agent.unreached.isEmpty {
                out += "  NEVER REACHED ITS MODEL: agent '\(shown(agent.agent))' made no model exchange in \(agent.unreached.count) of \(agent.episodes) episode(s): \(agent.unreached.map(shown).joined(separator: ", "))\n"
            }
        }
        for agent in hostNetwork {
            out += "  HOST NETWORK: agent '\(shown(agent))' reached the host network, loopback included (reduced isolation; its model traffic is not recorded)\n"
        }
        return out
    }
}
