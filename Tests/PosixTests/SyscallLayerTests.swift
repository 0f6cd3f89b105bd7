import Glibc
import Posix
import Synchronization
import Testing

/// Deliveries of SIGUSR1 to the handler below.
private let deliveries = Atomic<Int>(0)

/// A SIGUSR1 handler installed without `SA_RESTART`: a read blocked when the signal arrives fails
/// with `EINTR` instead of being restarted by the kernel.
private func installInterruptingHandler() {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { _ in deliveries.add(1, ordering: .sequentiallyConsistent) }
    sigemptyset(&action.sa_mask)
    action.sa_flags = 0
    sigaction(SIGUSR1, &action, nil)
}

/// Runs `body` on a new thread with SIGUSR1 unblocked (a thread inherits the mask of the one that
/// creates it, and the task pool's threads block most signals); join it with `pthread_join`.
private func startThread(_ body: @escaping @Sendable () -> Void) -> pthread_t {
    final class Box { let body: @Sendable () -> Void; init(_ b: @escaping @Sendable () -> Void) { body = b } }
    let raw = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let rc = pthread_create(&thread, nil, { arg in
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGUSR1)
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
        Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue().body()
        return nil
    }, raw)
    precondition(rc == 0, "pthread_create failed")
    return thread
}

/// The system call number of `read(2)`.
private var readSyscall: Int {
    #if arch(x86_64)
    return 0
    #else
    return 63
    #endif
}

/// Waits until some thread of this process is blocked in `read(2)` on `descriptor`, as
/// `/proc/self/task/*/syscall` shows it (number, then the arguments in hex).
private func waitUntilBlockedInRead(on descriptor: FileDescriptor) throws {
    let wanted = "\(readSyscall) 0x\(String(descriptor.rawValue, radix: 16)) "
    while true {
        let tasks = try FileDescriptor.openDirectory(path: "/proc/self/task").closeAfter { try $0.entries() }
        for task in tasks {
            let path = "/proc/self/task/\(String(decoding: task.name, as: UTF8.self))/syscall"
            guard let line = try? FileDescriptor.open(path, O_RDONLY).closeAfter({ try $0.readToEnd(limit: 4096) }) else { continue }
            if String(decoding: line, as: UTF8.self).hasPrefix(wanted) { return }
        }
        sched_yield()
    }
}

/// What a reader thread got.
private final class Outcome: Sendable {
    let value = Mutex<Result<[UInt8], PosixError>?>(nil)
}

/// Spawns `/bin/sh -c script` with `stdin` (if any) as its standard input and `attributes` set by
/// `prepare`; returns its pid.
private func spawnShell(_ script: String, stdin: FileDescriptor? = nil,
                        prepare: (inout posix_spawnattr_t, inout posix_spawn_file_actions_t) throws -> Void = { _, _ in }) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if let stdin { posix_spawn_file_actions_adddup2(&actions, stdin.rawValue, 0) }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    try prepare(&attributes, &actions)
    let argv: [UnsafeMutablePointer<CChar>?] = ["/bin/sh", "-c", script].map { (word: String) in strdup(word) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = argv.withUnsafeBufferPointer { posix_spawn(&pid, "/bin/sh", &actions, &attributes, $0.baseAddress!, environ) }
    try #require(rc == 0, "posix_spawn of /bin/sh failed: \(Errno(rawValue: rc))")
    return pid
}

@Suite("Posix system-call layer", .timeLimit(.minutes(1)))
struct SyscallLayerTests {
    @Test("a raw read on a pipe interrupted by a handler without SA_RESTART fails with EINTR (the setup the next test relies on)")
    func rawReadIsInterrupted() throws {
        installInterruptingHandler()
        let pipe = try FileDescriptor.makePipe()
        defer { pipe.read.close(); pipe.write.close() }
        let outcome = Outcome()
        let reader = pipe.read
        let thread = startThread {
            var byte: UInt8 = 0
            let n = Glibc.read(reader.rawValue, &byte, 1)
            let error = Glibc.errno
            let failure = PosixError(.systemCall, function: "read", errno: Errno(rawValue: error), path: "", hint: "")
            outcome.value.withLock { $0 = n < 0 ? .failure(failure) : .success([byte]) }
        }
        try waitUntilBlockedInRead(on: reader)
        let before = deliveries.load(ordering: .sequentiallyConsistent)
        pthread_kill(thread, SIGUSR1)
        pthread_join(thread, nil)
        #expect(deliveries.load(ordering: .sequentiallyConsistent) > before)
        let result = try #require(outcome.value.withLock { $0 })
        guard case .failure(let error) = result else { Issue.record("the raw read returned data"); return }
        #expect(error.errno == .interrupted)
    }

