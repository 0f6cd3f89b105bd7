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
            abstract: "Build every folder of Fixtures/repos into a deterministic repository and print its commit id.")

        @Option(help: "The folder holding one folder per fixture (default: Fixtures/repos of the enclosing package).")
        var fixtures: String?

        @Option(help: "Where the bare repositories go (default: .build/fixtures in the current directory).")
        var out: String?

        func run() throws {
            do {
                let source = try fixtures ?? Fixture.repositoriesFolder(searchingUpFrom: FileManager.default.currentDirectoryPath)
                let output = out ?? FileManager.default.currentDirectoryPath + "/.build/fixtures"
                let built = try Fixture.buildAll(fixtures: source, into: output)
                let width = built.map(\.name.count).max() ?? 0
                for fixture in built {
                    print(fixture.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + fixture.commit.description)
                }
            } catch let error as GitError {
                FileHandle.standardError.write(Data("driftbox fixtures build: \(error)\n".utf8))
                throw ExitCode.failure
            }
        }
    }
}
