import Foundation
import GitStore
import Runner
import Testing

/// The folder of the executables built next to this test bundle.
private let buildFolder = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()

/// How a `driftbox` invocation ended.
private struct Invocation: CustomStringConvertible {
    var status: Int32
    /// False when a signal ended it (a crash).
    var exited: Bool
    var out: String
    var err: String

    var description: String { "status \(status)\(exited ? "" : " (signal)")\nstdout: \(out)\nstderr: \(err)" }
}

/// Runs `executable` (default: the built `driftbox`) in `folder` to the end, without any
/// `DRIFTBOX_*` variable of this process.
private func invoke(_ arguments: [String], in folder: URL = packageRoot, executable: String = buildFolder.appendingPathComponent("driftbox").path) throws -> Invocation {
    let run = try runHost([executable] + arguments, in: folder.path,
                          environment: ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DRIFTBOX_") }, allowFailure: true)
    return Invocation(status: run.signal ?? run.status, exited: run.signal == nil, out: run.output, err: run.errors)
}

/// About 10 KB nested 5,000 deep.
private let deepYAML = String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000) + "\n"

@Suite("command line: bounded inputs, overwrites, exit statuses", .serialized, .timeLimit(.minutes(5)))
struct CommandLineInputTests {
    @Test("a timeout that is not a finite positive number of seconds is a clear error in every command, never a trap")
    func timeoutsAreBounded() throws {
        let commands: [[String]] = [["run", "smoke"], ["resume", "no-run"], ["replay", "no-run", "e"], ["sandbox", "exec", "--", "true"]]
        for command in commands {
            let option = command[0] == "sandbox" ? "--timeout" : "--step-timeout"
            for value in ["inf", "1e19", "1e300", "-5", "0", "nan", "1e-9", "ten"] {
                var arguments = command
                arguments.insert("\(option)=\(value)", at: command[0] == "sandbox" ? 2 : 1)
                let result = try invoke(arguments)
                #expect(result.exited && result.status == 1, "\(arguments): \(result)")
                #expect(result.err.contains("The value '\(value)' is invalid for '\(option) <seconds>'") && result.err.contains("0.001 to 604800"),
                        "\(arguments): \(result)")
            }
        }
    }

    @Test("--repetitions beyond the suites' cap is an error naming the cap")
    func repetitionsAreCapped() throws {
        for value in ["10000000000", "100001", "0"] {
            let result = try invoke(["run", "smoke", "--repetitions", value, "--out", "/nonexistent/runs"])
            #expect(result.exited && result.status == 1, "\(value): \(result)")
            #expect(result.err.contains("--repetitions must be from 1 to 100000"), "\(result)")
        }
    }

    @Test("enumerated options list their values in --help, and a typo gets 'Did you mean'")
    func enumeratedOptions() throws {
        let help = try invoke(["run", "--help"])
        #expect(help.status == 0)
        let flat = help.out.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(flat.contains("(values: automatic, full, reduced; default: automatic)"), "\(help.out)")
        #expect(flat.contains("(values: auto, terminal, lines, quiet; default: auto)"))
        #expect(flat.contains("(values: default, network; default: default)"))
        for (arguments, suggestion) in [(["run", "--mode", "fulll"], "full"), (["resume", "r", "--progress=quite"], "quiet"),
                                        (["sandbox", "exec", "--policy", "defualt", "--", "true"], "default"),
                                        (["audit", "r", "--condition", "inverted-basline"], "inverted-baseline")] {
            let result = try invoke(arguments)
            #expect(result.status == 1, "\(result)")
            let lines = result.err.split(separator: "\n")
            #expect(lines.count >= 2 && lines[1] == "Did you mean '\(suggestion)'?", "\(result)")
        }
        // A policy file is not a typo.
        let file = try invoke(["sandbox", "exec", "--policy", "/nonexistent/x.policy", "--workspace", "/nonexistent", "--", "true"])
        #expect(file.status == 125 && !file.err.contains("Did you mean"), "\(file)")
    }

    @Test("YAML nested 5,000 deep is a located error in validate, run and rescore, not a crash")
    func deepYAMLIsALocatedError() throws {
        let experiment = try SmallExperiment(repetitions: 1, steps: 2)
        defer { experiment.remove() }
        let deep = experiment.folder.appendingPathComponent("deep.yaml")
        try Data(deepYAML.utf8).write(to: deep)
        for arguments in [["scenarios", "validate", deep.path], ["run", deep.path, "--out", experiment.folder.appendingPathComponent("runs").path]] {
            let result = try invoke(arguments)
            #expect(result.exited && result.status == 1, "\(arguments): \(result)")
            #expect(result.err.contains("\(deep.path):1:") && result.err.contains("nests deeper than 64 levels"), "\(arguments): \(result)")
        }
        // A suite whose agent's trajectory is nested that deep is refused before the run starts.
        let trajectory = experiment.folder.appendingPathComponent("trajectories/\(SmallExperiment.regular).yaml")
        let saved = try Data(contentsOf: trajectory)
        try Data(("tasks:\n  x: " + deepYAML).utf8).write(to: trajectory)
        let run = try invoke(["run", experiment.suiteFile.path, "--out", experiment.folder.appendingPathComponent("runs").path, "--progress", "quiet"])
        #expect(run.exited && run.status == 1 && run.err.contains("\(trajectory.path):2:"), "\(run)")
        #expect(!FileManager.default.fileExists(atPath: experiment.folder.appendingPathComponent("runs").path))
        try saved.write(to: trajectory)

        let runs = experiment.folder.appendingPathComponent("runs")
        let finished = try invoke(["run", experiment.suiteFile.path, "--out", runs.path, "--run-id", "r", "--progress", "quiet", "-j", "2"])
        #expect(finished.status == 0 || finished.status == 2, "\(finished)")
        let rescore = try invoke(["rescore", runs.appendingPathComponent("r").path, "--checks", deep.path])
        #expect(rescore.exited && rescore.status == 1 && rescore.err.contains("\(deep.path):1:"), "\(rescore)")
    }

    @Test("a run whose run.json lost an episode, or its verdict set, gets errors that name the file, not a crash")
    func editedRunFolders() throws {
        let experiment = try SmallExperiment(repetitions: 1, steps: 2)
        defer { experiment.remove() }
        let runs = experiment.folder.appendingPathComponent("runs")
        let folder = runs.appendingPathComponent("r")
        _ = try invoke(["run", experiment.suiteFile.path, "--out", runs.path, "--run-id", "r", "--progress", "quiet"])
        let manifest = folder.appendingPathComponent("run.json")
        let original = try Data(contentsOf: manifest)

        // run.json's episodes edited: one removed.
        var json = try #require(try JSONSerialization.jsonObject(with: original) as? [String: Any])
        let episodes = try #require(json["episodes"] as? [Any])
        json["episodes"] = Array(episodes.dropFirst())
        try JSONSerialization.data(withJSONObject: json).write(to: manifest)
        let rescore = try invoke(["rescore", folder.path])
        #expect(rescore.exited && rescore.status == 1 && rescore.err.contains("run.json"), "\(rescore)")
        try original.write(to: manifest)

        // A verdict set run.json names is missing: the message says which, not "is this a run folder".
        let rescored = try invoke(["rescore", folder.path])
        #expect(rescored.status == 0, "\(rescored)")
        try FileManager.default.removeItem(at: folder.appendingPathComponent("verdicts-2.jsonl"))
        let report = try invoke(["report", folder.path])
        #expect(report.status == 1, "\(report)")
        #expect(report.err.contains("verdicts-2.jsonl") && !report.err.contains("is this a run folder"), "\(report)")
    }

    @Test("validate checks what it is given: an empty folder, a missing path and a suite whose agents cannot run are errors")
    func validateWhatIsGiven() throws {
        let folder = try temporaryFolder("validate")
        defer { try? FileManager.default.removeItem(at: folder) }
        let empty = try invoke(["scenarios", "validate", folder.path])
        #expect(empty.status == 1 && empty.err.contains("\(folder.path): no .yaml or .yml file"), "\(empty)")
        #expect(!empty.out.contains("ok "), "the bundled files were validated instead: \(empty)")
        let missing = try invoke(["scenarios", "validate", folder.appendingPathComponent("nope.yaml").path])
        #expect(missing.status == 1, "\(missing)")

        let scenario = packageRoot.appendingPathComponent("Fixtures/scenarios/efficiency-security/regular.yaml").path
        let trajectories = folder.appendingPathComponent("trajectories")
        try FileManager.default.createDirectory(at: trajectories, withIntermediateDirectories: true)
        let suite = folder.appendingPathComponent("suite.yaml")
        try """
            id: s
            base_seed: 1
            repetitions: 1
            scenarios: [\(scenario)]
            agents:
              - id: typo
                kind: scriptd
              - id: empty-folder
                kind: scripted
                trajectory: trajectories
              - id: no-program
                kind: command
                command: ./no-such-agent
                args: "{prompt}"
              - id: unreadable
                kind: command
                command: ./agent.sh
            """.write(to: suite, atomically: true, encoding: .utf8)
        // An executable outside the system folders.
        let program = folder.appendingPathComponent("agent.sh")
        try Data("#!/bin/sh\necho hi\n".utf8).write(to: program)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: program.path)
        let result = try invoke(["scenarios", "validate", suite.path])
        #expect(result.status == 1, "\(result)")
        #expect(result.err.contains("\(suite.path):7:11: error: agent 'typo': unknown kind 'scriptd'"), "\(result)")
        #expect(result.err.contains("\(suite.path):10:17: error: agent 'empty-folder' has no trajectory for scenario 'efficiency-security-regular'"), "\(result)")
        #expect(result.err.contains("\(suite.path):13:14: error: agent 'no-program': no executable program \(folder.path)/no-such-agent"), "\(result)")
        // A program outside the system folders is fine: its folder is made visible read-only inside.
        #expect(!result.err.contains("agent 'unreadable'"), "\(result)")
        // run refuses the same suite before creating anything.
        let run = try invoke(["run", suite.path, "--out", folder.appendingPathComponent("runs").path])
        #expect(run.status == 1 && run.err.contains("unknown kind 'scriptd'"), "\(run)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("runs").path))
    }

    @Test("validate takes bundled suite names and scenario ids as run does; a name that is neither a file nor bundled lists the bundled suites")
    func validateBundledNames() throws {
        let folder = try temporaryFolder("validate-names")
        defer { try? FileManager.default.removeItem(at: folder) }
        let suite = packageRoot.appendingPathComponent("Fixtures/suites/paper.yaml").path
        let paper = try invoke(["scenarios", "validate", "paper"], in: folder)
        #expect(paper.status == 0 && paper.out.contains("ok  \(suite)") && paper.out.contains("1 of 1 files valid"), "\(paper)")
        let scenario = try invoke(["scenarios", "validate", "efficiency-security-regular", "smoke"], in: folder)
        #expect(scenario.status == 0 && scenario.out.contains("efficiency-security/regular.yaml") && scenario.out.contains("suites/smoke.yaml")
                && scenario.out.contains("2 of 2 files valid"), "\(scenario)")
        let unknown = try invoke(["scenarios", "validate", "papr"], in: folder)
        #expect(unknown.status == 1 && unknown.err.contains("papr: no such file or folder, and no bundled suite or scenario of that name"), "\(unknown)")
        #expect(["paper", "paper-model", "smoke", "typescript"].allSatisfy { unknown.err.contains("\($0), ") || unknown.err.contains("\($0))") }, "\(unknown)")
        #expect(!unknown.out.contains("ok "), "\(unknown)")
        // A file of that name in the current folder comes first, as for run.
        try Data("id: [unclosed\n".utf8).write(to: folder.appendingPathComponent("paper"))
        let file = try invoke(["scenarios", "validate", "paper"], in: folder)
        #expect(file.status == 1 && file.err.contains(folder.appendingPathComponent("paper").path) && !file.out.contains(suite), "\(file)")
    }

    @Test("a suite's ** glob over a symbolic link loop ends")
    func globLoopEnds() throws {
        let folder = try temporaryFolder("glob")
        defer { try? FileManager.default.removeItem(at: folder) }
        let fixtures = folder.appendingPathComponent("Fixtures")
        let scenarios = fixtures.appendingPathComponent("scenarios/a/b")
        try FileManager.default.createDirectory(at: scenarios, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: packageRoot.appendingPathComponent("Fixtures/scenarios/efficiency-security"),
                                         to: fixtures.appendingPathComponent("scenarios/es"))
        try FileManager.default.createSymbolicLink(atPath: fixtures.appendingPathComponent("repos").path,
                                                   withDestinationPath: packageRoot.appendingPathComponent("Fixtures/repos").path)
        try FileManager.default.createSymbolicLink(atPath: scenarios.appendingPathComponent("up").path, withDestinationPath: "../..")
        try FileManager.default.createSymbolicLink(atPath: scenarios.appendingPathComponent("root").path, withDestinationPath: "/")
        let suite = fixtures.appendingPathComponent("suite.yaml")
        try """
            id: s
            base_seed: 1
            repetitions: 1
            scenarios: ["scenarios/**/regular.yaml"]
            agents: [{id: demo, kind: scripted, trajectory: \(packageRoot.path)/Fixtures/trajectories/demo}]
            """.write(to: suite, atomically: true, encoding: .utf8)
        let result = try invoke(["scenarios", "validate", suite.path])
        #expect(result.status == 0 && result.out.contains("1 of 1 files valid"), "\(result)")
    }

    @Test("scenarios import replaces no existing file without --force")
    func importDoesNotOverwrite() throws {
        let folder = try temporaryFolder("import")
        defer { try? FileManager.default.removeItem(at: folder) }
        let experiment = folder.appendingPathComponent("experiments/efficiency_security/regular")
        func write(_ relative: String, _ text: String) throws {
            let file = folder.appendingPathComponent(relative)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: file)
        }
        try write("base-repos/auth-system/auth/session.py", "def open_session(request):\n    raise NotImplementedError\n")
        try write("experiments/efficiency_security/regular/AGENTS.md", "# Standards\n")
        try write("experiments/efficiency_security/regular/config.json", """
            {"experiment_id": "efficiency_security_regular", "base_repo": "auth-system", "constraint_file": "AGENTS.md",
             "queries": [{"id": "session", "message": "Implement auth/session.py.", "target_file": "auth/session.py"}],
             "patch_pool": [], "execution": {"shuffle_queries": false, "patch_assignment": "none"},
             "validation": {"type": "auth_revalidation_validator", "config": {"use_regex": true}}}
            """)
        try write("experiments/efficiency_security/regular/validators/auth_revalidation_validator.py",
                  "AUTH_VALIDATION_PATTERN = \"auth_client.validate_token(\"\n")
        let out = folder.appendingPathComponent("out")
        let first = try invoke(["scenarios", "import", experiment.path, "--to", out.path])
        #expect(first.status == 0, "\(first)")
        let scenario = out.appendingPathComponent("scenarios/efficiency-security/regular.yaml")
        try Data("# mine\n".utf8).write(to: scenario)
        let again = try invoke(["scenarios", "import", experiment.path, "--to", out.path])
        #expect(again.status == 1 && again.err.contains("\(scenario.path): error: the import would replace this existing file"), "\(again)")
        #expect(try String(contentsOf: scenario, encoding: .utf8) == "# mine\n")
        let forced = try invoke(["scenarios", "import", experiment.path, "--to", out.path, "--force"])
        let replaced = try String(contentsOf: scenario, encoding: .utf8)
        #expect(forced.status == 0 && replaced != "# mine\n", "\(forced)")
    }

    @Test("fixtures build never moves main of a repository it did not build, and moves its own only with --force")
    func fixturesBuildDoesNotOverwrite() throws {
        let folder = try temporaryFolder("fixtures")
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = folder.appendingPathComponent("repos/tiny")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        try Data("print('v1')\n".utf8).write(to: source.appendingPathComponent("main.py"))
        let out = folder.appendingPathComponent("out")
        let arguments = ["fixtures", "build", "--fixtures", folder.appendingPathComponent("repos").path, "--out", out.path]

        // A user's repository where the fixture would go.
        let mine = try Repository.create(at: out.appendingPathComponent("tiny.git").path, bare: true)
        let userTree = try mine.writeTree(directory: source.path)
        let userCommit = try mine.commit(tree: userTree, message: "mine\n", author: Signature(name: "me", email: "me@example.com", time: 1),
                                         parents: [], updateRef: "refs/heads/main")
        for extra in [[], ["--force"]] {
            let result = try invoke(arguments + extra)
            #expect(result.status == 1 && result.err.contains("not a fixture repository built by `driftbox fixtures build`"), "\(result)")
            #expect(try Repository.open(at: out.appendingPathComponent("tiny.git").path).resolve(ref: "refs/heads/main") == userCommit)
        }

        // Its own repositories: built, rebuilt unchanged, moved only with --force when the fixture changed.
        try FileManager.default.removeItem(at: out)
        let built = try invoke(arguments)
        #expect(built.status == 0, "\(built)")
        #expect(try invoke(arguments).status == 0)
        let before = try Repository.open(at: out.appendingPathComponent("tiny.git").path).resolve(ref: "refs/heads/main")
        try Data("print('v2')\n".utf8).write(to: source.appendingPathComponent("main.py"))
        let changed = try invoke(arguments)
        #expect(changed.status == 1 && changed.err.contains("pass --force"), "\(changed)")
        #expect(try Repository.open(at: out.appendingPathComponent("tiny.git").path).resolve(ref: "refs/heads/main") == before)
        let forced = try invoke(arguments + ["--force"])
        #expect(forced.status == 0, "\(forced)")
        #expect(try Repository.open(at: out.appendingPathComponent("tiny.git").path).resolve(ref: "refs/heads/main") != before)
    }

    @Test("replay --to replaces a non-empty folder only with --force, and never the current or the run folder")
    func replayDoesNotOverwrite() throws {
        let experiment = try SmallExperiment(repetitions: 1, steps: 2)
        defer { experiment.remove() }
        let runs = experiment.folder.appendingPathComponent("runs")
        let folder = runs.appendingPathComponent("r")
        _ = try invoke(["run", experiment.suiteFile.path, "--out", runs.path, "--run-id", "r", "--progress", "quiet"])
        let episode = try RunRecord(folder: folder).manifest.episodes[0].id
        let target = experiment.folder.appendingPathComponent("target")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        let precious = target.appendingPathComponent("precious.txt")
        try Data("keep".utf8).write(to: precious)
        let refused = try invoke(["replay", folder.path, episode, "--step", "1", "--to", target.path])
        #expect(refused.status == 1 && refused.err.contains("not empty") && refused.err.contains("--force"), "\(refused)")
        #expect(FileManager.default.fileExists(atPath: precious.path))
        let forced = try invoke(["replay", folder.path, episode, "--step", "1", "--to", target.path, "--force"])
        #expect(forced.status == 0 && !FileManager.default.fileExists(atPath: precious.path), "\(forced)")
        for protected in [experiment.folder.path, runs.path, "/"] {
            let result = try invoke(["replay", folder.path, episode, "--to", protected, "--force"], in: experiment.folder)
            #expect(result.status == 1 && result.err.contains("--force will not remove this folder"), "\(protected): \(result)")
        }
        #expect(FileManager.default.fileExists(atPath: experiment.suiteFile.path))
    }

    @Test("sandbox exec refuses a workspace of /, a system folder or the home folder before running anything")
    func sandboxExecRefusesHostFolders() throws {
        for (folder, workspace) in [("/", nil), (packageRoot.path, "/usr"), (packageRoot.path, "/etc/"), (packageRoot.path, NSHomeDirectory())] as [(String, String?)] {
            let arguments = ["sandbox", "exec"] + (workspace.map { ["--workspace", $0] } ?? []) + ["--", "sh", "-c", "echo ran"]
            let result = try invoke(arguments, in: URL(fileURLWithPath: folder))
            #expect(result.status == 125 && !result.out.contains("ran"), "\(arguments): \(result)")
            #expect(result.err.contains("a workspace here would let the command write anywhere"), "\(result)")
        }
    }

    @Test("an installed driftbox runs the bundled smoke suite from a folder outside the checkout")
    func installedRunsFromAnyFolder() throws {
        let prefix = try temporaryFolder("prefix")
        let elsewhere = try temporaryFolder("elsewhere")
        defer {
            try? FileManager.default.removeItem(at: prefix)
            try? FileManager.default.removeItem(at: elsewhere)
        }
        let install = try invoke([prefix.path, "--from", buildFolder.path], executable: packageRoot.appendingPathComponent("scripts/install.sh").path)
        #expect(install.status == 0, "\(install)")
        let installed = prefix.appendingPathComponent("bin/driftbox").path
        for file in ["bin/driftbox", "libexec/driftbox/driftbox-launcher", "share/driftbox/policies/default.policy", "share/driftbox/Fixtures/suites/smoke.yaml"] {
            #expect(FileManager.default.fileExists(atPath: prefix.appendingPathComponent(file).path), "\(file)")
        }
        #expect(!elsewhere.path.hasPrefix(packageRoot.path))
        let list = try invoke(["scenarios", "list"], in: elsewhere, executable: installed)
        #expect(list.status == 0 && list.out.contains("efficiency-security-regular") && list.out.contains("Fixtures/scenarios/"), "\(list)")
        let run = try invoke(["run", "smoke", "--progress", "quiet", "-j", "2"], in: elsewhere, executable: installed)
        #expect(run.status == 0, "\(run)")
        #expect(run.out.hasPrefix("run: \(elsewhere.path)/runs/smoke-"), "\(run)")
        let check = try invoke(["sandbox", "check"], in: elsewhere, executable: installed)
        #expect(!check.err.contains("no executable launcher") && !check.err.contains("no policy"), "\(check)")
    }
}
