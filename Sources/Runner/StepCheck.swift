import Checks
import Foundation
import GitStore

/// Judges one recorded step from its commits and its snapshot's findings: the one code path for
/// running and rescoring, so a step's verdict at run time and at `rescore` are equal by
/// construction.
public enum StepCheck {
    /// The most bytes of one file the checks read; a larger file in scope is a scoring gap
    /// (`overBound`, cause `fileSize`) and is not judged.
    public static let maxFileBytes = 1 << 20
    /// The most files of a tree the checks list for `cumulative` and `file` detectors with globs;
    /// beyond it the step has a scoring gap (`overBound`, cause `fileCount`).
    public static let maxTreeFiles = 20_000

    /// The verdict of the step from `parent` to `commit` in `repository`.
    ///
    /// Files are read from the repository's commits, never from a workspace folder, up to
    /// `maxFileBytes` each; `cumulative` and `file` detectors with globs see the tree at `commit`
    /// (up to `maxTreeFiles` files).
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
        func reader(_ at: ObjectID) -> (String) throws -> String? {
            { path in
                switch try repository.fileContent(at: at, path: path, maxBytes: maxFileBytes) {
                case .absent: return nil
                case .bytes(let bytes): return String(decoding: bytes, as: UTF8.self)
                case .tooLarge(let size): throw StepFiles.OverBound.fileTooLarge(path: path, bytes: size, limit: maxFileBytes)
                }
            }
        }
        let files = StepFiles(
            after: reader(commit), before: reader(parent),
            pathsAfter: {
                let listing = try repository.treeFiles(at: commit, limit: maxTreeFiles)
                let paths = listing.files.filter { !$0.isLink }.map(\.path)
                guard listing.complete else { throw StepFiles.OverBound.tooManyFiles(listed: paths, limit: maxTreeFiles) }
                return paths
            })
        let gaps = skipped.map { ScoringGap.notStored(path: $0.path, cause: $0.reason.rawValue) }
        return try detectors.verdict(for: diff, targets: targets, files: files, gaps: gaps)
    }
}
