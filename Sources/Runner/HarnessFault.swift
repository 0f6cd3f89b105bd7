import Foundation
import GitStore

/// A failure of the harness rather than of the agent: the disk is full, the run's scratch folder
/// was removed, or the run repository lacks objects. It stops the run without recording anything
/// permanent for the step at hand, so `resume` retries the step.
struct HarnessFault: Error, CustomStringConvertible {
    /// What happened.
    var reason: String
    /// What to do before `driftbox resume`.
    var fix: String

    var description: String { "\(reason); \(fix)" }

    private static let diskErrors: [Int32] = [ENOSPC, EDQUOT, EFBIG]

    /// The harness fault `error` shows, or nil when it is not one (then it is the agent's or the
    /// episode's own failure).
    /// - Parameters:
    ///   - error: what was thrown.
    ///   - scratch: the invocation's scratch folder.
    ///   - runRepository: the run's `repo.git`.
    ///   - fixtureRepository: the fixture's repository in scratch, if any: an agent cannot reach
    ///     it, so when it is gone the scratch folder is being removed from outside.
    static func classify(_ error: any Error, scratch: URL, runRepository: String, fixtureRepository: String? = nil) -> HarnessFault? {
        ScratchCleanup.parkIfInterrupted()
        if let fault = error as? HarnessFault { return fault }
        if case .harness = error as? RunStoreError { return nil }  // already a located harness error
        let text = "\(error)"
        var code: Int32?
        if case let .system(_, _, captured)? = error as? RunStoreError { code = captured }
        if let git = error as? GitError, git.kind == .fileSystem { code = git.code }
        let diskTexts = diskErrors.map { String(cString: strerror($0)) }
        if code.map(diskErrors.contains) == true || diskTexts.contains(where: text.contains) {
            return HarnessFault(reason: "the disk is full (\(text))",
                                fix: "free space where the run folder and the temporary folder (\(FileManager.default.temporaryDirectory.path)) are")
        }
        if let gone = scratchGone(scratch, fixtureRepository: fixtureRepository, error: text) { return gone }
        if let git = error as? GitError, git.kind == .notFound || git.kind == .libgit2, text.contains(runRepository) {
            return HarnessFault(reason: "the run repository \(runRepository) is missing objects or damaged (\(text))",
                                fix: "restore repo.git from a copy (`driftbox check RUN --deep` lists what is missing)")
        }
        return nil
    }

    /// The fault when the scratch folder (or the fixture repository in it) is gone, else nil.
    static func scratchGone(_ scratch: URL, fixtureRepository: String?, error: String? = nil) -> HarnessFault? {
        ScratchCleanup.parkIfInterrupted()
        let fixtureGone = fixtureRepository.map { !FileManager.default.fileExists(atPath: $0 + "/HEAD") } ?? false
        guard !FileManager.default.fileExists(atPath: scratch.path) || fixtureGone else { return nil }
        return HarnessFault(reason: "the run's scratch folder \(scratch.path) was removed while the run used it\(error.map { " (\($0))" } ?? "")",
                            fix: "leave the temporary folder of a running run alone")
    }
}
