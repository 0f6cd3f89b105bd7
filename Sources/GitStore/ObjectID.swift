import CGit2

/// A git object id (SHA-1), as a plain value.
public struct ObjectID: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    /// The 20 raw bytes of the id.
    public let bytes: [UInt8]

    /// Parses a full 40-digit hexadecimal id (either case); nil when `hex` is not one.
    /// - Parameter hex: the id in hexadecimal.
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 40 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(20)
        for i in stride(from: 0, to: 40, by: 2) {
            guard let high = Self.nibble(digits[i]), let low = Self.nibble(digits[i + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        self.bytes = bytes
    }

    init(_ oid: git_oid) {
        bytes = withUnsafeBytes(of: oid.id) { Array($0) }
    }

    /// The id as libgit2 wants it.
    var oid: git_oid {
        var oid = git_oid()
        withUnsafeMutableBytes(of: &oid.id) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
        }
        return oid
    }

    /// The id in lowercase hexadecimal (40 digits).
    public var description: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(40)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The first `length` hexadecimal digits of the id.
    /// - Parameter length: how many digits (7 is git's usual minimum).
    public func abbreviated(_ length: Int = 7) -> String { String(description.prefix(length)) }

    /// Orders ids by their bytes.
    public static func < (lhs: ObjectID, rhs: ObjectID) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }

    /// Decodes an id from its hexadecimal string.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = ObjectID(hex: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not a 40-digit hexadecimal object id"))
        }
        self = id
    }

    /// Encodes the id as its hexadecimal string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
