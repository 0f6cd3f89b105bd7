// swift-tools-version: 6.0
import PackageDescription

// The launcher is linked statically. On x86-64 it carries its own small libc (sandbox/launcher/
// runtime.c) and links no glibc code: glibc's start-up alone costs about 0.3 ms per spawn on
// virtual machines where CPUID traps. Elsewhere it links glibc statically.
#if arch(x86_64)
let launcherLinkerSettings: [LinkerSetting] = [
    .unsafeFlags(["-static-executable", "-Xclang-linker", "-nostartfiles", "-Xclang-linker", "-nostdlib"])
]
#else
let launcherLinkerSettings: [LinkerSetting] = [.unsafeFlags(["-static-executable"])]
#endif

let package = Package(
    name: "driftbox",
    products: [
        .executable(name: "driftbox", targets: ["driftbox"]),
        .executable(name: "driftbox-launcher", targets: ["driftbox-launcher"]),
        .executable(name: "driftbox-bench", targets: ["driftbox-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // SHA-256 content hashes; already in the graph through async-http-client's TLS stack.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // System libraries: module maps and shim headers only.
        .systemLibrary(
            name: "CGit2", path: "Sources/CGit2", pkgConfig: "libgit2",
            providers: [.apt(["libgit2-dev"])]),
        .systemLibrary(
            name: "CSeccomp", path: "Sources/CSeccomp", pkgConfig: "libseccomp",
            providers: [.apt(["libseccomp-dev"])]),

        // The one C target for what Swift cannot import from libc (GNU constants, macros), compiled
        // with _GNU_SOURCE; its header declares plain functions only.
        .target(name: "CPosix", cSettings: [.define("_GNU_SOURCE")]),

        // Libraries: one responsibility each, dependencies point one way.
        // Posix: the one internal layer for libc calls (EINTR retried, errno captured once) and the
        // hostile-safe file layer for folders an agent writes.
        .target(name: "Posix", dependencies: ["CPosix"]),
        .target(name: "GitStore", dependencies: ["CGit2", "Posix"]),
        .target(name: "Sandbox", dependencies: ["CSeccomp", "Posix"]),
        .target(name: "Checks", dependencies: ["GitStore"]),
        .target(name: "Scenarios", dependencies: ["GitStore", "Checks", "Yams"]),
        .target(name: "Agents", dependencies: ["Sandbox", "Yams"]),
        // The built-in model agent (suite kind `model`): tool calling over the model APIs through
        // the run's gateway, every tool run in the episode's sandbox. Runner assembles it.
        .target(
            name: "ModelAgent",
            dependencies: [
                "Agents", "Sandbox",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .target(
            name: "Runner",
            dependencies: ["GitStore", "Sandbox", "Scenarios", "Checks", "Agents", "ModelAgent", "Posix", "Gateway", "Yams", .product(name: "Crypto", package: "swift-crypto")]),
        .target(
            name: "Report",
            dependencies: ["Runner", "Agents", "GitStore", "Checks", .product(name: "Mustache", package: "swift-mustache")]),
        // The model gateway: HTTP server on a given listening socket, upstream forwarding over TLS,
        // exchange recording and replay, accounting. Knows no other driftbox module but the leaf
        // Posix (libc calls with EINTR retried and errno captured once).
        .target(
            name: "Gateway",
            dependencies: [
                "Posix", "Yams",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),

        // The LLM judge: cases built from a run, asked through an in-process gateway (recorded,
        // replayed), labels written as a new verdict set; calibration against labelled cases.
        .target(
            name: "Judge",
            dependencies: [
                "Runner", "GitStore", "Checks", "Agents", "Gateway",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]),

        // Cluster files: Slurm array scripts and Kubernetes Indexed Jobs that run a suite's shards
        // and merge them (text generation only).
        .target(name: "Cluster"),

        // The launcher: a small single-threaded C program; no Swift runs between fork and exec.
        // Linked as a static executable: SwiftPM would otherwise link the Swift runtime into this
        // libc-only program, and loading it costs milliseconds on every sandboxed spawn. Without
        // glibc's start files and code (sandbox/launcher/runtime.c): glibc's start-up costs ~0.3 ms.
        .executableTarget(
            name: "driftbox-launcher", path: "sandbox/launcher", exclude: ["README.md"],
            linkerSettings: launcherLinkerSettings),

        // Thin executables.
        .executableTarget(
            name: "driftbox",
            dependencies: [
                "GitStore", "Sandbox", "Scenarios", "Checks", "Agents", "ModelAgent", "Runner", "Report", "Judge", "Gateway", "Cluster", "driftbox-launcher",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "driftbox-bench",
            dependencies: [
                "GitStore", "Sandbox", "Runner", "Report", "Gateway", "Posix", "Agents", "ModelAgent", "driftbox-launcher",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Benchmarks/driftbox-bench"),

        // Tests. One copy of what the test targets share: the package root, temporary folders,
        // file makers, a host-program runner (exit status checked, git's configuration isolated),
        // seeded randomness and host requirements as traits.
        .target(name: "DriftboxTestSupport", path: "Tests/DriftboxTestSupport"),
        .testTarget(name: "PosixTests", dependencies: ["Posix"]),
        .testTarget(name: "GitStoreTests", dependencies: ["DriftboxTestSupport", "GitStore", "Posix"]),
        .testTarget(name: "SandboxTests", dependencies: ["DriftboxTestSupport", "Sandbox", "driftbox-launcher"]),
        .testTarget(name: "ChecksTests", dependencies: ["DriftboxTestSupport", "Checks", "GitStore"], exclude: ["Corpus"]),
        .testTarget(name: "ScenariosTests", dependencies: ["DriftboxTestSupport", "Scenarios", "Checks", "GitStore"]),
        .testTarget(name: "RunnerTests", dependencies: ["DriftboxTestSupport", "Runner", "Report", "Agents", "GitStore", "Checks", "Scenarios", "Gateway", "driftbox-launcher", "driftbox",
                                                      .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "ReportTests", dependencies: ["DriftboxTestSupport", "Report", "Runner", "driftbox"]),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway", "DriftboxTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]),
        .testTarget(
            name: "AgentsTests", dependencies: ["DriftboxTestSupport", "Agents", "Runner", "Sandbox", "GitStore", "Checks", "Scenarios", "driftbox-launcher"],
            exclude: ["Resources"]),
        // End to end through `driftbox run`: what an agent leaves in its workspace must not fool,
        // crash or hang the runner, nor touch the host.
        .testTarget(name: "HostileRunnerTests", dependencies: ["driftbox"]),
        // Shards end to end: partition, merge (conflicts, idempotence, a killed merge repeated), the
        // generated Slurm array on a real Slurm, the Kubernetes manifests against the API schema.
        .testTarget(
            name: "ClusterTests",
            dependencies: ["DriftboxTestSupport", "Cluster", "Runner", "GitStore", "Scenarios", "Yams", "driftbox-launcher", "driftbox"],
            exclude: ["Resources"]),
        // The judge end to end: a real run, `driftbox judge` against a scripted judge upstream on
        // loopback HTTP, recording and replay, an interrupted judge run resumed, calibration.
        .testTarget(
            name: "JudgeTests",
            dependencies: [
                "DriftboxTestSupport", "Judge", "Runner", "Report", "Checks", "GitStore", "Scenarios", "driftbox",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
