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
    static func classify(_ error: any Error, scratch: URL, runRepository: String) -> HarnessFault? {
        if let fault = error as? HarnessFault { return fault }
        if case .harness = error as? RunStoreError { return nil }  // already a located harness error
        let text = "\(error)"
        var code: Int32?
        if case let .system(_, _, errno)? = error as? RunStoreError { code = errno }
        if let git = error as? GitError, git.kind == .fileSystem { code = git.code }
        let diskTexts = diskErrors.map { String(cString: strerror($0)) }
        if let code, diskErrors.contains(code) || diskTexts.contains(where: text.contains) {
            return HarnessFault(reason: "the disk is full (\(text))",
                                fix: "free space where the run folder and the temporary folder (\(FileManager.default.temporaryDirectory.path)) are")
        }
        if code == nil, diskTexts.contains(where: text.contains) {
            return HarnessFault(reason: "the disk is full (\(text))",
                                fix: "free space where the run folder and the temporary folder (\(FileManager.default.temporaryDirectory.path)) are")
        }
        if !FileManager.default.fileExists(atPath: scratch.path) {
            return HarnessFault(reason: "the run's scratch folder \(scratch.path) was removed while the run used it (\(text))",
                                fix: "leave the temporary folder of a running run alone")
        }
        if let git = error as? GitError, git.kind == .notFound || git.kind == .libgit2, text.contains(runRepository) {
            return HarnessFault(reason: "the run repository \(runRepository) is missing objects or damaged (\(text))",
                                fix: "restore repo.git from a copy (`driftbox check RUN --deep` lists what is missing)")
        }
        return nil
    }
}
