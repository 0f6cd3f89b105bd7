import Foundation

/// Kubernetes: an Indexed Job (one index per shard, `JOB_COMPLETION_INDEX` picks the shard) and
/// a merge Job, both mounting one persistent volume claim for the run folders.
public struct KubernetesJob: Sendable, Equatable {
    /// The sandbox the shards ask for.
    public enum SandboxChoice: String, Sendable, CaseIterable {
        /// All layers: the pod runs in a user namespace of its own (`hostUsers: false`) with an
        /// unmasked `/proc` and no seccomp or AppArmor profile of the runtime in the way; driftbox
        /// runs with `--mode full` and fails on a node that cannot give it.
        case full
        /// Landlock, seccomp, limits and no_new_privs only, under the runtime's default profiles
        /// (`--mode reduced`; run.json lists what is given up under `sandbox.gaps`).
        case reduced
    }

    /// The suite, shards, run id and driftbox.
    public var job: ClusterJob
    /// The container image with driftbox (and the suite, when it is a path) in it.
    public var image: String
    /// The persistent volume claim holding the run folders (read-write by every pod).
    public var claim: String
    /// The namespace, if not the current one.
    public var namespace: String?
    /// Shards running at once (default: all).
    public var parallelism: Int
    /// Retries of one index before it counts as failed.
    public var retries: Int
    /// The sandbox asked for.
    public var sandbox: SandboxChoice
    /// Where the claim is mounted in the containers.
    public static let mountPath = "/runs"

