import Crypto
import Foundation

/// SHA-256 of bytes, as lowercase hex: the content hashes of a run's manifest.
///
/// `sha256sum FILE` prints the same value for a file's bytes. The digest is swift-crypto's.
public enum ContentHash {
    /// The SHA-256 of `bytes` as 64 lowercase hex digits.
    /// - Parameter bytes: the content.
    /// - Returns: the digest in hex.
    public static func sha256<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        SHA256.hash(data: Array(bytes)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// The SHA-256 of a file's bytes.
    /// - Parameter path: the file.
    /// - Returns: the digest in hex.
    /// - Throws: `RunStoreError.missing` when the file cannot be read.
    public static func sha256(file path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw RunStoreError.missing(path: path, what: "readable file") }
        return sha256(data)
    }
}
