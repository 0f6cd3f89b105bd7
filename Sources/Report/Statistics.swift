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