    /// Creates the Kubernetes form of `job`.
    /// - Throws: `ClusterError` for a name Kubernetes refuses or an image with blanks.
    public init(job: ClusterJob, image: String, claim: String, namespace: String? = nil, parallelism: Int? = nil, retries: Int = 3,
                sandbox: SandboxChoice = .full) throws {
        func dnsLabel(_ name: String, _ option: String) throws {
            guard (1...63).contains(name.count), name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }),
                  name.first != "-", name.last != "-" else {
                throw ClusterError(option, "'\(name)' is not a Kubernetes name (lowercase letters, digits and '-', at most 63)", "pick such a name")
            }
        }
        try dnsLabel(claim, "--claim")
        if let namespace { try dnsLabel(namespace, "--namespace") }
        // Job names get "-shards" or "-merge" and pods a further suffix; the Job's name must stay a label.
        try dnsLabel(Self.jobName(job.runID), "--run-id")
        guard Self.jobName(job.runID).count <= 50 else {
            throw ClusterError("--run-id", "'\(job.runID)' is too long for a Job name", "give a run id of at most 40 characters")
        }
        guard !image.isEmpty, !image.contains(where: { $0.isWhitespace || $0 == "\0" }) else {
            throw ClusterError("--image", "'\(image)' is empty or holds a blank", "give the image reference, e.g. registry.example.org/driftbox:0.1.0")
        }
        let parallelism = parallelism ?? job.shards
        guard parallelism >= 1 else { throw ClusterError("--parallelism", "\(parallelism)", "give at least 1") }
        guard (0...100).contains(retries) else { throw ClusterError("--retries", "\(retries)", "give 0 to 100") }
        self.job = job
        self.image = image
        self.claim = claim
        self.namespace = namespace
        self.parallelism = min(parallelism, job.shards)
        self.retries = retries
        self.sandbox = sandbox
    }

    /// The Job name stem: the run id in lowercase with other characters as `-`.
    static func jobName(_ runID: String) -> String {
        "driftbox-" + String(runID.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" })
    }

    /// `shards.yaml` (the Indexed Job) and `merge.yaml` (the merge Job).
    public func files() -> [GeneratedFile] {
        [GeneratedFile(name: "shards.yaml", text: shardsManifest, executable: false),
         GeneratedFile(name: "merge.yaml", text: mergeManifest, executable: false)]
    }

    /// A JSON string, which YAML reads as the same string.
    static func string(_ value: String) -> String {
        let data = (try? JSONEncoder().encode(value)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\\/", with: "/")
    }

    private var metadata: String {
        """
          labels:
            app.kubernetes.io/name: driftbox
            app.kubernetes.io/instance: \(Self.string(Self.jobName(job.runID)))
        \(namespace.map { "  namespace: \($0)\n" } ?? "")
        """
    }

    private func literal(_ script: String, indent: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        return script.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : pad + $0 }.joined(separator: "\n")
    }

    /// The pod's and the container's security settings for the chosen sandbox.
    private var podSecurity: String {
        switch sandbox {
        case .full:
            return """
                      # Full sandbox: the launcher makes user, mount, pid, network and other namespaces and mounts a
                      # fresh /proc. The pod gets a user namespace of its own (hostUsers: false; Kubernetes 1.33+ or
                      # the UserNamespacesSupport feature), so root in the container is no user of the node.
                      hostUsers: false
                      securityContext:
                        seccompProfile:
                          type: Unconfined        # the runtime's default profile refuses unshare and mount; driftbox installs its own filter per command
                        appArmorProfile:
                          type: Unconfined        # the runtime's default AppArmor profile refuses mount
                """
        case .reduced:
            return """
                      # Reduced sandbox: no namespaces. Commands are confined by Landlock, seccomp, limits and
                      # no_new_privs only, and see the container's files narrowed by Landlock (docs/sandbox.md);
                      # run.json names what is given up under sandbox.gaps.
                      securityContext:
                        seccompProfile:
                          type: RuntimeDefault
                """
        }
    }

    private var containerSecurity: String {
        switch sandbox {
        case .full:
            return """
                          securityContext:
                            procMount: Unmasked   # a fresh /proc in the sandbox's pid namespace needs /proc unmasked
                            allowPrivilegeEscalation: false
                            capabilities:
                              drop: [ALL]
                """
        case .reduced:
            return """
                          securityContext:
                            allowPrivilegeEscalation: false
                            capabilities:
                              drop: [ALL]
                              # A root runner hands each workspace to the agent user, reads and removes what
                              # that user made, and stops its processes.
                              add: [CHOWN, DAC_OVERRIDE, FOWNER, SETUID, SETGID, KILL]
                """
        }
    }

    var shardsManifest: String {
        let mode = ["--mode", sandbox.rawValue]
        var withMode = job
        withMode.runArguments = mode + job.runArguments
        let script = """
            set -u
            shard="${JOB_COMPLETION_INDEX:?this container runs as one index of an Indexed Job}"
            runs="${DRIFTBOX_RUNS:-\(Self.mountPath)}"
            echo "driftbox shard $shard/\(job.shards) in pod $(hostname)"
            \(withMode.shardCommands(progressExit: true))
            """
        return """
            # driftbox: suite \(job.suite) as \(job.shards) shard(s), one index of this Indexed Job per shard
            # (generated by `driftbox cluster k8s`). Index I runs `driftbox run SUITE --shard I/\(job.shards)` into
            # \(Self.mountPath)/\(job.runID)-shard-I on the claim \(claim); a retried index resumes its shard.
            # Sandbox: \(sandbox.rawValue) mode. When every index has completed, apply merge.yaml.
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: \(Self.jobName(job.runID))-shards
            \(metadata)spec:
              completionMode: Indexed
              completions: \(job.shards)
              parallelism: \(parallelism)
              backoffLimitPerIndex: \(retries)
              template:
                metadata:
                  labels:
                    app.kubernetes.io/name: driftbox
                    app.kubernetes.io/instance: \(Self.string(Self.jobName(job.runID)))
                spec:
                  restartPolicy: Never
            \(podSecurity)
                  containers:
                    - name: shard
                      image: \(Self.string(image))
                      command:
                        - /bin/sh
                        - -c
                        - |
            \(literal(script, indent: 14))
                      env:
                        - name: DRIFTBOX_RUNS
                          value: \(Self.mountPath)
            \(containerSecurity)
                      volumeMounts:
                        - name: runs
                          mountPath: \(Self.mountPath)
                  volumes:
                    - name: runs
                      persistentVolumeClaim:
                        claimName: \(claim)

            """
    }

    var mergeManifest: String {
        let script = """
            set -u
            runs="${DRIFTBOX_RUNS:-\(Self.mountPath)}"
            set --
            for shard in $(seq 0 \(job.shards - 1)); do
                if [ -e "$runs/\(job.runID)-shard-$shard/run.json" ]; then set -- "$@" "$runs/\(job.runID)-shard-$shard"; fi
            done
            if [ "$#" -eq 0 ]; then echo "driftbox merge: no shard of \(job.runID) has a run folder in $runs" >&2; exit 1; fi
            exec \(Shell.quote(job.driftbox)) merge "$@" --into "$runs/\(job.runID)"
            """
        return """
            # driftbox: merges the \(job.shards) shard(s) of \(job.runID) into \(Self.mountPath)/\(job.runID) (generated by
            # `driftbox cluster k8s`). Apply it once the shards Job has completed:
            #   kubectl wait --for=condition=complete --timeout=-1s job/\(Self.jobName(job.runID))-shards && kubectl apply -f merge.yaml
            # Merging again later (after more shards finished) is safe: delete this Job and apply it again.
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: \(Self.jobName(job.runID))-merge
            \(metadata)spec:
              completions: 1
              backoffLimit: 2
              template:
                metadata:
                  labels:
                    app.kubernetes.io/name: driftbox
                    app.kubernetes.io/instance: \(Self.string(Self.jobName(job.runID)))
                spec:
                  restartPolicy: Never
                  securityContext:
                    seccompProfile:
                      type: RuntimeDefault
                  containers:
                    - name: merge
                      image: \(Self.string(image))
                      command:
                        - /bin/sh
                        - -c
                        - |
            \(literal(script, indent: 14))
                      env:
                        - name: DRIFTBOX_RUNS
                          value: \(Self.mountPath)
                      securityContext:
                        allowPrivilegeEscalation: false
                        capabilities:
                          drop: [ALL]
                      volumeMounts:
                        - name: runs
                          mountPath: \(Self.mountPath)
                  volumes:
                    - name: runs
                      persistentVolumeClaim:
                        claimName: \(claim)

            """
    }
}
