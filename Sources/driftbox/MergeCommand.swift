import ArgumentParser
import Checks
import Foundation
import Runner

/// `driftbox merge`: shards of one suite into one run.
struct MergeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge shard runs (`run --shard I/N`) of one suite into one run; repeat it as more shards finish.",
        discussion: "Exit status 4: the merge is done, and the merged run still misses shards or has unfinished episodes (listed).")

    @Argument(help: "The shard run folders.")
    var shards: [String]

    @Option(help: ArgumentHelp("The merged run folder (created when missing).", valueName: "run"))
    var into: String

    func validate() throws {
        if shards.isEmpty { throw ValidationError("name at least one shard run folder") }
    }

    func run() async throws {
        let report = try await failing("merge") {
            try RunMerge.merge(shards.map { URL(fileURLWithPath: $0, relativeTo: currentDirectory) },
                               into: URL(fileURLWithPath: into, relativeTo: currentDirectory))
        }
        for note in report.notes { printError("driftbox merge: note: \(note)") }
        print("run: \(TerminalText.escaped(report.folder.path))")
        print("shards: \(report.shards.count) of \(report.shardCount) merged; episodes: \(report.episodes) of \(report.suiteEpisodes)")
        if report.complete { return }
        if !report.missingShards.isEmpty {
            print("missing shards: \(report.missingShards.map { "\($0)/\(report.shardCount)" }.joined(separator: ", "))")
        }
        if !report.unfinished.isEmpty {
            print("unfinished episodes: \(TerminalText.escaped(report.unfinished.joined(separator: ", ")))")
        }
        printError("driftbox merge: the merged run is incomplete; resume or rerun the shards named above, then merge again")
        throw ExitCode(ExitStatus.mergeIncomplete)
    }
}
