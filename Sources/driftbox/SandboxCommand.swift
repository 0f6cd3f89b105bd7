import ArgumentParser
import Foundation
import Sandbox

/// `driftbox sandbox`: inspect the host's sandbox support and run commands as an agent would.
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox", abstract: "Inspect and use the sandbox.",
        subcommands: [Check.self, Exec.self])

    /// Options shared by the subcommands.
    struct PolicyOptions: ParsableArguments {
        @Option(name: .long, help: "Sandbox policy: a bundled name or a .policy file.")
        var policy: PolicyChoice = PolicyChoice("default")

        @Option(name: .long, help: "Sandbox mode.")
        var mode: ModeChoice = .automatic

        @Option(name: .long, help: "Also let commands read this host folder (repeatable; system folders always are).")
        var read: [String] = []

        func makeSandbox() throws -> Sandbox {
            let loaded = PolicyChoice.isFile(policy.value) ? try Policy.load(path: policy.value) : try Policy.named(policy.value)
            return try Sandbox(SandboxOptions(policy: loaded, mode: mode.request, outputLimit: 64 << 20,
                                              readablePaths: SandboxOptions.systemPaths + read.map { URL(fileURLWithPath: $0).path }))
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show what this host supports and run a quick self-test.")

        @OptionGroup var options: PolicyOptions

        func run() async throws {
            try await failing("sandbox check") { try await check() }
        }

        private func check() async throws {
            let sandbox = try options.makeSandbox()
            print(sandbox.capabilities.description)
            print("mode: \(sandbox.mode.rawValue)")
            for line in sandbox.isolationGaps { print("  gives up: \(line)") }
            print("policy: \(sandbox.options.policy.name) (\(sandbox.filterInstructionCount) BPF instructions, network \(sandbox.options.policy.network.rawValue))")
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("driftbox-check-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let results = try await sandbox.selfCheck(workspace: scratch)
            for r in results {
                let tag = r.passed.map { $0 ? "PASS" : "FAIL" } ?? "SKIP"
                print("\(tag)  \(r.name): \(r.detail)")
            }
            if results.contains(where: { $0.passed == false }) { throw ExitCode(ExitStatus.error) }
        }
    }

    struct Exec: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run one command exactly as an agent's command runs.")

        @OptionGroup var options: PolicyOptions

        @Option(name: .long, help: "Workspace directory, writable by the command (default: the current directory; never / nor a system folder).")
        var workspace: String?

        @Option(name: .long, help: ArgumentHelp("Wall-clock timeout in seconds (0.001 to 604800; default: 60).", valueName: "seconds"), transform: Seconds.parse)
        var timeout: Double = 60

        @Option(name: .long, help: "Pass this variable of the current environment into the sandbox (repeatable).")
        var env: [String] = []

        @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.")
        var command: [String] = []

        func validate() throws {
            guard !command.isEmpty else { throw ValidationError("name the command after --, e.g. driftbox sandbox exec -- ls -la") }
        }

        func run() async throws {
            let status = try await failing("sandbox exec", status: ExitStatus.execFailed) { try await execute() }
            if status != 0 { throw ExitCode(status) }
        }

        /// Runs the command; returns its shell status.
        private func execute() async throws -> Int32 {
            let dir = URL(fileURLWithPath: workspace ?? FileManager.default.currentDirectoryPath, relativeTo: currentDirectory).standardizedFileURL.path
            if Overwrite.isProtected(dir) {
                throw CommandError(path: dir, reason: "a workspace here would let the command write anywhere in /, a system folder or the home folder",
                                   hint: workspace == nil ? "cd into a project folder first, or pass --workspace DIR" : "pass --workspace a project folder")
            }
            let sandbox = try options.makeSandbox()
            let spec = SandboxedCommand(command[0], Array(command.dropFirst()), workspace: dir, passEnvironment: env,
                                        timeout: Seconds.duration(timeout))
            let result = try await sandbox.run(spec)
            FileHandle.standardOutput.write(Data(result.stdout.bytes))
            FileHandle.standardError.write(Data(result.stderr.bytes))
            if result.stdout.truncated || result.stderr.truncated { warn("output truncated at 64 MiB per stream") }
            if result.timedOut { warn("timed out after \(timeout) s; the process tree was killed") }
            if result.mode != .full { warn("ran in \(result.mode.rawValue) mode") }
            for line in result.isolationWarnings { warn(line) }
            return result.termination.shellStatus
        }
    }
}

private func warn(_ text: String) {
    FileHandle.standardError.write(Data("driftbox: \(text)\n".utf8))
}
