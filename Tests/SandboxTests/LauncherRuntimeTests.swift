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

/// The launcher's own libc subset (sandbox/launcher/runtime.c), driven directly: formatting through
/// its `--self-test-runtime` hook, PATH search and error messages through mode `none` (rlimits
/// only, so no sandbox layer hides what the runtime does).
@Suite("Launcher runtime: formatting, PATH search, errors", .serialized, .timeLimit(.minutes(2)))
struct LauncherLibcTests {
    /// Runs the launcher in mode none from `dir` with exactly `PATH=path` in its environment;
    /// returns its exit status, its stdout and stderr, and its report lines.
    func launch(_ arguments: [String], path: String = "/usr/bin:/bin", in dir: String) throws -> (status: Int32, output: String, report: String) {
        func quoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let report = dir + "/.report"
        let launcher = try Launcher.locate()
        let script = "exec 9>\(quoted(report)); cd \(quoted(dir)) && exec /usr/bin/env -i PATH=\(quoted(path)) \(quoted(launcher)) --mode none --report-fd 9 "
            + arguments.map(quoted).joined(separator: " ")
        let result = try runHost(["/bin/sh", "-c", script], allowFailure: true, combineOutput: true)
        let lines = (try? String(contentsOfFile: report, encoding: .utf8)) ?? ""
        unlink(report)
        return (result.status, result.output, lines)
    }

    @Test("every conversion, width, padding and truncation the launcher uses formats as the C standard says, and errno texts match glibc's")
    func formatting() throws {
        let result = try runHost([try Launcher.locate(), "--self-test-runtime"], allowFailure: true, combineOutput: true)
        #expect(result.status == 0)
        let expected = [
            "21 [abc|   ab|long|(null)]",
            "28 [0|-42|-2147483648|2147483647]",
            "21 [  -42|-0042|12345|007]",
            "18 [0|4294967295|   42]",
            "47 [-9223372036854775808|9223372036854775807|000042]",
            "43 [-9223372036854775808|18446744073709551615|0]",
            "4 [x%|-]",
            "10 [abcdefg]",  // truncated at the buffer's size; the return value counts it all
            "5 []",
            "8 [-0000001]",
            String(repeating: "y", count: 2047),  // dprintf's 2048-byte buffer
            "0 Success", "1 Operation not permitted", "2 No such file or directory", "13 Permission denied",
            "22 Invalid argument", "8 Exec format error", "30 Read-only file system",
            "97 Address family not supported by protocol", "133 Memory page has hardware error",
            "134 Unknown error 134", "-1 Unknown error -1",
        ]
        #expect(result.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) == expected + [""])
    }

