#ifndef CPOSIX_H
#define CPOSIX_H
// The C side of the Posix module: what Swift cannot import from libc. The header declares plain
// functions only and includes nothing that depends on _GNU_SOURCE, so it parses the same in
// Swift's Glibc module; the GNU constants and helpers live in cposix.c, which is compiled with
// _GNU_SOURCE.
#include <dirent.h>
#include <stdint.h>
#include <sys/types.h>

/// O_PATH: a descriptor that names a file without opening it for reading or writing.
int cposix_o_path(void);
/// AT_EMPTY_PATH: `*at` calls act on the descriptor itself when the path is "".
int cposix_at_empty_path(void);
/// O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY: the flags every open of an agent's file carries.
int cposix_hostile_open_flags(void);
/// S_ISUID | S_ISGID.
unsigned int cposix_setid_bits(void);
/// The process's current errno.
int cposix_errno(void);
/// Sets errno (to 0 before calls such as readdir that only report errors through it).
void cposix_set_errno(int value);
/// The next entry of a folder stream: its NUL-terminated name and its `d_type`; 0 at the end,
/// 1 for an entry, -1 with errno on failure.
int cposix_next_entry(DIR *dir, const char **name, unsigned char *type);
/// The process's peak resident set size in bytes (`ru_maxrss`), -1 on failure.
int64_t cposix_peak_rss_bytes(void);

#endif
