import Foundation
import Posix

/// Recorded exchanges in a folder, readable without driftbox:
///
/// ```
/// exchanges/<sha256>.json          one exchange (``Exchange``), named by its content hash
/// episodes/<episode>/<step>.txt    the hashes of that step's exchanges, one a line, in order
/// ```
///
/// Episode names are written as given when they use only `A-Z a-z 0-9 . _ -` (and do not start
/// with a dot), otherwise as `x-` and the hex of their UTF-8 bytes. Writes are atomic (temporary
/// file, rename); ``sync(episode:step:)`` makes a step's exchanges durable.
public final class ExchangeStore: Sendable {
    /// The store's folder.
    public let root: String
    private let lock = NSLock()

    /// Opens (and creates) a store.
    /// - Parameter root: the folder.
    /// - Throws: ``GatewayError`` `.store` when the folder cannot be created.
    public init(root: String) throws(GatewayError) {
        self.root = root
        do {
            try FileManager.default.createDirectory(atPath: root + "/exchanges", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: root + "/episodes", withIntermediateDirectories: true)
        } catch {
            throw GatewayError(.store, "cannot create the exchange store at \(root): \(error.localizedDescription); choose a writable folder")
        }
    }

    /// The folder name of an episode.
    public static func folderName(ofEpisode episode: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        if !episode.isEmpty, !episode.hasPrefix("."), episode.count <= 200, episode.allSatisfy({ allowed.contains($0) }) { return episode }
        return "x-" + episode.utf8.map { String(format: "%02x", $0) }.joined()
    }

    private func episodeFolder(_ episode: String) -> String { root + "/episodes/" + ExchangeStore.folderName(ofEpisode: episode) }
    private func exchangePath(_ hash: String) -> String { root + "/exchanges/" + hash + ".json" }

    /// Writes an exchange and appends its hash to its step's list.
    /// - Parameter exchange: the exchange.
    /// - Returns: its content hash.
    /// - Throws: ``GatewayError`` `.store` when a file cannot be written.
    @discardableResult
    public func append(_ exchange: Exchange) throws(GatewayError) -> String {
        let hash = exchange.contentHash
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        lock.lock()
        defer { lock.unlock() }
        do {
            let path = exchangePath(hash)
            if !FileManager.default.fileExists(atPath: path) {
                let data = try encoder.encode(exchange)
                let temporary = path + ".tmp-\(UUID().uuidString)"
                try data.write(to: URL(fileURLWithPath: temporary))
                try FileManager.default.moveItem(atPath: temporary, toPath: path)
            }
            let folder = episodeFolder(exchange.episode)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let list = folder + "/\(exchange.step).txt"
            if !FileManager.default.fileExists(atPath: list) { _ = FileManager.default.createFile(atPath: list, contents: nil) }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: list))
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: Data((hash + "\n").utf8))
        } catch {
            throw GatewayError(.store, "cannot record exchange \(hash) of episode '\(exchange.episode)' in \(root): \(error.localizedDescription); check the folder's space and permissions")
        }
        return hash
    }

    /// Forgets one step's list (its exchange files stay: other steps may name them), so a step run
    /// again after an interruption lists only the exchanges of its new attempt.
    /// - Throws: ``GatewayError`` `.store` when the list exists but cannot be removed.
    public func resetStep(episode: String, step: Int) throws(GatewayError) {
        let list = episodeFolder(episode) + "/\(step).txt"
        lock.lock()
        defer { lock.unlock() }
        guard FileManager.default.fileExists(atPath: list) else { return }
        do { try FileManager.default.removeItem(atPath: list) } catch {
            throw GatewayError(.store, "cannot remove \(list) before the step runs again: \(error.localizedDescription); check its permissions")
        }
    }

    /// The hashes of one step's exchanges, in order.
    /// - Throws: ``GatewayError`` `.store` when the list exists but cannot be read.
    public func exchanges(episode: String, step: Int) throws(GatewayError) -> [String] {
        let list = episodeFolder(episode) + "/\(step).txt"
        guard FileManager.default.fileExists(atPath: list) else { return [] }
        guard let text = try? String(contentsOfFile: list, encoding: .utf8) else {
            throw GatewayError(.store, "cannot read \(list); check its permissions")
        }
        return text.split(separator: "\n").map(String.init).filter { $0.count == 64 && $0.allSatisfy(\.isHexDigit) }
    }

    /// The steps of an episode and their exchange hashes, steps in ascending order.
    /// - Throws: ``GatewayError`` `.store` when a list cannot be read.
    public func exchanges(episode: String) throws(GatewayError) -> [(step: Int, hashes: [String])] {
        let folder = episodeFolder(episode)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let steps = names.compactMap { name -> Int? in name.hasSuffix(".txt") ? Int(name.dropLast(4)) : nil }.sorted()
        var result: [(step: Int, hashes: [String])] = []
        for step in steps { result.append((step, try exchanges(episode: episode, step: step))) }
        return result
    }

    /// Reads one exchange.
    /// - Throws: ``GatewayError`` `.store` when it is missing or does not decode.
    public func exchange(_ hash: String) throws(GatewayError) -> Exchange {
        let path = exchangePath(hash)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GatewayError(.store, "the exchange \(hash) is missing: \(path) does not exist; the store is incomplete")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do { return try decoder.decode(Exchange.self, from: data) } catch {
            throw GatewayError(.store, "\(path) is not a valid exchange record: \(error); restore it from the run repository")
        }
    }

    /// Makes one step's exchanges durable: fsyncs each exchange file, the step's list and the
    /// folders that name them. Call before an event names the step.
    /// - Throws: ``GatewayError`` `.store` when a file cannot be synced.
    public func sync(episode: String, step: Int) throws(GatewayError) {
        let folder = episodeFolder(episode)
        var paths = try exchanges(episode: episode, step: step).map(exchangePath)
        let list = folder + "/\(step).txt"
        if FileManager.default.fileExists(atPath: list) { paths.append(list) }
        paths += [root + "/exchanges", folder, root + "/episodes", root]
        for path in paths where FileManager.default.fileExists(atPath: path) {
            do { try FileDescriptor.sync(path: path) } catch {
                throw GatewayError(.store, "cannot sync \(path) to disk (\(error)); the disk may be failing or full")
            }
        }
    }
}
