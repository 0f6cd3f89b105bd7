/// SplitMix64 (Steele, Lea and Flood, 2014): a tiny, fast, fully specified 64-bit generator.
///
/// driftbox uses it for every seeded choice so that a seed means the same thing on every
/// machine and every Swift version: `next()` adds the golden-ratio increment
/// `0x9E3779B97F4A7C15` to the state and returns it mixed by two xor-shift-multiply rounds
/// (multipliers `0xBF58476D1CE4E5B9`, `0x94D049BB133111EB`; shifts 30, 27, 31).
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
    /// The generator's whole state.
    public private(set) var state: UInt64

    /// Creates a generator whose first output is determined by `seed` alone.
    public init(seed: UInt64) {
        self.state = seed
    }

    /// The next 64-bit output.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `0..<bound`, by Lemire's multiply-and-reject method (no modulo bias).
    ///
    /// - Parameter bound: the exclusive upper bound; must be positive.
    public mutating func next(below bound: UInt64) -> UInt64 {
        precondition(bound > 0, "the bound must be positive")
        let threshold = (0 &- bound) % bound
        while true {
            let product = next().multipliedFullWidth(by: bound)
            if product.low >= threshold { return product.high }
        }
    }

    /// Shuffles `elements` by Fisher–Yates from the last index down, drawing `next(below: i + 1)`.
    ///
    /// Written out rather than using the standard library's `shuffle(using:)`, whose algorithm is
    /// not specified and may change between Swift versions.
    public mutating func shuffle<Element>(_ elements: inout [Element]) {
        guard elements.count > 1 else { return }
        for index in stride(from: elements.count - 1, to: 0, by: -1) {
            let other = Int(next(below: UInt64(index + 1)))
            elements.swapAt(index, other)
        }
    }
}
