#ifndef CPOSIX_H
#define CPOSIX_H
// The C side of the Posix module: what Swift cannot import from libc (GNU constants, function-like
// macros, variadic calls, system calls glibc does not wrap). The header declares plain functions
// only and includes nothing whose declarations depend on _GNU_SOURCE, so it parses the same in
// Swift's Glibc module; the GNU constants and helpers live in cposix.c, which is compiled with
// _GNU_SOURCE, so every constant there is named (MFD_CLOEXEC, F_ADD_SEALS, POSIX_SPAWN_SETSID…),
// never written as a number. Each function returns what the libc call returns (-1 with errno on
// failure, or an error number for the posix_spawn family); retrying EINTR and reading errno are
// the Swift side's job (Posix's `retryingInterrupts`).
#include <dirent.h>
#include <spawn.h>
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

/// memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING): an anonymous file that can be sealed later.
int cposix_memfd_create_sealable(const char *name);
/// fcntl(F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE): no change of any
/// kind from now on, through any descriptor.
int cposix_seal_against_changes(int fd);
/// fcntl(F_DUPFD_CLOEXEC, minimum): a close-on-exec duplicate at the lowest free number >= minimum.
int cposix_dup_above(int fd, int minimum);
/// Adds O_NONBLOCK to the descriptor's status flags (F_GETFL, then F_SETFL).
int cposix_set_nonblocking(int fd);
/// pipe2(fds, O_CLOEXEC).
int cposix_pipe_cloexec(int fds[2]);
/// pidfd_open(pid, 0): a descriptor that becomes readable when the process exits.
int cposix_pidfd_open(pid_t pid);
/// Every signal at its default disposition and an empty mask in the spawned process, which starts
/// a session of its own: POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSID.
/// 0 or an error number.
int cposix_spawnattr_defaults_new_session(posix_spawnattr_t *attr);
/// posix_spawn_file_actions_addclosefrom_np: closes every descriptor >= lowest in the spawned
/// process (glibc 2.34+). 0 or an error number.
int cposix_spawn_closefrom(posix_spawn_file_actions_t *actions, int lowest);
/// A wait status decoded: WEXITSTATUS when WIFEXITED, else -1.
int cposix_wait_exit_code(int status);
/// A wait status decoded: WTERMSIG when WIFSIGNALED, else -1.
int cposix_wait_term_signal(int status);
/// socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC): a connected pair of unix stream sockets.
int cposix_socketpair_cloexec(int fds[2]);
/// Receives one descriptor sent with SCM_RIGHTS along one data byte equal to `tag`, without
/// blocking (MSG_DONTWAIT) and close-on-exec here (MSG_CMSG_CLOEXEC). Returns the descriptor, -1
/// with errno (EAGAIN: nothing yet), or -2 when the peer hung up or sent no descriptor with that
/// tag. Every other descriptor in the message is closed.
int cposix_receive_descriptor(int socket, char tag);

#endif
