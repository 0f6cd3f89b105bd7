import Foundation

/// Slurm: one array job (a task per shard) and a merge job that depends on it.
///
/// `shards.sbatch` is the array (`--array=0-(N-1)`, `--requeue`): each task runs its shard, or
/// resumes it when the shard's folder already has a `run.json` (a requeued task). `merge.sbatch`
/// merges the shard folders that exist; `submit.sh` submits the array, then the merge with
/// `--dependency=afterany:<array>` (it runs once every task has ended, however each ended, and
/// reports what is missing). The shards' own records decide whether the grid is done: the merge job
/// merges what exists, and when `driftbox merge` finds a shard missing or unfinished while a task
/// of the array is still in any state but a final one (a requeued task waiting to run again), it
/// submits itself again behind the array instead of ending.
public struct SlurmJob: Sendable, Equatable {
    /// The suite, shards, run id and driftbox.
    public var job: ClusterJob
    /// The shared folder shard runs, the merged run and the job logs go to (absolute).
    public var runs: String
    /// `--partition`, if any.
    public var partition: String?
    /// `--time` of each shard task, if any (Slurm's forms: `MM`, `HH:MM:SS`, `D-HH`…).
    public var time: String?
    /// `--cpus-per-task`, if any.
    public var cpusPerTask: Int?
    /// `--mem` of each shard task, if any (`8G`…).
    public var memory: String?
    /// More `#SBATCH` options for both jobs (`--account=lab`…), each one option.
    public var extraOptions: [String]
    /// The folder the files are written to (absolute), where the merge job finds itself to
    /// submit again.
    public var folder: String

    /// Creates the Slurm form of `job`.
    /// - Throws: `ClusterError` for a value an `#SBATCH` line cannot hold (blanks, quotes, line
    ///   breaks) or a folder that is not absolute.
    public init(job: ClusterJob, runs: String, folder: String, partition: String? = nil, time: String? = nil, cpusPerTask: Int? = nil, memory: String? = nil,
                extraOptions: [String] = []) throws {
        guard runs.hasPrefix("/") else { throw ClusterError("--out", "'\(runs)' is not an absolute path", "give the shared folder's absolute path, the same on every node") }
        guard folder.hasPrefix("/"), !folder.contains(where: { $0.isNewline || $0 == "\0" }) else {
            throw ClusterError("--to", "'\(folder)' is not an absolute path on one line", "give the folder's absolute path")
        }
        let plain: (String) -> Bool = { !$0.isEmpty && !$0.contains(where: { $0.isWhitespace || $0 == "\"" || $0 == "'" || $0 == "\\" || $0 == "\0" }) }
        let named: [(String, String?)] = [("--out", runs), ("--partition", partition), ("--time", time), ("--mem", memory)]
        let values = named.compactMap { pair in pair.1.map { (pair.0, $0) } } + extraOptions.map { ("--sbatch", $0) }
        for (name, value) in values where !plain(value) {
            throw ClusterError(name, "'\(value)' holds a blank, a quote or a backslash, which an #SBATCH line cannot carry", "use a value without them")
        }
        for option in extraOptions where !option.hasPrefix("--") {
            throw ClusterError("--sbatch", "'\(option)' is not a long sbatch option", "give it as --name=value")
        }
        if let cpusPerTask, cpusPerTask < 1 { throw ClusterError("--cpus-per-task", "\(cpusPerTask)", "give at least 1") }
        self.job = job
        self.runs = runs
        self.partition = partition
        self.time = time
        self.cpusPerTask = cpusPerTask
        self.memory = memory
        self.extraOptions = extraOptions
        self.folder = folder
    }

    /// The merged run's folder.
    public var mergedRun: String { "\(runs)/\(job.runID)" }
    /// The folder of the jobs' output files.
    public var logs: String { "\(runs)/slurm" }

    /// `shards.sbatch`, `merge.sbatch` and `submit.sh`.
    public func files() -> [GeneratedFile] {
        [GeneratedFile(name: "shards.sbatch", text: shardsScript, executable: false),
         GeneratedFile(name: "merge.sbatch", text: mergeScript, executable: false),
         GeneratedFile(name: "submit.sh", text: submitScript, executable: true)]
    }

    private func common(_ name: String) -> [String] {
        ["#SBATCH --job-name=\(name)"] + (partition.map { ["#SBATCH --partition=\($0)"] } ?? []) + extraOptions.map { "#SBATCH \($0)" }
    }

