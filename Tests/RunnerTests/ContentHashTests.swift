import DriftboxTestSupport
import Foundation
import Runner
import Testing

/// The manifest's content hashes are what `sha256sum` prints, for any length around the block
/// boundaries and for a file.
@Suite("Content hashes")
struct ContentHashTests {
    @Test(arguments: [0, 1, 55, 56, 63, 64, 65, 1_000_003])
    func theHashOfBytesIsWhatSha256sumPrints(length: Int) throws {
        var generator = SeededRandom(seed: UInt64(length) &+ 17)
        let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let expected = try runHost(["sha256sum"], input: bytes).output.prefix(64)
        #expect(ContentHash.sha256(bytes) == String(expected))
    }

    @Test func theHashOfAFileIsWhatSha256sumPrints() throws {
        let folder = try temporaryFolder("content-hash")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("suite.yaml").path
        try write("id: x\nsteps: 3\n", to: path)
        let expected = try runHost(["sha256sum", path]).output.prefix(64)
        #expect(try ContentHash.sha256(file: path) == String(expected))
        #expect(throws: RunStoreError.self) { try ContentHash.sha256(file: folder.appendingPathComponent("missing").path) }
    }
}
