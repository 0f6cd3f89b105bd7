/// Workspace-engine benchmarks against the git CLI.
enum GitBenchmarks {
    static func run(iterations: Int) throws -> [BenchRow] { [] }
}
