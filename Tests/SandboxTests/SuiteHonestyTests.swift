import Foundation
import Glibc
import Testing
@testable import Sandbox

/// What the sandbox suite ran: no mode is silently missing, and the documented counts hold.
@Suite("Sandbox suite honesty")
struct SuiteHonestyTests {
    @Test("every mode the host probe supports can be made, so none of its cases is skipped")
    func modesTheProbeSupportsAreAvailable() throws {
        let probe = try #require(Sandboxes.probe, "the launcher's probe did not run; build driftbox-launcher")
        for mode in Sandboxes.modes where Sandboxes.hostSupports(mode) {
            #expect(Sandboxes.unavailableReason(mode) == nil, "the probe says \(mode.rawValue) mode works here (\(probe.description.replacingOccurrences(of: "\n", with: ", "))), yet: \(Sandboxes.unavailableReason(mode) ?? "")")
        }
        if probe.seccomp && probe.userNamespaces { #expect(Sandboxes.full != nil) }
    }

    @Test("the host's features, as the suite used them", .enabled(if: Sandboxes.probe != nil))
    func report() throws {
        let probe = try #require(Sandboxes.probe)
        let used = Sandboxes.modes.map { mode in "\(mode.rawValue): " + (Sandboxes.unavailableReason(mode).map { "skipped (\($0))" } ?? "ran") }
        print("sandbox host: \(probe.description.replacingOccurrences(of: "\n", with: ", ")); " + used.joined(separator: "; ")
              + "; reduced mode runs as \(reducedRunsAsAgentUser ? "nobody (root runner)" : "the runner")")
        // What the other tests' host requirements find here.
        let requirements: [HostRequirement] = [.root, .notRoot, .executable("/usr/bin/setpriv"), .executable("/usr/bin/python3"),
                                               .executable("/usr/bin/cc"), .executable("/usr/bin/prlimit"), .gitVersion(atLeast: [2, 28])]
        let met = requirements.filter(\.isMet).map(\.label)
        let unmet = requirements.filter { !$0.isMet }.map(\.description)
        print("host requirements met: \(met.joined(separator: ", ")); tests skipped for: \(unmet.isEmpty ? "nothing" : unmet.joined(separator: "; "))"
              + "; process limit for a root runner: \(rootRunnerWithoutPidsCgroup ? "none (fork-bomb test skipped)" : "enforced or not needed")")
        #expect(used.count == 2)
    }

    @Test("the hostile suite has the number of cases docs/sandbox.md states")
    func hostileCaseCount() throws {
        #expect(hostileCases.count == 64)
        let docs = try String(contentsOfFile: packageRoot + "/docs/sandbox.md", encoding: .utf8)
        #expect(docs.contains("`hostileCases` holds 64 cases"))
        #expect(Set(hostileCases.map(\.description)).count == hostileCases.count, "two cases share a name")
        #expect(hostileCases.allSatisfy { $0.full != nil && $0.reduced != nil }, "every case states its outcome in both modes")
    }
}

@Suite("Workspace hand-over", .serialized)
struct HandOverTests {
    @Test("the walk changes owners without following links or opening FIFOs, at any depth",
          .requires(.root))
    func handOver() throws {
        let ws = try TempDir("handover")
        defer {
            // `rm` walks with descriptors: the chain below is deeper than a path can name.
            let rm = Process()
            rm.executableURL = URL(fileURLWithPath: "/bin/rm")
            rm.arguments = ["-rf", ws.path]
            try? rm.run()
            rm.waitUntilExit()
        }
        let outside = try TempDir("outside")
        defer { outside.cleanup() }
        try outside.write("target", "host file\n")
        try FileManager.default.createDirectory(atPath: ws.file("a/b/c"), withIntermediateDirectories: true)
        try ws.write("a/b/c/file", "x")
        #expect(symlink(outside.file("target"), ws.file("a/link")) == 0)
        #expect(symlink(outside.path, ws.file("dirlink")) == 0)
        #expect(mkfifo(ws.file("a/fifo"), 0o644) == 0)
        let user = AgentUser(uid: 65534, gid: 65534)
        try changeOwner(of: ws.path, to: user)
        for path in [ws.path, ws.file("a"), ws.file("a/b/c"), ws.file("a/b/c/file"), ws.file("a/link"), ws.file("a/fifo"), ws.file("dirlink")] {
            var st = stat()
            #expect(lstat(path, &st) == 0 && st.st_uid == 65534 && st.st_gid == 65534, "\(path) was not handed over")
        }
        for path in [outside.file("target"), outside.path] {
            var st = stat()
            #expect(stat(path, &st) == 0 && st.st_uid == 0, "\(path), outside the workspace, changed owner through a link")
        }
        // A chain deeper than the walk keeps descriptors for (and deeper than PATH_MAX allows a
        // path for): built and checked relative to descriptors, handed over whole.
        let top = open(ws.file("."), O_RDONLY | O_DIRECTORY)
        var fd = top
        for _ in 0..<3000 {
            #expect(mkdirat(fd, "dddd", 0o755) == 0)
            let next = openat(fd, "dddd", O_RDONLY | O_DIRECTORY)
            if fd != top { close(fd) }
            fd = next
        }
        try changeOwner(of: ws.path, to: user)
        var st = stat()
        #expect(fstat(fd, &st) == 0 && st.st_uid == 65534, "the deepest folder was not handed over")
        close(fd)
        close(top)
    }

    @Test("a root runner's reduced sandbox names its agent user and hands a fresh workspace over on the first run",
          .enabled(if: reducedRunsAsAgentUser, "only a root runner's reduced commands change user (uid 0 of the host)"))
    func reducedRootRunsAsAgentUser() async throws {
        let sandbox = try Sandboxes.get(.reduced)
        #expect(sandbox.agentUser == .nobody)
        #expect(Sandboxes.full?.agentUser == nil)  // full mode maps the runner's uid instead
        let ws = try workspace()
        defer { ws.cleanup() }
        try ws.write("seeded", "from the runner\n")
        let result = try await sandbox.run(SandboxedCommand("/bin/sh", ["-c", "id -u; id -g; id -G; echo more >> seeded && echo appended"], workspace: ws.path))
        #expect(result.stdout.text == "65534\n65534\n65534\nappended\n", "stderr: \(result.stderr.text)")
        try ws.write("landed-later", "by the runner\n")
        try sandbox.handOver(workspace: ws.path)
        let again = try await sandbox.run(SandboxedCommand("/bin/sh", ["-c", "echo x >> landed-later && echo ok"], workspace: ws.path))
        #expect(again.stdout.text == "ok\n")
    }
}
