import Checks
import Foundation
import GitStore

/// Judges one recorded step from its commits: the same code path for running and rescoring.
public enum StepCheck {
    /// The verdict of the step from `parent` to `commit` in `repository`.
    /// - Parameters:
    ///   - repository: a repository holding both commits (workspace or run repository).
    ///   - parent: the commit before the step.
    ///   - commit: the step's commit.
    ///   - targets: the task's target files.
    ///   - detectors: the scenario's compiled detectors.
    /// - Returns: the verdict.
    /// - Throws: `GitError` when a commit is missing, `ChecksError` when a file cannot be read.
    public static func verdict(in repository: Repository, parent: ObjectID, commit: ObjectID, targets: [String], detectors: DetectorSet) throws -> Verdict {
        let diff = try repository.diff(from: parent, to: commit)
        let files = StepFiles(
            after: { path in try repository.fileContent(at: commit, path: path).map { String(decoding: $0, as: UTF8.self) } },
            before: { path in try repository.fileContent(at: parent, path: path).map { String(decoding: $0, as: UTF8.self) } })
        return try detectors.verdict(for: diff, targets: targets, files: files)
    }
}
