#ifndef CSECCOMP_SHIM_H
#define CSECCOMP_SHIM_H
// The only Swift-facing header that includes seccomp.h. Function-like macros, variadic libc calls
// and raw system calls the Sandbox module needs are wrapped here as static inline functions.
// No _GNU_SOURCE here: the libc headers must look the same as in Swift's Glibc module, or modules
// importing both fail with "different definitions in different modules". GNU-only constants are
// spelled out below with their Linux values.
#include <seccomp.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static inline uint32_t cseccomp_act_errno(uint32_t err) { return SCMP_ACT_ERRNO(err); }
static inline uint32_t cseccomp_act_kill_process(void) { return SCMP_ACT_KILL_PROCESS; }
static inline uint32_t cseccomp_act_allow(void) { return SCMP_ACT_ALLOW; }
static inline uint32_t cseccomp_act_trap(void) { return SCMP_ACT_TRAP; }

/// A sealed-later anonymous file for the exported BPF program; -1 with errno on failure.
static inline int cseccomp_memfd(const char *name) {
    return (int)syscall(SYS_memfd_create, name, 0x0001U /* MFD_CLOEXEC */ | 0x0002U /* MFD_ALLOW_SEALING */);
}
/// Seals a memfd against any further change; -1 with errno on failure.
static inline int cseccomp_seal(int fd) {
    // F_ADD_SEALS with F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE.
    return fcntl(fd, 1033, 0x0001 | 0x0002 | 0x0004 | 0x0008);
}
/// Duplicates fd to the lowest free number >= minimum, close-on-exec.
static inline int cseccomp_dup_above(int fd, int minimum) { return fcntl(fd, F_DUPFD_CLOEXEC, minimum); }
/// Sets O_NONBLOCK on fd.
static inline int cseccomp_set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}
/// pipe2 with O_CLOEXEC.
static inline int cseccomp_pipe(int fds[2]) { return (int)syscall(SYS_pipe2, fds, O_CLOEXEC); }
/// A pollable descriptor that becomes readable when the process exits.
// A connected pair of unix stream sockets, both close-on-exec.
static inline int cseccomp_socketpair(int fds[2]) { return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds); }

// Receives one descriptor sent with SCM_RIGHTS along one data byte (MSG_CMSG_CLOEXEC: it is
// close-on-exec here). Returns the descriptor, -1 with errno (EAGAIN: not yet), or -2 when the
// peer hung up or sent no descriptor. Extra descriptors in the message are closed.
static inline int cseccomp_receive_fd(int socket) {
    char byte;
    struct iovec iov = { &byte, 1 };
    union { struct cmsghdr align; char buf[CMSG_SPACE(4 * sizeof(int))]; } control;
    struct msghdr msg = { 0 };
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    ssize_t n = recvmsg(socket, &msg, 0x40000000 /* MSG_CMSG_CLOEXEC */ | MSG_DONTWAIT);
    if (n < 0) return -1;
    int received = -2;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int fd;
            __builtin_memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (received == -2 && n == 1 && byte == 'g') received = fd; else close(fd);
        }
    }
    return received;
}

static inline int cseccomp_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }
/// Default dispositions for every signal and an empty mask in the spawned process.
static inline int cseccomp_spawnattr_defaults(posix_spawnattr_t *attr) {
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    if (posix_spawnattr_setsigdefault(attr, &all) != 0) return -1;
    if (posix_spawnattr_setsigmask(attr, &none) != 0) return -1;
    return posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | 0x80 /* POSIX_SPAWN_SETSID */);
}
/// glibc 2.34+; declared here because spawn.h only declares it under _GNU_SOURCE.
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *, int);
/// Closes every fd >= lowest in the spawned process (glibc 2.34+).
static inline int cseccomp_spawn_closefrom(posix_spawn_file_actions_t *fa, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(fa, lowest);
}
/// Decoded wait status: exit code, or -1.
static inline int cseccomp_exit_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
/// Decoded wait status: terminating signal, or -1.
static inline int cseccomp_term_signal(int status) { return WIFSIGNALED(status) ? WTERMSIG(status) : -1; }

/// nftw callback of cseccomp_remove_tree.
static inline int cseccomp_remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}
/// Removes a folder and everything under it, never following symlinks; 0 or -1 with errno.
/// (FTW_PHYS = 1, FTW_DEPTH = 8: the flag macros need _XOPEN_SOURCE before the first libc header.)
static inline int cseccomp_remove_tree(const char *path) {
    return nftw(path, cseccomp_remove_entry, 16, 1 | 8);
}

#endif
