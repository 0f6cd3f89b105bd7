import Foundation

// driftbox-bench [--only git|sandbox] [--iterations N] [--write FILE]
var only: Set<String> = ["git", "sandbox", "runner"]
var iterations = 30
var writePath: String?
var args = CommandLine.arguments.dropFirst().makeIterator()
while let arg = args.next() {
    switch arg {
    case "--only": only = Set((args.next() ?? "").split(separator: ",").map(String.init))
    case "--iterations": iterations = Int(args.next() ?? "") ?? iterations
    case "--write": writePath = args.next()
    default:
        FileHandle.standardError.write("usage: driftbox-bench [--only git,sandbox] [--iterations N] [--write FILE]\n".data(using: .utf8)!)
        exit(2)
    }
}

var rows: [BenchRow] = []
if only.contains("git") { rows += try GitBenchmarks.run(iterations: iterations) }
if only.contains("sandbox") { rows += try await SandboxBenchmarks.run(iterations: iterations) }
if only.contains("runner") { rows += try await RunnerBenchmarks.run(iterations: iterations) }

var table = "| benchmark | driftbox (median) | reference | reference (median) | ratio (reference ÷ driftbox) | n | note |\n"
table += "|---|---|---|---|---|---|---|\n"
for r in rows {
    table += "| \(r.name) | \(formatSeconds(r.subjectMedian)) | \(r.referenceName) | \(formatSeconds(r.referenceMedian)) | "
    table += String(format: "%.2f×", r.speedup) + " | \(r.iterations) | \(r.note) |\n"
}
print(table)
if let writePath {
    try table.write(toFile: writePath, atomically: true, encoding: .utf8)
}
