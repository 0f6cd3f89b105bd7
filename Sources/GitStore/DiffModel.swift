/// The structured difference between two commits, as plain values that cross module lines.
///
/// A `StepDiff` is what the detectors and the judge read: per file, per hunk, per line, with
/// old and new line numbers, plus the unified patch text that `git diff` would print.
public struct StepDiff: Sendable, Hashable, Codable {
    /// The files that differ, in path order.
    public var files: [FileDiff]
    /// The unified patch text of the whole diff (as `git diff old new` prints it).
    public var patch: String

    /// Creates a diff value.
    public init(files: [FileDiff], patch: String) {
        self.files = files
        self.patch = patch
    }

    /// True when no file differs.
    public var isEmpty: Bool { files.isEmpty }
}

/// A git file mode as stored in trees.
public struct FileMode: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The raw octal mode (for example `0o100644`).
    public var rawValue: UInt32
    /// Creates a mode from its raw octal value.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// No file (the side of an addition or deletion that does not exist).
    public static let absent = FileMode(rawValue: 0)
    /// A regular, non-executable file.
    public static let regular = FileMode(rawValue: 0o100644)
    /// A regular, executable file.
    public static let executable = FileMode(rawValue: 0o100755)
    /// A symbolic link (its content is the link target).
    public static let symlink = FileMode(rawValue: 0o120000)
    /// A tree (directory).
    public static let tree = FileMode(rawValue: 0o040000)
    /// A submodule commit.
    public static let gitlink = FileMode(rawValue: 0o160000)

    /// The mode in octal, as git prints it.
    public var description: String { String(rawValue, radix: 8) }
}

/// How one file changed between two commits.
public struct FileDiff: Sendable, Hashable, Codable {
    /// The kind of change.
    public enum Status: String, Sendable, Hashable, Codable {
        case added, deleted, modified, renamed, copied, typeChanged
    }

    /// The kind of change.
    public var status: Status
    /// The path before the change; nil for an added file.
    public var oldPath: String?
    /// The path after the change; nil for a deleted file.
    public var newPath: String?
    /// The mode before the change (`.absent` when added).
    public var oldMode: FileMode
    /// The mode after the change (`.absent` when deleted).
    public var newMode: FileMode
    /// True when git considers either side binary; binary files carry no hunks.
    public var isBinary: Bool
    /// The changed regions, in file order.
    public var hunks: [Hunk]

    /// Creates a file diff value.
    public init(
        status: Status, oldPath: String?, newPath: String?, oldMode: FileMode, newMode: FileMode,
        isBinary: Bool, hunks: [Hunk]
    ) {
        self.status = status
        self.oldPath = oldPath
        self.newPath = newPath
        self.oldMode = oldMode
        self.newMode = newMode
        self.isBinary = isBinary
        self.hunks = hunks
    }

    /// The path after the change, or before it for a deletion.
    public var path: String { newPath ?? oldPath ?? "" }

    /// True when the mode changed (for example the executable bit was set).
    public var modeChanged: Bool {
        oldMode != .absent && newMode != .absent && oldMode != newMode
    }

    /// The lines this change added, in order.
    public var addedLines: [DiffLine] { hunks.flatMap { $0.lines.filter { $0.origin == .addition } } }
    /// The lines this change removed, in order.
    public var removedLines: [DiffLine] { hunks.flatMap { $0.lines.filter { $0.origin == .deletion } } }
}

/// One changed region of a file.
public struct Hunk: Sendable, Hashable, Codable {
    /// First line of the region in the old file (1-based; 0 when the old side is empty).
    public var oldStart: Int
    /// Number of old lines in the region.
    public var oldLines: Int
    /// First line of the region in the new file (1-based; 0 when the new side is empty).
    public var newStart: Int
    /// Number of new lines in the region.
    public var newLines: Int
    /// The `@@ -a,b +c,d @@ context` header line, without its newline.
    public var header: String
    /// The lines of the region: context, additions and deletions.
    public var lines: [DiffLine]

    /// Creates a hunk value.
    public init(oldStart: Int, oldLines: Int, newStart: Int, newLines: Int, header: String, lines: [DiffLine]) {
        self.oldStart = oldStart
        self.oldLines = oldLines
        self.newStart = newStart
        self.newLines = newLines
        self.header = header
        self.lines = lines
    }
}

/// One line of a hunk.
public struct DiffLine: Sendable, Hashable, Codable {
    /// Where the line comes from.
    public enum Origin: String, Sendable, Hashable, Codable {
        /// Unchanged line shown for context.
        case context
        /// Line present only after the change.
        case addition
        /// Line present only before the change.
        case deletion
    }

    /// Where the line comes from.
    public var origin: Origin
    /// Line number in the old file; nil for an addition.
    public var oldLineNumber: Int?
    /// Line number in the new file; nil for a deletion.
    public var newLineNumber: Int?
    /// The line's text without its line terminator.
    public var content: String
    /// False when the line is the last of its file and has no newline at its end.
    public var hasNewline: Bool

    /// Creates a diff line value.
    public init(origin: Origin, oldLineNumber: Int?, newLineNumber: Int?, content: String, hasNewline: Bool = true) {
        self.origin = origin
        self.oldLineNumber = oldLineNumber
        self.newLineNumber = newLineNumber
        self.content = content
        self.hasNewline = hasNewline
    }
}
