import Agents
import Checks
import Foundation
import GitStore
import Sandbox
import Testing

/// The package checkout, found from this file's path.
let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// This test target's resources folder (agent scripts, the model server).
let resources = packageRoot + "/Tests/AgentsTests/Resources"

/// A per-test temporary folder.
struct TempDir {
    let path: String

    init(_ label: String) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("driftbox-agents-\(label)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// A sandbox with a shipped policy that may also read (and run) the test resources.
func makeSandbox(policy: String = "default") throws -> Sandbox {
    let loaded = try Policy.load(path: packageRoot + "/sandbox/policies/\(policy).policy")
    return try Sandbox(SandboxOptions(policy: loaded, readablePaths: SandboxOptions.systemPaths + [resources]))
}

/// A fresh GitStore workspace of a bundled fixture, in `dir`.
func makeWorkspace(fixture: String, in dir: TempDir, name: String = "ws") throws -> Workspace {
    let repository = dir.path + "/\(name).git"
    _ = try Fixture.build(source: packageRoot + "/Fixtures/repos/\(fixture)", into: repository)
    return try Workspace.create(from: repository, at: dir.path + "/\(name)")
}

/// A context for one episode in `workspace`.
func makeContext(_ workspace: String, sandbox: Sandbox, scenario: String = "test-scenario", timeout: Duration = .seconds(60)) -> AgentContext {
    AgentContext(scenarioID: scenario, workspace: workspace, constraint: "Follow AGENTS.md.", sessionID: "session-1",
                 sandbox: sandbox, stepTimeout: timeout)
}

/// Snapshots the workspace as step `step` and judges the step with `checks`.
func judge(_ workspace: Workspace, step: AgentStep, checks: [DetectorSpec]) throws -> (Verdict, StepDiff) {
    let snapshot = try workspace.snapshot(StepStamp(step: step.step, summary: step.taskID))
    let diff = try workspace.diff(snapshot)
    let repository = workspace.repository
    let text = { (commit: ObjectID, path: String) throws -> String? in
        try repository.fileContent(at: commit, path: path).map { String(decoding: $0, as: UTF8.self) }
    }
    let files = StepFiles(after: { try text(snapshot.commit, $0) }, before: { try text(snapshot.parent, $0) })
    return (try DetectorSet(checks).verdict(for: diff, targets: step.targets, files: files), diff)
}

/// The text of a workspace file.
func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }
