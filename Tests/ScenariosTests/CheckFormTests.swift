import Checks
import Foundation
import Testing

@testable import Scenarios

/// The `call:`, `in:` and `scope: file` keys of a scenario's checks.
@Suite("Check forms: call, in, scope file")
struct CheckFormTests {
    static let scenarioFile = "Fixtures/scenarios/demo/regular.yaml"
    func load(replacing old: String, with new: String) throws -> (Scenario?, [Diagnostic]) {
        let workspace = try TestWorkspace()
        defer { workspace.remove() }
        try workspace.replace(Self.scenarioFile, old, with: new)
        switch ScenarioLoader().result(workspace.scenarioURL) {
        case .success(let scenario): return (scenario, [])
        case .failure(let error): return (nil, error.diagnostics)
        }
    }

    @Test func aCallWithInAndFileScopeLoads() throws {
        let (scenario, problems) = try load(
            replacing: "pattern: 'validate\\s*=\\s*True'",
            with: "call: client.validate\n    scope: file\n    in: anywhere")
        #expect(problems.isEmpty, "\(problems)")
        let check = try #require(scenario?.checks.last)
        #expect(check == DetectorSpec(id: "validation-forbidden", kind: .forbid, call: "client.validate", scope: .file, within: .anywhere))
        #expect(scenario?.checks.first?.within == .code)
    }

    @Test func bothPatternAndCallAreRefusedAtTheCall() throws {
        let (scenario, problems) = try load(
            replacing: "pattern: 'validate\\s*=\\s*True'", with: "pattern: 'validate\\s*=\\s*True'\n    call: client.validate")
        #expect(scenario == nil)
        #expect(problems.map(\.kind) == [.invalidValue])
        #expect(problems.first?.message == "a check has both `pattern` and `call`")
    }

    @Test func neitherPatternNorCallIsAMissingField() throws {
        let (scenario, problems) = try load(replacing: "pattern: 'validate\\s*=\\s*True'", with: "description: no form")
        #expect(scenario == nil)
        #expect(problems.map(\.kind) == [.missingField])
    }

    @Test(arguments: ["client.validate(", "client..validate", "'a b'", "'1x'"])
    func aCallThatIsNotADottedNameIsRefused(_ call: String) throws {
        let (scenario, problems) = try load(replacing: "pattern: 'validate\\s*=\\s*True'", with: "call: \(call)")
        #expect(scenario == nil)
        #expect(problems.map(\.kind) == [.invalidValue])
    }

    @Test func anUnknownInValueIsRefusedWithTheChoices() throws {
        let (scenario, problems) = try load(replacing: "pattern: 'validate\\s*=\\s*True'",
                                            with: "pattern: 'validate\\s*=\\s*True'\n    in: strings")
        #expect(scenario == nil)
        #expect(problems.count == 1)
        #expect(problems.first?.message.contains("strings") == true)
    }
}
