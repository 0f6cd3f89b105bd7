import Foundation
import Testing
@testable import Sandbox

@Suite("Sandbox basics", .serialized, .timeLimit(.minutes(2)))
struct SandboxBasicsTests {
    @Test("a shell command runs with a scrubbed environment", arguments: Sandboxes.available)
    func shellRuns(mode: SandboxMode) async throws {
        let ws = try workspace()
        defer { ws.cleanup() }
        let result = try await Sandboxes.get(mode).run(SandboxCommand("/bin/sh", ["-c", "echo hello; pwd; env | sort | cut -d= -f1 | tr '\\n' ' '; exit 3"], workspace: ws.path))
        #expect(result.termination == .exited(3))
        #expect(result.mode == mode)
        let lines = result.stdout.text.split(separator: "\n")
        #expect(lines.first == "hello")
        #expect(lines.dropFirst().first.map(String.init) == realPath(ws.path))
        #expect(lines.last == "HOME LANG PATH PWD TMPDIR ")
        #expect(result.landlockABI > 0)
    }
}