    var shardsScript: String {
        var directives = common("driftbox-\(job.runID)")
        directives += ["#SBATCH --array=0-\(job.shards - 1)", "#SBATCH --requeue", "#SBATCH --open-mode=append",
                       "#SBATCH --output=\(logs)/\(job.runID)-shard-%a.out", "#SBATCH --ntasks=1"]
        if let cpusPerTask { directives.append("#SBATCH --cpus-per-task=\(cpusPerTask)") }
        if let time { directives.append("#SBATCH --time=\(time)") }
        if let memory { directives.append("#SBATCH --mem=\(memory)") }
        return """
            #!/bin/sh
            # driftbox: suite \(job.suite) as \(job.shards) shard(s), one array task per shard (generated by
            # `driftbox cluster slurm`). A task runs its shard into \(runs)/\(job.runID)-shard-<index>;
            # a requeued task finds the shard's run.json there and resumes it.
            \(directives.joined(separator: "\n"))
            set -u
            shard="${SLURM_ARRAY_TASK_ID:?submit this script with sbatch: it is one array task per shard}"
            runs=\(Shell.quote(runs))
            echo "driftbox shard $shard/\(job.shards) on $(hostname) (job ${SLURM_JOB_ID:-?}, restart ${SLURM_RESTART_COUNT:-0})"
            \(job.shardCommands(progressExit: false))

            """
    }

    /// The states in which a job has ended for good; a task in any other state (pending, requeued,
    /// held, special exit, running, completing, configuring, suspended…) may still write its shard.
    public static let finalStates = ["BOOT_FAIL", "CANCELLED", "COMPLETED", "DEADLINE", "FAILED", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "REVOKED", "TIMEOUT"]

    var mergeScript: String {
        let directives = common("driftbox-\(job.runID)-merge") + ["#SBATCH --output=\(logs)/\(job.runID)-merge.out", "#SBATCH --open-mode=append", "#SBATCH --ntasks=1"]
        let itself = Shell.quote(folder + "/merge.sbatch")
        // The commands named in messages, as words a user can paste (quoted once more, outside the
        // message's double quotes, so the shell prints the quoted form and expands nothing in it).
        let shown = (shards: Shell.quote(Shell.quote(folder + "/shards.sbatch")), merge: Shell.quote(itself))
        return """
            #!/bin/bash
            # driftbox: merges the \(job.shards) shard(s) of \(job.runID) into \(mergedRun) once the array has ended
            # (generated by `driftbox cluster slurm`; submit.sh makes it depend on the array job).
            \(directives.joined(separator: "\n"))
            set -u
            runs=\(Shell.quote(runs))
            # The shards' own records decide (driftbox merge exits 4 while a shard is missing or has
            # unfinished episodes). Slurm is asked first: a task that ends after this question has
            # written its records before the merge reads them.
            array="${DRIFTBOX_SHARDS_JOB:-}"
            waiting=""
            if [ -n "$array" ]; then
                if listed=$(squeue --me -h -t all -o '%F %T' 2>&1); then
                    waiting=$(printf '%s\\n' "$listed" | awk -v job="$array" '$1 == job && $2 !~ /^(\(Self.finalStates.joined(separator: "|")))$/ { print $2 }' | sort -u | tr '\\n' ' ')
                else
                    waiting="unknown (squeue: $listed) "
                fi
            fi
            shards=()
            for shard in $(seq 0 \(job.shards - 1)); do
                if [ -e "$runs/\(job.runID)-shard-$shard/run.json" ]; then shards+=("$runs/\(job.runID)-shard-$shard"); fi
            done
            if [ "${#shards[@]}" -eq 0 ]; then
                echo "driftbox merge: no shard of \(job.runID) has a run folder in $runs yet" >&2
                status=1
            else
                \(Shell.quote(job.driftbox)) merge "${shards[@]}" --into "$runs/\(job.runID)"
                status=$?
            fi
            [ "$status" -eq 0 ] && exit 0
            if [ -n "$waiting" ]; then
                # A task of the array is still queued, requeued, held or running: merge again after it.
                if ! again=$(sbatch --parsable --begin=now+10 --dependency=afterany:"$array" --export=ALL,DRIFTBOX_SHARDS_JOB="$array" \(itself)); then
                    echo "driftbox merge: tasks of job $array are not done (${waiting% }) and submitting this merge again failed; run sbatch "\(shown.merge)" once they are" >&2
                    exit 1
                fi
                echo "driftbox merge: tasks of job $array are not done (${waiting% }); merge job ${again%%;*} merges again after them"
                exit 0
            fi
            echo "driftbox merge: ended with status $status and no task of the shards job is left to wait for; see $runs/slurm/\(job.runID)-shard-*.out, run the missing or unfinished shards again (sbatch --array=<index> "\(shown.shards)"), then sbatch "\(shown.merge) >&2
            exit "$status"

            """
    }

    var submitScript: String {
        """
        #!/bin/sh
        # Submits the shards of \(job.runID) as one array job and the merge as a job that runs after it.
        set -eu
        here=$(cd "$(dirname "$0")" && pwd)
        mkdir -p \(Shell.quote(logs))
        array=$(sbatch --parsable "$here/shards.sbatch")
        array=${array%%;*}
        merge=$(sbatch --parsable --dependency=afterany:"$array" --export=ALL,DRIFTBOX_SHARDS_JOB="$array" "$here/merge.sbatch")
        merge=${merge%%;*}
        echo "shards job $array (\(job.shards) array task(s), logs in \(logs))"
        echo "merge job $merge (after every shard has ended; the merged run: \(mergedRun))"

        """
    }
}
