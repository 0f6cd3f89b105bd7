import Foundation
import Sandbox

/// The settings a `resume` command line names explicitly. A run resumes with the settings it
/// was recorded with (step timeout, sandbox mode, policy, agents); a requested value that differs
/// from the recorded one is refused, naming the recorded one.
public struct ResumeRequest: Sendable, Equatable {
    /// The step timeout asked for, if any.
    public var stepTimeout: Duration?
    /// The sandbox mode asked for, if any (`automatic` accepts the recorded mode).
    public var sandboxMode: ModeRequest?
    /// The policy asked for (a name or a `.policy` file), if any.
    public var policy: String?
    /// The shard asked for (`--shard I/N`), if any: the run must be that shard.
    public var shard: ShardSpec?

    /// Creates a request; nil fields take the recorded values.
    public init(stepTimeout: Duration? = nil, sandboxMode: ModeRequest? = nil, policy: String? = nil, shard: ShardSpec? = nil) {
        self.shard = shard
        self.stepTimeout = stepTimeout
        self.sandboxMode = sandboxMode
        self.policy = policy
    }

    /// `options` with the recorded step timeout, sandbox mode and policy.
    /// - Throws: `RunStoreError.invalid` naming the recorded value when a requested one differs.
    func settings(recorded manifest: RunManifest, options: RunOptions) throws -> RunOptions {
        var options = options
        let path = "run.json of run \(manifest.runID)"
        let recordedTimeout = manifest.stepTimeoutSeconds
        if let stepTimeout, abs(EpisodeExecution.seconds(stepTimeout) - recordedTimeout) > 1e-9 {
            throw RunStoreError.invalid(path: path, reason: "the run was recorded with --step-timeout \(Self.format(recordedTimeout)), not \(Self.format(EpisodeExecution.seconds(stepTimeout)))",
                                        hint: "leave --step-timeout out (a resume uses the recorded settings), or start a new run")
        }
        guard recordedTimeout.isFinite, recordedTimeout > 0, recordedTimeout < 1e9 else {
            throw RunStoreError.invalid(path: path, reason: "stepTimeoutSeconds is \(recordedTimeout)", hint: "the manifest was edited: restore it, or start a new run")
        }
        options.stepTimeout = .milliseconds(Int64(recordedTimeout * 1000))
        guard let recordedMode = ModeRequest(rawValue: manifest.sandbox.mode), recordedMode != .automatic else {
            throw RunStoreError.invalid(path: path, reason: "the run was recorded in sandbox mode '\(manifest.sandbox.mode)', which cannot be asked for again",
                                        hint: "start a new run")
        }
        if let sandboxMode, sandboxMode != .automatic, sandboxMode != recordedMode {
            throw RunStoreError.invalid(path: path, reason: "the run was recorded with --mode \(manifest.sandbox.mode), not \(sandboxMode.rawValue)",
                                        hint: "leave --mode out (a resume uses the recorded settings), or start a new run")
        }
        options.sandboxMode = recordedMode
        let recordedPolicy = manifest.sandbox.policySource ?? manifest.sandbox.policy
        if let policy, Prepared.policySource(policy) != recordedPolicy {
            throw RunStoreError.invalid(path: path, reason: "the run was recorded with --policy \(recordedPolicy), not \(policy)",
                                        hint: "leave --policy out (a resume uses the recorded settings), or start a new run")
        }
        options.policy = recordedPolicy
        if let shard, shard.index != manifest.shard?.index || shard.count != manifest.shard?.count {
            throw RunStoreError.invalid(path: path, reason: "the run was recorded as \(manifest.shard.map { "shard \($0.label)" } ?? "the whole suite"), not as shard \(shard)",
                                        hint: "resume the folder of shard \(shard), or leave --shard out")
        }
        return options
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() && abs(seconds) < 1e15 ? String(Int64(seconds)) : String(seconds)
    }
}
