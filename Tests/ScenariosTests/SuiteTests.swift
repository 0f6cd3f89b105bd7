import Foundation
import Testing

@testable import Scenarios

@Suite("Suites")
struct SuiteTests {
    static let suiteFile = "Fixtures/suites/paper.yaml"
    static let suite = """
        id: paper
        title: Demo matrix
        base_seed: 42
        repetitions: 3
        scenarios:
          - ../scenarios/*/*.yaml
        agents:
          - id: scripted-demo
            kind: scripted
            trajectory: ../trajectories/demo
          - id: cli
            kind: command
            command: my-agent --non-interactive
            timeout_seconds: 600
        """

    /// A workspace with two scenarios (regular and inverted) and the suite above.
    static func workspace() throws -> TestWorkspace {
        let workspace = try TestWorkspace()
        try workspace.write("Fixtures/scenarios/demo/inverted.yaml",
                            TestWorkspace.scenario.replacingOccurrences(of: "demo-regular", with: "demo-inverted")
                                .replacingOccurrences(of: "condition: regular", with: "condition: inverted")
                                .replacingOccurrences(of: "favours: speed", with: "favours: safety"))
        try workspace.write(suiteFile, suite)
        return workspace
    }

    @Test("a suite expands its globs (skipping tasks files), reads agents, and lists episodes deterministically")
    func loadsAndListsEpisodes() throws {
        let workspace = try Self.workspace()
        defer { workspace.remove() }
        let suite = try SuiteLoader().load(workspace.url(Self.suiteFile))
        #expect(suite.scenarios.map(\.id) == ["demo-inverted", "demo-regular"])
        #expect(suite.agents == [
            AgentSpec(id: "scripted-demo", kind: "scripted", settings: ["trajectory": "../trajectories/demo"]),
            AgentSpec(id: "cli", kind: "command", settings: ["command": "my-agent --non-interactive", "timeout_seconds": "600"]),
        ])
        let episodes = suite.episodes()
        #expect(episodes.count == 2 * 2 * 3)
        #expect(episodes.prefix(4).map(\.id) == ["demo-inverted/scripted-demo/0", "demo-inverted/scripted-demo/1", "demo-inverted/scripted-demo/2", "demo-inverted/cli/0"])
        #expect(episodes.map(\.seed) == Array(repeating: [42, 43, 44] as [UInt64], count: 4).flatMap { $0 })
        #expect(Set(episodes.map(\.id)).count == episodes.count)
        let episode = episodes[5]
        let regular = try #require(suite.scenarios.first { $0.id == episode.scenarioID })
        #expect(try suite.plan(for: episode) == EpisodePlan.make(scenario: regular, seed: 42, episodeIndex: 2))
    }

    @Test("suite problems are reported at their place, with the problems of its scenarios")
    func problems() throws {
        let workspace = try Self.workspace()
        defer { workspace.remove() }
        try workspace.replace(Self.suiteFile, "  - ../scenarios/*/*.yaml\n", with: "  - ../scenarios/*/*.yaml\n  - ../scenarios/none/*.yaml\n  - ../scenarios/demo/regular.yaml\n")
        try workspace.replace(Self.suiteFile, "    kind: command\n", with: "")
        try workspace.replace(Self.suiteFile, "repetitions: 3\n", with: "repetitions: 3\nsteps: 5\n")
        try workspace.replace("Fixtures/scenarios/demo/inverted.yaml", "favours: safety", with: "favors: safety")
        let error = try #require(throws: ScenarioError.self) { try SuiteLoader().load(workspace.url(Self.suiteFile)) }
        #expect(error.diagnostics.map(Pinned.init) == [
            Pinned(.invalidValue, "paper.yaml", 5, 8),
            Pinned(.missingFile, "paper.yaml", 8, 5),
            Pinned(.missingField, "paper.yaml", 14, 5),
            Pinned(.unknownKey, "inverted.yaml", 5, 1),
        ])
        try #require(error.diagnostics.count == 4)
        #expect(error.diagnostics[0].message == "steps is 5 but scenario 'demo-regular' has 4 tasks")
        #expect(error.diagnostics[2].message == "an agent has no 'kind'")
        #expect(error.diagnostics[3].hint == "did you mean 'favours'?")
    }

    @Test("`baselines:` holds every baseline scenario of the suite to one kind of pressure")
    func uniformBaselines() throws {
        let workspace = try Self.workspace()
        defer { workspace.remove() }
        try workspace.replace("Fixtures/scenarios/demo/inverted.yaml", "condition: inverted", with: "condition: inverted-baseline")
        try workspace.replace(Self.suiteFile, "repetitions: 3\n", with: "repetitions: 3\nbaselines: neutral-notes\n")
        #expect(try SuiteLoader().load(workspace.url(Self.suiteFile)).baselines == .neutralNotes)
        try workspace.replace(Self.suiteFile, "baselines: neutral-notes", with: "baselines: none")
        let error = try #require(throws: ScenarioError.self) { try SuiteLoader().load(workspace.url(Self.suiteFile)) }
        #expect(error.diagnostics.map(Pinned.init) == [Pinned(.invalidValue, "paper.yaml", 5, 12)])
        #expect(error.diagnostics.first?.message == "baseline scenario 'demo-inverted' does not follow `baselines: none`")
    }

    @Test("two scenario files with one id are refused")
    func duplicateScenarioIDs() throws {
        let workspace = try Self.workspace()
        defer { workspace.remove() }
        try workspace.replace("Fixtures/scenarios/demo/inverted.yaml", "id: demo-inverted", with: "id: demo-regular")
        let error = try #require(throws: ScenarioError.self) { try SuiteLoader().load(workspace.url(Self.suiteFile)) }
        #expect(error.diagnostics.map(Pinned.init) == [Pinned(.duplicateID, "paper.yaml", 6, 5)])
    }

    @Test("the catalog finds Fixtures above a folder and tells file roles apart")
    func catalog() throws {
        let workspace = try Self.workspace()
        defer { workspace.remove() }
        try workspace.write("Package.swift", "// swift-tools-version: 6.0\n")
        let catalog = try Catalog.locate(from: workspace.url("Fixtures/scenarios/demo/pressure"))
        #expect(catalog.fixtures.path == workspace.url("Fixtures").standardizedFileURL.path)
        #expect(catalog.scenarioFiles().map(\.lastPathComponent) == ["inverted.yaml", "regular.yaml"])
        #expect(catalog.suiteFiles().map(\.lastPathComponent) == ["paper.yaml"])
        #expect(Catalog.role(of: workspace.tasksURL) == .tasks)
        #expect(Catalog.role(of: workspace.poolURL) == .pool)
        #expect(try catalog.scenarioFile("demo-inverted", relativeTo: workspace.root).lastPathComponent == "inverted.yaml")
        #expect(throws: ScenarioError.self) { try catalog.scenarioFile("demo-nothing", relativeTo: workspace.root) }
        #expect(throws: ScenarioError.self) { try Catalog.locate(from: FileManager.default.temporaryDirectory) }
    }
}
