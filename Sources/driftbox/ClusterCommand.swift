import ArgumentParser
import Cluster
import Foundation
import Runner
import Scenarios

/// `driftbox cluster`: files that run a suite's shards on a cluster's scheduler and merge them.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "Write the files that run a suite as shards on Slurm or Kubernetes and merge them (docs/cluster.md).",
        subcommands: [SlurmCommand.self, KubernetesCommand.self])
}

/// What both generators take.
struct ClusterOptions: ParsableArguments {
    @Argument(help: "The suite file or bundled suite name (as the nodes' driftbox finds it).")
    var suite: String

    @Option(help: "The number of shards, at most the suite's episodes.")
    var shards: Int

    @Option(help: "The merged run's id; shard I runs as <id>-shard-<I> (default: suite id and time).")
    var runID: String?

    @Option(help: ArgumentHelp("The driftbox program on the nodes.", valueName: "path"))
    var driftbox: String = "driftbox"

    @Option(name: .customLong("run-option"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("A `driftbox run` option for every shard (repeatable, one word each: --run-option=--repetitions --run-option=10).", valueName: "word"))
    var runOptions: [String] = []

    @Option(help: ArgumentHelp("The folder to write the files into.", valueName: "folder"))
    var to: String

    @Flag(help: "Replace files of the same names in --to.")
    var force = false

    /// Checks the suite loads and has at least `shards` episodes; returns the job.
    func job() throws -> ClusterJob {
        let file = try RunCommand.resolve(suite) ?? URL(fileURLWithPath: suite)
        let definition = try RunDefinition.load(file, agentsSuite: try Resources.catalog().fixtures.appendingPathComponent("suites/paper.yaml"),
                                                seed: nil, repetitions: Self.value(of: "--repetitions", in: runOptions).flatMap(Int.init),
                                                agents: Self.values(of: "--agent", in: runOptions))
        let isPath = suite.contains("/") || FileManager.default.fileExists(atPath: suite)
        return try ClusterJob(suite: isPath ? file.path : suite, shards: shards, runID: runID ?? Runner.defaultRunID(suite: definition.suite.id),
                              driftbox: driftbox, runArguments: runOptions, suiteEpisodes: definition.suite.episodes().count)
    }

    static func value(of option: String, in words: [String]) -> String? { values(of: option, in: words).last }

    static func values(of option: String, in words: [String]) -> [String] {
        var found: [String] = []
        for (index, word) in words.enumerated() {
            if word == option, index + 1 < words.count { found.append(words[index + 1]) }
            if word.hasPrefix(option + "=") { found.append(String(word.dropFirst(option.count + 1))) }
        }
        return found
    }

    /// Writes the files into `--to` and prints their paths.
    func write(_ files: [GeneratedFile]) throws {
        let folder = URL(fileURLWithPath: to, relativeTo: currentDirectory).standardizedFileURL
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for file in files {
            let url = folder.appendingPathComponent(file.name)
            try OutputFile.write(Data(file.text.utf8), to: url, force: force)
            if file.executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path) }
            print(url.path)
        }
    }
}

/// `driftbox cluster slurm`.
struct SlurmCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slurm", abstract: "Write an sbatch array script (a task per shard, requeue-safe), a merge job and submit.sh.")

    @OptionGroup var options: ClusterOptions

    @Option(help: ArgumentHelp("The shared folder for the shard runs, the merged run and the job logs (the same path on every node).", valueName: "folder"))
    var out: String = "runs"

    @Option(help: "The Slurm partition.")
    var partition: String?

    @Option(help: "Each shard task's time limit (sbatch --time).")
    var time: String?

    @Option(help: "CPUs of each shard task (sbatch --cpus-per-task).")
    var cpusPerTask: Int?

    @Option(help: "Memory of each shard task (sbatch --mem).")
    var mem: String?

    @Option(name: .customLong("sbatch"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("Another #SBATCH option for both jobs (repeatable): --sbatch=--account=lab.", valueName: "option"))
    var sbatch: [String] = []

    func run() async throws {
        try await failing("cluster slurm") {
            let runs = URL(fileURLWithPath: out, relativeTo: currentDirectory).standardizedFileURL.path
            let folder = URL(fileURLWithPath: options.to, relativeTo: currentDirectory).standardizedFileURL.path
            let slurm = try SlurmJob(job: try options.job(), runs: runs, folder: folder, partition: partition, time: time, cpusPerTask: cpusPerTask, memory: mem,
                                     extraOptions: sbatch)
            try options.write(slurm.files())
            FileHandle.standardError.write(Data("driftbox: submit with `sh \(folder)/submit.sh`; the merged run will be \(slurm.mergedRun)\n".utf8))
        }
    }
}

/// `driftbox cluster k8s`.
struct KubernetesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "k8s", abstract: "Write an Indexed Job (an index per shard) and a merge Job for Kubernetes.")

    @OptionGroup var options: ClusterOptions

    @Option(help: "The container image with driftbox in it.")
    var image: String

    @Option(help: "The persistent volume claim (ReadWriteMany) the runs go to, mounted at /runs.")
    var claim: String

    @Option(help: "The namespace (default: the current one).")
    var namespace: String?

    @Option(help: "Shards running at once (default: all).")
    var parallelism: Int?

    @Option(help: "Retries of one shard before it counts as failed (each resumes the shard).")
    var retries: Int = 3

    @Option(help: "The sandbox: full (the pod needs a user namespace, unmasked /proc, no runtime seccomp or AppArmor profile) or reduced (Landlock, seccomp, limits only).")
    var sandbox: SandboxChoiceArgument = .full

    func run() async throws {
        try await failing("cluster k8s") {
            let kubernetes = try KubernetesJob(job: try options.job(), image: image, claim: claim, namespace: namespace, parallelism: parallelism,
                                               retries: retries, sandbox: sandbox.choice)
            try options.write(kubernetes.files())
        }
    }
}

/// `--sandbox full|reduced`.
enum SandboxChoiceArgument: String, CaseIterable, ExpressibleByArgument {
    case full, reduced
    var choice: KubernetesJob.SandboxChoice { KubernetesJob.SandboxChoice(rawValue: rawValue) ?? .full }
}
