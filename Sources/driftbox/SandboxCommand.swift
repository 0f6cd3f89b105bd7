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
        @Option(name: .long, help: "Policy name (default, network) or path to a .policy file.")
        var policy = "default"

        @Option(name: .long, help: "automatic, full or reduced.")
        var mode: String = "automatic"

        @Option(name: .long, help: "Also let commands read this host folder (repeatable; system folders always are).")
        var read: [String] = []

        func validate() throws {
            guard ModeRequest(rawValue: mode) != nil else { throw ValidationError("--mode must be automatic, full or reduced") }
        }

        func makeSandbox() throws -> Sandbox {
            let loaded = policy.contains("/") || policy.hasSuffix(".policy") ? try Policy.load(path: policy) : try Policy.named(policy)
            return try Sandbox(SandboxOptions(policy: loaded, mode: ModeRequest(rawValue: mode) ?? .automatic, outputLimit: 64 << 20,
                                              readablePaths: SandboxOptions.systemPaths + read.map { URL(fileURLWithPath: $0).path }))
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show what this host supports and run a quick self-test.")

        @OptionGroup var options: PolicyOptions

        func run() async throws {
            let sandbox = try orExit { try options.makeSandbox() }
            print(sandbox.capabilities.description)
            print("mode: \(sandbox.mode.rawValue)")
            for line in sandbox.isolationGaps { print("  gives up: \(line)") }
            print("policy: \(sandbox.options.policy.name) (\(sandbox.filterInstructionCount) BPF instructions, network \(sandbox.options.policy.network.rawValue))")
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("driftbox-check-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let results = try await orExit { try await sandbox.selfCheck(workspace: scratch) }
            for r in results {
                let tag = r.passed.map { $0 ? "PASS" : "FAIL" } ?? "SKIP"
                print("\(tag)  \(r.name): \(r.detail)")
            }
            if results.contains(where: { $0.passed == false }) { throw ExitCode.failure }
        }
    }

    struct Exec: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run one command exactly as an agent's command runs.")

        @OptionGroup var options: PolicyOptions

        @Option(name: .long, help: "Workspace directory (default: the current directory).")
        var workspace: String?

        @Option(name: .long, help: "Wall-clock timeout in seconds.")
        var timeout: Double = 60

        @Option(name: .long, help: "Pass this variable of the current environment into the sandbox (repeatable).")
        var env: [String] = []

        @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.")
        var command: [String] = []

        func validate() throws {
            guard !command.isEmpty else { throw ValidationError("name the command after --, e.g. driftbox sandbox exec -- ls -la") }
            guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        }

        func run() async throws {
            let sandbox = try orExit { try options.makeSandbox() }
            let dir = workspace.map { URL(fileURLWithPath: $0).path } ?? FileManager.default.currentDirectoryPath
            let spec = SandboxedCommand(command[0], Array(command.dropFirst()), workspace: dir, passEnvironment: env,
                                        timeout: .milliseconds(Int64(timeout * 1000)))
            let result = try await orExit { try await sandbox.run(spec) }
            FileHandle.standardOutput.write(Data(result.stdout.bytes))
            FileHandle.standardError.write(Data(result.stderr.bytes))
            if result.stdout.truncated || result.stderr.truncated { warn("output truncated at 64 MiB per stream") }
            if result.timedOut { warn("timed out after \(timeout) s; the process tree was killed") }
            if result.mode != .full { warn("ran in \(result.mode.rawValue) mode") }
            for line in result.isolationWarnings { warn(line) }
            let status = result.termination.shellStatus
            if status != 0 { throw ExitCode(status) }
        }
    }
}

private func warn(_ text: String) {
    FileHandle.standardError.write(Data("driftbox: \(text)\n".utf8))
}

/// Prints a sandbox error and exits with failure instead of a stack of Swift error text.
private func orExit<T>(_ body: () async throws -> T) async throws -> T {
    do { return try await body() } catch let error as SandboxError {
        warn(error.description)
        throw ExitCode(125)
    }
}

private func orExit<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as SandboxError {
        warn(error.description)
        throw ExitCode(125)
    }
}
