import Foundation

/// One benchmark figure: the subject's median against a reference measured in the same run.
struct BenchRow: Sendable {
    /// What was measured.
    var name: String
    /// Median seconds of driftbox doing it.
    var subjectMedian: Double
    /// What driftbox is compared against (git CLI, bubblewrap, bare spawn…).
    var referenceName: String
    /// Median seconds of the reference doing the same.
    var referenceMedian: Double
    /// Iterations of each side.
    var iterations: Int
    /// Free text: what the target is, caveats.
    var note: String = ""

    /// How many times faster driftbox is than the reference (> 1 is faster).
    var speedup: Double { referenceMedian / subjectMedian }
}

/// Median of a non-empty sample.
func median(_ samples: [Double]) -> Double {
    precondition(!samples.isEmpty, "median of no samples")
    let sorted = samples.sorted()
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/// Wall-clock seconds of one call.
func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Wall-clock seconds of one async call.
func seconds(_ body: () async throws -> Void) async rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try await body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Runs subject and reference alternately, `iterations` times each, and returns both medians.
func sideBySide(iterations: Int, subject: () throws -> Void, reference: () throws -> Void) rethrows -> (Double, Double) {
    var s: [Double] = []
    var r: [Double] = []
    for _ in 0..<iterations {
        s.append(try seconds(subject))
        r.append(try seconds(reference))
    }
    return (median(s), median(r))
}

/// Formats seconds for a table (µs, ms or s).
func formatSeconds(_ s: Double) -> String {
    if s < 1e-3 { return String(format: "%.1f µs", s * 1e6) }
    if s < 1 { return String(format: "%.2f ms", s * 1e3) }
    return String(format: "%.2f s", s)
}
