// The launcher's own C runtime: the libc functions main.c calls, implemented with raw x86-64
// system calls, and the program entry point.
//
// Why: glibc's start-up code (static or dynamic) runs its CPU feature and cache detection, dozens
// of CPUID instructions. Under a hypervisor every CPUID traps to the host; on nested-virtualised
// CI machines one costs ~8 µs, so glibc's start-up alone adds ~0.3 ms to every sandboxed spawn.
// This file lets the launcher link without glibc's start files and without any glibc code (see
// Package.swift: -nostartfiles -nostdlib), so it starts in microseconds. The functions keep
// glibc's prototypes (the glibc headers are still used for types and constants), so main.c is
// ordinary libc code. Only what main.c uses is here; the link fails if anything else is needed.
//
// Single-threaded by construction: errno is a plain global, and fork is the raw system call.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// Only on x86-64 (see Package.swift): elsewhere the launcher links glibc statically and this file
// compiles to nothing.
#if defined(__x86_64__)

char **environ;
static int errno_value;

int *__errno_location(void) { return &errno_value; }

// ---- system calls ----
static long raw_syscall(long n, long a, long b, long c, long d, long e, long f) {
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
    return ret;
}

// The libc convention: -1 with errno set on failure.
static long sc(long n, long a, long b, long c, long d, long e, long f) {
    long r = raw_syscall(n, a, b, c, d, e, f);
    if (r < 0 && r > -4096) { errno_value = (int)-r; return -1; }
    return r;
}
#define SC0(n) sc(n, 0, 0, 0, 0, 0, 0)
#define SC1(n, a) sc(n, (long)(a), 0, 0, 0, 0, 0)
#define SC2(n, a, b) sc(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define SC3(n, a, b, c) sc(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define SC4(n, a, b, c, d) sc(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define SC5(n, a, b, c, d, e) sc(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

long syscall(long number, ...) {
    va_list ap;
    va_start(ap, number);
    long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
    long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
    va_end(ap);
    return sc(number, a, b, c, d, e, f);
}

__attribute__((noreturn)) void _exit(int status) {
    for (;;) raw_syscall(SYS_exit_group, status, 0, 0, 0, 0, 0);
}

