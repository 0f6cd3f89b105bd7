import Foundation

/// Runs blocking work (libgit2 calls, `fsync`) on a thread of its own, never on Swift's
/// cooperative pool: that pool has one thread per core, and episodes blocked in git or in a
/// sync would otherwise keep every other task (agents' timers, cancellation, progress) waiting.
enum Blocking {
    /// A value handed to the blocking thread as is. Used for values that only the awaiting task
    /// touches (a workspace, a repository handle): the task waits while the thread works.
    struct Handoff<Value>: @unchecked Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }

    /// Runs `body` on a new thread and returns its result to the awaiting task.
    static func run<T>(_ body: @escaping () throws -> T) async throws -> T {
        let work = Handoff(body)
        let result: Handoff<Result<T, any Error>> = await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: Handoff(Result { try work.value() }))
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        return try result.value.get()
    }
}
