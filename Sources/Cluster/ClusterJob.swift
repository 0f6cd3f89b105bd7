import Foundation

/// A suite run as `shards` shards on a cluster, each shard a `driftbox run SUITE --shard I/N`
/// into a shared folder, then `driftbox merge` into one run. What the Slurm and Kubernetes
/// generators have in common.
public struct ClusterJob: Sendable, Equatable {
    /// The suite file or bundled name, as the nodes' driftbox shall find it.
    public var suite: String
    /// The number of shards (array tasks, Job indexes).
    public var shards: Int
    /// The merged run's id; shard `I` runs as `<runID>-shard-<I>`.
    public var runID: String
    /// The driftbox program on the nodes (a path or a name on `PATH`).
    public var driftbox: String
    /// More `driftbox run` options for every shard (`--repetitions`, `--seed`, `--agent`, `-j`…).
    public var runArguments: [String]

    /// Creates a job.
    /// - Throws: `ClusterError` when a value cannot be written into a script safely.
    /// - Parameter suiteEpisodes: the suite's episodes (with the run options applied), when known:
    ///   there must be at least one per shard.
    public init(suite: String, shards: Int, runID: String, driftbox: String = "driftbox", runArguments: [String] = [], suiteEpisodes: Int? = nil) throws {
        guard shards >= 1 else { throw ClusterError("--shards", "\(shards) shards", "give at least 1") }
        if let suiteEpisodes, shards > suiteEpisodes {
            throw ClusterError("--shards", "\(shards) shards for \(suiteEpisodes) episode(s) of \(suite)", "give at most \(suiteEpisodes) shards")
        }
        guard !runID.isEmpty, runID.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }), !runID.hasPrefix(".") else {
            throw ClusterError("--run-id", "'\(runID)' is not a plain name of letters, digits, '-', '_' and '.'", "pick such a run id (it names folders and jobs)")
        }
        for (name, value) in [("SUITE", suite), ("--driftbox", driftbox)] + runArguments.map({ ("run option", $0) }) {
            guard !value.isEmpty, !value.contains(where: { $0.isNewline || $0 == "\0" }) else {
                throw ClusterError(name, "'\(value)' is empty or holds a line break", "give a value on one line")
            }
        }
        for word in runArguments where ["--shard", "--out", "--run-id", "--progress"].contains(where: { word == $0 || word.hasPrefix($0 + "=") }) {
            throw ClusterError("--run-option", "'\(word)' is set by the generated files themselves", "leave it out (use --shards, --out and --run-id of this command)")
        }
        self.suite = suite
        self.shards = shards
        self.runID = runID
        self.driftbox = driftbox
        self.runArguments = runArguments
    }

    /// The run id of shard `index`.
    public func shardRunID(_ index: Int) -> String { "\(runID)-shard-\(index)" }

    /// The shell lines that run or resume one shard: `$shard` holds its index and `$runs` the
    /// shared folder. A shard whose folder has a `run.json` is resumed (a requeued or retried
    /// task goes on where the last attempt stopped); otherwise it starts.
    func shardCommands(progressExit: Bool) -> String {
        let run = ([Shell.quote(driftbox), "run", Shell.quote(suite), "--shard", "\"$shard/\(shards)\"", "--out", "\"$runs\"",
                    "--run-id", "\"\(runID)-shard-$shard\"", "--progress", "lines"] + runArguments.map(Shell.quote)).joined(separator: " ")
        let resume = [Shell.quote(driftbox), "resume", "\"$runs/\(runID)-shard-$shard\"", "--shard", "\"$shard/\(shards)\"", "--progress", "lines"]
            .joined(separator: " ")
        var text = """
            if [ -e "$runs/\(runID)-shard-$shard/run.json" ]; then
                \(resume)
            else
                \(run)
            fi
            """
        if progressExit {
            text += """

                status=$?
                # 2: an episode failed, 3: an agent never reached its model. Both are recorded in the
                # shard's run and reported by the merge; the shard itself is done, so its index completes.
                if [ "$status" -eq 2 ] || [ "$status" -eq 3 ]; then exit 0; fi
                exit "$status"
                """
        }
        return text
    }
}

/// A file a generator writes.
public struct GeneratedFile: Sendable, Equatable {
    /// Its name inside the output folder.
    public var name: String
    /// Its text.
    public var text: String
    /// True for a script to run directly (mode 0755).
    public var executable: Bool
}

/// Why a cluster file cannot be generated: what, where and what to do.
public struct ClusterError: Error, CustomStringConvertible, Equatable {
    /// The option or value concerned.
    public var location: String
    /// What is wrong.
    public var problem: String
    /// What to do.
    public var fix: String

    init(_ location: String, _ problem: String, _ fix: String) {
        self.location = location
        self.problem = problem
        self.fix = fix
    }

    /// `location: problem; fix`.
    public var description: String { "\(location): \(problem); \(fix)" }
}

/// POSIX shell quoting.
enum Shell {
    /// `value` as one shell word: as it is when made of safe characters, else in single quotes.
    static func quote(_ value: String) -> String {
        let safe = !value.isEmpty && value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0)) }
        return safe ? value : "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