ssize_t read(int fd, void *buf, size_t n) { return SC3(SYS_read, fd, buf, n); }
ssize_t write(int fd, const void *buf, size_t n) { return SC3(SYS_write, fd, buf, n); }
ssize_t pread(int fd, void *buf, size_t n, off_t off) { return SC4(SYS_pread64, fd, buf, n, off); }
int close(int fd) { return (int)SC1(SYS_close, fd); }
int dup(int fd) { return (int)SC1(SYS_dup, fd); }
int openat(int dirfd, const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = (flags & (O_CREAT | __O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
    va_end(ap);
    return (int)SC4(SYS_openat, dirfd, path, flags, mode);
}
int open(const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = (flags & (O_CREAT | __O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
    va_end(ap);
    return (int)SC4(SYS_openat, AT_FDCWD, path, flags, mode);
}
int fcntl(int fd, int cmd, ...) {
    va_list ap;
    va_start(ap, cmd);
    long arg = va_arg(ap, long);
    va_end(ap);
    return (int)SC3(SYS_fcntl, fd, cmd, arg);
}
int ioctl(int fd, unsigned long request, ...) {
    va_list ap;
    va_start(ap, request);
    long arg = va_arg(ap, long);
    va_end(ap);
    return (int)SC3(SYS_ioctl, fd, request, arg);
}
int prctl(int option, ...) {
    va_list ap;
    va_start(ap, option);
    long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long), d = va_arg(ap, long);
    va_end(ap);
    return (int)SC5(SYS_prctl, option, a, b, c, d);
}
int fstat(int fd, struct stat *st) { return (int)SC2(SYS_fstat, fd, st); }
int stat(const char *path, struct stat *st) { return (int)SC4(SYS_newfstatat, AT_FDCWD, path, st, 0); }
int lstat(const char *path, struct stat *st) { return (int)SC4(SYS_newfstatat, AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW); }
int access(const char *path, int mode) { return (int)SC4(SYS_faccessat, AT_FDCWD, path, mode, 0); }
int mkdir(const char *path, mode_t mode) { return (int)SC3(SYS_mkdirat, AT_FDCWD, path, mode); }
int mknod(const char *path, mode_t mode, dev_t dev) { return (int)SC4(SYS_mknodat, AT_FDCWD, path, mode, dev); }
int unlink(const char *path) { return (int)SC3(SYS_unlinkat, AT_FDCWD, path, 0); }
int setns(int fd, int nstype) { return (int)SC2(SYS_setns, fd, nstype); }
int mkdirat(int dirfd, const char *path, mode_t mode) { return (int)SC3(SYS_mkdirat, dirfd, path, mode); }
int unlinkat(int dirfd, const char *path, int flags) { return (int)SC3(SYS_unlinkat, dirfd, path, flags); }
int symlink(const char *target, const char *path) { return (int)SC3(SYS_symlinkat, target, AT_FDCWD, path); }
int chdir(const char *path) { return (int)SC1(SYS_chdir, path); }
int mount(const char *src, const char *dst, const char *type, unsigned long flags, const void *data) {
    return (int)SC5(SYS_mount, src, dst, type, flags, data);
}
int umount2(const char *path, int flags) { return (int)SC2(SYS_umount2, path, flags); }
int unshare(int flags) { return (int)SC1(SYS_unshare, flags); }
int sethostname(const char *name, size_t len) { return (int)SC2(SYS_sethostname, name, len); }
int socket(int domain, int type, int protocol) { return (int)SC3(SYS_socket, domain, type, protocol); }
uid_t getuid(void) { return (uid_t)SC0(SYS_getuid); }
gid_t getgid(void) { return (gid_t)SC0(SYS_getgid); }
pid_t getpid(void) { return (pid_t)SC0(SYS_getpid); }
pid_t getppid(void) { return (pid_t)SC0(SYS_getppid); }
int setgroups(size_t n, const gid_t *groups) { return (int)SC2(SYS_setgroups, n, groups); }
int setresuid(uid_t r, uid_t e, uid_t s) { return (int)SC3(SYS_setresuid, r, e, s); }
int setresgid(gid_t r, gid_t e, gid_t s) { return (int)SC3(SYS_setresgid, r, e, s); }
pid_t setsid(void) { return (pid_t)SC0(SYS_setsid); }
int kill(pid_t pid, int sig) { return (int)SC2(SYS_kill, pid, sig); }
pid_t fork(void) { return (pid_t)SC0(SYS_fork); }
pid_t waitpid(pid_t pid, int *status, int options) { return (pid_t)SC4(SYS_wait4, pid, status, options, 0); }
int poll(struct pollfd *fds, nfds_t n, int timeout) { return (int)SC3(SYS_poll, fds, n, timeout); }
int getrlimit(__rlimit_resource_t res, struct rlimit *r) { return (int)SC4(SYS_prlimit64, 0, res, 0, r); }
int setrlimit(__rlimit_resource_t res, const struct rlimit *r) { return (int)SC4(SYS_prlimit64, 0, res, r, 0); }
int getrusage(__rusage_who_t who, struct rusage *ru) { return (int)SC2(SYS_getrusage, who, ru); }
int clock_gettime(clockid_t clock, struct timespec *ts) { return (int)SC2(SYS_clock_gettime, clock, ts); }
int usleep(useconds_t us) {
    struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };
    return (int)SC2(SYS_nanosleep, &ts, 0);
}

// Signal sets: the kernel's are 64 bits; glibc's sigset_t is larger and only its first word is used.
int sigemptyset(sigset_t *set) { memset(set, 0, sizeof *set); return 0; }
int sigaddset(sigset_t *set, int sig) {
    if (sig < 1 || sig > 64) { errno_value = EINVAL; return -1; }
    ((unsigned long *)set)[0] |= 1UL << (sig - 1);
    return 0;
}
int sigprocmask(int how, const sigset_t *set, sigset_t *old) { return (int)SC4(SYS_rt_sigprocmask, how, set, old, 8); }
int signalfd(int fd, const sigset_t *mask, int flags) { return (int)SC4(SYS_signalfd4, fd, mask, 8, flags); }

// execvp: a path with a slash runs as is; otherwise each PATH entry is tried in turn, and a file
// the kernel cannot execute (ENOEXEC) runs as a shell script, as glibc does.
static void exec_or_script(const char *path, char *const argv[]) {
    SC3(SYS_execve, path, argv, environ);
    if (errno_value != ENOEXEC) return;
    int n = 0;
    while (argv[n]) n++;
    if (n > 1022) { errno_value = E2BIG; return; }
    char *script[1024];
    script[0] = "/bin/sh";
    script[1] = (char *)path;
    for (int i = 1; i <= n; i++) script[i + 1] = argv[i];
    SC3(SYS_execve, "/bin/sh", script, environ);
    errno_value = ENOEXEC;
}

int execvp(const char *file, char *const argv[]) {
    if (!*file) { errno_value = ENOENT; return -1; }
    if (strchr(file, '/')) { exec_or_script(file, argv); return -1; }
    const char *path = getenv("PATH");
    if (!path) path = "/bin:/usr/bin";
    size_t flen = strlen(file);
    int denied = 0;
    for (const char *p = path;; ) {
        const char *end = strchr(p, ':');
        size_t dlen = end ? (size_t)(end - p) : strlen(p);
        char buf[4096];
        if (dlen + flen + 2 <= sizeof buf) {
            memcpy(buf, p, dlen);
            size_t at = dlen;
            if (dlen) buf[at++] = '/';
            memcpy(buf + at, file, flen + 1);
            exec_or_script(buf, argv);
            if (errno_value == EACCES) denied = 1;
            else if (errno_value != ENOENT && errno_value != ENOTDIR && errno_value != ESTALE && errno_value != ENODEV && errno_value != ETIMEDOUT) return -1;
        }
        if (!end) break;
        p = end + 1;
    }
    errno_value = denied ? EACCES : ENOENT;
    return -1;
}

// ---- environment ----
char *getenv(const char *name) {
    size_t n = strlen(name);
    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=') return *e + n + 1;
    return NULL;
}

int unsetenv(const char *name) {
    size_t n = strlen(name);
    char **out = environ;
    for (char **e = environ; e && *e; e++)
        if (!(strncmp(*e, name, n) == 0 && (*e)[n] == '=')) *out++ = *e;
    if (out) *out = NULL;
    return 0;
}

// ---- memory ----
// One allocation per run (the BPF program, at most BPF_MAXINSNS * 8 bytes): a bump allocator.
static _Alignas(16) unsigned char heap[1 << 16];
static size_t heap_used;

void *malloc(size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (n > sizeof heap - heap_used) { errno_value = ENOMEM; return NULL; }
    void *p = heap + heap_used;
    heap_used += n;
    return p;
}

void *memset(void *dst, int c, size_t n) {
    unsigned char *d = dst;
    while (n--) *d++ = (unsigned char)c;
    return dst;
}
void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--) *d++ = *s++;
    return dst;
}
void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s) while (n--) *d++ = *s++;
    else while (n--) d[n] = s[n];
    return dst;
}
int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++) if (*x != *y) return *x - *y;
    return 0;
}

