import Foundation

/// Fixture repositories: folders under `Fixtures/repos/` turned into git repositories whose
/// commit id is the same on every machine and every run.
public enum Fixture {
    /// The author and committer of every fixture commit: a plausible maintainer of the
    /// repository (fixed name and e-mail, nothing that names the harness) and a fixed time
    /// (2026-01-01T00:00:00Z, UTC). The agent reads this commit in `git log`.
    public static let signature = Signature(name: "Jordan Avery", email: "jordan.avery@example.com", time: 1_767_225_600, offsetMinutes: 0)

    /// The branch a fixture repository's commit is on.
    public static let branch = "refs/heads/main"

    /// One built fixture.
    public struct Built: Sendable, Hashable {
        /// The fixture's name (its folder name).
        public var name: String
        /// The bare repository that was written.
        public var repository: String
        /// The fixture's base commit.
        public var commit: ObjectID
    }

    /// The commit message of a fixture: `Initial commit`, as an ordinary repository's first
    /// commit reads (the fixture's name is not in it; the run repository names the fixture in
    /// `refs/fixtures/<name>`).
    /// - Parameter name: the fixture's folder name (not used in the message).
    public static func message(name: String) -> String { "Initial commit\n" }

    /// Builds one fixture folder into a bare repository with one commit on `main`.
    ///
    /// Building again into the same repository is harmless: the commit id is the same.
    /// - Parameters:
    ///   - source: the fixture folder (for example `Fixtures/repos/tiny`).
    ///   - repositoryPath: the bare repository to create or update.
    /// - Returns: the fixture's base commit id.
    /// - Throws: `GitError` naming the path when the folder is missing, is a file, or holds a file
    ///   that cannot be read or stored.
    public static func build(source: String, into repositoryPath: String) throws -> ObjectID {
        let name = URL(fileURLWithPath: source).standardizedFileURL.lastPathComponent
        let repository = try FileSystem.status(repositoryPath) == nil
            ? try Repository.create(at: repositoryPath, bare: true)
            : try Repository.open(at: repositoryPath)
        try repository.bufferObjects()
        let tree = try repository.writeTree(directory: source)
        let commit = try repository.commit(tree: tree, message: message(name: name), author: signature, parents: [], updateRef: nil)
        try repository.writeBufferedObjects(tip: commit, known: nil)
        try repository.updateRef(branch, to: commit)
        try repository.setHead(branch)
        return commit
    }

    /// Builds every folder of a fixtures folder into `<output>/<name>.git`.
    /// - Parameters:
    ///   - fixtures: the folder holding one folder per fixture (`Fixtures/repos`).
    ///   - output: where the bare repositories go; created when missing.
    /// - Returns: the built fixtures in name order.
    /// - Throws: `GitError` when `fixtures` is not a folder or a fixture cannot be built.
    public static func buildAll(fixtures: String, into output: String) throws -> [Built] {
        guard let info = try FileSystem.status(fixtures), FileSystem.kind(mode: info.st_mode) == .directory else {
            throw GitError(kind: .notFound, function: "Fixture.buildAll", message: "no fixtures folder here", location: fixtures,
                           hint: "pass the folder holding one folder per fixture (Fixtures/repos)")
        }
        try FileSystem.makeDirectory(output)
        var built: [Built] = []
        for entry in try FileSystem.entries(of: fixtures) {
            guard let name = entry.utf8Name, !name.hasPrefix(".") else { continue }
            let source = fixtures + "/" + name
            guard let status = try FileSystem.status(source), FileSystem.kind(mode: status.st_mode) == .directory else { continue }
            let repository = output + "/" + name + ".git"
            built.append(Built(name: name, repository: repository, commit: try build(source: source, into: repository)))
        }
        return built
    }

    /// Finds `Fixtures/repos` by walking up from a folder to the first one that holds both
    /// `Package.swift` and `Fixtures`.
    /// - Parameter start: the folder to start from (usually the current directory).
    /// - Returns: the path of `Fixtures/repos`.
    /// - Throws: `GitError` when no parent folder holds `Package.swift` and `Fixtures`.
    public static func repositoriesFolder(searchingUpFrom start: String) throws -> String {
        var folder = URL(fileURLWithPath: start).standardizedFileURL
        while true {
            let package = folder.appendingPathComponent("Package.swift").path
            let fixtures = folder.appendingPathComponent("Fixtures").path
            if try FileSystem.status(package) != nil, try FileSystem.status(fixtures) != nil {
                return fixtures + "/repos"
            }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path {
                throw GitError(kind: .notFound, function: "Fixture.repositoriesFolder",
                               message: "no folder holding Package.swift and Fixtures above this one", location: start,
                               hint: "run from inside the driftbox package or pass --fixtures DIR")
            }
            folder = parent
        }
    }
}
