import Cluster
import Foundation
import Testing
import Yams

/// The generated cluster files: what each shard index runs (the container's and the array
/// task's own command lines, run in a shell with a stand-in driftbox that prints its arguments),
/// and the Kubernetes manifests against the Kubernetes API schema.
@Suite(.serialized)
struct ClusterFilesTests {
    /// Where .ci/run installs kubernetes-validate (a virtual environment under /opt), or the
    /// program `DRIFTBOX_KUBERNETES_VALIDATE` names.
    static let validators = ["/opt/driftbox-tools/kubernetes-validate/bin/kubernetes-validate", "/usr/local/bin/kubernetes-validate"]

    /// The validator; a skip with the reason where it is missing, a recorded issue (nil) under CI.
    static func requireValidator() throws -> String? {
        let candidates = (ProcessInfo.processInfo.environment["DRIFTBOX_KUBERNETES_VALIDATE"].map { [$0] } ?? []) + validators
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        let reason = "kubernetes-validate is not installed (looked at \(candidates.joined(separator: ", "))); .ci/run installs it from PyPI"
        if isCI {
            Issue.record(Comment(rawValue: "CI is set, so this test must run: \(reason)"))
            return nil
        }
        try Test.cancel(Comment(rawValue: reason))
    }

    /// A stand-in `driftbox` that prints each argument on a line and exits with `$FAKE_STATUS`.
    static func fakeDriftbox(in folder: TemporaryFolder) throws -> String {
        try folder.write("bin/driftbox", "#!/bin/sh\nfor word in \"$@\"; do printf '%s\\n' \"$word\"; done\nexit \"${FAKE_STATUS:-0}\"\n", executable: true)
        return folder.file("bin")
    }