// ---- strings ----
size_t strlen(const char *s) { const char *p = s; while (*p) p++; return (size_t)(p - s); }
int strcmp(const char *a, const char *b) {
    while (*a && *a == *b) { a++; b++; }
    return (unsigned char)*a - (unsigned char)*b;
}
int strncmp(const char *a, const char *b, size_t n) {
    for (; n; n--, a++, b++) {
        if (*a != *b) return (unsigned char)*a - (unsigned char)*b;
        if (!*a) return 0;
    }
    return 0;
}
char *strchr(const char *s, int c) {
    for (;; s++) {
        if (*s == (char)c) return (char *)s;
        if (!*s) return NULL;
    }
}
char *strrchr(const char *s, int c) {
    const char *last = NULL;
    for (;; s++) {
        if (*s == (char)c) last = s;
        if (!*s) return (char *)last;
    }
}

unsigned long long strtoull(const char *s, char **end, int base) {
    (void)base;  // decimal only: all the launcher parses
    unsigned long long v = 0;
    const char *p = s;
    int overflow = 0;
    while (*p >= '0' && *p <= '9') {
        unsigned d = (unsigned)(*p++ - '0');
        if (v > (~0ULL - d) / 10) overflow = 1;
        v = v * 10 + d;
    }
    if (end) *end = (char *)(p == s ? s : p);
    if (overflow) { errno_value = ERANGE; return ~0ULL; }
    return v;
}

