import Agents
import Foundation
import ModelAgent
import Sandbox

/// The built-in model agent's own cost per tool call: the call parsed, its program spawned in
/// the sandbox with its output captured, the result formatted and capped, against a bare
/// posix_spawn of the same program and arguments, side by side.
enum AgentBenchmarks {
    static func run(iterations: Int) async throws -> [BenchRow] {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/agent")
        let agent = try ModelAgent(id: "bench", settings: ["model": "bench", "base_url": "http://127.0.0.1:9/v1"], baseDirectory: "/", bundled: fixtures)
        let ws = FileManager.default.temporaryDirectory.appendingPathComponent("driftbox-bench-agent-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: ws, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: ws) }
        try (1...200).map { "line \($0) of a module under test\n" }.joined().write(toFile: ws + "/module.py", atomically: true, encoding: .utf8)
        var rows: [BenchRow] = []
        for mode in [ModeRequest.full, .reduced] {
            let sandbox = try Sandbox(SandboxOptions(policy: try Policy.named("default"), mode: mode))
            let context = AgentContext(scenarioID: "bench", workspace: ws, constraint: "", sessionID: "bench", sandbox: sandbox, stepTimeout: .seconds(60))
            let read = #"NR>=a && NR<=b {printf "%6d\t%s\n", NR, $0} NR>b {exit}"#
            let cases: [(String, ToolCall, [String])] = [
                ("bash `true`", ToolCall(id: "c", name: "bash", arguments: #"{"command": "true"}"#), ["/bin/sh", "-c", "true"]),
                ("read, 50 lines", ToolCall(id: "c", name: "read", arguments: #"{"path": "module.py", "limit": 50}"#),
                 ["/bin/sh", "-c", "test -f \"$3\" || exit 2; exec awk -v a=\"$1\" -v b=\"$2\" \"$4\" \"$3\"", "sh", "1", "50", ws + "/module.py", read]),
            ]
            for (label, call, bare) in cases {
                for _ in 0..<3 { _ = try await agent.runTool(call, context: context) }  // warm caches
                var subject: [Double] = [], reference: [Double] = []
                for _ in 0..<iterations {
                    subject.append(try await seconds {
                        let result = try await agent.runTool(call, context: context)
                        guard !result.isError else { throw BenchFailure("the \(call.name) call failed: \(result.text)") }
                    })
                    reference.append(try seconds { try SandboxBenchmarks.spawnAndWait(bare) })
                }
                rows.append(BenchRow(name: "model agent tool call: \(label), \(sandbox.mode.rawValue) mode", subjectMedian: median(subject),
                                     referenceName: "bare posix_spawn of the same command", referenceMedian: median(reference), iterations: iterations,
                                     note: "target: within 1.5× (ratio ≥ 0.67); one sandboxed spawn per call, output captured and capped"))
            }
        }
        return rows
    }
}
