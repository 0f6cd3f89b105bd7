import Agents
import Checks
import Foundation
import GitStore
import Sandbox
import Testing
@_exported import DriftboxTestSupport

/// This test target's resources (agent scripts, the model server), copied once per test process
/// to a folder full mode shows (``hostOutsideFolder``): in a checkout under /tmp or a home folder
/// they would lie behind full mode's private /tmp or home, where no readable path reaches.
let resources: String = {
    let copy = try! outsideFolder("agents-resources")
    try! FileManager.default.removeItem(atPath: copy)
    try! FileManager.default.copyItem(atPath: packageRoot + "/Tests/AgentsTests/Resources", toPath: copy)
    atexit { try? FileManager.default.removeItem(atPath: resources) }
    return copy
}()

/// The temporary folders of these tests.
typealias TempDir = TemporaryFolder

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

/// The text of a workspace file.
func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }
