import Foundation
import Testing

/// The `driftbox` executable built next to this test bundle.
let driftboxExecutable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    .appendingPathComponent("driftbox").path

/// The package root, found from this file's path (for the bundled scenarios).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// How a finished `driftbox` process ended.
struct Finished {
    /// The exit status, or nil when a signal ended it.
    var status: Int32?
    /// The signal that ended it (0: none).
    var signal: Int32
    /// Standard output and standard error, as bytes.
    var stdout: [UInt8]
    var stderr: [UInt8]
    /// Peak resident memory of the process itself (`VmHWM`, read while it ran), in bytes.
    var peakRSS: Int
    /// True when the test had to kill it because it was still running at the hang bound.
    var hung: Bool

    var output: String { String(decoding: stdout, as: UTF8.self) + String(decoding: stderr, as: UTF8.self) }
}

/// Runs `driftbox` with `arguments` and extra environment variables, its output in files (never a
/// pipe that could fill up), and waits for it with `wait4` to learn its peak memory. A process still
/// running after `hangBound` is killed and reported as hung: the bound only tells a hang from a slow
/// run, it is not a performance limit.
func runDriftbox(_ arguments: [String], environment extra: [String: String] = [:], in folder: URL,
                 hangBound: Duration) async throws -> Finished {
    // The wait polls and sleeps: on a thread of its own, so the shared task pool (two threads on a
    // two-core machine) stays free for the suites running beside this one.
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try runDriftboxSync(arguments, environment: extra, in: folder, hangBound: hangBound) })
        }
        thread.start()
    }
}

func runDriftboxSync(_ arguments: [String], environment extra: [String: String] = [:], in folder: URL,
                                 hangBound: Duration) throws -> Finished {
    let out = folder.appendingPathComponent("stdout-\(UUID().uuidString)").path
    let err = folder.appendingPathComponent("stderr-\(UUID().uuidString)").path
    var environment = ProcessInfo.processInfo.environment
    for (key, value) in extra { environment[key] = value }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    // Its own process group, so a hung run and everything it started can be killed together.
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
    posix_spawnattr_setpgroup(&attributes, 0)
    let argv = ([driftboxExecutable] + arguments).map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, driftboxExecutable, &actions, &attributes, argv, envp)
    guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
    let clock = ContinuousClock()
    let deadline = clock.now + hangBound
    var status: Int32 = 0
    var usage = rusage()
    var hung = false
    // `ru_maxrss` of a spawned child starts from this test process's own high-water mark (the
    // child shares its memory until exec), so the child's peak is read from its /proc status
    // while it runs: a high-water mark, so the last reading holds every earlier peak.
    var peak = 0
    while true {
        peak = max(peak, highWaterMark(of: pid))
        let waited = wait4(pid, &status, WNOHANG, &usage)
        if waited == pid { break }
        if waited < 0 && errno != EINTR { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        if clock.now > deadline, !hung {
            hung = true
            kill(-pid, SIGKILL)
        }
        usleep(20_000)
    }
    let exited = status & 0x7f == 0
    return Finished(status: exited ? (status >> 8) & 0xff : nil, signal: exited ? 0 : status & 0x7f,
                    stdout: Array(FileManager.default.contents(atPath: out) ?? Data()),
                    stderr: Array(FileManager.default.contents(atPath: err) ?? Data()),
                    peakRSS: peak, hung: hung)
}

/// `VmHWM` of a running process in bytes (0 when it cannot be read).
func highWaterMark(of pid: pid_t) -> Int {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return 0 }
    return kilobytes * 1024
}

/// One step as the run recorded it.
struct RecordedStep: Equatable, CustomStringConvertible {
    var episode: String
    var step: Int
    var verdict: String
    var reason: String?
    var commit: String

    var description: String { "\(episode)#\(step) \(verdict)\(reason.map { " (\($0))" } ?? "")" }
}

/// The run folder's record, read with plain JSON (as a user without driftbox would).
struct RunFolder {
    let url: URL

    /// Every JSON line of a file.
    func lines(_ name: String) throws -> [[String: Any]] {
        let text = try String(contentsOf: url.appendingPathComponent(name), encoding: .utf8)
        return try text.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    /// The steps of the original record (`events.jsonl`).
    func steps() throws -> [RecordedStep] {
        try lines("events.jsonl").compactMap { line -> RecordedStep? in
            guard line["type"] as? String == "step", let step = line["step"] as? [String: Any],
                  let verdict = step["verdict"] as? [String: Any] else { return nil }
            return RecordedStep(episode: step["episode"] as? String ?? "", step: step["step"] as? Int ?? 0,
                                verdict: verdict["kind"] as? String ?? "", reason: verdict["reason"] as? String,
                                commit: step["commit"] as? String ?? "")
        }
    }

    /// How each episode ended: status and reason.
    func ends() throws -> [(status: String, reason: String?)] {
        try lines("events.jsonl").compactMap { line in
            guard line["type"] as? String == "end", let end = line["end"] as? [String: Any] else { return nil }
            return (end["status"] as? String ?? "", end["reason"] as? String)
        }
    }

    /// The verdict kinds of the newest verdict set written by `rescore`, by `episode#step`.
    func newestVerdictSet() throws -> [String: String] {
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url.appendingPathComponent("run.json"))) as? [String: Any])
        let sets = try #require(manifest["verdictSets"] as? [[String: Any]])
        let file = try #require(sets.last?["file"] as? String)
        var result: [String: String] = [:]
        for line in try lines(file) {
            let verdict = line["verdict"] as? [String: Any]
            result["\(line["episode"] as? String ?? "")#\(line["step"] as? Int ?? 0)"] = verdict?["kind"] as? String
        }
        return result
    }

    /// Everything the run's transcripts hold, as one text.
    func transcripts() -> String {
        let folder = url.appendingPathComponent("transcripts")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.sorted().map { String(decoding: FileManager.default.contents(atPath: folder.appendingPathComponent($0).path) ?? Data(), as: UTF8.self) }
            .joined(separator: "\n")
    }
}

/// Regular files below `folder` (not following links) whose setuid or setgid bit is set.
func setIDFiles(below folder: String) -> [String] {
    var found: [String] = []
    var stack = [folder]
    var visited = 0
    while let current = stack.popLast(), visited < 200_000 {
        visited += 1
        var info = stat()
        guard lstat(current, &info) == 0 else { continue }
        if info.st_mode & S_IFMT == S_IFDIR {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: current) else { continue }
            stack += names.map { current + "/" + $0 }
        } else if info.st_mode & S_IFMT == S_IFREG, info.st_mode & (S_ISUID | S_ISGID) != 0 {
            found.append(current)
        }
    }
    return found
}

/// A fresh folder under the system's temporary directory, readable only by its owner.
func privateFolder(_ name: String) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("driftbox-\(name)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    return folder
}

/// Removes a folder tree that may be very deep or hold very long paths (what the hostile cases
/// leave behind when the runner failed to clean up): `rm -rf` walks with descriptors, not paths.
func removeTree(_ folder: URL) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/rm")
    process.arguments = ["-rf", "--one-file-system", folder.path]
    try? process.run()
    process.waitUntilExit()
}
