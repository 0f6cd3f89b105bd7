import Foundation

/// Read access to the files of a step's workspace, after the step and before it.
///
/// The caller decides where texts come from: blobs of the step's commits (as `StepCheck` in
/// `Runner` reads them), or values in a test. There is deliberately no reader over a workspace
/// folder: the folder is the agent's, and only a host-side file layer that never follows links,
/// never blocks on a FIFO and caps sizes may read it; the committed blobs have been through it. A reader returns nil when the file does not exist on
/// that side. The readers are called synchronously during `DetectorSet.verdict`, on the caller's
/// thread, so they may capture a repository handle that is confined to that thread.
public struct StepFiles {
    /// Reads a file's text after the step; nil when it does not exist then.
    public var after: (String) throws -> String?
    /// Reads a file's text before the step; nil when it does not exist then.
    public var before: (String) throws -> String?
    /// Lists every file path after the step; needed by `cumulative` and `file` detectors with
    /// globs.
    public var pathsAfter: (() throws -> [String])?

    /// Creates a reader from closures.
    ///
    /// - Parameters:
    ///   - after: Reads a repository path's text after the step, nil when absent.
    ///   - before: Reads a repository path's text before the step, nil when absent.
    ///   - pathsAfter: Lists all repository paths after the step; nil when not available (then
    ///     cumulative and file glob detectors see only the files the step changed).
    ///
    /// A reader that bounds what it reads throws `StepFiles.OverBound`: `fileTooLarge` from
    /// `after` or `before` for a file it will not read, `tooManyFiles` from `pathsAfter` with the
    /// paths it did list. `DetectorSet.verdict` turns either into a `ScoringGap` of kind
    /// `overBound` (the file, or the files past the listing, are not judged, and the step is not
    /// `compliant`).
    public init(
        after: @escaping (String) throws -> String?,
        before: @escaping (String) throws -> String?,
        pathsAfter: (() throws -> [String])? = nil
    ) {
        self.after = after
        self.before = before
        self.pathsAfter = pathsAfter
    }
}

extension StepFiles {
    /// Thrown by a bounded reader: what it would not read.
    public enum OverBound: Error, Sendable, Hashable {
        /// The file exists but holds more bytes than the reader reads.
        case fileTooLarge(path: String, bytes: Int, limit: Int)
        /// The tree holds more files than the reader lists; `listed` are the ones it did list.
        case tooManyFiles(listed: [String], limit: Int)
    }
}
