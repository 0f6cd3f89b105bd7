import Foundation
import Glibc
import Testing
@testable import Sandbox

/// The launcher runs without glibc's start-up code (sandbox/launcher/runtime.c): its own program
/// lookup, environment handling and tracing are checked here through real sandboxed runs.
@Suite("Launcher runtime", .serialized, .timeLimit(.minutes(2)))
struct LauncherRuntimeTests {
    @Test("a script without a #! line runs through /bin/sh, as with glibc's execvp", arguments: Sandboxes.modes)
    func scriptWithoutInterpreterLine(mode: SandboxMode) async throws {
        let ws = try workspace()
        defer { ws.cleanup() }
        try ws.write("plain-script", "echo \"from script: $1 $#\"\n", executable: true)
        let result = try await try Sandboxes.get(mode).run(SandboxedCommand("./plain-script", ["one", "two"], workspace: ws.path))
        #expect(result.termination == .exited(0))
        #expect(result.stdout.text == "from script: one 2\n")
    }

    @Test("a program is found through PATH; a file without the execute bit is exit 126", arguments: Sandboxes.modes)
    func pathLookupAndPermission(mode: SandboxMode) async throws {
        let ws = try workspace()
        defer { ws.cleanup() }
        try ws.write("not-executable", "echo never\n")
        let sandbox = try Sandboxes.get(mode)
        let found = try await sandbox.run(SandboxedCommand("printf", ["%s-%s", "a", "b"], workspace: ws.path))
        #expect(found.stdout.text == "a-b")
        let denied = try await sandbox.run(SandboxedCommand("./not-executable", workspace: ws.path))
        #expect(denied.termination == .exited(126))
        #expect(denied.stderr.text == "driftbox-launcher: cannot run ./not-executable: Permission denied\n")
    }

    @Test("tracing prints each process's phases in order and is removed from the command's environment", arguments: Sandboxes.modes)
    func trace(mode: SandboxMode) async throws {
        let ws = try workspace()
        defer { ws.cleanup() }
        let command = SandboxedCommand("/bin/sh", ["-c", "echo ${DRIFTBOX_LAUNCHER_TRACE-unset}"], workspace: ws.path,
                                       environment: [LauncherTrace.variable: "1"])
        let result = try await try Sandboxes.get(mode).run(command)
        #expect(result.stdout.text == "unset\n")
        let marks = LauncherTrace.marks(in: result.stderr.text)
        #expect(marks.count == result.stderr.text.split(separator: "\n").count)
        let outer = ["start", "args", "cgroup"] + (mode == .full ? ["namespaces", "network-ready", "init-reaped"] : ["command-reaped"]) + ["exit"]
        let perProcess = Dictionary(grouping: marks, by: \.pid)
        let sequences = Set(perProcess.values.map { $0.map(\.phase) })
        let commandPhases = ["command-start", "landlock", "capabilities", "exec"]
        let expected: Set<[String]> = mode == .full
            ? [outer, ["init-start", "root", "network", "command-reaped", "namespace-empty"], commandPhases]
            : [outer, commandPhases]
        #expect(sequences == expected)
        for marksOfOne in perProcess.values {
            #expect(marksOfOne.map(\.microseconds) == marksOfOne.map(\.microseconds).sorted())
        }
        let untraced = try await try Sandboxes.get(mode).run(SandboxedCommand("/bin/true", workspace: ws.path))
        #expect(untraced.stderr.text == "")
    }

    @Test("the probe's answer is kept: a second Sandbox does not probe again and agrees with a fresh probe")
    func probeIsKept() throws {
        let launcher = try Launcher.locate()
        let fresh = try HostCapabilities.probeUncached(launcher: launcher, prefix: [])
        #expect(try HostCapabilities.probe(launcher: launcher) == fresh)
        let probesBefore = HostCapabilities.uncachedProbeCount
        for _ in 0..<20 { _ = try HostCapabilities.probe(launcher: launcher) }
        _ = try Sandbox(SandboxOptions(policy: Sandboxes.policy, mode: .automatic))
        #expect(HostCapabilities.uncachedProbeCount == probesBefore)
    }
}
