/// Sandbox spawn benchmarks against bare spawn, unshare and bubblewrap.
enum SandboxBenchmarks {
    static func run(iterations: Int) async throws -> [BenchRow] { [] }
}
