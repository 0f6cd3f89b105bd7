import CGit2
import Foundation

/// libgit2's process-wide set-up, done once and lazily (Swift runs `static let` initialisers once,
/// thread-safely).
enum Libgit2 {
    /// A fresh empty folder: where libgit2 looks for configuration and repository templates.
    static let emptyFolder: String = {
        let empty = FileManager.default.temporaryDirectory
            .appendingPathComponent("driftbox-git-empty-\(getpid())-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        atexit { _ = rmdir(Libgit2.emptyFolder) }
        return empty
    }()

    private static let initialised: Void = {
        git_libgit2_init()
        // Point every config search path at an empty folder: a user's ~/.gitconfig, the XDG
        // config and the system config must never change diffs or commits.
        let empty = emptyFolder
        for level in [GIT_CONFIG_LEVEL_PROGRAMDATA, GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL] {
            _ = cgit2_set_search_path(level.rawValue, empty)
        }
        _ = cgit2_enable_strict_object_creation(1)
    }()

    /// Initialises libgit2 and isolates its configuration, once per process.
    static func ensure() { _ = initialised }
}

/// Runs a libgit2 constructor that writes an object pointer, and returns the pointer.
func make(
    _ function: String, location: String? = nil, hint: String? = nil, _ body: (inout OpaquePointer?) -> Int32
) throws -> OpaquePointer {
    var out: OpaquePointer?
    try check(function, body(&out), location: location, hint: hint)
    guard let out else {
        throw GitError(kind: .libgit2, function: function, message: "libgit2 returned success but no object", location: location)
    }
    return out
}

// One owning class per libgit2 type, each freed with its own free function.

/// Owns a `git_tree`.
final class TreeHandle {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_tree_free(pointer) }
}

/// Owns a `git_tree_entry` returned by `git_tree_entry_bypath`.
final class TreeEntryHandle {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_tree_entry_free(pointer) }
}

/// Owns a `git_treebuilder`.
final class TreeBuilderHandle {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_treebuilder_free(pointer) }
}

/// Owns a `git_commit`.
final class CommitHandle {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_commit_free(pointer) }
}

/// Owns a `git_blob`.
final class BlobHandle {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_blob_free(pointer) }
}

/// Owns a `git_object` of any type.
final class ObjectHandle {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_object_free(pointer) }
}

/// Owns a `git_reference`.
final class ReferenceHandle {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_reference_free(pointer) }
}

/// Owns a `git_index`.
final class IndexHandle {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_index_free(pointer) }
}

/// Owns a `git_diff`.
final class DiffHandle {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_diff_free(pointer) }
}

/// Owns a `git_patch`.
final class PatchHandle {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_patch_free(pointer) }
}

/// Owns a `git_revwalk`.
final class RevwalkHandle {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_revwalk_free(pointer) }
}

/// Owns a `git_signature`.
final class SignatureHandle {
    let pointer: UnsafeMutablePointer<git_signature>
    init(_ pointer: UnsafeMutablePointer<git_signature>) { self.pointer = pointer }
    deinit { git_signature_free(pointer) }
}

/// Owns a `git_odb`.
final class ObjectDatabaseHandle {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_odb_free(pointer) }
}

/// Owns a `git_packbuilder`.
final class PackBuilderHandle {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_packbuilder_free(pointer) }
}

/// Owns a `git_config`.
final class ConfigHandle {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_config_free(pointer) }
}

/// Owns a `git_indexer`.
final class IndexerHandle {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { git_indexer_free(pointer) }
}
