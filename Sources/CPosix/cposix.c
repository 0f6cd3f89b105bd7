#include "cposix.h"
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int cposix_o_path(void) { return O_PATH; }
int cposix_at_empty_path(void) { return AT_EMPTY_PATH; }
int cposix_hostile_open_flags(void) { return O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY; }
unsigned int cposix_setid_bits(void) { return S_ISUID | S_ISGID; }
int cposix_errno(void) { return errno; }
void cposix_set_errno(int value) { errno = value; }

int cposix_next_entry(DIR *dir, const char **name, unsigned char *type) {
    errno = 0;
    struct dirent *entry = readdir(dir);
    if (entry == NULL) return errno == 0 ? 0 : -1;
    *name = entry->d_name;
    *type = entry->d_type;
    return 1;
}

int64_t cposix_peak_rss_bytes(void) {
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0) return -1;
    return (int64_t)usage.ru_maxrss * 1024;
}

int cposix_memfd_create_sealable(const char *name) { return memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING); }

int cposix_seal_against_changes(int fd) {
    return fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
}

int cposix_dup_above(int fd, int minimum) { return fcntl(fd, F_DUPFD_CLOEXEC, minimum); }

int cposix_set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

int cposix_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

// glibc 2.36 wraps pidfd_open only in <sys/pidfd.h>, which older glibc lacks: the raw call works
// on both.
int cposix_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int cposix_spawnattr_defaults_new_session(posix_spawnattr_t *attr) {
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    int rc = posix_spawnattr_setsigdefault(attr, &all);
    if (rc == 0) rc = posix_spawnattr_setsigmask(attr, &none);
    if (rc == 0) rc = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSID);
    return rc;
}

int cposix_spawn_closefrom(posix_spawn_file_actions_t *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}

int cposix_wait_exit_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
int cposix_wait_term_signal(int status) { return WIFSIGNALED(status) ? WTERMSIG(status) : -1; }

int cposix_socketpair_cloexec(int fds[2]) { return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds); }

int cposix_receive_descriptor(int socket, char tag) {
    char byte;
    struct iovec iov = { &byte, 1 };
    union { struct cmsghdr align; char buf[CMSG_SPACE(4 * sizeof(int))]; } control;
    struct msghdr msg = { 0 };
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    ssize_t n = recvmsg(socket, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n < 0) return -1;
    int received = -2;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int fd;
            __builtin_memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (received == -2 && n == 1 && byte == tag) received = fd; else close(fd);
        }
    }
    return received;
}
