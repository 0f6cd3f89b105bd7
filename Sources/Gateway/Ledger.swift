import Foundation

/// What a total is taken over.
public enum AccountScope: Sendable, Hashable {
    /// Every exchange of the gateway.
    case run
    /// One agent's exchanges.
    case agent(String)
    /// One episode's exchanges.
    case episode(String)
    /// One step of one episode.
    case step(episode: String, step: Int)
}

/// Tokens, cost and counts over a scope.
public struct AccountTotals: Sendable, Equatable {
    /// Tokens.
    public var usage = TokenUsage()
    /// Cost in US dollars of the priced exchanges.
    public var costUSD: Double = 0
    /// Exchanges sent upstream (or, replaying, answered from the recording).
    public var exchanges = 0
    /// Exchanges with tokens but no price (their cost is not in `costUSD`).
    public var unpriced = 0
    /// Exchanges refused because a budget was reached (never sent; not in `exchanges`).
    public var refused = 0

    /// No exchanges yet.
    public init() {}
}

/// Totals per step, episode, agent and run, and the budget check.
actor Ledger {
    private var totals: [AccountScope: AccountTotals] = [:]
    let budget: Budget

    init(budget: Budget) { self.budget = budget }

    func add(episode: String, step: Int, agent: String, usage: TokenUsage?, cost: Double?) {
        for scope in [AccountScope.run, .agent(agent), .episode(episode), .step(episode: episode, step: step)] {
            var current = totals[scope] ?? AccountTotals()
            current.exchanges += 1
            if let usage { current.usage = current.usage + usage }
            if let cost { current.costUSD += cost } else if let usage, usage.input + usage.output > 0 { current.unpriced += 1 }
            totals[scope] = current
        }
    }

    func carry(episode: String, agent: String, spent: AccountTotals) {
        for scope in [AccountScope.run, .agent(agent), .episode(episode)] {
            var current = totals[scope] ?? AccountTotals()
            current.exchanges += spent.exchanges
            current.usage = current.usage + spent.usage
            current.costUSD += spent.costUSD
            current.unpriced += spent.unpriced
            current.refused += spent.refused
            totals[scope] = current
        }
    }

    func refuse(episode: String, step: Int, agent: String) {
        for scope in [AccountScope.run, .agent(agent), .episode(episode), .step(episode: episode, step: step)] {
            var current = totals[scope] ?? AccountTotals()
            current.refused += 1
            totals[scope] = current
        }
    }

    func totals(_ scope: AccountScope) -> AccountTotals { totals[scope] ?? AccountTotals() }

    /// Why a new exchange of `episode` is refused, or nil when it may go ahead.
    func overBudget(episode: String) -> String? {
        if let limit = budget.runUSD, let spent = totals[.run]?.costUSD, spent >= limit {
            return "the run's budget of $\(limit) is spent ($\(rounded(spent)) so far)"
        }
        if let limit = budget.episodeUSD, let spent = totals[.episode(episode)]?.costUSD, spent >= limit {
            return "episode '\(episode)''s budget of $\(limit) is spent ($\(rounded(spent)) so far)"
        }
        return nil
    }

    private func rounded(_ value: Double) -> String { String(format: "%.6f", value) }
}
