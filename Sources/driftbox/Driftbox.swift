import ArgumentParser
import Foundation

/// The driftbox command line: parse, call a library, print.
@main
struct Driftbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "driftbox",
        abstract: "Sandboxed agent workspace runner for goal-drift experiments on coding agents.",
        discussion: """
            Exit status: 0 done; 2 `run` or `resume` finished and an episode of the run failed; 4 `merge` finished and the \
            merged run is incomplete; 1 any other error \
            (including a mistyped command line). `sandbox exec` exits with the command's own status, or 125 when \
            driftbox itself failed.
            """,
        subcommands: [
            RunCommand.self, ResumeCommand.self, ReplayCommand.self, AuditCommand.self, RescoreCommand.self, ReportCommand.self, ExportCommand.self,
            FixturesCommand.self, SandboxCommand.self, ScenariosCommand.self, CheckCommand.self,
            JudgeCommand.self, MergeCommand.self, ClusterCommand.self,
        ]
    )

    /// Parses and runs a command; every error leaves through ``failing(_:status:_:)`` or here,
    /// with the statuses of ``ExitStatus``.
    static func main() async {
        Resources.configure()
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch {
            // Help and version requests print and exit 0; anything else is a command-line error.
            guard exitCode(for: error) != .success else { Self.exit(withError: error) }
            var text = fullMessage(for: error)
            if let suggestion = ValueSuggestion.suggestion(for: Array(CommandLine.arguments.dropFirst())) {
                // Right after the first line (the error), before the usage lines.
                var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                lines.insert(suggestion, at: min(1, lines.count))
                text = lines.joined(separator: "\n")
            }
            printError(text)
            Foundation.exit(ExitStatus.error)
        }
    }
}
