import Foundation
import Testing
@testable import GitStore

/// Exit tests: the body runs in a fresh child process, where changing `HOME` touches no other test.
@Suite("Configuration isolation", .timeLimit(.minutes(2)))
struct IsolationTests {
    @Test("a user's ~/.gitconfig never reaches libgit2")
    func userConfigIgnored() async {
        await #expect(processExitsWith: .success) {
            let home = FileManager.default.temporaryDirectory.appendingPathComponent("driftbox-home-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: home) }
            try FileManager.default.createDirectory(atPath: home + "/.config/git", withIntermediateDirectories: true)
            try "[user]\n\tname = Someone Else\n[diff]\n\trenames = false\n".write(toFile: home + "/.gitconfig", atomically: true, encoding: .utf8)
            try "[core]\n\tabbrev = 12\n".write(toFile: home + "/.config/git/config", atomically: true, encoding: .utf8)
            setenv("HOME", home, 1)
            setenv("XDG_CONFIG_HOME", home + "/.config", 1)
            _ = try Fixture.build(source: tinyFixture, into: home + "/f.git")
            let workspace = try Workspace.create(from: home + "/f.git", at: home + "/ws")
            let repository = workspace.repository
            guard try repository.config("user.name") == nil, try repository.config("core.abbrev") == nil,
                  try repository.config("core.logallrefupdates") == "false" else { exit(EXIT_FAILURE) }
        }
    }
}
