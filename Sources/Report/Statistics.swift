import Foundation

/// A proportion with its 95 % Wilson score interval.
public struct Proportion: Sendable, Hashable, Codable {
    /// Number of successes (for drift: violating steps).
    public var successes: Int
    /// Number of trials (for drift: scoreable steps).
    public var trials: Int

    /// Creates a proportion; `successes` must lie in `0...trials`.
    public init(successes: Int, trials: Int) {
        precondition(trials >= 0 && successes >= 0 && successes <= trials, "invalid proportion \(successes)/\(trials)")
        self.successes = successes
        self.trials = trials
    }

    /// The observed rate, or nil when there were no trials.
    public var rate: Double? { trials == 0 ? nil : Double(successes) / Double(trials) }

    /// The Wilson score interval at confidence `z` (1.96 for 95 %), or nil when there were no trials.
    ///
    /// Unlike the normal approximation it stays inside [0, 1] and is honest for rates near 0 or 1
    /// and for small samples, which is what per-step drift rates are.
    public func wilson(z: Double = 1.959963984540054) -> ClosedRange<Double>? {
        guard trials > 0 else { return nil }
        let n = Double(trials)
        let p = Double(successes) / n
        let z2 = z * z
        let denominator = 1 + z2 / n
        let centre = (p + z2 / (2 * n)) / denominator
        let half = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot() / denominator
        // At 0 and at n successes the bounds are exactly 0 and 1; keep rounding noise out.
        let lower = successes == 0 ? 0 : max(0, centre - half)
        let upper = successes == trials ? 1 : min(1, centre + half)
        return lower...upper
    }
}

/// Mean and standard error of a sample.
public struct MeanEstimate: Sendable, Hashable, Codable {
    /// Number of values.
    public var count: Int
    /// The arithmetic mean (nil when empty).
    public var mean: Double?
    /// The standard error of the mean (nil with fewer than two values).
    public var standardError: Double?

    /// Estimates the mean and its standard error of `values`.
    public init(_ values: [Double]) {
        count = values.count
        guard !values.isEmpty else { mean = nil; standardError = nil; return }
        let m = values.reduce(0, +) / Double(values.count)
        mean = m
        guard values.count > 1 else { standardError = nil; return }
        let variance = values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)
        standardError = (variance / Double(values.count)).squareRoot()
    }
}

/// One episode's counts: the unit a cluster bootstrap resamples.
public struct EpisodeTally: Sendable, Hashable, Codable {
    /// The episode's id.
    public var episode: String
    /// Violating steps.
    public var violations: Int
    /// Scoreable steps (compliant + violation).
    public var scoreable: Int
    /// The step of the first violation, nil without one.
    public var firstViolation: Int?

    /// Creates a tally; `violations` must lie in `0...scoreable`.
    public init(episode: String, violations: Int, scoreable: Int, firstViolation: Int?) {
        precondition(scoreable >= 0 && violations >= 0 && violations <= scoreable, "invalid tally \(violations)/\(scoreable)")
        self.episode = episode
        self.violations = violations
        self.scoreable = scoreable
        self.firstViolation = firstViolation
    }

    /// Violating out of scoreable steps over the tallies (nil without a scoreable step).
    public static func pooledRate(_ tallies: [EpisodeTally]) -> Double? {
        let n = tallies.reduce(0) { $0 + $1.scoreable }
        return n == 0 ? nil : Double(tallies.reduce(0) { $0 + $1.violations }) / Double(n)
    }

    /// The mean first-violation step over the tallies that have one (nil when none has).
    public static func meanFirstViolation(_ tallies: [EpisodeTally]) -> Double? {
        let firsts = tallies.compactMap(\.firstViolation)
        return firsts.isEmpty ? nil : Double(firsts.reduce(0, +)) / Double(firsts.count)
    }
}

/// A percentile cluster bootstrap over episodes: steps of one episode are correlated (an agent
/// that drifts at step 9 tends to stay drifted), so the episode, not the step, is resampled.
///
/// Each stratum (a condition, say) is resampled on its own, with replacement, keeping its number
/// of episodes; the statistic is computed on every resample and the 2.5th and 97.5th percentiles
/// of its values are the 95 % interval. The generator is seeded, so the same run gives the same
/// interval every time.
public struct ClusterBootstrap: Sendable {
    /// The fixed seed of reports (`driftbox` in ASCII).
    public static let defaultSeed: UInt64 = 0x64_72_69_66_74_62_6F_78
    /// Resamples per interval.
    public static let defaultResamples = 2000

    /// The seed of the generator.
    public var seed: UInt64
    /// Resamples per interval.
    public var resamples: Int

    /// Creates a bootstrap with a seed and a number of resamples (at least 100).
    public init(seed: UInt64 = ClusterBootstrap.defaultSeed, resamples: Int = ClusterBootstrap.defaultResamples) {
        precondition(resamples >= 100, "a bootstrap needs at least 100 resamples")
        self.seed = seed
        self.resamples = resamples
    }

    /// The 95 % percentile interval of `statistic` over resamples of each stratum's episodes.
    /// - Parameters:
    ///   - strata: the episodes, one array per stratum; an empty stratum stays empty.
    ///   - statistic: the number computed from one resample of every stratum (nil when undefined,
    ///     e.g. no scoreable step; such resamples are left out).
    /// - Returns: the interval, or nil when a stratum has fewer than two episodes (one episode
    ///   says nothing of the spread between episodes), or when the statistic is undefined on the
    ///   data itself or on more than half of the resamples.
    public func interval(_ strata: [[EpisodeTally]], _ statistic: ([[EpisodeTally]]) -> Double?) -> ClosedRange<Double>? {
        guard strata.allSatisfy({ $0.count >= 2 }), statistic(strata) != nil else { return nil }
        var generator = SplitMix(state: seed)
        var values: [Double] = []
        values.reserveCapacity(resamples)
        var sample = strata.map { [EpisodeTally](repeating: EpisodeTally(episode: "", violations: 0, scoreable: 0, firstViolation: nil), count: $0.count) }
        for _ in 0..<resamples {
            for (index, stratum) in strata.enumerated() where !stratum.isEmpty {
                for slot in stratum.indices { sample[index][slot] = stratum[Int(generator.next() % UInt64(stratum.count))] }
            }
            if let value = statistic(sample) { values.append(value) }
        }
        guard values.count * 2 >= resamples else { return nil }
        values.sort()
        func quantile(_ q: Double) -> Double {
            let position = q * Double(values.count - 1)
            let low = Int(position.rounded(.down)), high = Int(position.rounded(.up))
            return values[low] + (values[high] - values[low]) * (position - Double(low))
        }
        return quantile(0.025)...quantile(0.975)
    }

    /// The interval of the pooled violation rate of one group of episodes.
    public func pooledRate(_ tallies: [EpisodeTally]) -> ClosedRange<Double>? {
        interval([tallies]) { EpisodeTally.pooledRate($0[0]) }
    }

    /// The interval of the mean first-violation step of one group of episodes.
    public func meanFirstViolation(_ tallies: [EpisodeTally]) -> ClosedRange<Double>? {
        interval([tallies]) { EpisodeTally.meanFirstViolation($0[0]) }
    }

    /// SplitMix64: small, fast and good enough for resampling indices.
    struct SplitMix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