unsigned long strtoul(const char *s, char **end, int base) { return (unsigned long)strtoull(s, end, base); }

long strtol(const char *s, char **end, int base) {
    int negative = *s == '-';
    char *e;
    unsigned long long v = strtoull(s + negative, &e, base);
    if (e == s + negative) { if (end) *end = (char *)s; return 0; }
    if (end) *end = e;
    if (v > (unsigned long long)LONG_MAX) { errno_value = ERANGE; return negative ? LONG_MIN : LONG_MAX; }
    return negative ? -(long)v : (long)v;
}

static const char *const error_texts[] = {
    "Success",
    "Operation not permitted",
    "No such file or directory",
    "No such process",
    "Interrupted system call",
    "Input/output error",
    "No such device or address",
    "Argument list too long",
    "Exec format error",
    "Bad file descriptor",
    "No child processes",
    "Resource temporarily unavailable",
    "Cannot allocate memory",
    "Permission denied",
    "Bad address",
    "Block device required",
    "Device or resource busy",
    "File exists",
    "Invalid cross-device link",
    "No such device",
    "Not a directory",
    "Is a directory",
    "Invalid argument",
    "Too many open files in system",
    "Too many open files",
    "Inappropriate ioctl for device",
    "Text file busy",
    "File too large",
    "No space left on device",
    "Illegal seek",
    "Read-only file system",
    "Too many links",
    "Broken pipe",
    "Numerical argument out of domain",
    "Numerical result out of range",
    "Resource deadlock avoided",
    "File name too long",
    "No locks available",
    "Function not implemented",
    "Directory not empty",
    "Too many levels of symbolic links",
    "Unknown error 41",
    "No message of desired type",
    "Identifier removed",
    "Channel number out of range",
    "Level 2 not synchronized",
    "Level 3 halted",
    "Level 3 reset",
    "Link number out of range",
    "Protocol driver not attached",
    "No CSI structure available",
    "Level 2 halted",
    "Invalid exchange",
    "Invalid request descriptor",
    "Exchange full",
    "No anode",
    "Invalid request code",
    "Invalid slot",
    "Unknown error 58",
    "Bad font file format",
    "Device not a stream",
    "No data available",
    "Timer expired",
    "Out of streams resources",
    "Machine is not on the network",
    "Package not installed",
    "Object is remote",
    "Link has been severed",
    "Advertise error",
    "Srmount error",
    "Communication error on send",
    "Protocol error",
    "Multihop attempted",
    "RFS specific error",
    "Bad message",
    "Value too large for defined data type",
    "Name not unique on network",
    "File descriptor in bad state",
    "Remote address changed",
    "Can not access a needed shared library",
    "Accessing a corrupted shared library",
    ".lib section in a.out corrupted",
    "Attempting to link in too many shared libraries",
    "Cannot exec a shared library directly",
    "Invalid or incomplete multibyte or wide character",
    "Interrupted system call should be restarted",
    "Streams pipe error",
    "Too many users",
    "Socket operation on non-socket",
    "Destination address required",
    "Message too long",
    "Protocol wrong type for socket",
    "Protocol not available",
    "Protocol not supported",
    "Socket type not supported",
    "Operation not supported",
    "Protocol family not supported",
    "Address family not supported by protocol",
    "Address already in use",
    "Cannot assign requested address",
    "Network is down",
    "Network is unreachable",
    "Network dropped connection on reset",
    "Software caused connection abort",
    "Connection reset by peer",
    "No buffer space available",
    "Transport endpoint is already connected",
    "Transport endpoint is not connected",
    "Cannot send after transport endpoint shutdown",
    "Too many references: cannot splice",
    "Connection timed out",
    "Connection refused",
    "Host is down",
    "No route to host",
    "Operation already in progress",
    "Operation now in progress",
    "Stale file handle",
    "Structure needs cleaning",
    "Not a XENIX named type file",
    "No XENIX semaphores available",
    "Is a named type file",
    "Remote I/O error",
    "Disk quota exceeded",
    "No medium found",
    "Wrong medium type",
    "Operation canceled",
    "Required key not available",
    "Key has expired",
    "Key has been revoked",
    "Key was rejected by service",
    "Owner died",
    "State not recoverable",
    "Operation not possible due to RF-kill",
    "Memory page has hardware error"
};

