import Foundation

// driftbox-bench [--only git,sandbox,runner,report,gateway,agent,concurrent] [--iterations N] [--write FILE]
var only: Set<String> = ["git", "sandbox", "runner", "report", "gateway", "agent", "concurrent"]
var iterations = 30
var writePath: String?
var args = CommandLine.arguments.dropFirst().makeIterator()
while let arg = args.next() {
    switch arg {
    case "--only": only = Set((args.next() ?? "").split(separator: ",").map(String.init))
    case "--iterations": iterations = Int(args.next() ?? "") ?? iterations
    case "--write": writePath = args.next()
    default:
        FileHandle.standardError.write("usage: driftbox-bench [--only git,sandbox,runner,report,gateway,agent,concurrent] [--iterations N] [--write FILE]\n".data(using: .utf8)!)
        exit(2)
    }
}

var rows: [BenchRow] = []
if only.contains("git") { rows += try GitBenchmarks.run(iterations: iterations) }
if only.contains("sandbox") { rows += try await SandboxBenchmarks.run(iterations: iterations) }
if only.contains("runner") { rows += try await RunnerBenchmarks.run(iterations: iterations) }
if only.contains("report") { rows += try await ReportBenchmarks.run(iterations: iterations) }
if only.contains("gateway") { rows += try await GatewayBenchmarks.run(iterations: iterations) }
if only.contains("agent") { rows += try await AgentBenchmarks.run(iterations: iterations) }
if only.contains("concurrent") { rows += try await ConcurrentRunBenchmarks.run(iterations: iterations) }

var table = "| benchmark | driftbox (median) | reference | reference (median) | ratio (reference ÷ driftbox) | n | note |\n"
table += "|---|---|---|---|---|---|---|\n"
for r in rows {
    table += "| \(r.name) | \(formatSeconds(r.subjectMedian)) | \(r.referenceName) | \(formatSeconds(r.referenceMedian)) | "
    table += String(format: "%.2f×", r.speedup) + " | \(r.iterations) | \(r.note) |\n"
}
print(table)
if let writePath {
    try benchmarksDocument(table: table, iterations: iterations).write(toFile: writePath, atomically: true, encoding: .utf8)
}

/// BENCHMARKS.md: how the figures were taken, on what, and the table.
func benchmarksDocument(table: String, iterations: Int) -> String {
    var uts = utsname()
    uname(&uts)
    func field<T>(_ value: T) -> String {
        withUnsafeBytes(of: value) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
    }
    let date = ISO8601DateFormatter().string(from: Date()).prefix(10)
    return """
    # Benchmarks

    Figures of the latest run of `swift run -c release driftbox-bench --write BENCHMARKS.md`
    (\(date); \(ProcessInfo.processInfo.activeProcessorCount) cores, \(field(uts.sysname)) \(field(uts.release)) \(field(uts.machine))).
    Each row runs driftbox and its reference alternately in the same process, \(iterations) times
    each unless the row says otherwise, and reports both medians. The ratio is reference ÷
    driftbox: above 1, driftbox is faster. Absolute times on a shared virtual machine swing by
    several times from run to run; the ratios, measured side by side, are what to compare.

    \(table)
    """
}
