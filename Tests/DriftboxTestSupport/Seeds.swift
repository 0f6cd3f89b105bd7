import Foundation
import Testing

/// A seed for a test's randomness: `DRIFTBOX_TEST_SEED` when set (to replay a failing schedule),
/// otherwise a fresh one. ``comment`` says how to replay it; put it in every expectation's
/// message so a failure prints it.
public struct TestSeed: Sendable, CustomStringConvertible {
    /// The name of the environment variable that fixes the seed.
    public static let variable = "DRIFTBOX_TEST_SEED"

    /// The seed.
    public let value: UInt64

    /// The seed from `DRIFTBOX_TEST_SEED` (decimal or 0x-hexadecimal), or a fresh random one.
    /// - Throws: ``TestSupportError`` when the variable is set but is not a number.
    public init() throws {
        if let text = ProcessInfo.processInfo.environment[Self.variable], !text.isEmpty {
            let parsed = text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
            guard let parsed else { throw TestSupportError("\(Self.variable) is not a number", at: text, "give a decimal or 0x-hexadecimal seed") }
            value = parsed
        } else {
            value = UInt64.random(in: 0...UInt64.max)
        }
    }

    /// A fixed seed (tests whose cases are pinned).
    public init(_ value: UInt64) { self.value = value }

    /// `DRIFTBOX_TEST_SEED` when set, otherwise `value`: tests whose usual cases are pinned but
    /// can be run over other draws.
    /// - Throws: ``TestSupportError`` when the variable is set but is not a number.
    public init(default value: UInt64) throws {
        if ProcessInfo.processInfo.environment[Self.variable].map({ !$0.isEmpty }) == true { try self.init() } else { self.init(value) }
    }

    /// A generator drawing from this seed.
    public var generator: SeededRandom { SeededRandom(seed: value) }

    /// `seed N (replay with DRIFTBOX_TEST_SEED=N)`.
    public var description: String { "seed \(value) (replay with \(Self.variable)=\(value))" }

    /// ``description`` as a Swift Testing comment.
    public var comment: Comment { Comment(rawValue: description) }
}

/// SplitMix64: the one seeded generator of the tests.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator starting from `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E4B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
