import Foundation
import Testing
@testable import Runner

private struct Event: Codable, Equatable {
    var episode: String
    var step: Int
}

/// A fresh folder for one test's log (`temporaryFolder`, Support.swift); the test removes it.
private struct LogFolder {
    let url: URL
    init() throws { url = try temporaryFolder("eventlog") }
    var logPath: String { url.appendingPathComponent("events.jsonl").path }
    func remove() { try? FileManager.default.removeItem(at: url) }
}

@Suite struct EventLogTests {
    @Test func appendedEventsReadBackInOrder() throws {
        let folder = try LogFolder()
        defer { folder.remove() }
        let path = folder.logPath
        let log = try EventLog(path: path)
        #expect(log.openReport == .init(lines: 0, repairedBytes: 0))
        try log.append(Event(episode: "e1", step: 1))
        try log.append(Event(episode: "e1", step: 2))
        #expect(try EventLog.read(Event.self, from: path) == [Event(episode: "e1", step: 1), Event(episode: "e1", step: 2)])
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == "{\"episode\":\"e1\",\"step\":1}\n{\"episode\":\"e1\",\"step\":2}\n")
    }

    @Test func tornLastLineIsCutOffOnOpenAndIgnoredOnRead() throws {
        let folder = try LogFolder()
        defer { folder.remove() }
        let path = folder.logPath
        try log(path).append(Event(episode: "e1", step: 1))
        // A crash in the middle of the second write leaves half a line.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data("{\"episode\":\"e1\",\"st".utf8))
        handle.closeFile()
        #expect(try EventLog.read(Event.self, from: path) == [Event(episode: "e1", step: 1)])

        let reopened = try EventLog(path: path)
        #expect(reopened.openReport == .init(lines: 1, repairedBytes: 19))
        try reopened.append(Event(episode: "e1", step: 2))
        #expect(try EventLog.read(Event.self, from: path) == [Event(episode: "e1", step: 1), Event(episode: "e1", step: 2)])
    }

    @Test func aCompleteButUnterminatedLastLineIsAlsoCut() throws {
        let folder = try LogFolder()
        defer { folder.remove() }
        let path = folder.logPath
        try Data("{\"episode\":\"a\",\"step\":1}\n{\"episode\":\"a\",\"step\":2}".utf8).write(to: URL(fileURLWithPath: path))
        let reopened = try EventLog(path: path)
        #expect(reopened.openReport.lines == 1)
        #expect(reopened.openReport.repairedBytes == 24)
    }

    @Test func damageBeforeTheLastLineIsCorruptionNamingTheLine() throws {
        let folder = try LogFolder()
        defer { folder.remove() }
        let path = folder.logPath
        try Data("{\"episode\":\"a\",\"step\":1}\nnot json\n{\"episode\":\"a\",\"step\":3}\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: RunStoreError.corrupt(path: path, line: 2, reason: "not a JSON value, and not the last line")) {
            _ = try EventLog(path: path)
        }
    }

    @Test func missingLogIsAClearError() throws {
        let folder = try LogFolder()
        defer { folder.remove() }
        let path = folder.logPath + ".absent"
        let error = #expect(throws: RunStoreError.self) { _ = try EventLog.read(Event.self, from: path) }
        #expect(error?.description.hasPrefix("\(path): the file is missing; ") == true)
        #expect(error?.description.contains("driftbox check") == true)
    }

    private func log(_ path: String) throws -> EventLog { try EventLog(path: path) }
}
