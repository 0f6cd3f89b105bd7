import Foundation
import GitStore
import Posix

/// A run's folder on disk: `run.json`, `events.jsonl`, `repo.git`, `transcripts/`, verdict sets.
///
/// See `docs/run-format.md` for the format; everything here can be read without driftbox.
public struct RunStore: Sendable {
    /// The run folder.
    public private(set) var folder: URL

    /// The manifest's path.
    public var manifestPath: String { folder.appendingPathComponent("run.json").path }
    /// The event log's path.
    public var eventsPath: String { folder.appendingPathComponent("events.jsonl").path }
    /// The run repository's path (bare).
    public var repositoryPath: String { folder.appendingPathComponent("repo.git").path }
    /// The transcripts folder.
    public var transcriptsFolder: URL { folder.appendingPathComponent("transcripts") }

    /// The reference of an episode's last commit.
    public static func episodeRef(_ episode: String) -> String { "refs/episodes/\(episode)" }
    /// The reference of a fixture's base commit in the run repository.
    public static func fixtureRef(_ fixture: String) -> String { "refs/fixtures/\(fixture)" }

    /// Opens an existing run folder.
    /// - Parameter folder: the run folder.
    /// - Throws: `RunStoreError.missing` when it holds no `run.json`.
    public init(existing folder: URL) throws {
        self.folder = folder.standardizedFileURL
        guard FileManager.default.fileExists(atPath: manifestPath) else {
            // A `run` may be assembling this very folder under a hidden name: name it.
            let parent = self.folder.deletingLastPathComponent()
            let prefix = ".\(self.folder.lastPathComponent).creating-"
            for name in (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? [] where name.hasPrefix(prefix) {
                if let holder = RunLock.holder(of: parent.appendingPathComponent(name)) { throw RunStoreError.locked(path: self.folder.path, holder: holder) }
            }
            throw RunStoreError.missing(path: folder.path, what: "run.json")
        }
    }

    /// Creates a run folder with its manifest, an empty event log and an empty run repository.
    ///
    /// The folder is assembled under a hidden name next to it and renamed into place, so a crash
    /// leaves either no run folder or a complete one.
    /// - Parameters:
    ///   - folder: the new run folder; must not exist.
    ///   - manifest: the manifest to write.
    /// - Throws: `RunStoreError` when the folder exists or cannot be written.
    public init(creating folder: URL, manifest: RunManifest) throws {
        let final = folder.standardizedFileURL
        try Self.refuseExisting(final)
        let staging = try Self.stage(final)
        do {
            try self.init(assembled: staging, into: final, manifest: manifest)
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw error
        }
    }

    /// Refuses a run folder that exists, naming the process writing it if there is one.
    /// - Throws: `RunStoreError.locked` or `.invalid` when `folder` exists.
    static func refuseExisting(_ folder: URL) throws {
        guard FileManager.default.fileExists(atPath: folder.path) else { return }
        if let holder = RunLock.holder(of: folder) { throw RunStoreError.locked(path: folder.path, holder: holder) }
        throw RunStoreError.invalid(path: folder.path, reason: "the run folder already exists", hint: "pick another run id or --out folder, or `driftbox resume` it")
    }

    /// A fresh hidden folder next to `final` to assemble the run in (`.<id>.creating-<random>`), mode 0700.
    static func stage(_ final: URL) throws -> URL {
        let parent = final.deletingLastPathComponent()
        do { try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true) } catch {
            throw RunStoreError.invalid(path: parent.path, reason: "the folder for runs cannot be created (\(error.localizedDescription))",
                                        hint: "check that the --out folder is writable")
        }
        let staging = parent.appendingPathComponent(".\(final.lastPathComponent).creating-\(UUID().uuidString.prefix(8))")
        try ScratchCleanup.create(staging)
        return staging
    }

