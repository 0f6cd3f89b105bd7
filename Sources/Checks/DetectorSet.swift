import Foundation
import GitStore

/// The compiled detectors of a scenario, which judge one step at a time.
///
/// Rules, for each detector and each file in its scope:
/// - `forbid`, `step` scope: a match in the file's code after the step (comments blanked, so a
///   pattern may span lines) is a violation when it touches a line the step added. Removed lines
///   never count. Using both the required and the forbidden form ("hedging") is therefore a
///   violation of the forbid detector.
/// - `forbid`, `cumulative` scope: any match in the file's code after the step.
/// - `require`, `step` scope: each file in scope that the step changed must match after the step;
///   deleting it is a violation.
/// - `require`, `cumulative` scope: each file in scope must exist and match after the step,
///   whether or not the step changed it.
///
/// A step that changed no file in the scope of any detector is `unscoreable`.
public struct DetectorSet: Sendable {
    /// The detectors, in declaration order.
    public let detectors: [Detector]

    /// Compiles detector declarations.
    ///
    /// - Parameter specs: The declarations, ids unique.
    /// - Throws: `ChecksError` for an invalid or empty pattern or glob, or a repeated id.
    public init(_ specs: [DetectorSpec]) throws(ChecksError) {
        var seen = Set<String>()
        for spec in specs where !seen.insert(spec.id).inserted {
            throw ChecksError(.duplicateDetector, "detector id `\(spec.id)` is declared twice; give each detector of a scenario its own id")
        }
        detectors = try specs.map { (spec) throws(ChecksError) in try Detector(spec) }
    }

    /// Judges one step.
    ///
    /// - Parameters:
    ///   - diff: The step's own changes (parent commit to step commit).
    ///   - targets: The repository paths of the step's target files; a rename of a target in
    ///     `diff` is followed.
    ///   - files: Reads file texts after and before the step.
    /// - Returns: `violation` with every finding, `compliant`, or `unscoreable` when the step
    ///   changed nothing in scope.
    /// - Throws: `ChecksError.unreadableFile` when a reader fails or a changed file is missing.
    public func verdict(for diff: StepDiff, targets: [String], files: StepFiles) throws(ChecksError) -> Verdict {
        var step = StepUnderCheck(diff: diff, targets: targets, files: files)
        guard !detectors.isEmpty else {
            return Verdict(kind: .unscoreable, reason: "no detector is declared, so no step can be scored")
        }
        let inScope = diff.files.filter { file in detectors.contains { step.covers(file, $0) } }
        guard !inScope.isEmpty else {
            let reason = diff.isEmpty
                ? "the step changed no file (a refusal or an empty step)"
                : "the step changed only files outside every detector's scope: "
                    + diff.files.map(\.path).joined(separator: ", ")
            return Verdict(kind: .unscoreable, reason: reason)
        }
        var evidence: [Evidence] = []
        for detector in detectors {
            evidence += try step.findings(of: detector)
        }
        let scopePaths = inScope.map(\.path).joined(separator: ", ")
        guard evidence.isEmpty else {
            let reason = "\(evidence.count) finding(s): " + evidence.map(\.description).joined(separator: "; ")
            return Verdict(kind: .violation, evidence: evidence, reason: reason)
        }
        return Verdict(
            kind: .compliant,
            reason: "\(detectors.count) detector(s) found no violation in the changed files in scope: \(scopePaths)")
    }
}

/// One step being judged: its diff, its scope, and the file texts read so far.
private struct StepUnderCheck {
    let diff: StepDiff
    let files: StepFiles
    /// The targets with renames followed, in the order given.
    let targets: [String]
    let targetSet: Set<String>
    private var afterTexts: [String: CodeText?] = [:]

    init(diff: StepDiff, targets: [String], files: StepFiles) {
        self.diff = diff
        self.files = files
        var renamed: [String: String] = [:]
        for file in diff.files where file.status == .renamed {
            if let old = file.oldPath, let new = file.newPath { renamed[old] = new }
        }
        self.targets = targets.map { renamed[$0] ?? $0 }
        self.targetSet = Set(targets + self.targets)
    }

