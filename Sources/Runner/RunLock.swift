import Foundation
import Posix

/// The one-writer lock of a run folder: an exclusive `flock` on `<run>/lock`, held for the whole
/// of a writing command (`run`, `resume`, `rescore`).
///
/// After locking, the holder writes who it is (pid, command line) and the scratch folder it is
/// about to create into the file, so a refused writer can name the holder and the next writer
/// knows exactly which scratch folder a killed holder left behind. The kernel releases the lock
/// when the holder exits, however it exits. Readers (`report`, `audit`, `replay`, `check`)
/// never take it.
public final class RunLock: @unchecked Sendable {
    /// Who holds (or last held) a run's lock, as written into the lock file.
    public struct Holder: Sendable, Codable, Equatable {
        /// The holder's process id.
        public var pid: Int32
        /// Its command line.
        public var command: String
        /// The scratch folder it made (removed by the next holder if it is still there).
        public var scratch: String?
    }

    /// The lock file's name inside a run folder.
    public static let fileName = "lock"

    /// The lock file's path when it was taken.
    public let path: String
    /// What the previous holder wrote: a holder that is gone (the lock was free).
    public let previous: Holder?
    private let fd: FileDescriptor
    private var holder: Holder

    /// Takes the lock of `folder` without waiting.
    /// - Parameters:
    ///   - folder: the run folder (or the folder a run is being assembled in).
    ///   - command: the command line to name in the lock file.
    /// - Throws: `RunStoreError.locked` naming the holder when another process holds it,
    ///   `RunStoreError.system` when the file cannot be opened.
    public init(folder: URL, command: String = RunLock.commandLine) throws {
        path = folder.appendingPathComponent(Self.fileName).path
        let path = path
        let fd = try RunStoreError.calling(path: path) { try FileDescriptor.open(path, O_RDWR | O_CREAT, mode: 0o644) }
        // A few tries: `holder(of:)` probes with a shared lock for an instant.
        var attempts = 0
        while true {
            let locked: Bool
            do { locked = try fd.tryLock(LOCK_EX) } catch {
                fd.close()
                throw RunStoreError.converting(error, path: path)
            }
            if locked { break }
            attempts += 1
            if attempts < 10 {
                usleep(2_000)
                continue
            }
            fd.close()
            throw RunStoreError.locked(path: folder.path, holder: Self.waitForHolderRecord(path))
        }
        self.fd = fd
        previous = Self.decode(Self.read(fd: fd))
        // The previous holder's scratch stays named until this holder has removed it and names its own.
        holder = Holder(pid: getpid(), command: command, scratch: previous?.scratch)
        do { try write() } catch {
            fd.close()
            throw error
        }
    }

    deinit { fd.close() }

    /// Records the scratch folder this holder is about to create (call before creating it).
    /// - Throws: `RunStoreError.system` when the lock file cannot be written.
    public func record(scratch: URL) throws {
        holder.scratch = scratch.path
        try write()
    }

    /// Who holds the lock of `folder` now, or nil when nobody does (or there is no lock file).
    /// - Parameter folder: the run folder.
    public static func holder(of folder: URL) -> Holder? {
        let path = folder.appendingPathComponent(fileName).path
        guard let fd = try? FileDescriptor.open(path, O_RDONLY) else { return nil }
        defer { fd.close() }
        if (try? fd.tryLock(LOCK_SH)) == true {
            try? fd.unlock()
            return nil
        }
        return waitForHolderRecord(path)
    }

    /// This process's command line, program name shortened to `driftbox`.
    public static var commandLine: String {
        (["driftbox"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
    }

    /// The holder record of a held lock; it is written right after locking, so an empty file is
    /// read again for a moment (bounded) before giving up on naming the holder.
    private static func waitForHolderRecord(_ path: String) -> Holder {
        for _ in 0..<200 {
            if let fd = try? FileDescriptor.open(path, O_RDONLY) {
                let holder = decode(read(fd: fd))
                fd.close()
                if let holder { return holder }
            }
            usleep(5_000)
        }
        return Holder(pid: 0, command: "(a process that has not written its name yet)", scratch: nil)
    }

    private func write() throws {
        var data = try JSONEncoder().encode(holder)
        data.append(UInt8(ascii: "\n"))
        // Written over the old record, then cut to length: a kill in between leaves the new
        // record as the first line (only the first line is read), never an empty file.
        try RunStoreError.calling(path: path) {
            try fd.write(Array(data), at: 0)
            try fd.truncate(to: Int64(data.count))
        }
    }

    /// At most 64 KiB of the file (the record is one short line).
    private static func read(fd: FileDescriptor) -> Data {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let n = (try? fd.read(into: &buffer, at: 0)) ?? 0
        return n > 0 ? Data(buffer[0..<n]) : Data()
    }

    private static func decode(_ data: Data) -> Holder? {
        guard let line = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).first else { return nil }
        return try? JSONDecoder().decode(Holder.self, from: Data(line))
    }
}

/// Scratch folders of this process that must go when it is interrupted (SIGINT, SIGTERM, SIGHUP).
///
/// A caught signal removes every registered folder, then ends the process by the same signal with
/// its default action, so the exit status still says which signal ended it. The handler itself
/// only writes one byte to a pipe; a dedicated thread does the removal.
enum ScratchCleanup {
    private static let state = CleanupState()

