import ArgumentParser

struct ScenariosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "scenarios", abstract: "List, show and validate scenarios.")
}
