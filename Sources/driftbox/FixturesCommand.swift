import ArgumentParser
import Foundation
import GitStore

/// `driftbox fixtures`: work with fixture repositories.
struct FixturesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fixtures", abstract: "Build fixture repositories.", subcommands: [Build.self])

    /// `driftbox fixtures build`: builds every fixture folder into a bare repository.
    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build every folder of Fixtures/repos into a deterministic repository and print its commit id.",
            discussion: """
                A repository already in --out is updated only when it was built by this command; one that moved to \
                another commit (the fixture folder changed) needs --force. Any other repository there is left alone.
                """)

        @Option(help: "The folder holding one folder per fixture (default: the bundled Fixtures/repos).")
        var fixtures: String?

        @Option(help: "Where the bare repositories go (default: .build/fixtures in the current directory).")
        var out: String?

        @Flag(help: "Move refs/heads/main of a fixture repository this command built before, when its fixture changed.")
        var force = false

        func run() throws {
            try failing("fixtures build") {
                let source = try fixtures.map { URL(fileURLWithPath: $0, relativeTo: currentDirectory).standardizedFileURL.path }
                    ?? Resources.catalog().fixtures.appendingPathComponent("repos").path
                let output = URL(fileURLWithPath: out ?? ".build/fixtures", relativeTo: currentDirectory).standardizedFileURL.path
                // Built first in a scratch folder, so every existing repository is checked before any is touched.
                let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("driftbox-fixtures-\(UUID().uuidString)").path
                defer { try? FileManager.default.removeItem(atPath: scratch) }
                let built = try Fixture.buildAll(fixtures: source, into: scratch)
                var plans: [(Fixture.Built, String, Overwrite.FixtureTarget)] = []
                for fixture in built {
                    let repository = output + "/" + fixture.name + ".git"
                    let target = try Overwrite.fixtureTarget(repository, name: fixture.name, commit: fixture.commit)
                    if case .rebuilt(let from) = target, !force {
                        throw CommandError(path: repository, reason: "fixture '\(fixture.name)' changed: its main would move from \(from) to \(fixture.commit)",
                                           hint: "pass --force to move it, or give --out another folder")
                    }
                    plans.append((fixture, repository, target))
                }
                try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
                let width = built.map(\.name.count).max() ?? 0
                for (fixture, repository, target) in plans {
                    if case .unchanged = target {} else {
                        _ = try Fixture.build(source: source + "/" + fixture.name, into: repository)
                    }
                    print(fixture.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + fixture.commit.description)
                }
            }
        }
    }
}
