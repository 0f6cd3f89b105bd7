import Sandbox

/// Runs an agent's commands of one step in the sandbox and keeps their records, the step's
/// budget and what the sandbox gave up; turns it all into the step's ``AgentTurn``.
struct StepRecorder {
    /// Bytes of each output stream kept in a ``CommandRecord``.
    static let tailBytes = 4096

    let context: AgentContext
    let started = ContinuousClock.now
    private(set) var commands: [CommandRecord] = []
    private(set) var cpu: Duration = .zero
    private var gaps: [String]

    init(context: AgentContext) {
        self.context = context
        gaps = context.sandbox.isolationGaps
    }

    /// The part of the step's wall-clock limit not used yet.
    var remaining: Duration { context.stepTimeout - (ContinuousClock.now - started) }

    /// Runs one command in the workspace with the rest of the step's time, and records it.
    /// - Throws: `SandboxError` when the sandbox could not start the command at all.
    mutating func run(_ executable: String, _ arguments: [String], stdin: [UInt8] = [],
                      environment: [String: String] = [:], passEnvironment: [String] = [],
                      gateway: GatewayListener? = nil) async throws -> SandboxResult {
        let command = SandboxedCommand(executable, arguments, workspace: context.workspace, readOnlyPaths: context.readOnlyPaths, environment: environment,
                                       passEnvironment: passEnvironment, stdin: stdin, timeout: max(remaining, .milliseconds(1)),
                                       gateway: gateway)
        let result = try await context.sandbox.run(command)
        commands.append(CommandRecord(argv: [executable] + arguments, result: result))
        cpu += result.cpuTime
        for warning in result.isolationWarnings where !gaps.contains(warning) { gaps.append(warning) }
        return result
    }

    /// The turn of the step so far.
    func turn(message: String, outcome: AgentOutcome, inputTokens: Int? = nil, outputTokens: Int? = nil) -> AgentTurn {
        AgentTurn(message: message, commands: commands, outcome: outcome,
                  usage: AgentUsage(inputTokens: inputTokens, outputTokens: outputTokens,
                                    wallSeconds: (ContinuousClock.now - started).seconds, cpuSeconds: cpu.seconds),
                  isolationGaps: gaps)
    }
}

extension CommandRecord {
    /// The record of a finished sandboxed command.
    init(argv: [String], result: SandboxResult) {
        self.init(argv: argv, termination: result.termination.description, timedOut: result.timedOut,
                  stdoutTail: result.stdout.text.tail(StepRecorder.tailBytes),
                  stderrTail: result.stderr.text.tail(StepRecorder.tailBytes),
                  outputTruncated: result.stdout.truncated || result.stderr.truncated, wallSeconds: result.wallTime.seconds)
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension String {
    /// The last `bytes` bytes of UTF-8 (cut at a character boundary).
    func tail(_ bytes: Int) -> String {
        guard utf8.count > bytes else { return self }
        let suffix = utf8.suffix(bytes).drop { $0 & 0xC0 == 0x80 }  // no partial character at the start
        return String(decoding: suffix, as: UTF8.self)
    }
}
