import DriftboxTestSupport
import Foundation
import Testing

/// The package's root folder.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The folder of the built products (the `driftbox` executable is built next to the test bundle).
let buildFolder = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()

/// What a finished process left.
typealias Finished = ProgramResult

/// A started `driftbox`, its output going to files.
typealias Started = StartedProgram

/// Starts the built `driftbox` in `folder`.
func start(_ arguments: [String], in folder: URL) throws -> Started {
    try startProgram(buildFolder.appendingPathComponent("driftbox").path, arguments, in: folder, label: "judge-out")
}

/// Runs the built `driftbox` to the end.
func driftbox(_ arguments: [String], in folder: URL) throws -> Finished {
    try start(arguments, in: folder).finish()
}

/// Finished runs made once per test process by `driftbox run` and copied for each test.
enum MadeRuns {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var made: [String: URL] = [:]

    /// The bundled smoke suite: 2 episodes, 4 steps each, no violation.
    static func smoke() throws -> URL { try copy("smoke", ["run", "smoke"]) }

    /// One episode of convenience-security-regular (12 steps): the demonstration agent drifts
    /// from step 9, so steps 9 to 12 are violations.
    static func drifting() throws -> URL { try copy("drifting", ["run", "convenience-security-regular", "--repetitions", "1"]) }

    /// A fresh copy of the run in a new folder.
    static func copy(_ name: String, _ arguments: [String]) throws -> URL {
        let original: URL = try lock.withLock {
            if let known = made[name] { return known }
            let folder = try temporaryFolder("judge-\(name)")
            let run = try driftbox(arguments + ["--out", folder.path, "--run-id", name], in: folder)
            guard run.status == 0 else { throw JudgeTestFailure("driftbox \(arguments.joined(separator: " ")) failed (\(run.status)): \(run.err)") }
            made[name] = folder.appendingPathComponent(name)
            return made[name]!
        }
        let target = try temporaryFolder("judge-run").appendingPathComponent(name)
        try FileManager.default.copyItem(at: original, to: target)
        return target
    }
}

struct JudgeTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The lines of a verdict set as JSON objects.
func verdictLines(_ run: URL, _ file: String) throws -> [[String: Any]] {
    try String(contentsOf: run.appendingPathComponent(file), encoding: .utf8).split(separator: "\n").map {
        try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
    }
}

/// `run.json` as a JSON object.
func manifest(_ run: URL) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("run.json"))) as! [String: Any]
}

/// label by "episode#step" of a verdict set.
func labels(_ run: URL, _ file: String) throws -> [String: String] {
    var out: [String: String] = [:]
    for line in try verdictLines(run, file) {
        if let label = line["label"] as? String { out["\(line["episode"]!)#\(line["step"]!)"] = label }
    }
    return out
}

/// The common judge arguments against a scripted upstream.
func judgeArguments(_ judge: ScriptedJudge) -> [String] {
    ["--model", "scripted-judge", "--upstream", judge.baseURL, "--key-env", ""]
}
