import Glibc
import Posix
import Synchronization

/// One spawned launcher and the loop that feeds its stdin, captures its output, enforces the
/// wall-clock timeout and reaps it. Used by exactly one thread from spawn to completion.
final class Execution: @unchecked Sendable {
    let pid: pid_t
    let startNanos: UInt64
    let timeout: Duration
    let outputLimit: Int
    let mode: SandboxMode
    let networkIsolated: Bool
    let scratch: String?
    var stdinFD: Int32
    var stdinBytes: [UInt8]
    var stdinOffset = 0
    var stdoutFD: Int32
    var stderrFD: Int32
    var reportFD: Int32
    /// The runner's end of the socket pair the gateway's listening socket arrives on (-1: none).
    var gatewayFD: Int32
    let gateway: GatewayListener?
    /// One read buffer for every pipe of this execution (allocated on first use).
    private var readBuffer: [UInt8] = []
    /// Whether the launcher has been reaped (after which its pid must not be signalled).
    let reaped = Mutex(false)

    private init(pid: pid_t, start: UInt64, timeout: Duration, outputLimit: Int, mode: SandboxMode, networkIsolated: Bool,
                 scratch: String?, stdin: (Int32, [UInt8]), stdout: Int32, stderr: Int32, report: Int32,
                 gatewayFD: Int32, gateway: GatewayListener?) {
        self.gatewayFD = gatewayFD
        self.gateway = gateway
        self.pid = pid
        self.startNanos = start
        self.timeout = timeout
        self.outputLimit = outputLimit
        self.mode = mode
        self.networkIsolated = networkIsolated
        self.scratch = scratch
        (stdinFD, stdinBytes) = stdin
        stdoutFD = stdout
        stderrFD = stderr
        reportFD = report
    }

