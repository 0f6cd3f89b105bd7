import Foundation
import Testing
import DriftboxTestSupport

@testable import Scenarios

/// Mutates valid scenario, tasks and pool files and checks that loading never crashes or hangs
/// and always ends in either a scenario or diagnostics that point at a line.
@Suite("Loader fuzzing", .timeLimit(.minutes(3)))
struct LoaderFuzzTests {
    enum Mutation: CaseIterable {
        case deleteLine, duplicateLine, swapLines, indent, dedent, truncate, junkBytes, changeType
    }

    static let junk: [[UInt8]] = [
        [0xFF], [0xC3], [0x00], [0x09], [0x7F], Array(":".utf8), Array("{".utf8), Array("[".utf8),
        Array("&a".utf8), Array("*a".utf8), Array("!!binary ".utf8), Array("- ".utf8), Array("'".utf8),
        Array("\"".utf8), Array("%YAML 1.1\n".utf8), Array("---\n".utf8), Array("? ".utf8), Array("|".utf8),
    ]
    static let replacementValues = ["[x, y]", "{a: 1}", "42", "~", "true", "-1", "99999999999999999999", "''", "[]", "{}"]

    /// Applies one mutation to `text`, drawing every choice from `generator`.
    static func mutate(_ data: [UInt8], _ mutation: Mutation, _ generator: inout SplitMix64) -> [UInt8] {
        var lines = String(decoding: data, as: UTF8.self).components(separatedBy: "\n")
        func pick(_ count: Int) -> Int { Int(generator.next(below: UInt64(max(1, count)))) }
        switch mutation {
        case .deleteLine:
            lines.remove(at: pick(lines.count))
        case .duplicateLine:
            let index = pick(lines.count)
            lines.insert(lines[index], at: index)
        case .swapLines:
            lines.swapAt(pick(lines.count), pick(lines.count))
        case .indent:
            let index = pick(lines.count)
            lines[index] = String(repeating: " ", count: 1 + pick(4)) + lines[index]
        case .dedent:
            let index = pick(lines.count)
            lines[index] = String(lines[index].drop { $0 == " " }.prefix(lines[index].count))
        case .truncate:
            return Array(data.prefix(pick(data.count)))
        case .junkBytes:
            var bytes = data
            for _ in 0...pick(3) {
                bytes.insert(contentsOf: junk[pick(junk.count)], at: pick(bytes.count + 1))
            }
            return bytes
        case .changeType:
            let candidates = lines.indices.filter { lines[$0].contains(": ") }
            guard !candidates.isEmpty else { return data }
            let index = candidates[pick(candidates.count)]
            let line = lines[index]
            let colon = line.range(of: ": ")!
            lines[index] = line[..<colon.upperBound] + replacementValues[pick(replacementValues.count)]
        }
        return Array(lines.joined(separator: "\n").utf8)
    }

    @Test("at least 240 mutations of valid files load or fail with located diagnostics",
          arguments: [ScenarioLoaderTests.scenarioFile, ScenarioLoaderTests.tasksFile, ScenarioLoaderTests.poolFile])
    func mutations(file: String) throws {
        let workspace = try TestWorkspace()
        defer { workspace.remove() }
        let original = try [UInt8](Data(contentsOf: workspace.url(file)))
        let seed = try TestSeed(default: UInt64(file.utf8.count) &* 0x9E37_79B9)
        var generator = SplitMix64(seed: seed.value)
        var loaded = 0
        var failed = 0
        for round in 0..<80 {
            let mutation = Mutation.allCases[round % Mutation.allCases.count]
            var bytes = Self.mutate(original, mutation, &generator)
            if round % 5 == 4 { bytes = Self.mutate(bytes, Mutation.allCases[Int(generator.next(below: 8))], &generator) }
            try workspace.write(file, Data(bytes))
            let result = ScenarioLoader().result(workspace.scenarioURL)
            switch result {
            case .success(let scenario):
                loaded += 1
                // A scenario that loads can always be planned.
                let plan = try EpisodePlan.make(scenario: scenario, seed: UInt64(round), episodeIndex: round)
                #expect(plan.steps.count == scenario.tasks.count, "round \(round) (\(mutation)), \(seed)")
            case .failure(let error):
                failed += 1
                #expect(!error.diagnostics.isEmpty)
                for diagnostic in error.diagnostics {
                    #expect(diagnostic.line >= 1 && diagnostic.column >= 1, "round \(round) (\(mutation)), \(seed): \(diagnostic)")
                    #expect(!diagnostic.message.isEmpty && !diagnostic.hint.isEmpty, "round \(round) (\(mutation)), \(seed)")
                }
            }
        }
        #expect(loaded + failed == 80)
        // The mutations are strong enough to break most files.
        #expect(failed > 40, "\(seed)")
    }

    @Test("80 mutations of a valid suite file load or fail with located diagnostics")
    func suiteMutations() throws {
        let workspace = try SuiteTests.workspace()
        defer { workspace.remove() }
        let original = Array(SuiteTests.suite.utf8)
        let seed = try TestSeed(default: 2026)
        var generator = SplitMix64(seed: seed.value)
        var failed = 0
        for round in 0..<80 {
            let mutation = Mutation.allCases[round % Mutation.allCases.count]
            try workspace.write(SuiteTests.suiteFile, Data(Self.mutate(original, mutation, &generator)))
            do {
                let suite = try SuiteLoader().load(workspace.url(SuiteTests.suiteFile))
                #expect(suite.episodes().count == suite.scenarios.count * suite.agents.count * suite.repetitions, "round \(round) (\(mutation)), \(seed)")
            } catch {
                failed += 1
                #expect(!error.diagnostics.isEmpty, "round \(round) (\(mutation)), \(seed)")
                for diagnostic in error.diagnostics {
                    #expect(diagnostic.line >= 1 && diagnostic.column >= 1, "round \(round) (\(mutation)), \(seed): \(diagnostic)")
                }
            }
        }
        #expect(failed > 30, "\(seed)")
    }
}