char *strerror(int e) {
    static char unknown[32];
    if (e >= 0 && e < (int)(sizeof error_texts / sizeof error_texts[0])) return (char *)error_texts[e];
    snprintf(unknown, sizeof unknown, "Unknown error %d", e);
    return unknown;
}

// ---- formatting: %s %c %d %u %ld %lu %lld %llu %%, an optional 0 flag and width; any other
// directive is copied as is (without consuming an argument). Output past `size` is counted, not written.
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) {
    size_t n = 0;
    // The argument is evaluated exactly once, also past the end of the buffer (`PUT(*s++)`).
#define PUT(ch) do { char put_ = (char)(ch); if (n + 1 < size) buf[n] = put_; n++; } while (0)
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') { PUT(*f); continue; }
        f++;
        char pad = ' ';
        if (*f == '0') { pad = '0'; f++; }
        int width = 0;
        while (*f >= '0' && *f <= '9') width = width * 10 + (*f++ - '0');
        int longs = 0;
        while (*f == 'l') { longs++; f++; }
        char digits[24];
        int nd = 0, negative = 0;
        unsigned long long v;
        switch (*f) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) s = "(null)";
            for (int len = (int)strlen(s); len < width; len++) PUT(' ');
            while (*s) PUT(*s++);
            continue;
        }
        case 'c': PUT((char)va_arg(ap, int)); continue;
        case '%': PUT('%'); continue;
        case 'd': {
            long long x = longs >= 2 ? va_arg(ap, long long) : longs ? va_arg(ap, long) : va_arg(ap, int);
            negative = x < 0;
            v = negative ? 0ULL - (unsigned long long)x : (unsigned long long)x;
            break;
        }
        case 'u':
            v = longs >= 2 ? va_arg(ap, unsigned long long) : longs ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
            break;
        default:  // not used by the launcher: print the directive as is
            PUT('%');
            if (*f) PUT(*f); else f--;
            continue;
        }
        do { digits[nd++] = (char)('0' + v % 10); v /= 10; } while (v);
        int len = nd + negative;
        if (negative && pad == '0') PUT('-');
        for (; len < width; len++) PUT(pad);
        if (negative && pad != '0') PUT('-');
        while (nd) PUT(digits[--nd]);
    }
#undef PUT
    if (size) buf[n < size ? n : size - 1] = 0;
    return (int)n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int dprintf(int fd, const char *fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 1) n = sizeof buf - 1;
    return (int)write(fd, buf, (size_t)n);
}

// ---- directories ----
struct __dirstream { int used, fd, pos, len; _Alignas(8) char buf[8192]; };
static struct __dirstream dir_streams[2];  // the launcher has at most one open at a time

DIR *fdopendir(int fd) {
    for (size_t i = 0; i < sizeof dir_streams / sizeof dir_streams[0]; i++) {
        if (dir_streams[i].used) continue;
        dir_streams[i].used = 1;
        dir_streams[i].fd = fd;
        dir_streams[i].pos = dir_streams[i].len = 0;
        return &dir_streams[i];
    }
    errno_value = EMFILE;
    return NULL;
}

DIR *opendir(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return NULL;
    DIR *d = fdopendir(fd);
    if (!d) close(fd);
    return d;
}

// getdents64 records have struct dirent's layout on x86-64.
struct dirent *readdir(DIR *d) {
    if (d->pos >= d->len) {
        long n = SC3(SYS_getdents64, d->fd, d->buf, sizeof d->buf);
        if (n <= 0) return NULL;
        d->len = (int)n;
        d->pos = 0;
    }
    struct dirent *e = (struct dirent *)(d->buf + d->pos);
    d->pos += e->d_reclen;
    return e;
}

int closedir(DIR *d) {
    int r = close(d->fd);
    d->used = 0;
    return r;
}

// ---- entry point ----
int main(int argc, char **argv);

__attribute__((noreturn, used)) void launcher_start_c(long *stack) {
    int argc = (int)stack[0];
    char **argv = (char **)(stack + 1);
    environ = argv + argc + 1;
    _exit(main(argc, argv));
}

// The kernel starts the process here with argc, argv and the environment on the stack.
__attribute__((naked, noreturn)) void _start(void) {
    __asm__ volatile("xor %ebp, %ebp\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n\tcall launcher_start_c\n\thlt");
}

#endif // defined(__x86_64__)
