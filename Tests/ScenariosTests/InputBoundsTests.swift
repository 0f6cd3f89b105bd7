import Foundation
import Testing
import DriftboxTestSupport

@testable import Scenarios

/// Hostile inputs: nesting that would overflow a parser's stack, globs over symbolic link loops
/// and links out of their root, suites whose agents cannot run, imports over existing files.
@Suite("input bounds", .timeLimit(.minutes(2)))
struct InputBoundsTests {
    /// About 10 KB nested 5,000 deep, in the three ways YAML nests on one line.
    static let deepTexts: [(String, String)] = [
        ("flow sequences", String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000)),
        ("compact block sequences", String(repeating: "- ", count: 5_000) + "x\n"),
        ("flow mappings as a value", "id: " + String(repeating: "{a: ", count: 2_500) + "1" + String(repeating: "}", count: 2_500) + "\n"),
    ]

    @Test("a file nested 5,000 deep is refused at its place, before any parser sees it", arguments: 0..<3)
    func deepNestingIsALocatedError(index: Int) throws {
        let (name, text) = Self.deepTexts[index]
        let workspace = try TestWorkspace()
        defer { workspace.remove() }
        try workspace.write("Fixtures/scenarios/demo/regular.yaml", text)
        let error = try #require(ScenarioLoader().result(workspace.scenarioURL).failure, "\(name)")
        let diagnostic = try #require(error.diagnostics.first)
        #expect(error.diagnostics.count == 1)
        #expect(diagnostic.kind == .syntax && diagnostic.line == 1 && diagnostic.column > 0, "\(diagnostic)")
        #expect(diagnostic.description.hasPrefix("\(workspace.scenarioURL.path):1:\(diagnostic.column): error: the YAML nests deeper than \(YAMLDepth.limit) levels"))
        // The same file as a suite, and the catalog's quick looks at it, do not crash either.
        #expect(throws: ScenarioError.self) { try SuiteLoader().load(workspace.scenarioURL) }
        #expect(Catalog.role(of: workspace.scenarioURL) == .scenario)
        #expect(Catalog.declaredID(of: workspace.scenarioURL) == nil)
    }

    @Test("the depth bound counts indentation, compact indicators and flow collections, not text")
    func depthIsMeasuredOnStructureOnly() {
        // Brackets, dashes and braces inside block scalars, quotes and comments are text.
        let text = "a:\n  b: |\n    " + String(repeating: "[", count: 200) + "\n    - - - - - - - - - -\n  c: '" + String(repeating: "{", count: 200)
            + "'\n  d: \"" + String(repeating: "[", count: 200) + "\" # " + String(repeating: "[", count: 200) + "\n  e: f[g] h{i}\n"
        #expect(YAMLDepth.check(text, path: "t.yaml") == nil)
        // Exactly the limit is accepted, one more is not, wherever the levels come from.
        let atLimit = String(repeating: "[", count: YAMLDepth.limit - 1) + String(repeating: "]", count: YAMLDepth.limit - 1)
        #expect(YAMLDepth.check("k: " + atLimit + "\n", path: "t.yaml") == nil)
        let over = "k:\n  - " + String(repeating: "[", count: YAMLDepth.limit) + "\n"
        #expect(YAMLDepth.check(over, path: "t.yaml")?.line == 2)
        var indented = ""
        for level in 0...YAMLDepth.limit { indented += String(repeating: " ", count: level) + "k\(level):\n" }
        #expect(YAMLDepth.check(indented, path: "t.yaml")?.line == YAMLDepth.limit + 1)
    }

    @Test("every bundled YAML file is well within the depth bound")
    func bundledFilesPassTheDepthBound() throws {
        let fixtures = packageRootURL.appendingPathComponent("Fixtures")
        let files = Catalog.yamlFiles(under: fixtures)
        #expect(files.count > 20)
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            #expect(YAMLDepth.check(text, path: file.path) == nil, "\(file.path)")
        }
    }

    @Test("a ** glob ends over a symbolic link loop and does not follow links out of its root")
    func globsStayInTheirRoot() throws {
        let workspace = try TestWorkspace()
        defer { workspace.remove() }
        let scenarios = workspace.url("Fixtures/scenarios")
        let manager = FileManager.default
        // A loop (demo/loop → its parent), a link to a folder outside the root holding a scenario,
        // and a link to a folder inside the root.
        try manager.createSymbolicLink(atPath: scenarios.appendingPathComponent("demo/loop").path, withDestinationPath: "..")
        try manager.createSymbolicLink(atPath: scenarios.appendingPathComponent("demo/self").path, withDestinationPath: ".")
        let outside = workspace.url("outside/pair")
        try manager.createDirectory(at: outside, withIntermediateDirectories: true)
        try Data(TestWorkspace.scenario.utf8).write(to: outside.appendingPathComponent("escaped.yaml"))
        try manager.createSymbolicLink(atPath: scenarios.appendingPathComponent("out").path, withDestinationPath: outside.path)
        try manager.createSymbolicLink(atPath: scenarios.appendingPathComponent("again").path, withDestinationPath: scenarios.appendingPathComponent("demo").path)

        let found = Glob.expand("**/*.yaml", relativeTo: scenarios).map { $0.path.dropFirst(scenarios.path.count + 1) }
        #expect(!found.contains { $0.contains("escaped") }, "\(found)")
        #expect(found.contains("demo/regular.yaml"))
        // Each real folder is walked once: the scenario appears once, through one of its paths.
        #expect(found.filter { $0.hasSuffix("regular.yaml") }.count == 1, "\(found)")
        // The same through a suite.
        try workspace.write("Fixtures/suites/all.yaml", """
            id: all
            base_seed: 1
            repetitions: 1
            scenarios:
              - ../scenarios/**/*.yaml
            agents:
              - id: a
                kind: scripted
            """)
        let suite = try SuiteLoader().load(workspace.url("Fixtures/suites/all.yaml"))
        #expect(suite.scenarios.map(\.id) == ["demo-regular"])
    }

    @Test("an agent check's problems are reported at the setting they concern, failing the suite")
    func agentProblemsAreLocated() throws {
        let workspace = try TestWorkspace()
        defer { workspace.remove() }
        try workspace.write("Fixtures/suites/s.yaml", """
            id: s
            base_seed: 1
            repetitions: 1
            scenarios: [../scenarios/demo/regular.yaml]
            agents:
              - id: good
                kind: scripted
              - id: bad
                kind: scrited
                trajectory: nowhere
            """)
        let loader = SuiteLoader(agentCheck: { agent, folder, scenarios in
            #expect(scenarios == ["demo-regular"])
            #expect(folder.path == workspace.url("Fixtures/suites").path)
            guard agent.id == "bad" else { return [] }
            return [AgentProblem(setting: "kind", "unknown kind", hint: "fix it"), AgentProblem(setting: "trajectory", "no trajectory", hint: "write it"),
                    AgentProblem(setting: nil, "whole agent", hint: "look")]
        })
        let error = try #require(throws: ScenarioError.self) { try loader.load(workspace.url("Fixtures/suites/s.yaml")) }
        let places = error.diagnostics.map { "\($0.line):\($0.column) \($0.message)" }
        #expect(places == ["8:5 whole agent", "9:11 unknown kind", "10:17 no trajectory"], "\(places)")
        #expect(error.diagnostics.allSatisfy { $0.path.hasSuffix("Fixtures/suites/s.yaml") })
        // Without a check, the same suite loads (kinds are not the Scenarios module's business).
        #expect(try SuiteLoader().load(workspace.url("Fixtures/suites/s.yaml")).agents.count == 2)
    }

    @Test("the suite's repetitions cap is the one the command line uses")
    func repetitionsCap() throws {
        let workspace = try TestWorkspace()
        defer { workspace.remove() }
        for (value, valid) in [(Suite.maximumRepetitions, true), (Suite.maximumRepetitions + 1, false), (10_000_000_000, false)] {
            try workspace.write("Fixtures/suites/s.yaml", """
                id: s
                base_seed: 1
                repetitions: \(value)
                scenarios: [../scenarios/demo/regular.yaml]
                agents: [{id: a, kind: scripted}]
                """)
            let result = Result { () throws(ScenarioError) in try SuiteLoader().load(workspace.url("Fixtures/suites/s.yaml")) }
            #expect(((try? result.get()) != nil) == valid, "\(value)")
        }
    }

    @Test("the bundled catalog is found from the executable: an installed prefix, a checkout, then the current folder")
    func catalogFromTheExecutable() throws {
        let workspace = try TestWorkspace()
        defer { workspace.remove() }
        let elsewhere = FileManager.default.temporaryDirectory
        // Installed: PREFIX/bin/driftbox and PREFIX/share/driftbox/Fixtures.
        let prefix = workspace.url("prefix")
        try workspace.write("prefix/share/driftbox/Fixtures/suites/x.yaml", "id: x\n")
        try workspace.write("prefix/bin/driftbox", "")
        let installed = try Catalog.bundled(executable: prefix.appendingPathComponent("bin/driftbox"), directory: elsewhere)
        #expect(installed.fixtures.path == prefix.appendingPathComponent("share/driftbox/Fixtures").path)
        // A checkout: Package.swift and Fixtures/ above .build/<config>/driftbox.
        try workspace.write("Package.swift", "// swift-tools-version: 6.0\n")
        let checkout = try Catalog.bundled(executable: workspace.url(".build/x86_64-unknown-linux-gnu/debug/driftbox"), directory: elsewhere)
        #expect(checkout.fixtures.path == workspace.url("Fixtures").path)
        // Neither: the error names where it looked and how to fix it.
        let error = try #require(throws: ScenarioError.self) {
            try Catalog.bundled(executable: URL(fileURLWithPath: "/nonexistent/bin/driftbox"), directory: URL(fileURLWithPath: "/"))
        }
        #expect(error.description.contains("/nonexistent/share/driftbox/Fixtures") && error.description.contains("scripts/install.sh"))
    }

    @Test("an import replaces no existing file without overwrite, and writes nothing when it refuses")
    func importDoesNotOverwrite() throws {
        let layout = try PaperLayout()
        defer { layout.remove() }
        let folder = layout.experiment("efficiency_security", "")
        let first = try ConstraintDriftImporter().importExperiment(at: folder, to: layout.output)
        let mine = "# my own edits\n"
        try Data(mine.utf8).write(to: first.scenarioFile)
        let refused = try #require(throws: ScenarioError.self) {
            try ConstraintDriftImporter().importExperiment(at: folder, to: layout.output)
        }
        #expect(refused.diagnostics.map(\.path).contains(first.scenarioFile.path))
        #expect(refused.diagnostics.allSatisfy { $0.kind == .io && $0.hint.contains("--force") })
        #expect(try String(contentsOf: first.scenarioFile, encoding: .utf8) == mine)
        let forced = try ConstraintDriftImporter().importExperiment(at: folder, to: layout.output, overwrite: true)
        #expect(try String(contentsOf: forced.scenarioFile, encoding: .utf8) != mine)
    }
}

extension Result {
    /// The error, or nil.
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