    /// posix_spawns the launcher with its fds in place (0-2 pipes, 3 policy, 4 report, 5 lifeline,
    /// 6 the launcher's end of the gateway socket pair).
    static func spawn(argv: [String], environment: [String], policyFD: Int32?, stdin: [UInt8], timeout: Duration,
                      outputLimit: Int, mode: SandboxMode, networkIsolated: Bool, scratch: String?,
                      gateway: GatewayListener? = nil) throws -> Execution {
        var pipes: [(read: Int32, write: Int32)] = []  // stdin, stdout, stderr, report
        var pair: (runner: Int32, launcher: Int32)?
        do {
            for _ in 0..<4 { pipes.append(try makePipe()) }
            if gateway != nil { pair = try makeSocketPair() }
        } catch {
            for p in pipes { close(p.read); close(p.write) }
            throw error
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let targets: [Int32] = [0, 1, 2, LauncherFD.report] + (policyFD == nil ? [] : [LauncherFD.seccomp]) + [LauncherFD.lifeline]
            + (pair == nil ? [] : [LauncherFD.gateway])
        let sources = [pipes[0].read, pipes[1].write, pipes[2].write, pipes[3].write] + (policyFD.map { [$0] } ?? []) + [lifelineReadFD]
            + (pair.map { [$0.launcher] } ?? [])
        for (source, target) in zip(sources, targets) { posix_spawn_file_actions_adddup2(&actions, source, target) }
        _ = try? Processes.closeDescriptors(from: (pair == nil ? LauncherFD.lifeline : LauncherFD.gateway) + 1, in: &actions)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        try SandboxError.calling("preparing the launcher's signal state") { try Processes.setDefaultSignalsAndNewSession(&attr) }
        var pid: pid_t = 0
        let start = monotonicNanos()
        let rc = withCStrings(argv) { cargv in withCStrings(environment) { cenv in posix_spawn(&pid, argv[0], &actions, &attr, cargv, cenv) } }
        for fd in [pipes[0].read, pipes[1].write, pipes[2].write, pipes[3].write] + (pair.map { [$0.launcher] } ?? []) { close(fd) }
        guard rc == 0 else {
            for fd in [pipes[0].write, pipes[1].read, pipes[2].read, pipes[3].read] + (pair.map { [$0.runner] } ?? []) { close(fd) }
            throw SandboxError(.launcherUnavailable, "cannot start the launcher \(argv[0]); build it or set DRIFTBOX_LAUNCHER", errno: rc)
        }
        for fd in [pipes[0].write, pipes[1].read, pipes[2].read, pipes[3].read] { _ = try? FileDescriptor(rawValue: fd).setNonBlocking() }
        var stdinFD = pipes[0].write
        if stdin.isEmpty { close(stdinFD); stdinFD = -1 }
        return Execution(pid: pid, start: start, timeout: timeout, outputLimit: outputLimit, mode: mode, networkIsolated: networkIsolated,
                         scratch: scratch, stdin: (stdinFD, stdin), stdout: pipes[1].read, stderr: pipes[2].read, report: pipes[3].read,
                         gatewayFD: pair?.runner ?? -1, gateway: gateway)
    }

    /// Asks the launcher to kill the whole tree (the timeout's SIGKILL still applies should it not
    /// exit). Safe from any thread; does nothing once the launcher has been reaped.
    func terminate() {
        reaped.withLock { isReaped in if !isReaped { kill(pid, SIGTERM) } }
    }

    /// Runs ``waitForCompletion()`` on a new thread and hands the result to `done`.
    func runOnDedicatedThread(_ done: @escaping @Sendable (Result<SandboxResult, SandboxError>) -> Void) {
        startThread { done(self.waitForCompletion()) }
    }

    /// Pumps the pipes until the launcher has exited and the output is drained.
    func waitForCompletion() -> Result<SandboxResult, SandboxError> {
        var pipeMask = sigset_t(), oldMask = sigset_t()
        sigemptyset(&pipeMask)
        sigaddset(&pipeMask, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeMask, &oldMask)
        defer {
            var zero = timespec()
            while sigtimedwait(&pipeMask, nil, &zero) == SIGPIPE {}
            pthread_sigmask(SIG_SETMASK, &oldMask, nil)
        }
        defer { if let scratch { removeTree(scratch) } }
        var out = Capture(limit: outputLimit), err = Capture(limit: outputLimit), report = Capture(limit: 1 << 16)
        let pidfd = (try? Processes.exitDescriptor(of: pid))?.rawValue ?? -1
        defer { if pidfd >= 0 { close(pidfd) } }
        let deadline = startNanos + UInt64(max(0, timeout.components.seconds)) * 1_000_000_000 + UInt64(max(0, timeout.components.attoseconds / 1_000_000_000))
        var killAt: UInt64 = .max
        var timedOut = false, killed = false
        var exitStatus: Int32?
        var usage = rusage()
        var drainUntil: UInt64 = .max
        var failure: SandboxError?
        while true {
            let now = monotonicNanos()
            if exitStatus == nil {
                if now >= deadline && !timedOut { timedOut = true; kill(pid, SIGTERM); killAt = now + 500_000_000 }
                if now >= killAt && !killed { killed = true; kill(pid, SIGKILL) }
                var status: Int32 = 0
                let done = reaped.withLock { isReaped in
                    guard let reapedStatus = (try? Processes.wait(for: pid, blocking: false, usage: &usage)) ?? nil else { return false }
                    status = reapedStatus.rawValue
                    isReaped = true
                    return true
                }
                if done { exitStatus = status; drainUntil = now + 500_000_000 }
            }
            let open = [stdoutFD, stderrFD, reportFD].filter { $0 >= 0 }
            if exitStatus != nil && (open.isEmpty || now >= drainUntil) { break }
            var pfds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if stdinFD >= 0 { pfds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
            if exitStatus == nil && pidfd >= 0 { pfds.append(pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)) }
            if gatewayFD >= 0 { pfds.append(pollfd(fd: gatewayFD, events: Int16(POLLIN), revents: 0)) }
            let wake = min(exitStatus == nil ? min(deadline, killAt) : drainUntil, pidfd >= 0 ? .max : now + 10_000_000)
            let waitMs = wake == .max ? -1 : Int32(clamping: (wake > now ? wake - now : 0) / 1_000_000 + 1)
            do { _ = try poll(&pfds, timeout: waitMs) } catch {
                failure = SandboxError.system(error, "waiting for the sandboxed command")
                if exitStatus == nil { kill(pid, SIGKILL) }
                break
            }
            for p in pfds where p.revents != 0 {
                if p.fd == stdoutFD { pump(&stdoutFD, into: &out) }
                else if p.fd == stderrFD { pump(&stderrFD, into: &err) }
                else if p.fd == reportFD { pump(&reportFD, into: &report) }
                else if p.fd == stdinFD { feedStdin() }
                else if p.fd == gatewayFD { receiveGatewaySocket() }
            }
        }
        if gatewayFD >= 0 { receiveGatewaySocket() }  // sent before the command started, if at all
        for fd in [stdinFD, stdoutFD, stderrFD, reportFD, gatewayFD] where fd >= 0 { close(fd) }
        let wall = Duration.nanoseconds(Int64(monotonicNanos() - startNanos))
        if let failure {
            if exitStatus == nil { _ = try? Processes.wait(for: pid) }
            return .failure(failure)
        }
        return interpret(report: report.text, launcherStatus: exitStatus ?? 0, timedOut: timedOut, usage: usage,
                         stdout: out.output, stderr: err.output, wall: wall)
    }

    private func interpret(report: String, launcherStatus: Int32, timedOut: Bool, usage: rusage,
                           stdout: CapturedOutput, stderr: CapturedOutput, wall: Duration) -> Result<SandboxResult, SandboxError> {
        var termination: Termination?
        var landlock = 0
        var errors: [String] = []
        var warnings: [String] = []
        var reported: (user: Int, system: Int, maxRSSKiB: Int)?
        for line in report.split(separator: "\n") {
            let words = line.split(separator: " ", maxSplits: 2).map(String.init)
            switch words.first {
            case "error": errors.append(String(line.dropFirst(6)))
            case "landlock": landlock = Int(words.last ?? "") ?? 0
            case "usage":
                let fields = line.split(separator: " ").dropFirst().compactMap { Int($0) }
                if fields.count == 3 { reported = (fields[0], fields[1], fields[2]) }
            case "pids-cgroup" where words.last == "none":
                warnings.append("no process limit: the launcher runs as root (exempt from RLIMIT_NPROC) and no pids cgroup is available")
            case "status" where words.count == 3:
                let value = Int32(words[2]) ?? 0
                termination = words[1] == "exit" ? .exited(value) : .signaled(value)
            default: break
            }
        }
        if !errors.isEmpty && !timedOut {
            return .failure(SandboxError(.setupFailed, "the launcher failed closed and the command did not run: \(errors.joined(separator: "; "))"))
        }
        if termination == nil {
            let status = WaitStatus(rawValue: launcherStatus)
            termination = timedOut ? .signaled(SIGKILL) : status.exitCode.map { .exited($0) } ?? .signaled(status.signal ?? -1)
        }
        // The launcher's own report covers exactly the command's tree; wait4's rusage (timeouts,
        // launcher failures) also counts the launcher.
        let cpu = reported.map { Duration.microseconds($0.user + $0.system) }
            ?? .seconds(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + .microseconds(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec)
        // Not wait4's figure: the launcher is spawned with the runner's memory mapped (vfork), and
        // exec carries that high-water mark into its usage. Unknown without the report: 0.
        let peak = (reported?.maxRSSKiB ?? 0) * 1024
        return .success(SandboxResult(termination: termination!, timedOut: timedOut, stdout: stdout, stderr: stderr, wallTime: wall,
                                      cpuTime: cpu, peakRSSBytes: peak, mode: mode, landlockABI: landlock,
                                      networkIsolated: networkIsolated, isolationWarnings: warnings))
    }

    /// Reads what is available, at most 1 MiB per call so a flood cannot starve the timeout check.
    private func pump(_ fd: inout Int32, into capture: inout Capture) {
        if readBuffer.isEmpty { readBuffer = [UInt8](repeating: 0, count: 65536) }
        for _ in 0..<16 {
            let source = FileDescriptor(rawValue: fd)
            let available: Int?
            do { available = try readBuffer.withUnsafeMutableBytes { try source.readAvailable(into: $0) } } catch { available = 0 }  // an error ends the stream
            guard let n = available else { return }  // nothing there yet
            if n > 0 { capture.append(readBuffer[0..<n]); continue }
            close(fd)
            fd = -1
            return
        }
    }

    /// Takes the gateway's listening socket from the launcher and hands it to the caller; any
    /// other outcome (the launcher failed before sending it, sent nothing) just ends the pair.
    private func receiveGatewaySocket() {
        let received: FileDescriptor.Received
        do { received = try FileDescriptor(rawValue: gatewayFD).receiveDescriptor(tag: UInt8(ascii: "g")) } catch { received = .none }
        if received == .nothingYet { return }
        close(gatewayFD)
        gatewayFD = -1
        if case .descriptor(let fd) = received { gateway?.received(fd.rawValue) }
    }

    private func feedStdin() {
        while stdinOffset < stdinBytes.count {
            let sink = FileDescriptor(rawValue: stdinFD)
            let taken: Int?
            do { taken = try stdinBytes[stdinOffset...].withUnsafeBytes { try sink.writeAvailable($0) } } catch { taken = 0 }  // EPIPE: the command closed its stdin
            guard let n = taken else { return }  // the pipe is full for now
            if n > 0 { stdinOffset += n; continue }
            break
        }
        close(stdinFD)
        stdinFD = -1
    }
}

/// Output kept up to a limit; the rest counted.
struct Capture {
    let limit: Int
    var bytes: [UInt8] = []
    var total = 0

    init(limit: Int) { self.limit = limit }

    mutating func append(_ chunk: ArraySlice<UInt8>) {
        total += chunk.count
        let room = limit - bytes.count
        if room > 0 { bytes += chunk.prefix(room) }
    }

    var output: CapturedOutput { CapturedOutput(bytes: bytes, totalBytes: total) }
    var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// Removes a folder and everything under it without following symlinks (a command may have
/// planted links to the host in its scratch folder).
func removeTree(_ path: String) {
    try? TreeRemoval.remove(path)
}

func makePipe() throws -> (read: Int32, write: Int32) {
    let fds = try SandboxError.calling("creating the command's pipes") { try FileDescriptor.makePipe() }
    defer { fds.read.close(); fds.write.close() }
    // Keep every fd we hand to posix_spawn above the fixed target numbers 0...5.
    let read = try SandboxError.calling("creating the command's pipes") { try fds.read.duplicate(atLeast: 10) }
    do {
        return (read.rawValue, try fds.write.duplicate(atLeast: 10).rawValue)
    } catch {
        read.close()
        throw SandboxError.system(error, "creating the command's pipes")
    }
}

/// A unix socket pair for the gateway hand-off, both ends above the fixed target numbers.
func makeSocketPair() throws -> (runner: Int32, launcher: Int32) {
    let (first, second) = try SandboxError.calling("creating the gateway's socket pair") { try FileDescriptor.makeSocketPair() }
    defer { first.close(); second.close() }
    let runner = try SandboxError.calling("creating the gateway's socket pair") { try first.duplicate(atLeast: 10) }
    do {
        return (runner.rawValue, try second.duplicate(atLeast: 10).rawValue)
    } catch {
        runner.close()
        throw SandboxError.system(error, "creating the gateway's socket pair")
    }
}

func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Runs `body` on a new detached thread.
func startThread(_ body: @escaping @Sendable () -> Void) {
    final class Box { let body: @Sendable () -> Void; init(_ b: @escaping @Sendable () -> Void) { body = b } }
    let raw = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let rc = pthread_create(&thread, nil, { arg in
        Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue().body()
        return nil
    }, raw)
    if rc == 0 { pthread_detach(thread) } else { Unmanaged<Box>.fromOpaque(raw).takeRetainedValue().body() }
}