    @Test("a read through the layer interrupted the same way is retried and returns the data, not EINTR")
    func readRetriesAfterInterruption() throws {
        installInterruptingHandler()
        let pipe = try FileDescriptor.makePipe()
        defer { pipe.read.close(); pipe.write.close() }
        let outcome = Outcome()
        let reader = pipe.read
        let thread = startThread {
            var buffer = [UInt8](repeating: 0, count: 16)
            let result: Result<[UInt8], PosixError>
            do {
                let count = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }
                result = .success(Array(buffer[0..<count]))
            } catch {
                result = .failure(error as! PosixError)
            }
            outcome.value.withLock { $0 = result }
        }
        try waitUntilBlockedInRead(on: reader)
        let before = deliveries.load(ordering: .sequentiallyConsistent)
        pthread_kill(thread, SIGUSR1)
        while deliveries.load(ordering: .sequentiallyConsistent) == before { sched_yield() }
        // The handler ran in the reader, so its read failed with EINTR; blocked in read again
        // means the layer retried it.
        try waitUntilBlockedInRead(on: reader)
        #expect(outcome.value.withLock { $0 } == nil)
        try [UInt8]([1, 2, 3]).withUnsafeBytes { try pipe.write.writeAll($0) }
        pthread_join(thread, nil)
        let result = try #require(outcome.value.withLock { $0 })
        #expect(try result.get() == [1, 2, 3])
    }

    @Test("a failed call throws the errno captured right after it, with the call's name and the file")
    func errnoIsCapturedWithTheCallName() throws {
        let path = "/proc/self/no-such-entry/file"
        do {
            _ = try FileDescriptor.open(path, O_RDONLY)
            Issue.record("opening \(path) succeeded")
        } catch let error as PosixError {
            #expect(error.kind == .systemCall)
            #expect(error.function == "open")
            #expect(error.errno == .noEntry)
            #expect(error.path == path)
            #expect(error.description.hasPrefix("\(path): open failed: \(Errno.noEntry) (errno \(ENOENT))"))
        }
        do {
            _ = try systemCall("fsync") { fsync(-1) }
            Issue.record("fsync(-1) succeeded")
        } catch let error as PosixError {
            #expect(error.function == "fsync")
            #expect(error.errno == .badDescriptor)
            #expect(error.description.hasPrefix("fsync failed"))
        }
    }

    @Test("a sealed memory file refuses writes, truncation and growth, and keeps its bytes")
    func sealedMemoryFileRefusesWrites() throws {
        let file = try FileDescriptor.memoryFile(name: "posix-tests")
        defer { file.close() }
        try file.write([1, 2, 3, 4], at: 0)
        try file.sealAgainstChanges()
        #expect(throws: PosixError(.systemCall, function: "pwrite", errno: .notPermitted, path: "", hint: "check free disk space")) {
            try file.write([9], at: 0)
        }
        #expect(throws: PosixError.self) { try file.truncate(to: 2) }
        #expect(throws: PosixError.self) { try file.write([9], at: 4) }
        var buffer = [UInt8](repeating: 0, count: 8)
        #expect(try file.read(into: &buffer, at: 0) == 4)
        #expect(Array(buffer[0..<4]) == [1, 2, 3, 4])
        #expect(try file.status().size == 4)
    }

    @Test("a process's exit descriptor is not readable while it runs and becomes readable when it exits")
    func exitDescriptorBecomesReadable() throws {
        let input = try FileDescriptor.makePipe()
        defer { input.read.close() }
        let pid = try spawnShell("read line; exit 4", stdin: input.read)
        let exit = try Processes.exitDescriptor(of: pid)
        defer { exit.close() }
        // The shell waits for a line that never comes until the pipe is closed.
        var fds = [pollfd(fd: exit.rawValue, events: Int16(POLLIN), revents: 0)]
        #expect(try poll(&fds, timeout: 0) == 0)
        #expect(try Processes.wait(for: pid, blocking: false) == nil)
        input.write.close()
        #expect(try poll(&fds, timeout: -1) == 1)
        #expect(fds[0].revents & Int16(POLLIN) != 0)
        let status = try #require(try Processes.wait(for: pid))
        #expect(status.exitCode == 4)
        #expect(status.signal == nil)
    }

    @Test("wait statuses decode exits and signals")
    func waitStatusDecoding() throws {
        let exited = try #require(try Processes.wait(for: try spawnShell("exit 7")))
        #expect(exited.exitCode == 7)
        #expect(exited.signal == nil)
        let killed = try #require(try Processes.wait(for: try spawnShell("kill -KILL $$")))
        #expect(killed.exitCode == nil)
        #expect(killed.signal == SIGKILL)
        #expect(WaitStatus(rawValue: 3 << 8).exitCode == 3)
        #expect(WaitStatus(rawValue: SIGTERM).signal == SIGTERM)
        #expect(WaitStatus(rawValue: SIGTERM).exitCode == nil)
        #expect(throws: PosixError.self) { try Processes.wait(for: getpid()) }  // not a child: ECHILD
    }

    @Test("spawn settings: a session of its own, descriptors from a number on closed")
    func spawnSettings() throws {
        // A descriptor the child would inherit (no close-on-exec), at a known number.
        let open = try FileDescriptor.openDirectory(path: "/")
        defer { open.close() }
        let inherited = FileDescriptor(rawValue: dup(open.rawValue))
        defer { inherited.close() }
        let check = "test \"$(cut -d' ' -f6 /proc/$$/stat)\" = $$ || exit 10; test -e /proc/$$/fd/\(inherited.rawValue) && exit 11; exit 0"
        let pid = try spawnShell(check) { attributes, actions in
            try Processes.setDefaultSignalsAndNewSession(&attributes)
            try Processes.closeDescriptors(from: 3, in: &actions)
        }
        #expect(try Processes.wait(for: pid)?.exitCode == 0)
        // Without the settings the same child shares this session and inherits the descriptor.
        let plain = try spawnShell("test -e /proc/$$/fd/\(inherited.rawValue) || exit 12; test \"$(cut -d' ' -f6 /proc/$$/stat)\" = $$ && exit 13; exit 0")
        #expect(try Processes.wait(for: plain)?.exitCode == 0)
    }
}
