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
/// - `file` scope: as `cumulative` (the files in scope after the step, changed or not), and the
///   step is judged when it changed any file, in scope or not: the paper's whole-file mode.
///
/// `cumulative` and `file` detectors with globs see every file of the tree at the step (through
/// `StepFiles.pathsAfter`), not only the files the step changed.
///
/// A step that changed no file in the scope of any detector (and, with a `file` detector, any
/// file at all) is `unscoreable`, and so is a step
/// without findings whose files in scope hold binary content or declare a foreign source encoding,
/// or for which the caller passes gaps (paths the snapshot could not store).
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

    /// The detectors whose file globs name `name` at the repository root: a glob whose first
    /// component (wildcards included) matches `name`, so it looks at that file or inside that
    /// folder. Globs starting with `**` reach every folder and are not counted (they look at
    /// the project's files wherever they are); `targets` detectors are not either (the caller
    /// compares the targets itself).
    ///
    /// - Parameter name: one path component.
    /// - Returns: the ids of the detectors, in declaration order.
    public func detectorsNaming(rootName name: String) -> [String] {
        detectors.filter { detector in
            guard case .globs(let patterns) = detector.spec.files else { return false }
            return patterns.contains { pattern in
                let first = String(pattern.prefix { $0 != "/" })
                guard !first.hasPrefix("**"), let glob = try? Glob(first, detector: detector.id) else { return false }
                return glob.matches(name)
            }
        }.map(\.id)
    }

    /// Judges one step.
    ///
    /// Order of judgement: a detector's finding makes the step a `violation` (any gaps are listed
    /// with it); otherwise any gap (nothing in scope, binary content or a foreign source encoding
    /// in a file in scope, or a gap the caller passes, such as a path the snapshot could not
    /// store) makes it `unscoreable`; only a step without findings and without gaps is
    /// `compliant`.
    ///
    /// - Parameters:
    ///   - diff: The step's own changes (parent commit to step commit).
    ///   - targets: The repository paths of the step's target files; a rename of a target in
    ///     `diff` is followed.
    ///   - files: Reads file texts after and before the step.
    ///   - gaps: What the caller knows the checks cannot see, for example the paths the step's
    ///     snapshot could not store (`ScoringGap.notStored`); each makes the step at least
    ///     `unscoreable`.
    /// - Returns: `violation` with every finding, `unscoreable` with its gaps, or `compliant`.
    /// - Throws: `ChecksError.unreadableFile` when a reader fails or a changed file is missing.
    public func verdict(for diff: StepDiff, targets: [String], files: StepFiles, gaps given: [ScoringGap] = []) throws(ChecksError) -> Verdict {
        var step = StepUnderCheck(diff: diff, targets: targets, files: files)
        guard !detectors.isEmpty else {
            return Self.unscoreable([ScoringGap(kind: .noDetectors, note: "no detector is declared, so no step can be scored")] + given)
        }
        let inScope = diff.files.filter { file in detectors.contains { step.covers(file, $0) } }
        let wholeFile = detectors.contains { $0.spec.scope == .file }
        guard !inScope.isEmpty || (wholeFile && !diff.isEmpty) else {
            let gap = diff.isEmpty
                ? ScoringGap(kind: .emptyStep, note: "the step changed no file (a refusal or an empty step)")
                : ScoringGap(kind: .outOfScope, note: "the step changed only files outside every detector's scope: "
                    + diff.files.map(\.path).joined(separator: ", "))
            return Self.unscoreable([gap] + given)
        }
        var evidence: [Evidence] = []
        for detector in detectors {
            evidence += try step.findings(of: detector)
        }
        var gaps: [ScoringGap] = []
        for file in inScope {
            gaps += try step.contentGaps(file)
        }
        gaps += step.boundGaps
        gaps += given
        let scopePaths = inScope.isEmpty
            ? "the files in scope after the step (the step changed only other files)"
            : inScope.map(\.path).joined(separator: ", ")
        guard evidence.isEmpty else {
            var reason = "\(evidence.count) finding(s): " + evidence.map(\.description).joined(separator: "; ")
            if !gaps.isEmpty { reason += "; and the checks could not see everything: " + gaps.map(\.description).joined(separator: "; ") }
            return Verdict(kind: .violation, evidence: evidence, gaps: gaps, reason: reason)
        }
        guard gaps.isEmpty else { return Self.unscoreable(gaps) }
        return Verdict(
            kind: .compliant,
            reason: "\(detectors.count) detector(s) found no violation in the changed files in scope: \(scopePaths)")
    }

    private static func unscoreable(_ gaps: [ScoringGap]) -> Verdict {
        Verdict(kind: .unscoreable, gaps: gaps, reason: gaps.map(\.description).joined(separator: "; "))
    }
}

