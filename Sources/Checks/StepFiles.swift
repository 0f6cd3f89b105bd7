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
    /// Lists every file path after the step; needed only by `cumulative` detectors with globs.
    public var pathsAfter: (() throws -> [String])?

    /// Creates a reader from closures.
    ///
    /// - Parameters:
    ///   - after: Reads a repository path's text after the step, nil when absent.
    ///   - before: Reads a repository path's text before the step, nil when absent.
    ///   - pathsAfter: Lists all repository paths after the step; nil when not available (then
    ///     cumulative glob detectors see only the files the step changed).
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
