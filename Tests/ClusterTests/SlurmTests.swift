import Foundation
import Runner
import Testing

/// The generated Slurm array on a real Slurm (slurmctld and slurmd on this machine, started by
/// scripts/slurm-local.sh, which .ci/run calls): every shard as an array task, one task requeued
/// mid-run, the dependent merge job, and the merged run against the suite run on one machine.
@Suite(.serialized)
struct SlurmTests {
    /// Slurm's programs' folder: where `sbatch` is on `PATH`.
    static func slurmFolder() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map(String.init).first { FileManager.default.isExecutableFile(atPath: $0 + "/sbatch") }
    }

    /// Slurm's folder when Slurm is there and its controller answers; a skip with the reason
    /// elsewhere, and a recorded issue (nil) where CI is set and it must be there.
    static func requireSlurm() throws -> String? {
        var reason: String
        if let folder = slurmFolder() {
            let ping = try runHost([folder + "/scontrol", "ping"], allowFailure: true)
            let node = try runHost([folder + "/sinfo", "-h", "-o", "%T"], allowFailure: true)
            if ping.output.contains("is UP"), node.output.split(separator: "\n").contains(where: { ["idle", "mixed", "allocated"].contains($0) }) { return folder }
            reason = "Slurm is installed but its controller or node is not up (scontrol ping: \(ping.output.trimmingCharacters(in: .whitespacesAndNewlines)); sinfo: \(node.output.trimmingCharacters(in: .whitespacesAndNewlines)))"
        } else {
            reason = "Slurm's sbatch is not on PATH"
        }
        reason += "; scripts/slurm-local.sh installs and starts a one-node Slurm (.ci/run calls it)"
        if isCI {
            Issue.record(Comment(rawValue: "CI is set, so this test must run: \(reason)"))
            return nil
        }
        try Test.cancel(Comment(rawValue: reason))
    }

    /// `scontrol show job ID` as key=value pairs (nil when Slurm no longer knows the job).
    static func job(_ id: String, slurm: String) throws -> [String: String]? {
        let shown = try runHost([slurm + "/scontrol", "show", "job", id], allowFailure: true)
        guard shown.status == 0 else { return nil }
        var fields: [String: String] = [:]
        for word in shown.output.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            guard let equals = word.firstIndex(of: "=") else { continue }
            fields[String(word[..<equals])] = String(word[word.index(after: equals)...])
        }
        return fields
    }

    /// Polls until `condition` holds; fails naming `what` after `limit` seconds (a guard against a
    /// stuck cluster, never a measurement).
    static func wait(for what: String, limit: Double, every: Double = 0.2, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(limit)
        while Date() < deadline {
            if try condition() { return }
            Thread.sleep(forTimeInterval: every)
        }
        throw TestSupportError("gave up waiting", at: what, "nothing happened in \(Int(limit)) s; see /var/log/slurm/slurmctld.log and the job logs")
    }

    @Test func theArrayRunsEveryShardARequeuedShardResumesAndTheMergeEqualsOneMachine() throws {
        guard let slurm = try Self.requireSlurm() else { return }
        let folder = try TemporaryFolder("slurm")
        let id = "grid-\(UUID().uuidString.prefix(6).lowercased())"
        let runs = folder.file("runs")
        let options = ["--repetitions", "5", "-j", "1"]
        let whole = try driftbox(["run", smokeSuite, "--out", runs, "--run-id", "whole", "--progress", "quiet"] + options)
        #expect(whole.status == 0, "\(whole.errors)")

        let generated = try driftbox(["cluster", "slurm", smokeSuite, "--shards", "2", "--run-id", id, "--out", runs, "--driftbox", driftboxExecutable,
                                      "--to", folder.file("slurm")] + options.map { "--run-option=\($0)" })
        #expect(generated.status == 0, "\(generated.errors)")
        let submitted = try runHost(["/bin/sh", folder.file("slurm/submit.sh")], environment: ["PATH": slurm + ":/usr/bin:/bin"])
        func jobID(_ label: String) throws -> String {
            let line = submitted.output.split(separator: "\n").first { $0.hasPrefix(label + " ") }
            guard let id = line?.split(separator: " ").dropFirst(2).first else {
                throw TestSupportError("no job id", at: "submit.sh", "its output was: \(submitted.output)")
            }
            return String(id)
        }
        let array = try jobID("shards job"), merge = try jobID("merge job")
        let log0 = runs + "/slurm/\(id)-shard-0.out"
        defer { _ = try? runHost([slurm + "/scancel", array, merge], allowFailure: true) }

        // Requeue shard 0 as soon as it has recorded a step: Slurm kills the running task and
        // starts the script again, which resumes the shard.
        try Self.wait(for: "a recorded step of shard 0", limit: 300) {
            (try? String(contentsOfFile: runs + "/\(id)-shard-0/events.jsonl", encoding: .utf8))?.contains("\"type\":\"step\"") ?? false
        }
        let ended = (try? String(contentsOfFile: runs + "/\(id)-shard-0/events.jsonl", encoding: .utf8))?.components(separatedBy: "\"type\":\"end\"").count ?? 0
        #expect(ended - 1 < 5, "shard 0 had ended all its episodes before the requeue")
        try runHost([slurm + "/scontrol", "requeue", "\(array)_0"])
        // A requeued job is held back (BeginTime, about two minutes); let it start now.
        try Self.wait(for: "task \(array)_0 pending again", limit: 120) { try Self.job("\(array)_0", slurm: slurm)?["JobState"] == "PENDING" }
        try runHost([slurm + "/scontrol", "update", "JobId=\(array)_0", "StartTime=now"])

        // The merge job may have started while the requeued task waited, and submitted itself
        // again behind the array: wait until no job of this grid is left in the queue.
        try Self.wait(for: "the jobs of \(id)", limit: 600, every: 0.5) {
            try runHost([slurm + "/squeue", "-h", "-n", "driftbox-\(id),driftbox-\(id)-merge", "-o", "%i"], allowFailure: true)
                .output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        }
        let mergeState = try Self.job(merge, slurm: slurm)?["JobState"] ?? "GONE"
        let logs = (try? FileManager.default.contentsOfDirectory(atPath: runs + "/slurm"))?.sorted().map {
            "== \($0)\n" + ((try? String(contentsOfFile: runs + "/slurm/" + $0, encoding: .utf8)) ?? "")
        }.joined(separator: "\n") ?? ""
        #expect(mergeState == "COMPLETED", "\(logs)")
        let mergeLog = (try? String(contentsOfFile: runs + "/slurm/\(id)-merge.out", encoding: .utf8)) ?? ""
        #expect(mergeLog.contains("shards: 2 of 2 merged; episodes: 10 of 10"), "\(logs)")
        #expect(try Self.job("\(array)_0", slurm: slurm)?["Restarts"] == "1")
        let shardLog = (try? String(contentsOfFile: log0, encoding: .utf8)) ?? ""
        #expect(shardLog.contains("DUE TO JOB REQUEUE"), "\(shardLog)")
        #expect(shardLog.contains("restart 1"), "\(shardLog)")

        let merged = runs + "/" + id
        #expect(try RunFingerprint(merged) == RunFingerprint(runs + "/whole"))

        // A merge job that starts while tasks of its array are still queued (a requeued task)
        // submits itself again behind them: here an array that only sleeps stands for them.
        let holding = try runHost([slurm + "/sbatch", "--parsable", "--array=0-1", "--job-name=driftbox-\(id)", "--output=/dev/null", "--wrap", "sleep 600"])
            .output.trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? runHost([slurm + "/scancel", holding], allowFailure: true) }
        let early = try runHost(["/bin/bash", folder.file("slurm/merge.sbatch")],
                                environment: ["PATH": slurm + ":/usr/bin:/bin", "DRIFTBOX_SHARDS_JOB": holding])
        #expect(early.output.contains("tasks of job \(holding) are queued or running"), "\(early.output)\(early.errors)")
        #expect(!early.output.contains("shards: 2 of 2 merged"))
        try runHost([slurm + "/scancel", holding])
        try Self.wait(for: "the merge submitted again", limit: 600, every: 0.5) {
            try runHost([slurm + "/squeue", "-h", "-n", "driftbox-\(id),driftbox-\(id)-merge", "-o", "%i"], allowFailure: true)
                .output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        }
        let mergedTwice = (try? String(contentsOfFile: runs + "/slurm/\(id)-merge.out", encoding: .utf8)) ?? ""
        #expect(mergedTwice.components(separatedBy: "shards: 2 of 2 merged; episodes: 10 of 10").count == 3, "\(mergedTwice)")
        #expect(try RunFingerprint(merged) == RunFingerprint(runs + "/whole"))
        let check = try driftbox(["check", merged, "--deep"])
        #expect(check.status == 0, "\(check.output)")
        #expect(try driftbox(["report", merged]).output == driftbox(["report", runs + "/whole"]).output)
    }
}
