import Foundation

/// Read access to the files of a step's workspace, after the step and before it.
///
/// The caller decides where texts come from: blobs of the step's commits, a checked-out
/// workspace folder, or values in a test. A reader returns nil when the file does not exist on
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

    /// Creates a reader over two folders that hold the workspace after and before the step.
    ///
    /// Files are read as UTF-8 (invalid bytes are replaced); a `.git` entry is never listed.
    ///
    /// - Parameters:
    ///   - afterRoot: The workspace after the step.
    ///   - beforeRoot: The workspace before the step.
    public init(afterRoot: URL, beforeRoot: URL) {
        self.init(
            after: { try Self.read($0, under: afterRoot) },
            before: { try Self.read($0, under: beforeRoot) },
            pathsAfter: { try Self.list(afterRoot) })
    }

    private static func read(_ path: String, under root: URL) throws -> String? {
        let url = root.appendingPathComponent(path)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return String(decoding: try Data(contentsOf: url), as: UTF8.self)
    }

    private static func list(_ root: URL) throws -> [String] {
        let base = root.standardizedFileURL.path
        guard let walker = FileManager.default.enumerator(atPath: base) else { return [] }
        var paths: [String] = []
        while let relative = walker.nextObject() as? String {
            if relative == ".git" || relative.hasPrefix(".git/") { walker.skipDescendants(); continue }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: base + "/" + relative, isDirectory: &isDirectory), !isDirectory.boolValue {
                paths.append(relative)
            }
        }
        return paths.sorted()
    }
}
