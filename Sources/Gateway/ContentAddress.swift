import Crypto

/// SHA-256, the content address of recorded exchanges (`sha256sum` prints the same digest).
enum ContentAddress {
    /// The SHA-256 of `bytes` as 64 lowercase hex digits (swift-crypto's digest).
    static func hex<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        SHA256.hash(data: Array(bytes)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
