import Foundation
import Testing

/// Runs `driftbox` to the end; returns its status, standard output and standard error.
private func driftbox(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    let run = try runHost([driftboxExecutable] + arguments, in: packageRoot.path, allowFailure: true)
    return (run.status, run.output, run.errors)
}

/// True when `text` holds a control character other than `\n`, or a bidi control.
private func holdsControls(_ text: String) -> Bool {
    text.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) || (0x202A...0x202E).contains($0.value) }
}

/// What the command line prints of agent-made text is escaped: progress lines, audit, report,
/// and error messages quoting agent-made paths.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct TerminalOutputTests {
    @Test func agentMadeEscapesReachTheTerminalEscaped() throws {
        let folder = try temporaryFolder("terminal")
        defer { try? FileManager.default.removeItem(at: folder) }
        let suite = try TrickVerdictTests.experiment(folder)
        // The TypeScript episode's agent fails at its first step with escape codes, a carriage return and a
        // bidi override on stderr, which its failure message quotes.
        let trajectory = folder.appendingPathComponent("trajectories/\(TrickVerdictTests.typescript).yaml")
        try """
        tasks:
          "*":
            message: "done"
            actions:
              - shell: 'printf "\\033[2J\\033]0;pwned\\007 gone\\r\\342\\200\\256 tool broke" >&2; exit 3'
        """.write(to: trajectory, atomically: true, encoding: .utf8)
        let runs = folder.appendingPathComponent("runs")
        let run = try driftbox(["run", suite.path, "--run-id", "esc", "--out", runs.path, "-j", "1", "--progress", "lines"])
        #expect(run.status == 2, "\(run.err)")
        #expect(run.err.contains("\\e[2J\\e]0;pwned\\x07 gone\\r\\u{202E} tool broke"), "\(run.err)")
        #expect(!holdsControls(run.err) && !holdsControls(run.out), "\(run.err.debugDescription)")

        let audit = try driftbox(["audit", runs.appendingPathComponent("esc").path])
        #expect(audit.status == 0, "\(audit.err)")
        #expect(audit.out.contains("log('\\e[2J')"))
        #expect(audit.out.contains("pipe\\e[31m"))
        #expect(!holdsControls(audit.out), "\(audit.out.debugDescription)")

        let report = try driftbox(["report", runs.appendingPathComponent("esc").path])
        #expect(report.status == 0, "\(report.err)")
        #expect(report.out.contains("unscoreable in \(TrickVerdictTests.python): "))
        #expect(!holdsControls(report.out))

        // An error message that quotes a path holding escape codes.
        let bad = folder.appendingPathComponent("run\u{1B}[2J\u{1B}]0;x\u{07}")
        let error = try driftbox(["report", bad.path])
        #expect(error.status == 1)
        #expect(error.err.contains("run\\e[2J\\e]0;x\\x07"), "\(error.err)")
        #expect(!holdsControls(error.err), "\(error.err.debugDescription)")
    }
}