    /// The `command` of the first container of a Job manifest.
    static func command(ofJob path: String) throws -> [String] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let job = try #require(try Yams.load(yaml: text) as? [String: Any])
        #expect(job["kind"] as? String == "Job")
        let spec = try #require(job["spec"] as? [String: Any])
        let template = try #require(spec["template"] as? [String: Any])
        let pod = try #require(template["spec"] as? [String: Any])
        let containers = try #require(pod["containers"] as? [[String: Any]])
        return try #require(containers.first?["command"] as? [String])
    }

    func generateKubernetes(_ folder: TemporaryFolder, shards: Int, sandbox: String = "full", extra: [String] = []) throws -> String {
        let out = folder.file("k8s-\(sandbox)")
        let result = try driftbox(["cluster", "k8s", smokeSuite, "--shards", "\(shards)", "--run-id", "Grid_1", "--image", "registry.example.org/driftbox:0.1.0",
                                   "--claim", "driftbox-runs", "--sandbox", sandbox, "--to", out,
                                   "--run-option=--repetitions", "--run-option=\(shards)"] + extra)
        #expect(result.status == 0, "\(result.errors)")
        return out
    }

    @Test func eachJobIndexRunsItsShardAndResumesIt() throws {
        let folder = try TemporaryFolder("k8s-index")
        let bin = try Self.fakeDriftbox(in: folder)
        let shards = 5
        let out = try generateKubernetes(folder, shards: shards)
        let command = try Self.command(ofJob: out + "/shards.yaml")
        #expect(Array(command.prefix(2)) == ["/bin/sh", "-c"])
        let runs = folder.file("volume")
        try FileManager.default.createDirectory(atPath: runs, withIntermediateDirectories: true)
        for index in 0..<shards {
            let environment = ["PATH": bin + ":/usr/bin:/bin", "JOB_COMPLETION_INDEX": "\(index)", "DRIFTBOX_RUNS": runs]
            let started = try runHost(command, environment: environment)
            let words = started.output.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("driftbox shard") }
            #expect(words == ["run", smokeSuite, "--shard", "\(index)/\(shards)", "--out", runs, "--run-id", "Grid_1-shard-\(index)", "--progress", "lines",
                              "--mode", "full", "--repetitions", "\(shards)"])
            // A retried index finds its shard's run.json and resumes that shard.
            try folder.write("volume/Grid_1-shard-\(index)/run.json", "{}")
            let retried = try runHost(command, environment: environment)
            #expect(retried.output.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("driftbox shard") }
                    == ["resume", runs + "/Grid_1-shard-\(index)", "--shard", "\(index)/\(shards)", "--progress", "lines"])
        }
        // An index whose run recorded failed episodes (2) or unreached models (3) is done; any other
        // failure is the index's.
        for (status, expected) in [(2, Int32(0)), (3, 0), (1, 1), (0, 0)] {
            let ended = try runHost(command, environment: ["PATH": bin + ":/usr/bin:/bin", "JOB_COMPLETION_INDEX": "0", "DRIFTBOX_RUNS": runs,
                                                           "FAKE_STATUS": "\(status)"], allowFailure: true)
            #expect(ended.status == expected, "driftbox exiting \(status)")
        }
        // Without an index the container refuses to guess one.
        let unindexed = try runHost(command, environment: ["PATH": bin + ":/usr/bin:/bin"], allowFailure: true)
        #expect(unindexed.status != 0)
        #expect(unindexed.errors.contains("one index of an Indexed Job"))

        // The merge Job names the shard folders that exist (all five now) and the merged run.
        let merge = try runHost(try Self.command(ofJob: out + "/merge.yaml"), environment: ["PATH": bin + ":/usr/bin:/bin", "DRIFTBOX_RUNS": runs])
        #expect(merge.output.split(separator: "\n").map(String.init) == ["merge"] + (0..<shards).map { runs + "/Grid_1-shard-\($0)" } + ["--into", runs + "/Grid_1"])
    }

    @Test func eachArrayTaskRunsItsShardAndResumesIt() throws {
        let folder = try TemporaryFolder("slurm-index")
        let bin = try Self.fakeDriftbox(in: folder)
        let runs = folder.file("shared")
        let result = try driftbox(["cluster", "slurm", smokeSuite, "--shards", "3", "--run-id", "grid", "--out", runs, "--driftbox", bin + "/driftbox",
                                   "--partition", "batch", "--time", "2-00:00:00", "--to", folder.file("slurm"), "--run-option=--repetitions", "--run-option=3"])
        #expect(result.status == 0, "\(result.errors)")
        let script = try String(contentsOfFile: folder.file("slurm/shards.sbatch"), encoding: .utf8)
        for directive in ["#SBATCH --array=0-2", "#SBATCH --requeue", "#SBATCH --partition=batch", "#SBATCH --time=2-00:00:00",
                          "#SBATCH --output=\(runs)/slurm/grid-shard-%a.out"] {
            #expect(script.contains(directive + "\n"), "\(directive)")
        }
        for index in 0..<3 {
            let run = try runHost(["/bin/sh", folder.file("slurm/shards.sbatch")], environment: ["PATH": "/usr/bin:/bin", "SLURM_ARRAY_TASK_ID": "\(index)"])
            #expect(run.output.split(separator: "\n").dropFirst().map(String.init)
                    == ["run", smokeSuite, "--shard", "\(index)/3", "--out", runs, "--run-id", "grid-shard-\(index)", "--progress", "lines", "--repetitions", "3"])
            try folder.write("shared/grid-shard-\(index)/run.json", "{}")
            let requeued = try runHost(["/bin/sh", folder.file("slurm/shards.sbatch")], environment: ["PATH": "/usr/bin:/bin", "SLURM_ARRAY_TASK_ID": "\(index)"])
            #expect(requeued.output.split(separator: "\n").dropFirst().map(String.init) == ["resume", runs + "/grid-shard-\(index)", "--shard", "\(index)/3", "--progress", "lines"])
        }
        try FileManager.default.removeItem(atPath: runs + "/grid-shard-1")
        let merge = try runHost(["/bin/bash", folder.file("slurm/merge.sbatch")], environment: ["PATH": "/usr/bin:/bin"])
        #expect(merge.output.split(separator: "\n").map(String.init) == ["merge", runs + "/grid-shard-0", runs + "/grid-shard-2", "--into", runs + "/grid"])
    }

    @Test func theKubernetesManifestsPassTheAPISchema() throws {
        guard let validator = try Self.requireValidator() else { return }
        let folder = try TemporaryFolder("k8s-schema")
        for sandbox in ["full", "reduced"] {
            let out = try generateKubernetes(folder, shards: 4, sandbox: sandbox, extra: ["--namespace", "research", "--parallelism", "2"])
            for file in ["shards.yaml", "merge.yaml"] {
                let checked = try runHost([validator, "--strict", out + "/" + file], allowFailure: true, combineOutput: true)
                #expect(checked.status == 0, "\(sandbox) \(file): \(checked.output)")
                #expect(checked.output.contains("passed"), "\(checked.output)")
            }
            let text = try String(contentsOfFile: out + "/shards.yaml", encoding: .utf8)
            #expect(text.contains("completionMode: Indexed\n  completions: 4\n  parallelism: 2\n"))
            #expect(text.contains(sandbox == "full" ? "procMount: Unmasked" : "type: RuntimeDefault"))
        }
        // The validator does refuse what the API does not know.
        let broken = folder.file("k8s-full/shards.yaml")
        try folder.write("broken.yaml", try String(contentsOfFile: broken, encoding: .utf8).replacingOccurrences(of: "completionMode: Indexed", with: "completionMode: Indexed\n  completionIndex: 3"))
        let refused = try runHost([validator, "--strict", folder.file("broken.yaml")], allowFailure: true, combineOutput: true)
        #expect(refused.status != 0, "\(refused.output)")
    }

    @Test func theMergeJobNamesItsFilesAsWordsToPasteWhenItGivesUp() throws {
        // A folder with characters the shell would expand: the merge job's last message names its
        // files quoted, as they are typed, and expands nothing.
        let folder = try TemporaryFolder("slurm-words")
        let bin = try Self.fakeDriftbox(in: folder)
        let jobs = "/jobs/$HOME \"it's\" `date`"
        let slurm = try SlurmJob(job: ClusterJob(suite: "smoke", shards: 2, runID: "grid", driftbox: bin + "/driftbox"), runs: folder.file("runs"), folder: jobs)
        try folder.write("runs/grid-shard-1/run.json", "{}")
        try folder.write("merge.sbatch", try #require(slurm.files().first { $0.name == "merge.sbatch" }).text)
        let merge = try runHost(["/bin/bash", folder.file("merge.sbatch")], environment: ["PATH": "/usr/bin:/bin", "FAKE_STATUS": "4"], allowFailure: true)
        #expect(merge.status == 4)
        #expect(merge.output.split(separator: "\n").map(String.init) == ["merge", folder.file("runs/grid-shard-1"), "--into", folder.file("runs/grid")])
        #expect(merge.errors.contains("ended with status 4 and no task of the shards job is left to wait for"), "\(merge.errors)")
        #expect(merge.errors.contains("(sbatch --array=<index> '/jobs/$HOME \"it'\\''s\" `date`/shards.sbatch'), then sbatch '/jobs/$HOME \"it'\\''s\" `date`/merge.sbatch'\n"),
                "\(merge.errors)")
    }

    @Test func valuesAScriptCannotCarryAreRefused() throws {
        let job = try ClusterJob(suite: "smoke", shards: 2, runID: "grid")
        #expect(throws: ClusterError.self) { try SlurmJob(job: job, runs: "relative/runs", folder: "/jobs") }
        #expect(throws: ClusterError.self) { try SlurmJob(job: job, runs: "/shared/my runs", folder: "/jobs") }
        #expect(throws: ClusterError.self) { try SlurmJob(job: job, runs: "/shared", folder: "/jobs", partition: "a'b") }
        #expect(throws: ClusterError.self) { try ClusterJob(suite: "smoke", shards: 3, runID: "grid", suiteEpisodes: 2) }
        #expect(throws: ClusterError.self) { try ClusterJob(suite: "smoke\nrm -rf /", shards: 1, runID: "grid") }
        #expect(throws: ClusterError.self) { try ClusterJob(suite: "smoke", shards: 1, runID: "../grid") }
        #expect(throws: ClusterError.self) { try ClusterJob(suite: "smoke", shards: 2, runID: "grid", runArguments: ["--shard=0/1"]) }
        #expect(throws: ClusterError.self) { try KubernetesJob(job: job, image: "img", claim: "Runs_Claim") }
        // A quote in the suite's path is quoted for the shell, not interpreted.
        let quoted = try ClusterJob(suite: "/data/it's here.yaml", shards: 1, runID: "grid")
        #expect(try SlurmJob(job: quoted, runs: "/shared", folder: "/jobs").files()[0].text.contains("run '/data/it'\\''s here.yaml' --shard"))
        let tooMany = try driftbox(["cluster", "slurm", smokeSuite, "--shards", "3", "--to", FileManager.default.temporaryDirectory.path + "/unused-\(UUID().uuidString)"])
        #expect(tooMany.status == 1)
        #expect(tooMany.errors.contains("--shards: 3 shards for 2 episode(s)"), "\(tooMany.errors)")
    }
}
