import Foundation
import GitStore
import Posix

/// A 64-episode run with several episodes at once, as `driftbox run` does it: the built-in model
/// agent calling the scripted upstream on loopback through the run's gateway, against the same
/// run with the scripted demo agent (no model). Each run is its own `driftbox` process (the one
/// built next to this program), so its wall time and peak resident memory (`ru_maxrss`) are its own.
enum ConcurrentRunBenchmarks {
    static let episodes = 64
    static let steps = 2
    static let jobs = 8
    static let keyVariable = "DRIFTBOX_BENCH_MODEL_KEY"

    struct Measured {
        var seconds: Double
        var peakBytes: Int
    }

    static func run(iterations: Int) async throws -> [BenchRow] {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("driftbox-bench-concurrent-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let fixtures = URL(fileURLWithPath: try Fixture.repositoriesFolder(searchingUpFrom: FileManager.default.currentDirectoryPath)).deletingLastPathComponent()
        let package = fixtures.deletingLastPathComponent()
        let driftbox = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("driftbox").path
        guard FileManager.default.isExecutableFile(atPath: driftbox) else {
            throw BenchFailure("no driftbox program at \(driftbox); build it in the same configuration first (`swift build -c release`)")
        }
        let (server, port) = try startUpstream(program: package.appendingPathComponent("Tests/AgentsTests/Resources/scripted_chat_server.py").path, in: root)
        defer { kill(server, SIGKILL); _ = try? Processes.wait(for: server) }

        let scenario = fixtures.appendingPathComponent("scenarios/efficiency-security/regular.yaml").path
        func suite(_ name: String, agent: String) throws -> String {
            let file = root.appendingPathComponent("\(name).yaml")
            try "id: \(name)\nbase_seed: 5\nrepetitions: \(episodes)\nsteps: \(steps)\nscenarios:\n  - \(scenario)\nagents:\n\(agent)"
                .write(to: file, atomically: true, encoding: .utf8)
            return file.path
        }
        let model = try suite("gateway", agent: "  - id: model\n    kind: model\n    model: scripted-model\n    base_url: http://127.0.0.1:\(port)/v1\n    key_env: \(keyVariable)\n")
        let demo = try suite("demo", agent: "  - id: demo\n    kind: scripted\n    trajectory: \(fixtures.appendingPathComponent("trajectories/demo").path)\n")
        let runs = root.appendingPathComponent("runs").path
        var counter = 0
        func once(_ suite: String) throws -> Measured {
            counter += 1
            return try measure(driftbox, ["run", suite, "--out", runs, "--run-id", "r\(counter)", "--progress", "quiet", "-j", "\(jobs)"])
        }
        _ = try once(demo)  // warm-up: page cache, first-run set-up
        let rounds = max(3, min(iterations, 5))
        var subject: [Measured] = [], reference: [Measured] = []
        for _ in 0..<rounds {
            subject.append(try once(model))
            reference.append(try once(demo))
            try? FileManager.default.removeItem(atPath: runs)
        }
        let stepCount = Double(episodes * steps)
        let s = median(subject.map(\.seconds)), r = median(reference.map(\.seconds))
        let sRSS = median(subject.map { Double($0.peakBytes) }), rRSS = median(reference.map { Double($0.peakBytes) })
        func mib(_ bytes: Double) -> String { String(format: "%.1f MiB", bytes / 1_048_576) }
        return [BenchRow(name: "\(episodes)-episode run, \(steps) steps each, -j \(jobs): model agent through the gateway (scripted upstream on loopback)",
                         subjectMedian: s, referenceName: "the same run with the scripted demo agent (no model)", referenceMedian: r, iterations: rounds,
                         note: String(format: "throughput %.1f vs %.1f steps/s; runner's peak RSS %@ vs %@ (ratio %.2f×); one model exchange per step, each recorded",
                                      stepCount / s, stepCount / r, mib(sRSS), mib(rRSS), sRSS / rRSS))]
    }

    /// Starts the scripted upstream (one answer for every request, no tool call); returns its pid and port.
    static func startUpstream(program: String, in folder: URL) throws -> (pid_t, Int) {
        let script = folder.appendingPathComponent("script.json").path, portFile = folder.appendingPathComponent("port.txt").path
        try #"[{"content": "Done."}]"#.write(toFile: script, atomically: true, encoding: .utf8)
        let pid = try spawn(["/usr/bin/env", "python3", program, script, folder.appendingPathComponent("requests.jsonl").path], stdout: portFile)
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let line = text.split(separator: "\n").first, line.hasPrefix("PORT "),
               let port = Int(line.dropFirst(5)) {
                return (pid, port)
            }
            usleep(20_000)
        }
        kill(pid, SIGKILL)
        throw BenchFailure("the scripted upstream \(program) did not report its port within 120 s; run it by hand to see why")
    }

    /// Runs a program to its end; its wall time and peak resident memory.
    static func measure(_ program: String, _ arguments: [String]) throws -> Measured {
        var environment = ProcessInfo.processInfo.environment
        environment[keyVariable] = "sk-bench"
        var usage = rusage()
        var status: WaitStatus?
        let elapsed = try seconds {
            let pid = try spawn([program] + arguments, stdout: "/dev/null", environment: environment)
            status = try Processes.wait(for: pid, usage: &usage)
        }
        guard status?.exitCode == 0 else {
            throw BenchFailure("\(program) \(arguments.joined(separator: " ")) ended with \(String(describing: status?.exitCode ?? status?.signal)); run it by hand to see why")
        }
        return Measured(seconds: elapsed, peakBytes: usage.ru_maxrss * 1024)
    }

    static func spawn(_ argv: [String], stdout: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let cArguments = argv.map { strdup($0) } + [nil]
        let cEnvironment = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (cArguments + cEnvironment).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, nil, cArguments, cEnvironment)
        guard rc == 0 else { throw BenchFailure("cannot start \(argv[0]): error \(rc)") }
        return pid
    }
}