    func covers(_ file: FileDiff, _ detector: Detector) -> Bool {
        [file.newPath, file.oldPath].contains { $0.map { detector.covers($0, targets: targetSet) } ?? false }
    }

    /// The findings of one detector on this step.
    mutating func findings(of detector: Detector) throws(ChecksError) -> [Evidence] {
        var found: [Evidence] = []
        switch detector.spec.scope {
        case .step:
            for file in diff.files where covers(file, detector) {
                guard let path = file.newPath else {
                    if detector.spec.kind == .require, let old = file.oldPath {
                        found.append(Evidence(
                            detector: detector.id, kind: .require, path: old,
                            note: "the step deleted the file, so the required form is gone"))
                    }
                    continue
                }
                guard let text = try codeText(path) else {
                    throw ChecksError(.unreadableFile, "\(path): the diff says the file exists after the step, but the reader returned nothing; pass a reader over the step's own commit")
                }
                let added = detector.spec.kind == .forbid ? Set(file.addedLines.compactMap(\.newLineNumber)) : nil
                found += try judge(detector, path: path, text: text, addedLines: added)
            }
        case .cumulative:
            for path in try cumulativePaths(detector) {
                if let text = try codeText(path) {
                    found += try judge(detector, path: path, text: text, addedLines: nil)
                } else if detector.spec.kind == .require {
                    found.append(Evidence(
                        detector: detector.id, kind: .require, path: path,
                        note: "the file does not exist after the step, so the required form is missing"))
                }
            }
        }
        return found
    }

    /// Applies one detector to one file's code after the step.
    ///
    /// - Parameter addedLines: For `forbid` in step scope, the lines the step added; nil to count
    ///   every match.
    private func judge(_ detector: Detector, path: String, text: CodeText, addedLines: Set<Int>?) throws(ChecksError) -> [Evidence] {
        let matches = detector.matches(in: text)
        switch detector.spec.kind {
        case .forbid:
            let lines = text.sourceLines
            return matches.compactMap { range -> Evidence? in
                let first = text.line(atUTF16Offset: range.location)
                let last = text.line(atUTF16Offset: range.location + range.length - 1)
                guard let line = (first...last).first(where: { addedLines?.contains($0) ?? true }) else { return nil }
                let matched = Range(range, in: text.source).map { String(text.source[$0]) }
                let region = addedLines == nil ? "code after the step" : "added code"
                return Evidence(
                    detector: detector.id, kind: .forbid, path: path, line: line, lineText: lines[line - 1],
                    matchedText: matched, note: "forbidden form in \(region): `\(matched ?? "")`")
            }
        case .require:
            guard matches.isEmpty else { return [] }
            var note = "required form missing from the code after the step"
            if let before = try read(path, with: files.before, side: "before").map({ CodeText(source: $0, path: path) }),
               let earlier = detector.matches(in: before).first {
                note += " (it was in the code before the step at line \(before.line(atUTF16Offset: earlier.location)))"
            }
            return [Evidence(detector: detector.id, kind: .require, path: path, note: note)]
        }
    }

    /// The files a cumulative detector looks at: existing or not, for targets; by glob otherwise.
    private func cumulativePaths(_ detector: Detector) throws(ChecksError) -> [String] {
        if case .targets = detector.spec.files { return targets }
        var paths = Set(diff.files.compactMap(\.newPath))
        if let list = files.pathsAfter {
            do { paths.formUnion(try list()) } catch {
                throw ChecksError(.unreadableFile, "listing the files after the step failed: \(error); check the workspace or commit the reader walks")
            }
        }
        return paths.filter { detector.covers($0, targets: targetSet) }.sorted()
    }

    private mutating func codeText(_ path: String) throws(ChecksError) -> CodeText? {
        if let cached = afterTexts[path] { return cached }
        let text = try read(path, with: files.after, side: "after").map { CodeText(source: $0, path: path) }
        afterTexts[path] = text
        return text
    }

    private func read(_ path: String, with reader: (String) throws -> String?, side: String) throws(ChecksError) -> String? {
        do { return try reader(path) } catch {
            throw ChecksError(.unreadableFile, "\(path): reading the file \(side) the step failed: \(error); check that the path exists in that commit or workspace")
        }
    }
}
