import ArgumentParser

/// The driftbox command line: parse, call a library, print.
@main
struct Driftbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "driftbox",
        abstract: "Sandboxed agent workspace runner for goal-drift experiments on coding agents.",
        subcommands: [
            RunCommand.self, ResumeCommand.self, ReplayCommand.self, AuditCommand.self, RescoreCommand.self, ReportCommand.self,
            FixturesCommand.self, SandboxCommand.self, ScenariosCommand.self, CheckCommand.self,
        ]
    )
}
