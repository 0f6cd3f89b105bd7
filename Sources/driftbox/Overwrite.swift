import Foundation
import GitStore
import Sandbox
import Scenarios

/// An error of the command line itself: what, where, what to do.
struct CommandError: Error, CustomStringConvertible {
    /// The file or folder concerned.
    var path: String
    /// What is wrong.
    var reason: String
    /// What to do.
    var hint: String

    var description: String { "\(path): \(reason); \(hint)" }
}

/// Guards against replacing what a user already has: no command overwrites without `--force`.
enum Overwrite {
    /// Folders never emptied by `--force` nor used as a sandbox workspace: `/`, the system folders
    /// (and what is inside them) and the home folder itself.
    static func isProtected(_ path: String) -> Bool {
        let path = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        let exact = ["/", "/home", "/root", "/var", "/run",
                     FileManager.default.homeDirectoryForCurrentUser.standardizedFileURL.path]
        let trees = SandboxOptions.systemPaths + ["/boot", "/dev"]
        return exact.contains(path) || trees.contains { path == $0 || path.hasPrefix($0 + "/") }
    }

    /// Makes `folder` ready to be written into: missing or empty as it is; otherwise refused, or
    /// with `force` removed first (never `/`, a system folder, the home folder, the current folder
    /// or one above it, nor the run folder or one above it).
    static func prepareFolder(_ folder: URL, force: Bool, runFolder: URL) throws {
        let manager = FileManager.default
        var isFolder: ObjCBool = false
        guard manager.fileExists(atPath: folder.path, isDirectory: &isFolder) else { return }
        if isFolder.boolValue, (try manager.contentsOfDirectory(atPath: folder.path)).isEmpty { return }
        guard force else {
            throw CommandError(path: folder.path, reason: isFolder.boolValue ? "the folder is not empty" : "a file is there",
                               hint: "give --to a new or empty folder, or pass --force to replace it")
        }
        let resolved = folder.resolvingSymlinksInPath().path
        let above = { (inner: URL) in
            let inner = inner.standardizedFileURL.resolvingSymlinksInPath().path
            return inner == resolved || inner.hasPrefix(resolved + "/")
        }
        guard !isProtected(resolved), !above(currentDirectory), !above(runFolder) else {
            throw CommandError(path: folder.path, reason: "--force will not remove this folder (a system, home or current folder, or one holding the run)",
                               hint: "give --to a folder of its own")
        }
        try manager.removeItem(at: folder)
    }

    /// Refuses a file nested deeper than ``YAMLDepth/limit`` before a YAML parser reads it.
    static func checkYAMLDepth(_ file: URL) throws {
        guard let data = FileManager.default.contents(atPath: file.path) else { return }  // the reader says it is missing
        if let tooDeep = YAMLDepth.check(String(decoding: data, as: UTF8.self), path: file.path) {
            throw ScenarioError(diagnostics: [tooDeep])
        }
    }

    /// How `fixtures build` may write `repository`, which will hold `commit` on `refs/heads/main`.
    enum FixtureTarget {
        /// Nothing there: created.
        case new
        /// A fixture repository built before, already at `commit`.
        case unchanged
        /// A fixture repository built before, at another commit: moved only with `--force`.
        case rebuilt(from: ObjectID)
    }

    /// Refuses to touch a repository `fixtures build` did not create: one whose `main` is not a
    /// fixture commit (`Fixture.signature`, `Fixture.message(name:)`, no parent), or a path that is
    /// not a repository at all.
    static func fixtureTarget(_ repository: String, name: String, commit: ObjectID) throws -> FixtureTarget {
        guard FileManager.default.fileExists(atPath: repository) else { return .new }
        let refuse = CommandError(path: repository, reason: "this is not a fixture repository built by `driftbox fixtures build`, and its refs/heads/main is left alone",
                                  hint: "give --out a folder of its own, or move this one away")
        guard let existing = try? Repository.open(at: repository),
            let main = try? existing.resolve(ref: Fixture.branch),
            let info = try? existing.commitInfo(main),
            info.parents.isEmpty, info.author == Fixture.signature, info.message == Fixture.message(name: name)
        else { throw refuse }
        return main == commit ? .unchanged : .rebuilt(from: main)
    }
}