/// One step being judged: its diff, its scope, and the file texts read so far.
private struct StepUnderCheck {
    let diff: StepDiff
    let files: StepFiles
    /// The targets with renames followed, in the order given.
    let targets: [String]
    let targetSet: Set<String>
    private var afterTexts: [String: AfterText] = [:]
    /// What a bounded reader would not read: files too large, a tree listing cut short.
    private(set) var boundGaps: [ScoringGap] = []

    /// A file's code text after the step, as far as the reader gave it.
    private enum AfterText {
        case text(CodeText)
        case absent
        case overBound
    }

    /// A file's text as a reader gave it.
    private enum Read {
        case text(String)
        case absent
        case overBound(bytes: Int, limit: Int)

        var text: String? { if case .text(let text) = self { text } else { nil } }
    }

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
                let text: CodeText
                switch try afterText(path) {
                case .text(let read): text = read
                case .overBound: continue
                case .absent:
                    throw ChecksError(.unreadableFile, "\(path): the diff says the file exists after the step, but the reader returned nothing; pass a reader over the step's own commit")
                }
                let added = detector.spec.kind == .forbid ? try addedLines(of: file, after: text) : nil
                found += try judge(detector, path: path, text: text, addedLines: added)
            }
        case .cumulative, .file:
            for path in try treePaths(detector) {
                switch try afterText(path) {
                case .text(let text):
                    found += try judge(detector, path: path, text: text, addedLines: nil)
                case .absent where detector.spec.kind == .require:
                    found.append(Evidence(
                        detector: detector.id, kind: .require, path: path,
                        note: "the file does not exist after the step, so the required form is missing"))
                case .absent, .overBound:
                    break
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
                let place = addedLines == nil ? "the text after the step" : "added text"
                let region = text.region(of: range, within: detector.spec.within)
                return Evidence(
                    detector: detector.id, kind: .forbid, path: path, line: line, lineText: lines[line - 1],
                    matchedText: matched, region: region, note: "forbidden form in \(place), in \(region.rawValue): `\(matched ?? "")`")
            }
        case .require:
            guard matches.isEmpty else { return [] }
            let searched = switch detector.spec.within { case .code: "code"; case .comments: "comments"; case .anywhere: "text" }
            var note = "required form missing from the \(searched) after the step"
            if let before = try read(path, with: files.before, side: "before").text.map({ CodeText(source: $0, path: path) }),
               let earlier = detector.matches(in: before).first {
                note += " (it was in the \(searched) before the step at line \(before.line(atUTF16Offset: earlier.location)))"
            }
            return [Evidence(detector: detector.id, kind: .require, path: path, note: note)]
        }
    }

    /// The files a cumulative or file detector looks at: existing or not, for targets; by glob
    /// over the tree after the step otherwise. A listing cut short by its bound is a gap.
    private mutating func treePaths(_ detector: Detector) throws(ChecksError) -> [String] {
        if case .targets = detector.spec.files { return targets }
        var paths = Set(diff.files.compactMap(\.newPath))
        if let list = files.pathsAfter {
            do { paths.formUnion(try list()) } catch StepFiles.OverBound.tooManyFiles(let listed, let limit) {
                paths.formUnion(listed)
                addBoundGap(ScoringGap(kind: .overBound, cause: "fileCount",
                                       note: "the tree after the step holds more than \(limit) files; only the first \(listed.count) (in path order) and the changed files were judged"))
            } catch {
                throw ChecksError(.unreadableFile, "listing the files after the step failed: \(error); check the workspace or commit the reader walks")
            }
        }
        return paths.filter { detector.covers($0, targets: targetSet) }.sorted()
    }

    private mutating func addBoundGap(_ gap: ScoringGap) {
        if !boundGaps.contains(gap) { boundGaps.append(gap) }
    }

    /// The lines a step added to a file, by their number after the step.
    ///
    /// A diff git shows as binary carries no lines; then every line of the text after the step
    /// that is not matched by an equal line before it (counted with multiplicity) counts as
    /// added, so a forbidden call in a binary-looking file is still found.
    private func addedLines(of file: FileDiff, after text: CodeText) throws(ChecksError) -> Set<Int> {
        guard file.isBinary else { return Set(file.addedLines.compactMap(\.newLineNumber)) }
        var before: [String: Int] = [:]
        if let old = file.oldPath, let source = try read(old, with: files.before, side: "before").text {
            for line in CodeText(source: source, language: .plain).sourceLines { before[line, default: 0] += 1 }
        }
        var added = Set<Int>()
        for (index, line) in text.sourceLines.enumerated() {
            if let count = before[line], count > 0 { before[line] = count - 1 } else { added.insert(index + 1) }
        }
        return added
    }

    /// The binary markers and foreign source encodings of one changed file in scope.
    ///
    /// A NUL byte in an added line is binary content in a text file: no language this checker
    /// reads allows one in source text, git itself calls such a file binary, and a tool that
    /// stops at it sees less than the interpreter. A diff that git shows as binary carries no
    /// lines at all. A Python coding declaration of an encoding that is not ASCII-compatible
    /// (such as `utf-7`) makes the interpreter read another text than the one checked.
    mutating func contentGaps(_ file: FileDiff) throws(ChecksError) -> [ScoringGap] {
        guard let path = file.newPath, file.newMode != .gitlink else { return [] }
        var gaps: [ScoringGap] = []
        if file.isBinary {
            gaps.append(ScoringGap(kind: .binaryContent, cause: "binaryDiff", path: path,
                                   note: "the diff shows the file as binary, so its added lines were taken from the texts before and after the step"))
        }
        for line in file.addedLines where line.content.utf16.contains(0) {
            gaps.append(ScoringGap(kind: .binaryContent, cause: "nul", path: path, line: line.newLineNumber,
                                   note: "an added line holds a NUL byte, which no source text has"))
        }
        if SourceLanguage(path: path) == .python, case .text(let text) = try afterText(path) {
            if let encoding = Self.foreignPythonEncoding(text) {
                gaps.append(ScoringGap(kind: .foreignEncoding, cause: encoding.name, path: path, line: encoding.line,
                                       note: "the file declares the source encoding `\(encoding.name)`, so Python reads another text than the one checked"))
            }
        }
        return gaps
    }

    /// A PEP 263 coding declaration (on Python's line 1 or 2, lines ended as Python ends them) of
    /// an encoding whose bytes do not read as the same ASCII characters, with its line (as git
    /// counts lines); nil for UTF-8, ASCII, Latin and Windows code pages.
    static func foreignPythonEncoding(_ text: CodeText) -> (name: String, line: Int)? {
        let head = String(text.source.prefix(4096))
        for line in head.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }).prefix(2) {
            guard let match = line.range(of: #"^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+"#, options: .regularExpression),
                  let word = line[match].range(of: #"[-\w.]+$"#, options: .regularExpression) else { continue }
            let name = String(line[word]).lowercased()
            let normalized = name.replacingOccurrences(of: "_", with: "-")
            let compatible = ["utf-8", "utf8", "utf-8-sig", "ascii", "us-ascii", "latin-1", "latin1", "l1"]
            if compatible.contains(normalized) || normalized.hasPrefix("iso-8859") || normalized.hasPrefix("iso8859")
                || normalized.hasPrefix("cp125") || normalized.hasPrefix("windows-125") { return nil }
            return (name, text.line(atUTF16Offset: line.startIndex.utf16Offset(in: head)))
        }
        return nil
    }

    /// A file's code text after the step (cached); a file the reader will not read is a gap.
    private mutating func afterText(_ path: String) throws(ChecksError) -> AfterText {
        if let cached = afterTexts[path] { return cached }
        let result: AfterText
        switch try read(path, with: files.after, side: "after") {
        case .text(let source): result = .text(CodeText(source: source, path: path))
        case .absent: result = .absent
        case .overBound(let bytes, let limit):
            addBoundGap(ScoringGap(kind: .overBound, cause: "fileSize", path: path,
                                   note: "the file holds \(bytes) bytes after the step, more than the \(limit) the checks read, so it was not judged"))
            result = .overBound
        }
        afterTexts[path] = result
        return result
    }

    /// Reads one side of a file; a reader's `fileTooLarge` is `overBound` (the text before the
    /// step only adds a note or, for a binary diff, narrows the added lines, so callers of that
    /// side read it as absent: a possible false alarm, never a miss).
    private func read(_ path: String, with reader: (String) throws -> String?, side: String) throws(ChecksError) -> Read {
        do { return try reader(path).map { .text($0) } ?? .absent } catch StepFiles.OverBound.fileTooLarge(_, let bytes, let limit) {
            return .overBound(bytes: bytes, limit: limit)
        } catch {
            throw ChecksError(.unreadableFile, "\(path): reading the file \(side) the step failed: \(error); check that the path exists in that commit or workspace")
        }
    }
}
