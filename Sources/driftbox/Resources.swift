import Foundation
import Sandbox
import Scenarios

/// Where an installed or built driftbox finds what it ships with: the launcher, the sandbox
/// policies and the bundled `Fixtures` folder, all relative to the executable.
///
/// Two layouts are known:
/// - installed (`scripts/install.sh PREFIX`): `PREFIX/bin/driftbox`,
///   `PREFIX/libexec/driftbox/driftbox-launcher`, `PREFIX/share/driftbox/policies/`,
///   `PREFIX/share/driftbox/Fixtures/`;
/// - a checkout: `.build/<config>/driftbox` next to `driftbox-launcher`, with `sandbox/policies/`
///   and `Fixtures/` in a folder above it.
///
/// `DRIFTBOX_LAUNCHER`, `DRIFTBOX_POLICY_DIR` and `DRIFTBOX_FIXTURES` override each.
enum Resources {
    /// The running executable.
    static var executable: URL { Catalog.runningExecutable }

    /// The installation prefix when the executable is at `PREFIX/bin/driftbox` of an installed layout.
    static var installedPrefix: URL? {
        let prefix = executable.deletingLastPathComponent().deletingLastPathComponent()
        let share = prefix.appendingPathComponent("share/driftbox")
        return FileManager.default.fileExists(atPath: share.path) ? prefix : nil
    }

    /// Points the sandbox at an installed layout's launcher and policies, unless the environment
    /// already names them. Called once at start-up, before any thread is started.
    static func configure() {
        guard let prefix = installedPrefix else { return }
        let launcher = prefix.appendingPathComponent("libexec/driftbox/\(Launcher.executableName)").path
        if getenv("DRIFTBOX_LAUNCHER") == nil, FileManager.default.isExecutableFile(atPath: launcher) {
            setenv("DRIFTBOX_LAUNCHER", launcher, 0)
        }
        let policies = prefix.appendingPathComponent("share/driftbox/policies").path
        if getenv("DRIFTBOX_POLICY_DIR") == nil, FileManager.default.fileExists(atPath: policies) {
            setenv("DRIFTBOX_POLICY_DIR", policies, 0)
        }
    }

    /// The bundled fixtures, scenarios, suites and trajectories.
    static func catalog() throws -> Catalog {
        try Catalog.bundled(executable: executable, directory: currentDirectory)
    }
}

/// The current directory as a URL.
var currentDirectory: URL { URL(fileURLWithPath: FileManager.default.currentDirectoryPath) }
