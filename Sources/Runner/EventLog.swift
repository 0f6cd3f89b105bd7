import Foundation
import Posix

/// An append-only log of JSON lines that survives a crash at any moment.
///
/// Every `append` writes one whole line with a single `write` and then `fsync`s the file, so a
/// line that was appended is on disk when `append` returns. A crash in the middle of a write can
/// leave a torn last line (no trailing newline, or bytes that are not JSON): opening the log for
/// appending cuts it off and reports that it did.
public final class EventLog {
    /// The log file's path.
    public let path: String
    private let fd: FileDescriptor

    /// What opening the log found.
    public struct OpenReport: Sendable, Equatable {
        /// Number of complete lines kept.
        public var lines: Int
        /// Bytes of a torn last line that were cut off (0 when the log was whole).
        public var repairedBytes: Int
    }

    /// What opening the log found and repaired.
    public let openReport: OpenReport

    /// Opens (creating if needed) the log at `path` for appending, repairing a torn last line.
    ///
    /// - Throws: `RunStoreError` when the file cannot be opened, read or repaired, or when a line
    ///   other than the last is not valid JSON (the log is then corrupt, not torn).
    public init(path: String) throws {
        self.path = path
        let fd = try RunStoreError.calling(path: path) { try FileDescriptor.open(path, O_RDWR | O_CREAT, mode: 0o644) }
        self.fd = fd
        do {
            let data = try Self.readAll(fd: fd, path: path)
            let (kept, lines) = try Self.validPrefix(of: data, path: path)
            try RunStoreError.calling(path: path) {
                if kept < data.count {
                    try fd.truncate(to: Int64(kept))
                    try fd.sync()
                }
                try fd.seek(to: 0, from: SEEK_END)
            }
            openReport = OpenReport(lines: lines, repairedBytes: data.count - kept)
        } catch {
            fd.close()
            throw error
        }
    }

    deinit { fd.close() }

    /// Appends one value as a JSON line and makes it durable before returning.
    ///
    /// When the line cannot be written whole (disk full, file too large), the file is cut back
    /// to where it was, so a later append never follows a torn line.
    /// - Parameter value: the event; encoded with sorted keys so equal events give equal lines.
    /// - Throws: `RunStoreError` when encoding, writing or syncing fails.
    public func append<Event: Encodable>(_ value: Event) throws {
        var line = try Self.encoder.encode(value)
        line.append(UInt8(ascii: "\n"))
        let start = try RunStoreError.calling(path: path) { try fd.seek(to: 0, from: SEEK_END) }
        do { try write(line) } catch {
            try? fd.truncate(to: start)
            _ = try? fd.seek(to: start)
            throw error
        }
    }

    private func write(_ line: Data) throws {
        try RunStoreError.calling(path: path) {
            try line.withUnsafeBytes { try fd.writeAll($0) }
            try fd.sync()
        }
    }

    /// Reads every complete line of the log at `path` and decodes each as `Event`.
    ///
    /// A torn last line is ignored (it is not an event that happened); a line that does not decode
    /// is an error naming its line number.
    /// - Throws: `RunStoreError` when the file cannot be read or a complete line does not decode.
    public static func read<Event: Decodable>(_ type: Event.Type, from path: String) throws -> [Event] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RunStoreError.invalid(path: path, reason: "the file is missing",
                                        hint: "the run folder is damaged: restore the file from a copy, or start the run again (`driftbox check RUN` lists every problem)")
        }
        let (kept, _) = try validPrefix(of: data, path: path)
        var events: [Event] = []
        var lineNumber = 0
        for line in data.prefix(kept).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast() {
            lineNumber += 1
            do {
                events.append(try JSONDecoder().decode(Event.self, from: Data(line)))
            } catch {
                throw RunStoreError.corrupt(path: path, line: lineNumber, reason: "\(error)")
            }
        }
        return events
    }

    private static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    private static func readAll(fd: FileDescriptor, path: String) throws -> Data {
        try RunStoreError.calling(path: path) {
            try fd.seek(to: 0)
            return Data(try fd.readToEnd(limit: .max))
        }
    }

    /// The length of the longest prefix made of complete JSON lines, and how many lines it holds.
    /// Only the last line may be bad (torn); a bad line before it means corruption.
    private static func validPrefix(of data: Data, path: String) throws -> (Int, Int) {
        var kept = 0
        var lines = 0
        var start = data.startIndex
        while start < data.endIndex {
            guard let newline = data[start...].firstIndex(of: UInt8(ascii: "\n")) else { break }
            let line = data[start..<newline]
            if (try? JSONSerialization.jsonObject(with: Data(line))) == nil {
                let rest = data[(newline + 1)...]
                if rest.contains(where: { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: " ") }) {
                    throw RunStoreError.corrupt(path: path, line: lines + 1, reason: "not a JSON value, and not the last line")
                }
                break
            }
            lines += 1
            kept = newline - data.startIndex + 1
            start = newline + 1
        }
        return (kept, lines)
    }
}