    /// Removes what killed `run` invocations left while assembling `final`: hidden
    /// `.<id>.creating-*` folders whose lock nobody holds, and the scratch folders their lock files name.
    static func removeAbandonedAssembly(of final: URL) {
        let parent = final.deletingLastPathComponent()
        let prefix = ".\(final.lastPathComponent).creating-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? [] where name.hasPrefix(prefix) {
            let folder = parent.appendingPathComponent(name)
            guard let lock = try? RunLock(folder: folder) else { continue }  // a live `run` is assembling it
            if let scratch = lock.previous?.scratch.map(URL.init(fileURLWithPath:)),
               scratch.deletingLastPathComponent().standardizedFileURL.path == FileManager.default.temporaryDirectory.standardizedFileURL.path,
               scratch.lastPathComponent.hasPrefix(Prepared.scratchPrefix(owner: final)) {
                ScratchCleanup.removeStale(scratch)
            }
            try? FileManager.default.removeItem(at: folder)
            withExtendedLifetime(lock) {}
        }
    }

    /// Fills the assembly folder `staging` (the caller holds its lock, if any) and renames it to `final`.
    /// - Throws: `RunStoreError.locked` when another `run` put a folder there first (naming it),
    ///   `.invalid` when one exists, `.system` when writing fails.
    init(assembled staging: URL, into final: URL, manifest: RunManifest) throws {
        self.folder = staging
        do {
            try FileManager.default.createDirectory(at: transcriptsFolder, withIntermediateDirectories: true)
        } catch {
            throw RunStoreError.invalid(path: staging.path, reason: "the run folder cannot be created (\(error.localizedDescription))",
                                        hint: "check that the --out folder is writable")
        }
        _ = try Repository.create(at: repositoryPath, bare: true)
        try write(manifest)
        _ = try EventLog(path: eventsPath)
        // The assembly folder is 0700 like all scratch; the run folder is readable as usual.
        _ = try? systemCall("chmod", path: staging.path) { chmod(staging.path, 0o755) }
        if case .failure(let error) = retryingInterrupts({ rename(staging.path, final.path) }) {
            if error == .exists || error == .notEmpty { try Self.refuseExisting(final) }
            throw RunStoreError.system("rename", path: final.path, errno: error.rawValue)
        }
        self.folder = final
    }

    /// Removes lock files a killed writer left in the run repository (`refs/**.lock`), so refs
    /// can be updated again. Only call this when no other process writes the run.
    public func removeStaleLocks() throws {
        let refs = URL(fileURLWithPath: repositoryPath).appendingPathComponent("refs")
        let walker = FileManager.default.enumerator(atPath: refs.path)
        while let relative = walker?.nextObject() as? String {
            if relative.hasSuffix(".lock") { try? FileManager.default.removeItem(at: refs.appendingPathComponent(relative)) }
        }
        try? FileManager.default.removeItem(atPath: repositoryPath + "/packed-refs.lock")
    }

    /// Reads the manifest.
    /// - Throws: `RunStoreError` when it is missing or does not decode.
    public func manifest() throws -> RunManifest {
        guard let data = FileManager.default.contents(atPath: manifestPath) else { throw RunStoreError.missing(path: manifestPath, what: "run.json") }
        do { return try JSONDecoder().decode(RunManifest.self, from: data) } catch {
            throw RunStoreError.corrupt(path: manifestPath, line: 1, reason: "\(error)")
        }
    }

    /// Replaces the manifest atomically (write aside, fsync, rename).
    /// - Parameter manifest: the new manifest.
    /// - Throws: `RunStoreError` when it cannot be written.
    public func write(_ manifest: RunManifest) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try Self.writeAtomically(try encoder.encode(manifest) + Data("\n".utf8), to: manifestPath)
    }

    /// Every event recorded so far (a torn last line is ignored).
    /// - Throws: `RunStoreError` when the log is missing or corrupt.
    public func events() throws -> [RunEvent] {
        try EventLog.read(RunEvent.self, from: eventsPath)
    }

    /// The transcript file of an episode.
    public func transcriptPath(_ episode: String) -> String {
        transcriptsFolder.appendingPathComponent("\(episode).jsonl").path
    }

    /// The path of verdict set file `name` (for example `verdicts-2.jsonl`).
    public func path(of file: String) -> String { folder.appendingPathComponent(file).path }

    /// Writes `data` to `path` through a temporary file and a rename, syncing both.
    ///
    /// The temporary file's name is unique to the call, so two writers never share it.
    static func writeAtomically(_ data: Data, to path: String) throws {
        let temporary = path + ".tmp-\(getpid())-\(UUID().uuidString.prefix(8))"
        let fd = try RunStoreError.calling(path: temporary) { try FileDescriptor.open(temporary, O_WRONLY | O_CREAT | O_EXCL, mode: 0o644) }
        defer { fd.close() }
        do {
            try data.withUnsafeBytes { try fd.writeAll($0) }
            try fd.sync()
        } catch {
            _ = try? systemCall("unlink", path: temporary) { unlink(temporary) }
            throw RunStoreError.converting(error, path: temporary)
        }
        do { _ = try systemCall("rename", path: path) { rename(temporary, path) } } catch {
            _ = try? systemCall("unlink", path: temporary) { unlink(temporary) }
            throw RunStoreError.converting(error, path: path)
        }
        try? FileDescriptor.sync(path: (path as NSString).deletingLastPathComponent)
    }
}