    /// Adds a folder to remove on a signal; installs the handlers on first use.
    static func register(_ folder: URL) {
        state.installOnce()
        state.lock.withLock { _ = state.folders.insert(folder.path) }
    }

    /// Removes a folder (now) and forgets it.
    static func remove(_ folder: URL) {
        state.lock.withLock { _ = state.folders.remove(folder.path) }
        try? TreeRemoval.remove(folder.path)
    }

    /// Removes the scratch folder a killed holder left. Processes that holder started may still
    /// be ending and writing into it for a moment, so the removal is retried (bounded) until the
    /// folder is gone.
    static func removeStale(_ folder: URL) {
        for _ in 0..<50 {
            try? TreeRemoval.remove(folder.path)
            if !FileManager.default.fileExists(atPath: folder.path) { return }
            usleep(20_000)
        }
    }

    /// Forgets a folder without removing it (it was renamed into place).
    static func forget(_ folder: URL) {
        state.lock.withLock { _ = state.folders.remove(folder.path) }
    }

    /// Creates `folder` with mode 0700 (the parent must exist) and registers it.
    /// - Throws: `RunStoreError.system` when it cannot be created.
    static func create(_ folder: URL) throws {
        register(folder)
        _ = try RunStoreError.calling(path: folder.path) { try systemCall("mkdir", path: folder.path) { mkdir(folder.path, 0o700) } }
    }

    /// True once a signal is being handled: the process is about to end by it.
    static var interrupted: Bool { state.lock.withLock { state.interrupted } }

    /// Called where a failure is about to be reported: while a signal is being handled, the
    /// failure is a consequence of the cleanup, so the calling thread waits for the process to
    /// end by the signal instead of recording or reporting anything.
    static func parkIfInterrupted() {
        guard interrupted else { return }
        while true { sleep(60) }
    }

    fileprivate static func removeAll() {
        let folders = state.lock.withLock {
            state.interrupted = true
            return state.folders
        }
        for folder in folders {
            // Renamed away first, so the folder disappears at once for every thread still using it.
            let doomed = folder + ".removing-\(getpid())"
            let target = (try? systemCall("rename", path: folder) { rename(folder, doomed) }) != nil ? doomed : folder
            for _ in 0..<3 { try? TreeRemoval.remove(target) }
        }
    }
}

nonisolated(unsafe) private var signalPipe: (read: Int32, write: Int32) = (-1, -1)

private final class CleanupState: @unchecked Sendable {
    let lock = NSLock()
    var folders: Set<String> = []
    var interrupted = false
    private var installed = false

    func installOnce() {
        lock.lock()
        defer { lock.unlock() }
        guard !installed else { return }
        installed = true
        guard let fds = try? FileDescriptor.makePipe() else { return }
        signalPipe = (fds.read.rawValue, fds.write.rawValue)
        let thread = Thread {
            var signal: UInt8 = 0
            let count = try? withUnsafeMutableBytes(of: &signal) { try FileDescriptor(rawValue: signalPipe.read).read(into: $0) }
            guard count == 1 else { return }
            ScratchCleanup.removeAll()
            // End the process by the same signal, with its default action: unblocked here and
            // sent to the process (a thread may have it blocked), then an exit as a last resort.
            let number = Int32(signal)
            Foundation.signal(number, SIG_DFL)
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, number)
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
            kill(getpid(), number)
            usleep(200_000)
            _exit(128 + number)
        }
        thread.start()
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                // A raw write: the handler may call only async-signal-safe functions, and one
                // byte into an empty pipe neither blocks nor is cut short.
                var byte = UInt8(truncatingIfNeeded: sig)
                _ = Foundation.write(signalPipe.write, &byte, 1)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(sig, &action, nil)
        }
    }
}
