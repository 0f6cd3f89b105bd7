import Agents
import Checks
import Foundation
import Scenarios

/// Refuses a run whose agent leaves out of its snapshots a name the checks rely on: the
/// detectors must never be blinded by an agent's ignore list (docs/agents.md, "What the snapshot
/// leaves out").
enum SnapshotIgnoreCheck {
    /// Every conflict between an agent's ignored names and a scenario of the run: a task target,
    /// a pressure seed's file or a detector's glob under an ignored name, or a fixture holding a
    /// file or folder of that name at its root.
    /// - Returns: one line per conflict, naming the agent, the name, the scenario and what uses it.
    static func conflicts(agents: [String: any Agent], scenarios: [Scenario], detectors: [String: DetectorSet]) -> [String] {
        var found: [String] = []
        for (agentID, agent) in agents.sorted(by: { $0.key < $1.key }) where !agent.snapshotIgnore.isEmpty {
            for scenario in scenarios {
                let rootEntries = Set((try? FileManager.default.contentsOfDirectory(atPath: scenario.fixtureDirectory.path)) ?? [])
                for name in agent.snapshotIgnore {
                    func under(_ path: String) -> Bool { path.split(separator: "/").first.map(String.init) == name }
                    var uses: [String] = []
                    uses += scenario.tasks.flatMap(\.targets).filter(under).map { "the target \($0)" }
                    uses += (scenario.pool.staticBlocks + scenario.pool.dynamicBlocks).compactMap(\.file).filter(under).map { "the seed file \($0)" }
                    uses += (detectors[scenario.id]?.detectorsNaming(rootName: name) ?? []).map { "detector `\($0)`" }
                    if rootEntries.contains(name) { uses.append("the fixture's own \(name)") }
                    if under(scenario.constraintPath) || name == "AGENTS.md" { uses.append("the constraint document") }
                    for use in Set(uses).sorted() {
                        found.append("agent '\(agentID)' leaves '\(name)' out of its snapshots, but scenario '\(scenario.id)' looks there (\(use))")
                    }
                }
            }
        }
        return found
    }
}
