import Foundation
import Report
import Testing

/// A seeded generator for the simulations (SplitMix64).
private struct Generator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

/// Correlated episodes: each episode is a "drifter" (violates 75 % of its steps) with probability
/// 0.4, else violates 5 %; the true pooled rate is 0.4 × 0.75 + 0.6 × 0.05 = 0.33.
private func simulate(_ generator: inout Generator, episodes: Int, steps: Int) -> [EpisodeTally] {
    (0..<episodes).map { index in
        let p = generator.uniform() < 0.4 ? 0.75 : 0.05
        var violations = 0, first: Int?
        for step in 1...steps where generator.uniform() < p {
            violations += 1
            if first == nil { first = step }
        }
        return EpisodeTally(episode: "e\(index)", violations: violations, scoreable: steps, firstViolation: first)
    }
}

@Suite struct BootstrapTests {
    /// The pooled rate's interval covers the true rate about 95 % of the time although the steps
    /// of an episode are correlated; a Wilson interval over the steps, treating them as
    /// independent, covers it far less often. Measured: see the message of the first expectation.
    @Test func coverageIsNearNinetyFivePercentForCorrelatedEpisodes() {
        let seed: UInt64 = 20_261_202
        var generator = Generator(state: seed)
        let truth = 0.4 * 0.75 + 0.6 * 0.05
        let simulations = 400
        let bootstrap = ClusterBootstrap(seed: 7, resamples: 400)
        var bootstrapHits = 0, wilsonHits = 0
        for _ in 0..<simulations {
            let tallies = simulate(&generator, episodes: 20, steps: 12)
            if let interval = bootstrap.pooledRate(tallies), interval.contains(truth) { bootstrapHits += 1 }
            let steps = Proportion(successes: tallies.reduce(0) { $0 + $1.violations }, trials: tallies.reduce(0) { $0 + $1.scoreable })
            if let interval = steps.wilson(), interval.contains(truth) { wilsonHits += 1 }
        }
        let coverage = Double(bootstrapHits) / Double(simulations), wilson = Double(wilsonHits) / Double(simulations)
        let message = "seed \(seed): cluster bootstrap covers \(coverage), Wilson over steps \(wilson), in \(simulations) simulations"
        print(message)
        #expect((0.88...0.98).contains(coverage), "\(message)")
        #expect(wilson < 0.8, "\(message)")
    }

    /// The asymmetry's interval, resampling the four conditions' episodes each on its own, also
    /// covers the true difference about 95 % of the time.
    @Test func asymmetryCoverageIsNearNinetyFivePercent() {
        let seed: UInt64 = 1_440
        var generator = Generator(state: seed)
        let simulations = 200
        let bootstrap = ClusterBootstrap(seed: 11, resamples: 400)
        var hits = 0
        // Pressured conditions are correlated drifters (true rate 0.33); baselines violate 5 % of
        // steps independently (true rate 0.05) — the true asymmetry is (0.33 − 0.05) − (0.33 − 0.05) = 0.
        for _ in 0..<simulations {
            let baseline = { (generator: inout Generator) in
                (0..<15).map { index -> EpisodeTally in
                    let violations = (0..<12).filter { _ in generator.uniform() < 0.05 }.count
                    return EpisodeTally(episode: "b\(index)", violations: violations, scoreable: 12, firstViolation: nil)
                }
            }
            let strata = [simulate(&generator, episodes: 15, steps: 12), baseline(&generator), simulate(&generator, episodes: 15, steps: 12), baseline(&generator)]
            let interval = bootstrap.interval(strata) { s in
                guard let r = EpisodeTally.pooledRate(s[0]), let b = EpisodeTally.pooledRate(s[1]),
                      let i = EpisodeTally.pooledRate(s[2]), let ib = EpisodeTally.pooledRate(s[3]) else { return nil }
                return (r - b) - (i - ib)
            }
            if let interval, interval.contains(0) { hits += 1 }
        }
        let coverage = Double(hits) / Double(simulations)
        print("seed \(seed): the asymmetry's bootstrap interval covers 0 in \(coverage) of \(simulations) simulations")
        #expect((0.88...0.99).contains(coverage), "seed \(seed): coverage \(coverage)")
    }

    @Test func theSameDataGiveTheSameIntervalAndASeedChangesIt() throws {
        var generator = Generator(state: 99)
        let tallies = simulate(&generator, episodes: 15, steps: 12)
        let first = try #require(ClusterBootstrap().pooledRate(tallies))
        #expect(ClusterBootstrap().pooledRate(tallies) == first)
        let other = try #require(ClusterBootstrap(seed: 1).pooledRate(tallies))
        #expect(other != first, "seed 99: a different bootstrap seed gave the very same interval")
        let rate = try #require(EpisodeTally.pooledRate(tallies))
        #expect(first.contains(rate))
    }

    @Test func oneEpisodeOrNoScoreableStepGivesNoInterval() {
        let one = [EpisodeTally(episode: "a", violations: 3, scoreable: 12, firstViolation: 2)]
        #expect(ClusterBootstrap().pooledRate(one) == nil)
        #expect(ClusterBootstrap().pooledRate([]) == nil)
        let empty = [EpisodeTally(episode: "a", violations: 0, scoreable: 0, firstViolation: nil),
                     EpisodeTally(episode: "b", violations: 0, scoreable: 0, firstViolation: nil)]
        #expect(ClusterBootstrap().pooledRate(empty) == nil)
        // No episode with a violation: no first-violation step, no interval.
        let clean = [EpisodeTally(episode: "a", violations: 0, scoreable: 12, firstViolation: nil),
                     EpisodeTally(episode: "b", violations: 0, scoreable: 12, firstViolation: nil)]
        #expect(ClusterBootstrap().meanFirstViolation(clean) == nil)
        #expect(ClusterBootstrap().pooledRate(clean) == 0...0)
    }

    @Test func episodesThatAllAgreeGiveAPointAndSpreadEpisodesAWideInterval() throws {
        let same = (0..<10).map { EpisodeTally(episode: "e\($0)", violations: 6, scoreable: 12, firstViolation: 3) }
        #expect(ClusterBootstrap().pooledRate(same) == 0.5...0.5)
        // Half the episodes violate every step, half none: 120 steps at 50 %, but only 10 units.
        let split = (0..<10).map { EpisodeTally(episode: "e\($0)", violations: $0 < 5 ? 12 : 0, scoreable: 12, firstViolation: $0 < 5 ? 1 : nil) }
        let interval = try #require(ClusterBootstrap().pooledRate(split))
        let wilson = try #require(Proportion(successes: 60, trials: 120).wilson())
        #expect(interval.upperBound - interval.lowerBound > 2 * (wilson.upperBound - wilson.lowerBound))
    }
}