    @Test("main.c uses only the conversions the runtime implements")
    func conversionsInUse() throws {
        let source = try String(contentsOfFile: packageRoot + "/sandbox/launcher/main.c", encoding: .utf8)
        let directive = try Regex("%0?[0-9]*(l{0,2})([a-zA-Z%])")
        var seen: Set<String> = []
        for match in source.matches(of: directive) { seen.insert(String(source[match.range]).replacingOccurrences(of: #"[0-9]"#, with: "", options: .regularExpression)) }
        let supported: Set<String> = ["%s", "%c", "%d", "%u", "%ld", "%lu", "%lld", "%llu", "%%"]
        #expect(seen.subtracting(supported).isEmpty, "main.c formats with \(seen.subtracting(supported).sorted()), which runtime.c copies as is")
        #expect(seen.isSuperset(of: ["%s", "%d", "%u", "%ld", "%lld", "%llu"]))
    }

    @Test("PATH search: absolute, relative, empty elements, folders and non-executables on the way, scripts without #!")
    func pathSearch() throws {
        let dir = try TempDir("pathsearch")
        defer { dir.cleanup() }
        for sub in ["a", "b", "c", "cwd"] { try FileManager.default.createDirectory(atPath: dir.file(sub), withIntermediateDirectories: true) }
        try FileManager.default.createDirectory(atPath: dir.file("a/tool"), withIntermediateDirectories: true)  // a folder named like the program
        try dir.write("b/tool", "echo never\n")  // not executable
        try dir.write("c/tool", "#!/bin/sh\necho c-tool \"$@\"\n", executable: true)
        try dir.write("cwd/here", "echo here-tool\n", executable: true)  // no #!: ENOEXEC, then /bin/sh
        try dir.write("b/only-plain", "echo never\n")
        let cwd = dir.file("cwd")
        let sh = "/bin"
        // Later PATH entries are tried after a folder and a non-executable file of the same name.
        let found = try launch(["--", "tool", "x y"], path: "\(dir.file("a")):\(dir.file("b")):\(dir.file("c"))", in: cwd)
        #expect(found.status == 0)
        #expect(found.output == "c-tool x y\n")
        #expect(found.report.hasSuffix("status exit 0\n"))
        // Absolute and relative paths run as they are, PATH unused.
        #expect(try launch(["--", dir.file("c/tool"), "abs"], path: "/nonexistent", in: cwd).output == "c-tool abs\n")
        #expect(try launch(["--", "../c/tool", "rel"], path: "/nonexistent", in: cwd).output == "c-tool rel\n")
        // An empty element (leading, middle, trailing) is the current folder, as with glibc.
        for path in [":/nonexistent", "/nonexistent::\(sh)", "/nonexistent:"] {
            let r = try launch(["--", "here"], path: path, in: cwd)
            #expect(r.status == 0 && r.output == "here-tool\n", "PATH=\(path): \(r.output)")
        }
        // Not found anywhere: 127 with the errno text.
        let missing = try launch(["--", "no-such-tool"], path: "\(dir.file("a")):/nonexistent", in: cwd)
        #expect(missing.status == 127)
        #expect(missing.output == "driftbox-launcher: cannot run no-such-tool: No such file or directory\n")
        #expect(missing.report.contains("exec-failed 2\n"))
        // Only a folder and a non-executable file of that name: 126, permission denied.
        let denied = try launch(["--", "tool"], path: "\(dir.file("a")):\(dir.file("b"))", in: cwd)
        #expect(denied.status == 126)
        #expect(denied.output == "driftbox-launcher: cannot run tool: Permission denied\n")
        #expect(denied.report.contains("exec-failed 13\n"))
        let plain = try launch(["--", "only-plain"], path: dir.file("b"), in: cwd)
        #expect(plain.status == 126)
        // An empty program name is not searched for.
        #expect(try launch(["--", ""], in: cwd).status == 127)
    }

    @Test("setup errors name the stage, what failed and the errno's text, also when the message is cut at its buffer")
    func errorMessages() throws {
        let dir = try TempDir("launcher-errors")
        defer { dir.cleanup() }
        let workdir = try launch(["--workdir", dir.file("missing"), "--", "/bin/true"], in: dir.path)
        #expect(workdir.status == 125)
        #expect(workdir.report.contains("error workdir: chdir \(dir.file("missing")): No such file or directory\n"))
        let badFD = try launch(["--seccomp-fd", "77", "--", "/bin/true"], in: dir.path)
        #expect(badFD.status == 125)
        #expect(badFD.report == "error seccomp: fstat of fd 77: Bad file descriptor\n")
        // A path longer than the message buffer: the line is cut (900 bytes of message), the
        // errno text survives, and the launcher ends (a truncating %s once looped forever).
        let long = "/" + String(repeating: "x", count: 3000)
        let cut = try launch(["--workdir", long, "--", "/bin/true"], in: dir.path)
        #expect(cut.status == 125)
        let line = try #require(cut.report.split(separator: "\n").first { $0.hasPrefix("error workdir: ") })
        #expect(line == "error workdir: chdir " + long.prefix(899 - "chdir ".count) + ": File name too long")
        let option = try launch(["--rlimit", "nofile"], in: dir.path)
        #expect(option.status == 125)
        #expect(option.report == "error args: --rlimit wants NAME=VALUE, got 'nofile': Invalid argument\n")
    }
}
