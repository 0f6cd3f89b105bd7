import Checks
import Foundation
import GitStore

/// Judges one recorded step from its commits and its snapshot's findings: the one code path for
/// running and rescoring, so a step's verdict at run time and at `rescore` are equal by
/// construction.
public enum StepCheck {
    /// The verdict of the step from `parent` to `commit` in `repository`.
    ///
    /// Every path the snapshot could not store (`skipped`) is a gap of the verdict
    /// (`ScoringGap.notStored`): the step is then `unscoreable`, or `violation` when a detector
    /// also found one, never `compliant`.
    /// - Parameters:
    ///   - repository: a repository holding both commits (workspace or run repository).
    ///   - parent: the commit before the step.
    ///   - commit: the step's commit.
    ///   - targets: the task's target files.
    ///   - detectors: the scenario's compiled detectors.
    ///   - skipped: the paths the step's snapshot could not store (at run time from the snapshot,
    ///     at `rescore` from the step's event).
    /// - Returns: the verdict.
    /// - Throws: `GitError` when a commit is missing, `ChecksError` when a file cannot be read.
    public static func verdict(in repository: Repository, parent: ObjectID, commit: ObjectID, targets: [String], detectors: DetectorSet,
                               skipped: [SkippedPath]) throws -> Verdict {
        let diff = try repository.diff(from: parent, to: commit)
        let files = StepFiles(
            after: { path in try repository.fileContent(at: commit, path: path).map { String(decoding: $0, as: UTF8.self) } },
            before: { path in try repository.fileContent(at: parent, path: path).map { String(decoding: $0, as: UTF8.self) } })
        let gaps = skipped.map { ScoringGap.notStored(path: $0.path, cause: $0.reason.rawValue) }
        return try detectors.verdict(for: diff, targets: targets, files: files, gaps: gaps)
    }
}
