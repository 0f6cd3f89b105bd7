#ifndef CGIT2_SHIM_H
#define CGIT2_SHIM_H
// The only header that includes git2.h. Helpers here wrap what Swift cannot import:
// variadic functions (git_libgit2_opts) and function-like macros.
#include <git2.h>
#include <git2/sys/odb_backend.h>
#include <git2/sys/mempack.h>

/// Points libgit2's config search path for `level` (GIT_CONFIG_LEVEL_*) at `path`.
static inline int cgit2_set_search_path(int level, const char *path) {
    return git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, path);
}

/// Turns libgit2's strict object creation check on or off.
static inline int cgit2_enable_strict_object_creation(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, enabled);
}

/// Turns fsync of object files on or off (off by default in libgit2).
static inline int cgit2_enable_fsync_gitdir(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, enabled);
}

/// Turns the owner validation of repositories (safe.directory) on or off.
static inline int cgit2_set_owner_validation(int enabled) {
    return git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, enabled);
}

#endif
