import ArgumentParser
import Foundation
import Scenarios

struct ScenariosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenarios", abstract: "List, show, validate and import scenarios.",
        subcommands: [List.self, Show.self, Validate.self, Import.self])

    static var currentDirectory: URL { URL(fileURLWithPath: FileManager.default.currentDirectoryPath) }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the bundled scenarios: id, value pair, condition, tasks.")

        func run() async throws {
            try failing("scenarios list") { try list() }
        }

        private func list() throws {
            let catalog = try Resources.catalog()
            var rows = [["ID", "PAIR", "CONDITION", "TASKS", "FILE"]]
            for file in catalog.scenarioFiles() {
                let relative = String(file.path.dropFirst(catalog.fixtures.deletingLastPathComponent().path.count + 1))
                switch ScenarioLoader().result(file) {
                case .success(let scenario):
                    rows.append([scenario.id, scenario.valuePair, scenario.condition.rawValue, String(scenario.tasks.count), relative])
                case .failure(let error):
                    let id = Catalog.declaredID(of: file) ?? "?"
                    rows.append([id, "-", "-", "-", "\(relative)  (invalid: \(error.diagnostics.count) problem\(error.diagnostics.count == 1 ? "" : "s"); run validate)"])
                }
            }
            let widths = (0..<4).map { column in rows.map { $0[column].count }.max() ?? 0 }
            for row in rows {
                print((0..<4).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") + "  " + row[4])
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the resolved plan of one episode of a scenario.")

        @Argument(help: "A bundled scenario's id or a scenario file's path.")
        var scenario: String

        @Option(help: "The base seed.")
        var seed: UInt64 = 42

        @Option(help: "The episode index (the episode seed is seed + episode).")
        var episode: Int = 0

        @Flag(help: "Print the plan as JSON.")
        var json = false

        func validate() throws {
            guard episode >= 0 else { throw ValidationError("--episode must be 0 or more") }
        }

        func run() async throws {
            try failing("scenarios show") {
                let directory = ScenariosCommand.currentDirectory
                let file: URL
                if let catalog = try? Resources.catalog() {
                    file = try catalog.scenarioFile(scenario, relativeTo: directory)
                } else {
                    file = URL(fileURLWithPath: scenario, relativeTo: directory)
                }
                let loaded = try ScenarioLoader().load(file)
                let plan = try EpisodePlan.make(scenario: loaded, seed: seed, episodeIndex: episode)
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                    print(String(decoding: try encoder.encode(plan), as: UTF8.self))
                } else {
                    print(plan.summary())
                }
            }
        }
    }

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate scenario and suite files (all bundled ones by default); exits non-zero on any error.")

        @Argument(help: "Scenario or suite files, folders to search for them, or bundled suite names and scenario ids (as `run` takes them); none means every bundled scenario and suite.")
        var paths: [String] = []

        func run() async throws {
            try failing("scenarios validate") { try validateFiles() }
        }

        /// A name that is no file: a bundled suite or scenario, looked up as `driftbox run` does.
        static func bundled(_ name: String) throws -> URL {
            do {
                if let file = try RunCommand.resolve(name) { return file }
            } catch is ScenarioError {}
            let suites = try Resources.catalog().suiteFiles().map { $0.deletingPathExtension().lastPathComponent }
            throw CommandError(path: name, reason: "no such file or folder, and no bundled suite or scenario of that name",
                               hint: "check the path, or name a bundled suite (\(suites.joined(separator: ", "))) or a scenario id from `driftbox scenarios list`")
        }

        private func validateFiles() throws {
            let directory = ScenariosCommand.currentDirectory
            var files: [URL] = []
            for path in paths {
                let url = URL(fileURLWithPath: path, relativeTo: directory).standardizedFileURL
                if Catalog.isFolder(url) {
                    let found = Catalog.yamlFiles(under: url)
                    guard !found.isEmpty else {
                        throw CommandError(path: url.path, reason: "no .yaml or .yml file in this folder", hint: "name a folder holding scenario or suite files, or the files themselves")
                    }
                    files += found
                } else if FileManager.default.fileExists(atPath: url.path) {
                    files.append(url)
                } else {
                    files.append(try Self.bundled(path))
                }
            }
            if paths.isEmpty {
                let catalog = try Resources.catalog()
                files = catalog.scenarioFiles() + catalog.suiteFiles()
            }
            var failures = 0
            for file in files {
                let problems: ScenarioError?
                switch Catalog.role(of: file) {
                case .tasks, .pool:
                    print("skip  \(file.path) (checked with the scenarios that name it)")
                    continue
                case .suite:
                    do { _ = try SuiteLoader(agentCheck: AgentChecks.check).load(file); problems = nil } catch { problems = error }
                default:
                    if case .failure(let error) = ScenarioLoader().result(file) { problems = error } else { problems = nil }
                }
                if let problems {
                    failures += 1
                    printError(problems.description)
                } else {
                    print("ok  \(file.path)")
                }
            }
            let checked = files.filter { ![.tasks, .pool].contains(Catalog.role(of: $0)) }.count
            print("\(checked - failures) of \(checked) files valid")
            if failures > 0 { throw ExitCode(ExitStatus.error) }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert Constraint-Drift experiments as published (an experiment folder, a pair folder or the repository root) into scenarios and suites.")

        @Argument(help: "An experiments/<pair>/<experiment>/ folder, an experiments/<pair>/ folder, or the repository root.")
        var experiment: String

        @Option(help: "The folder to write repos/, scenarios/ and suites/ into (for example Fixtures).")
        var to: String

        @Flag(help: "Replace the scenario, constraint, pressure and suite files when they exist (without it, nothing is replaced).")
        var force = false

        func run() async throws {
            let directory = ScenariosCommand.currentDirectory
            try failing("scenarios import") {
                let report = try ConstraintDriftImporter().importAll(
                    at: URL(fileURLWithPath: experiment, relativeTo: directory),
                    to: URL(fileURLWithPath: to, relativeTo: directory), overwrite: force)
                for warning in report.warnings { printError(warning.description) }
                for output in report.outputs {
                    let scenario = output.scenario
                    print("imported \(scenario.id): \(scenario.condition.rawValue), favours \(scenario.favours ?? "-"), \(scenario.tasks.count) tasks, \(scenario.pool.dynamicBlocks.count) pressure blocks, \(scenario.checks.count) checks, base_seed \(output.suite.baseSeed)")
                    print("  scenario  \(output.scenarioFile.path)")
                    print("  suite     \(output.suiteFile.path)")
                }
                print("\(report.outputs.count) experiment(s) imported, \(report.warnings.count) warning(s)")
            }
        }
    }
}
