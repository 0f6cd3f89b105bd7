import Cluster
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

    /// The merge job's line when no task of the shards job is left to wait for.
    static let gaveUp = "and no task of the shards job is left to wait for"

    /// True when `log` holds the merge's `report` line for a complete run (no missing shard or
    /// unfinished episode listed after it).
    static func completeMerge(_ report: String, in log: String) -> Bool {
        let lines = log.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return lines.indices.contains { index in
            lines[index] == report && (index + 1 == lines.count || !(lines[index + 1].hasPrefix("missing shards") || lines[index + 1].hasPrefix("unfinished episodes")))
        }
    }

    /// Waits until every job named `names` is in a final state (Slurm keeps ended jobs listed for
    /// MinJobAge, 300 s by default) and returns them: id (`<array>_<task>` for a task), name, state.
    static func waitForEnd(of names: [String], slurm: String) throws -> [(id: String, name: String, state: String)] {
        var jobs: [(id: String, name: String, state: String)] = []
        try wait(for: "the jobs \(names.joined(separator: ", ")) to end", limit: 600, every: 0.5) {
            let listed = try runHost([slurm + "/squeue", "-h", "-t", "all", "-n", names.joined(separator: ","), "-o", "%i %j %T"], allowFailure: true)
            jobs = listed.output.split(separator: "\n").compactMap { line in
                let words = line.split(separator: " ").map(String.init)
                return words.count == 3 ? (id: words[0], name: words[1], state: words[2]) : nil
            }
            return listed.status == 0 && !jobs.isEmpty && jobs.allSatisfy { SlurmJob.finalStates.contains($0.state) }
        }
        return jobs
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
        let requeued = Date().timeIntervalSince1970.rounded(.down)
        // A requeued job is held back (BeginTime, about two minutes); let it start now, but not
        // within the second its last run was killed: the node refuses a start whose credential is
        // not newer than the kill (one-second resolution; slurmd: "already killed, do not launch
        // batch job"), and the task would end FAILED without running the script.
        try Self.wait(for: "task \(array)_0 pending again", limit: 120) { try Self.job("\(array)_0", slurm: slurm)?["JobState"] == "PENDING" }
        try Self.wait(for: "the second of the requeue to pass", limit: 5, every: 0.05) { Date().timeIntervalSince1970.rounded(.down) > requeued }
        try runHost([slurm + "/scontrol", "update", "JobId=\(array)_0", "StartTime=now"])

        // The merge job may have run while the requeued task waited, merged what existed and
        // submitted itself again behind the array: wait for the merge that found the grid complete
        // (or gave up), then for every job of the grid to have ended.
        let mergeLog = runs + "/slurm/\(id)-merge.out"
        try Self.wait(for: "the merge of \(id)", limit: 600, every: 0.5) {
            let text = (try? String(contentsOfFile: mergeLog, encoding: .utf8)) ?? ""
            return Self.completeMerge("shards: 2 of 2 merged; episodes: 10 of 10", in: text) || text.contains(Self.gaveUp)
        }
        let grid = try Self.waitForEnd(of: ["driftbox-\(id)", "driftbox-\(id)-merge"], slurm: slurm)
        let logs = (try? FileManager.default.contentsOfDirectory(atPath: runs + "/slurm"))?.sorted().map {
            "== \($0)\n" + ((try? String(contentsOfFile: runs + "/slurm/" + $0, encoding: .utf8)) ?? "")
        }.joined(separator: "\n") ?? ""
        let mergeText = (try? String(contentsOfFile: mergeLog, encoding: .utf8)) ?? ""
        #expect(Self.completeMerge("shards: 2 of 2 merged; episodes: 10 of 10", in: mergeText), "\(logs)")
        #expect(!mergeText.contains(Self.gaveUp), "\(logs)")
        #expect(grid.first { $0.id == merge }?.state == "COMPLETED", "\(grid) \(logs)")
        #expect(grid.filter { $0.name.hasSuffix("-merge") }.allSatisfy { $0.state == "COMPLETED" }, "\(grid)")
        #expect(grid.first { $0.id == "\(array)_0" }?.state == "COMPLETED", "\(grid) \(logs)")
        #expect(try Self.job("\(array)_0", slurm: slurm)?["Restarts"] == "1")
        let shardLog = (try? String(contentsOfFile: log0, encoding: .utf8)) ?? ""
        #expect(shardLog.contains("DUE TO JOB REQUEUE"), "\(shardLog)")
        #expect(shardLog.contains("restart 1"), "\(shardLog)")

        let merged = runs + "/" + id
        #expect(try RunFingerprint(merged) == RunFingerprint(runs + "/whole"))
        let check = try driftbox(["check", merged, "--deep"])
        #expect(check.status == 0, "\(check.output)")
        #expect(try driftbox(["report", merged]).output == driftbox(["report", runs + "/whole"]).output)

        // A grid of which only shard 0 has run: while a task of its array has not ended (here the
        // one task left of a stand-in array, requeued into the held SPECIAL_EXIT state), the merge
        // job merges what exists and submits itself again behind the array; once no task is left,
        // it gives up with status 4.
        let part = id + "-part"
        let partFiles = try driftbox(["cluster", "slurm", smokeSuite, "--shards", "2", "--run-id", part, "--out", runs, "--driftbox", driftboxExecutable,
                                      "--to", folder.file("slurm-part")] + options.map { "--run-option=\($0)" })
        #expect(partFiles.status == 0, "\(partFiles.errors)")
        let shard0 = try driftbox(["run", smokeSuite, "--shard", "0/2", "--out", runs, "--run-id", "\(part)-shard-0", "--progress", "quiet"] + options)
        #expect(shard0.status == 0, "\(shard0.errors)")
        let holding = try runHost([slurm + "/sbatch", "--parsable", "--array=0-1", "--job-name=driftbox-\(part)-standin", "--output=/dev/null", "--wrap", "sleep 600"])
            .output.trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? runHost([slurm + "/scancel", holding], allowFailure: true) }
        try Self.wait(for: "task \(holding)_0 running", limit: 120) { try Self.job("\(holding)_0", slurm: slurm)?["JobState"] == "RUNNING" }
        try runHost([slurm + "/scancel", "\(holding)_1"])
        try runHost([slurm + "/scontrol", "requeuehold", "State=SpecialExit", "\(holding)_0"])
        try Self.wait(for: "task \(holding)_0 in SPECIAL_EXIT", limit: 120) { try Self.job("\(holding)_0", slurm: slurm)?["JobState"] == "SPECIAL_EXIT" }
        let early = try runHost(["/bin/bash", folder.file("slurm-part/merge.sbatch")],
                                environment: ["PATH": slurm + ":/usr/bin:/bin", "DRIFTBOX_SHARDS_JOB": holding], allowFailure: true)
        #expect(early.status == 0, "\(early.output)\(early.errors)")
        #expect(early.output.contains("shards: 1 of 2 merged; episodes: 5 of 10"), "\(early.output)\(early.errors)")
        #expect(early.output.contains("tasks of job \(holding) are not done (SPECIAL_EXIT); merge job "), "\(early.output)\(early.errors)")
        let again = early.output.split(separator: "\n").last { $0.contains("; merge job ") }?
            .components(separatedBy: "; merge job ").last?.split(separator: " ").first.map(String.init) ?? "none"
        defer { _ = try? runHost([slurm + "/scancel", again], allowFailure: true) }
        #expect(try Self.job(again, slurm: slurm)?["JobName"] == "driftbox-\(part)-merge")
        try runHost([slurm + "/scancel", holding])
        let partLog = runs + "/slurm/\(part)-merge.out"
        try Self.wait(for: "the merge of \(part) giving up", limit: 600, every: 0.5) {
            ((try? String(contentsOfFile: partLog, encoding: .utf8)) ?? "").contains(Self.gaveUp)
        }
        let partGrid = try Self.waitForEnd(of: ["driftbox-\(part)-merge"], slurm: slurm)
        let partText = (try? String(contentsOfFile: partLog, encoding: .utf8)) ?? ""
        #expect(partText.contains("shards: 1 of 2 merged; episodes: 5 of 10\nmissing shards: 1/2"), "\(partText)")
        #expect(partText.contains("ended with status 4 " + Self.gaveUp), "\(partText)")
        #expect(partGrid.map(\.state) == ["FAILED"], "\(partGrid)")
        #expect(try Self.job(again, slurm: slurm)?["ExitCode"] == "4:0")
    }
}
