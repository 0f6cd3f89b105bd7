import ArgumentParser
import Foundation
import Runner

/// `driftbox check`: the integrity checks every writer runs, on demand.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a run folder: run.json, events.jsonl and repo.git against each other; exit 1 on damage.")

    @Argument(help: "The run folder.")
    var run: String

    @Flag(help: "Also read every commit reachable from the run's refs and every file of each ref's last commit.")
    var deep = false

    func run() async throws {
        let folder = URL(fileURLWithPath: run, relativeTo: currentDirectory).standardizedFileURL
        let findings = RunCheck.findings(folder, deep: deep)
        for finding in findings {
            print("\(finding.repairable ? "repairable" : "DAMAGE"): \(finding)")
        }
        let damage = findings.filter { !$0.repairable }.count
        if damage > 0 {
            FileHandle.standardError.write(Data("driftbox check: \(damage) problem(s) need a repair before the run can be written or trusted\n".utf8))
            throw ExitCode.failure
        }
        print("ok: \(folder.path)\(findings.isEmpty ? "" : " (\(findings.count) thing(s) `driftbox resume` repairs)")")
    }
}
