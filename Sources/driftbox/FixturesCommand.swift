import ArgumentParser

struct FixturesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fixtures", abstract: "Build fixture repositories.")
}
