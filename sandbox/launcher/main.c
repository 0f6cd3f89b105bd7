// driftbox-launcher: sets up one sandboxed child and execs the agent's command in it.
//
// Single-threaded, libc only, fail closed: every setup step either succeeds or the launcher
// reports "error <stage>: <what>" on the report fd and exits 125 without running the command.
// The seccomp program is compiled by the caller (the Sandbox module) and passed in as an fd;
// the launcher never compiles policies. See docs/sandbox.md for the full protocol.
//
// Usage:
//   driftbox-launcher --probe
//   driftbox-launcher --self-test-runtime     (test hook: the runtime's formatting, see below)
//   driftbox-launcher [options] -- PROGRAM [ARGS...]
// Options:
//   --mode full|reduced|none   full: namespaces + mounts + Landlock + seccomp + rlimits;
//                              reduced: no namespaces; none: rlimits only (unsafe, declared)
//   --host-net                 full mode: keep the host network (no net namespace)
//   --workdir DIR              working directory of the command
//   --tmpfs PATH               full mode: fresh tmpfs at PATH (in order given)
//   --bind-rw PATH             full mode: PATH of the host, read-write, at the same path
//   --bind-ro PATH             full mode: PATH of the host, read-only, at the same path
//   --mask PATH                full mode: hide a file (empty) or folder (empty tmpfs), if present
//   --landlock-ro PATH         Landlock: read and execute beneath PATH
//   --landlock-rw PATH         Landlock: all file access beneath PATH
//   --rlimit NAME=VALUE        core|nofile|fsize|nproc|cpu|as; VALUE a number or "inf"
//   --seccomp-fd N             fd holding a classic BPF program (struct sock_filter array)
//   --report-fd N              where setup facts, errors and the final status are written
//   --lifeline-fd N            read end of a pipe; when it hangs up the whole tree is killed
//   --gateway-port PORT        full mode without --host-net: listen on 127.0.0.1:PORT inside the
//   --gateway-fd N               sandbox's network namespace and send that listening socket
//                              (SCM_RIGHTS, one byte 'g') over the unix socket N before the command
//                              starts; the launcher keeps no copy (both options or neither)
//   --user UID:GID             reduced mode: run the command as this uid and gid (no supplementary
//                              groups), used for a root runner so the agent owns no host file
//
// Report lines: "mode M", "pids-cgroup PATH|none" (root runners), "landlock ABI",
// "usage USER_US SYS_US MAXRSS_KIB", "status exit N" / "status signal N", "exec-failed ERRNO",
// "error STAGE: MESSAGE".
// Report lines are collected per process and written when it ends (or fails), so the caller is
// woken once per process rather than once per line.
// Processes: this outer launcher supervises (signalfd + lifeline); in full mode it creates the
// user, mount, pid, ipc and uts namespaces, forks pid 1 of the new pid namespace, then creates the
// network namespace while pid 1 builds the root; pid 1 joins it and forks the command. In reduced
// mode the outer launcher is a subreaper and forks the command directly.
// Debugging: DRIFTBOX_LAUNCHER_TRACE=1 in the environment prints each process's setup phases with
// CLOCK_MONOTONIC timestamps to stderr (and is removed before the command's exec).
// The program links against no glibc code at all: see runtime.c for why and what it provides.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <netinet/in.h>
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
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>

extern char **environ;

// SwiftPM links every executable with the Swift runtime's image-registration object (swiftrt.o),
// which calls the two functions below. This program holds no Swift code: these no-op definitions
// keep the static link (see Package.swift) from pulling in the Swift runtime, so the launcher
// stays a ~1 MB libc-only binary that starts in well under a millisecond.
void swift_addNewDSOImage(const void *header);
void swift_addNewDSOImage(const void *header) { (void)header; }
int _swift_backtrace_isThunkFunction(const char *name);
int _swift_backtrace_isThunkFunction(const char *name) { (void)name; return 0; }


#define EXIT_SETUP 125
#define MAX_ITEMS 64

// ---- Landlock (constants defined here: the distribution's headers predate ABI 4-7) ----
#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1
#define LL_FS_EXECUTE (1ULL << 0)
#define LL_FS_WRITE_FILE (1ULL << 1)
#define LL_FS_READ_FILE (1ULL << 2)
#define LL_FS_READ_DIR (1ULL << 3)
#define LL_FS_TRUNCATE (1ULL << 14)
#define LL_FS_REFER (1ULL << 13)
#define LL_FS_IOCTL_DEV (1ULL << 15)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)
#define SYS_ll_create_ruleset 444
#define SYS_ll_add_rule 445
#define SYS_ll_restrict_self 446
struct ll_ruleset_attr { uint64_t handled_access_fs, handled_access_net, scoped; };
struct ll_path_beneath_attr { uint64_t allowed_access; int32_t parent_fd; } __attribute__((packed));

// ---- mount_setattr (glibc 2.36 headers conflict with linux/mount.h) ----
#define SYS_mount_setattr_nr 442
#define MATTR_RDONLY 0x1ULL
#define MATTR_NOSUID 0x2ULL
#define MATTR_AT_RECURSIVE 0x8000
struct mattr { uint64_t attr_set, attr_clr, propagation, userns_fd; };

enum mode { MODE_FULL, MODE_REDUCED, MODE_NONE };
enum mount_kind { M_TMPFS, M_BIND_RW, M_BIND_RO, M_MASK };
struct mount_op { enum mount_kind kind; const char *path; };
struct rlim_op { int resource; rlim_t value; };

static struct {
    enum mode mode;
    int host_net;
    const char *workdir;
    struct mount_op mounts[MAX_ITEMS]; int n_mounts;
    const char *ll_ro[MAX_ITEMS]; int n_ll_ro;
    const char *ll_rw[MAX_ITEMS]; int n_ll_rw;
    struct rlim_op rlims[16]; int n_rlims;
    int seccomp_fd, report_fd, lifeline_fd;
    int gateway_fd, gateway_port;
    int switch_user; uid_t uid; gid_t gid;
    char **argv;
    struct sock_filter *filter; unsigned short filter_len;
} cfg = { .mode = MODE_FULL, .seccomp_fd = -1, .report_fd = -1, .lifeline_fd = -1, .gateway_fd = -1 };

// The pids cgroup of a root runner (see enter_pids_cgroup), removed by its owner on every exit path.
static char pids_name[64];
static int pids_base_fd = -1, pids_parent_procs_fd = -1;
static pid_t pids_owner;
static void leave_pids_cgroup(void);

// ---- tracing (DRIFTBOX_LAUNCHER_TRACE=1: setup phases with CLOCK_MONOTONIC times on stderr) ----
static int trace_on;

// Writes "driftbox-launcher trace PID PHASE SECONDS.MICROS" to stderr when tracing is on. The
// absolute monotonic time lets lines of the three processes (and of the caller) be merged.
static void trace(const char *phase) {
    if (!trace_on) return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    dprintf(2, "driftbox-launcher trace %d %s %ld.%06ld\n", (int)getpid(), phase, (long)ts.tv_sec, ts.tv_nsec / 1000);
}

// ---- reporting ----
// Lines are collected and written at once when the process ends (or fails), so the caller wakes
// once per process instead of once per line while the sandbox is being set up. Each process owns
// the lines it adds: a child forgets the lines it inherited (see forget_report).
static char report_buf[4096];
static int report_len;

static void report_flush(void) {
    int fd = cfg.report_fd >= 0 ? cfg.report_fd : 2;
    int off = 0;
    while (off < report_len) {
        ssize_t w = write(fd, report_buf + off, report_len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += (int)w;
    }
    report_len = 0;
}

static void report(const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (n > (int)sizeof buf - 2) n = sizeof buf - 2;
    buf[n++] = '\n';
    if (report_len + n > (int)sizeof report_buf) report_flush();
    memcpy(report_buf + report_len, buf, n);
    report_len += n;
}

// In a new child: the parent still holds (and will write) the lines collected so far.
static void forget_report(void) { report_len = 0; }

__attribute__((noreturn)) static void fail(const char *stage, const char *fmt, ...) {
    char msg[900];
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    report("error %s: %s: %s", stage, msg, strerror(saved));
    report_flush();
    if (pids_owner == getpid()) leave_pids_cgroup();
    _exit(EXIT_SETUP);
}

// ---- argument parsing ----
static int parse_fd(const char *s) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == 0 || *end != 0 || v < 0 || v > 1 << 20) { errno = EINVAL; fail("args", "bad fd '%s'", s); }
    return (int)v;
}

static void parse_rlimit(const char *spec) {
    static const struct { const char *name; int res; } names[] = {
        {"core", RLIMIT_CORE}, {"nofile", RLIMIT_NOFILE}, {"fsize", RLIMIT_FSIZE},
        {"nproc", RLIMIT_NPROC}, {"cpu", RLIMIT_CPU}, {"as", RLIMIT_AS},
    };
    const char *eq = strchr(spec, '=');
    errno = EINVAL;
    if (!eq) fail("args", "--rlimit wants NAME=VALUE, got '%s'", spec);
    if (cfg.n_rlims >= 16) fail("args", "too many --rlimit");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strlen(names[i].name) == (size_t)(eq - spec) && strncmp(names[i].name, spec, eq - spec) == 0) {
            rlim_t v;
            if (strcmp(eq + 1, "inf") == 0) v = RLIM_INFINITY;
            else {
                char *end;
                unsigned long long n = strtoull(eq + 1, &end, 10);
                if (eq[1] == 0 || *end != 0) fail("args", "bad rlimit value in '%s'", spec);
                v = (rlim_t)n;
            }
            cfg.rlims[cfg.n_rlims++] = (struct rlim_op){names[i].res, v};
            return;
        }
    }
    fail("args", "unknown rlimit in '%s'", spec);
}

// "UID:GID", both decimal and not 0 (the point is to leave uid 0 behind).
static void parse_user(const char *spec) {
    char *end;
    errno = EINVAL;
    unsigned long u = strtoul(spec, &end, 10);
    if (end == spec || *end != ':') fail("args", "--user wants UID:GID, got '%s'", spec);
    const char *g = end + 1;
    unsigned long gv = strtoul(g, &end, 10);
    if (end == g || *end != 0 || u == 0 || gv == 0 || u >= 0xffffffffUL || gv >= 0xffffffffUL)
        fail("args", "--user wants a non-zero UID:GID, got '%s'", spec);
    cfg.switch_user = 1;
    cfg.uid = (uid_t)u;
    cfg.gid = (gid_t)gv;
}

static void parse_args(int argc, char **argv) {
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) { i++; break; }
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        errno = EINVAL;
        if (strcmp(a, "--host-net") == 0) { cfg.host_net = 1; takes = 0; }
        else if (!v) fail("args", "option %s needs a value", a);
        else if (strcmp(a, "--mode") == 0) {
            if (strcmp(v, "full") == 0) cfg.mode = MODE_FULL;
            else if (strcmp(v, "reduced") == 0) cfg.mode = MODE_REDUCED;
            else if (strcmp(v, "none") == 0) cfg.mode = MODE_NONE;
            else fail("args", "unknown mode '%s'", v);
        }
        else if (strcmp(a, "--workdir") == 0) cfg.workdir = v;
        else if (strcmp(a, "--tmpfs") == 0 || strcmp(a, "--bind-rw") == 0 || strcmp(a, "--bind-ro") == 0 || strcmp(a, "--mask") == 0) {
            if (cfg.n_mounts >= MAX_ITEMS) fail("args", "too many mounts");
            enum mount_kind k = a[2] == 't' ? M_TMPFS : a[2] == 'm' ? M_MASK : (strcmp(a, "--bind-rw") == 0 ? M_BIND_RW : M_BIND_RO);
            if (v[0] != '/') fail("args", "%s wants an absolute path, got '%s'", a, v);
            cfg.mounts[cfg.n_mounts++] = (struct mount_op){k, v};
        }
        else if (strcmp(a, "--landlock-ro") == 0) { if (cfg.n_ll_ro >= MAX_ITEMS) fail("args", "too many paths"); cfg.ll_ro[cfg.n_ll_ro++] = v; }
        else if (strcmp(a, "--landlock-rw") == 0) { if (cfg.n_ll_rw >= MAX_ITEMS) fail("args", "too many paths"); cfg.ll_rw[cfg.n_ll_rw++] = v; }
        else if (strcmp(a, "--rlimit") == 0) parse_rlimit(v);
        else if (strcmp(a, "--seccomp-fd") == 0) cfg.seccomp_fd = parse_fd(v);
        else if (strcmp(a, "--report-fd") == 0) cfg.report_fd = parse_fd(v);
        else if (strcmp(a, "--lifeline-fd") == 0) cfg.lifeline_fd = parse_fd(v);
        else if (strcmp(a, "--user") == 0) parse_user(v);
        else if (strcmp(a, "--gateway-fd") == 0) cfg.gateway_fd = parse_fd(v);
        else if (strcmp(a, "--gateway-port") == 0) {
            char *end;
            long port = strtol(v, &end, 10);
            if (*v == 0 || *end != 0 || port < 1 || port > 65535) fail("args", "--gateway-port wants 1-65535, got '%s'", v);
            cfg.gateway_port = (int)port;
        }
        else fail("args", "unknown option '%s'", a);
        i += takes;
    }
    errno = EINVAL;
    if (i >= argc) fail("args", "no command after --");
    if ((cfg.gateway_fd >= 0) != (cfg.gateway_port > 0)) fail("args", "--gateway-port and --gateway-fd go together");
    // The listening socket must live in a network namespace of the sandbox's own: on the host's
    // network (reduced mode, --host-net) it would be a port anyone on the host could reach.
    if (cfg.gateway_fd >= 0 && (cfg.mode != MODE_FULL || cfg.host_net))
        fail("args", "--gateway-port needs full mode with a private network namespace (not reduced mode or --host-net)");
    if (cfg.mode != MODE_NONE && cfg.seccomp_fd < 0) fail("args", "--seccomp-fd is required in mode full and reduced");
    if (cfg.switch_user && cfg.mode != MODE_REDUCED) fail("args", "--user is for reduced mode only");
    cfg.argv = argv + i;
}

// Reads the BPF program with pread: the fd may be shared by concurrent launchers.
static void load_filter(void) {
    if (cfg.seccomp_fd < 0) return;
    struct stat st;
    if (fstat(cfg.seccomp_fd, &st) < 0) fail("seccomp", "fstat of fd %d", cfg.seccomp_fd);
    if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0 || st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS) {
        errno = EINVAL;
        fail("seccomp", "fd %d holds %lld bytes, not a BPF program", cfg.seccomp_fd, (long long)st.st_size);
    }
    cfg.filter = malloc(st.st_size);
    if (!cfg.filter) fail("seccomp", "malloc");
    ssize_t off = 0;
    while (off < st.st_size) {
        ssize_t r = pread(cfg.seccomp_fd, (char *)cfg.filter + off, st.st_size - off, off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) { if (r == 0) errno = EIO; fail("seccomp", "reading fd %d", cfg.seccomp_fd); }
        off += r;
    }
    cfg.filter_len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
    close(cfg.seccomp_fd);
    cfg.seccomp_fd = -1;
}

// ---- small file helpers ----
static void write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) fail("userns", "open %s", path);
    ssize_t n = (ssize_t)strlen(text);
    if (write(fd, text, n) != n) fail("userns", "write %s", path);
    close(fd);
}

static void mkdir_p(const char *path, int as_file) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) { errno = ENAMETOOLONG; fail("mount", "%s", path); }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0755) < 0 && errno != EEXIST) fail("mount", "mkdir %s", buf);
        *p = '/';
    }
    if (as_file) {
        int fd = open(buf, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST && errno != EISDIR) fail("mount", "create mount point %s", buf);
        if (fd >= 0) close(fd);
    } else if (mkdir(buf, 0755) < 0 && errno != EEXIST) fail("mount", "mkdir %s", buf);
}

static void set_recursive(const char *path, uint64_t set) {
    struct mattr a = { .attr_set = set };
    if (syscall(SYS_mount_setattr_nr, AT_FDCWD, path, MATTR_AT_RECURSIVE, &a, sizeof a) < 0)
        fail("mount", "mount_setattr %s", path);
}

// ---- full mode: namespaces and the new root ----
// The network namespace is the costliest (~0.3 ms): a full-mode run creates it in the outer
// launcher while pid 1 builds the root (see create_network), the probe creates it here.
static void enter_namespaces(int with_net) {
    uid_t uid = getuid();
    gid_t gid = getgid();
    int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
    if (with_net) flags |= CLONE_NEWNET;
    if (unshare(flags) < 0) fail("userns", "unshare (user namespaces unavailable? use reduced mode)");
    char map[64];
    write_file("/proc/self/setgroups", "deny");
    snprintf(map, sizeof map, "%u %u 1", uid, uid);
    write_file("/proc/self/uid_map", map);
    snprintf(map, sizeof map, "%u %u 1", gid, gid);
    write_file("/proc/self/gid_map", map);
}

static void loopback_up(void) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) fail("net", "socket for loopback");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, "lo", 3);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) fail("net", "SIOCGIFFLAGS lo");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) fail("net", "SIOCSIFFLAGS lo");
    close(s);
}

// The network namespace of a full-mode run (unless the policy keeps the host network). It is the
// costliest namespace to create (~0.3 ms), so the outer launcher creates it and brings loopback up
// while pid 1 builds the root; pid 1 then joins it through a pidfd of the outer launcher before it
// forks the command. `ready` carries one byte once the namespace is complete.
struct network { int ready[2]; int outer_pidfd; };

static void prepare_network(struct network *net) {
    net->ready[0] = net->ready[1] = net->outer_pidfd = -1;
    if (cfg.host_net) return;
    if (syscall(SYS_pipe2, net->ready, O_CLOEXEC) < 0) fail("net", "pipe");
    net->outer_pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
    if (net->outer_pidfd < 0) fail("net", "pidfd_open of the launcher");
}

// The model gateway's listening socket: bound to 127.0.0.1:PORT in the sandbox's network
// namespace (the only place that address leads to it) and sent to the runner over the unix socket
// it passed in. The launcher keeps no copy; the runner accepts the sandbox's connections on it.
// Called before `ready` is signalled, so the socket listens before the command exists.
static void hand_over_gateway(void) {
    if (cfg.gateway_fd < 0) return;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) fail("gateway", "socket");
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    unsigned char *port = (unsigned char *)&addr.sin_port, *ip = (unsigned char *)&addr.sin_addr.s_addr;
    port[0] = (unsigned char)(cfg.gateway_port >> 8);
    port[1] = (unsigned char)(cfg.gateway_port & 0xff);
    ip[0] = 127; ip[3] = 1;
    if (syscall(SYS_bind, s, &addr, sizeof addr) < 0) fail("gateway", "bind 127.0.0.1:%d", cfg.gateway_port);
    if (syscall(SYS_listen, s, 128) < 0) fail("gateway", "listen on 127.0.0.1:%d", cfg.gateway_port);
    char byte = 'g';
    struct iovec iov = { &byte, 1 };
    union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int))]; } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &s, sizeof s);
    long sent;
    while ((sent = syscall(SYS_sendmsg, cfg.gateway_fd, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {}
    if (sent != 1) { if (sent >= 0) errno = EIO; fail("gateway", "send the listening socket to the runner"); }
    close(s);
    close(cfg.gateway_fd);
    cfg.gateway_fd = -1;
}

// In the outer launcher, after forking pid 1.
static void create_network(struct network *net) {
    if (cfg.host_net) return;
    close(net->ready[0]);
    if (unshare(CLONE_NEWNET) < 0) fail("net", "unshare network namespace");
    loopback_up();
    hand_over_gateway();
    if (write(net->ready[1], "1", 1) != 1) fail("net", "signal network ready");
    close(net->ready[1]);
    close(net->outer_pidfd);
}

// In pid 1, before forking the command.
static void join_network(const struct network *net) {
    if (cfg.host_net) return;
    char c;
    ssize_t n;
    while ((n = read(net->ready[0], &c, 1)) < 0 && errno == EINTR) {}
    if (n != 1) { errno = ECHILD; fail("net", "the outer launcher did not create the network namespace"); }
    if (setns(net->outer_pidfd, CLONE_NEWNET) < 0) fail("net", "join the network namespace");
    close(net->ready[0]);
    close(net->outer_pidfd);
}

// A minimal /dev like bubblewrap's: a private tmpfs with the harmless character devices bound from
// the host, a fresh devpts, a private /dev/shm and the usual links. Host disks, /dev/kmsg, kvm,
// loop devices and the rest stay out of reach (uid 0 in the namespace is uid 0 to device files).
static void build_dev(void) {
    static const char *nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
    static const char *links[][2] = { { "fd", "/proc/self/fd" }, { "stdin", "/proc/self/fd/0" },
                                      { "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
                                      { "ptmx", "pts/ptmx" } };
    char src[64], dst[64];
    if (mount("tmpfs", "/newroot/dev", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k") < 0) fail("mount", "tmpfs on /dev");
    for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
        snprintf(src, sizeof src, "/oldroot/dev/%s", nodes[i]);
        snprintf(dst, sizeof dst, "/newroot/dev/%s", nodes[i]);
        if (mknod(dst, S_IFREG | 0666, 0) < 0) fail("mount", "create %s", dst);
        // Read-only in metadata: uid 0 inside owns the host's nodes, and chmod, chown or utimes
        // through a writable bind would change the host's /dev. Data still flows: a device's
        // read and write do not need a writable mount.
        if (mount(src, dst, NULL, MS_BIND, NULL) == 0) { set_recursive(dst, MATTR_RDONLY | MATTR_NOSUID); continue; }
        if (errno != ENOENT) fail("mount", "bind /dev/%s", nodes[i]);
        if (unlink(dst) < 0) fail("mount", "remove %s (the host has no /dev/%s)", dst, nodes[i]);
    }
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        snprintf(dst, sizeof dst, "/newroot/dev/%s", links[i][0]);
        if (symlink(links[i][1], dst) < 0) fail("mount", "symlink %s", dst);
    }
    if (mkdir("/newroot/dev/pts", 0755) < 0 || mkdir("/newroot/dev/shm", 01777) < 0) fail("mount", "mkdir in /dev");
    // Best effort: without devpts only pseudo-terminals are missing.
    mount("devpts", "/newroot/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620");
    if (mount("tmpfs", "/newroot/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=256m") < 0) fail("mount", "tmpfs on /dev/shm");
}

// A fresh /proc for the new pid namespace, with the kernel-tuning files covered read-only as
// bubblewrap does (uid 0 in the namespace owns them by DAC; Landlock covers them too when present).
static void build_proc(void) {
    static const char *covered[] = { "sys", "sysrq-trigger", "irq", "bus", "fs" };
    char path[64];
    if (mount("proc", "/newroot/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) fail("mount", "fresh /proc");
    for (size_t i = 0; i < sizeof covered / sizeof covered[0]; i++) {
        snprintf(path, sizeof path, "/newroot/proc/%s", covered[i]);
        if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
            if (errno == ENOENT) continue;  // not in this kernel's /proc
            fail("mount", "cover %s", path);
        }
        set_recursive(path, MATTR_RDONLY | MATTR_NOSUID);
    }
}

// Hides a host file behind an empty read-only file (the private /dev/null) and a host folder
// behind an empty read-only tmpfs; a path that does not exist needs no mask. The bind is tried
// first, so the common case (a file) costs no stat. A symlink with a relative target masks what it
// points to; an absolute target resolves in the staging root, where it does not exist, so such a
// link stays as it is (masks name real files, as the defaults do).
static void mask_path(const char *dst) {
    if (mount("/newroot/dev/null", dst, NULL, MS_BIND, NULL) == 0) {
        set_recursive(dst, MATTR_RDONLY | MATTR_NOSUID);
        return;
    }
    if (errno == ENOENT) return;
    if (errno != ENOTDIR) fail("mount", "mask %s", dst);
    // A file cannot be bound over a folder: the target is a folder (or a path through a file).
    struct stat st;
    if (stat(dst, &st) < 0) fail("mount", "stat %s", dst);
    if (!S_ISDIR(st.st_mode)) { errno = ENOTDIR; fail("mount", "mask %s", dst); }
    if (mount("tmpfs", dst, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=4k") < 0) fail("mount", "mask %s", dst);
}

static int mount_tmpfs(const char *dst) {
    return mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=256m");
}

// Builds the new root (bubblewrap's pivot technique) and switches into it. Runs as pid 1.
static void build_root(void) {
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) fail("mount", "make / private");
    if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0) fail("mount", "staging tmpfs on /tmp");
    if (chdir("/tmp") < 0) fail("mount", "chdir staging");
    if (mkdir("newroot", 0755) < 0 || mkdir("oldroot", 0755) < 0) fail("mount", "mkdir in staging");
    if (syscall(SYS_pivot_root, "/tmp", "/tmp/oldroot") < 0) fail("mount", "pivot_root to staging");
    if (chdir("/") < 0) fail("mount", "chdir /");
    if (mount("/oldroot", "/newroot", NULL, MS_BIND | MS_REC, NULL) < 0) fail("mount", "bind old root");
    set_recursive("/newroot", MATTR_RDONLY | MATTR_NOSUID);
    build_dev();
    char dst[4096], src[4096];
    for (int i = 0; i < cfg.n_mounts; i++) {
        const struct mount_op *m = &cfg.mounts[i];
        snprintf(dst, sizeof dst, "/newroot%s", m->path);
        snprintf(src, sizeof src, "/oldroot%s", m->path);
        if (m->kind == M_MASK) {
            mask_path(dst);
            continue;
        }
        // Mount points are created only when the first attempt says they are missing.
        if (m->kind == M_TMPFS) {
            if (mount_tmpfs(dst) == 0) continue;
            if (errno == ENOENT) { mkdir_p(dst, 0); if (mount_tmpfs(dst) == 0) continue; }
            fail("mount", "tmpfs on %s", m->path);
        }
        if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0) {
            struct stat st;
            if (errno != ENOENT) fail("mount", "bind %s", m->path);
            if (stat(src, &st) < 0) fail("mount", "bind source %s", m->path);
            mkdir_p(dst, !S_ISDIR(st.st_mode));
            if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0) fail("mount", "bind %s", m->path);
        }
        set_recursive(dst, m->kind == M_BIND_RO ? (MATTR_RDONLY | MATTR_NOSUID) : MATTR_NOSUID);
    }
    build_proc();
    if (chdir("/newroot") < 0) fail("mount", "chdir new root");
    if (syscall(SYS_pivot_root, ".", ".") < 0) fail("mount", "pivot_root to new root");
    if (umount2(".", MNT_DETACH) < 0) fail("mount", "detach old root");
    if (chdir("/") < 0) fail("mount", "chdir /");
}

// ---- the command child: limits, Landlock, capabilities, seccomp, exec ----
static int landlock_abi(void) {
    long v = syscall(SYS_ll_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
    return v < 0 ? 0 : (int)v;
}

static uint64_t ll_fs_rights(int abi) {
    uint64_t all = (1ULL << 13) - 1;  // ABI 1: EXECUTE .. MAKE_SYM
    if (abi >= 2) all |= LL_FS_REFER;
    if (abi >= 3) all |= LL_FS_TRUNCATE;
    if (abi >= 5) all |= LL_FS_IOCTL_DEV;
    return all;
}

static void ll_add(int ruleset, const char *path, uint64_t rights) {
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return;  // nothing there to allow
        fail("landlock", "open %s", path);
    }
    struct ll_path_beneath_attr pb = { .allowed_access = rights, .parent_fd = fd };
    // Folder rights on a file are refused with EINVAL: then the file's share of the rights.
    // (Trying first costs nothing for folders, the common case; a stat would cost every rule.)
    if (syscall(SYS_ll_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0) < 0) {
        pb.allowed_access &= LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV;
        if (errno != EINVAL || pb.allowed_access == rights || syscall(SYS_ll_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0) < 0)
            fail("landlock", "add rule for %s", path);
    }
    close(fd);
}

// Best effort: without Landlock the other layers still hold; the ABI is reported either way.
static void apply_landlock(void) {
    int abi = landlock_abi();  // reported by the outer launcher
    if (abi <= 0 || (cfg.n_ll_ro == 0 && cfg.n_ll_rw == 0)) return;
    uint64_t all = ll_fs_rights(abi);
    struct ll_ruleset_attr attr = { .handled_access_fs = all };
    size_t size = sizeof(uint64_t);
    if (abi >= 6) { attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL; size = sizeof attr; }
    int rs = (int)syscall(SYS_ll_create_ruleset, &attr, size, 0);
    if (rs < 0) fail("landlock", "create ruleset (abi %d)", abi);
    uint64_t ro = LL_FS_EXECUTE | LL_FS_READ_FILE | LL_FS_READ_DIR;
    for (int i = 0; i < cfg.n_ll_ro; i++) ll_add(rs, cfg.ll_ro[i], ro);
    for (int i = 0; i < cfg.n_ll_rw; i++) ll_add(rs, cfg.ll_rw[i], all);
    if (syscall(SYS_ll_restrict_self, rs, 0) < 0) fail("landlock", "restrict_self");
    close(rs);
}

// Limits only ever tighten: "inf" keeps the inherited limit, and a value above the inherited hard
// limit is clamped to it (raising it would need a capability the sandbox does not have).
static void apply_rlimits(void) {
    for (int i = 0; i < cfg.n_rlims; i++) {
        struct rlimit cur;
        rlim_t v = cfg.rlims[i].value;
        if (v == RLIM_INFINITY) continue;
        if (getrlimit(cfg.rlims[i].resource, &cur) < 0) fail("rlimit", "getrlimit %d", cfg.rlims[i].resource);
        if (cur.rlim_max != RLIM_INFINITY && v > cur.rlim_max) v = cur.rlim_max;
        struct rlimit r = { v, v };
        if (setrlimit(cfg.rlims[i].resource, &r) < 0) fail("rlimit", "setrlimit %d", cfg.rlims[i].resource);
    }
}

static int caps_are_empty(void) {
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) < 0) fail("caps", "capget");
    for (int i = 0; i < 2; i++)
        if (d[i].effective || d[i].permitted || d[i].inheritable) return 0;
    return 1;
}

// Empties the bounding and ambient sets, locks root's special treatment away, then clears the
// process's own sets, so neither this exec nor any later one (uid 0 included) regains a capability.
static void drop_capabilities(void) {
    if (!caps_are_empty()) {
        for (int c = 0; c <= 63; c++) {
            if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == 0) continue;
            if (errno == EINVAL) break;  // past the kernel's last capability
            fail("caps", "drop bounding capability %d", c);
        }
        if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                  SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
                  SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED, 0, 0, 0) < 0) fail("caps", "set securebits");
    }
    // Reduced mode under a root runner: leave uid 0, which owns the host's files (Landlock does
    // not cover chmod, chown or utimes). Needs CAP_SETUID/CAP_SETGID, so before the sets are cleared.
    if (cfg.switch_user) {
        if (setgroups(0, NULL) < 0) fail("user", "drop supplementary groups");
        if (setresgid(cfg.gid, cfg.gid, cfg.gid) < 0) fail("user", "setresgid %u", (unsigned)cfg.gid);
        if (setresuid(cfg.uid, cfg.uid, cfg.uid) < 0) fail("user", "setresuid %u", (unsigned)cfg.uid);
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) fail("caps", "clear ambient");
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    if (syscall(SYS_capset, &h, d) < 0) fail("caps", "capset to empty");
}

__attribute__((noreturn)) static void exec_command(void) {
    trace("command-start");
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fail("process", "PR_SET_PDEATHSIG");
    if (setsid() < 0) fail("process", "setsid");
    if (cfg.workdir && chdir(cfg.workdir) < 0) fail("workdir", "chdir %s", cfg.workdir);
    // Every fd above 2 is closed at exec; the report fd stays usable until then.
    if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) fail("fds", "close_range");
    if (cfg.report_fd >= 0 && fcntl(cfg.report_fd, F_SETFD, FD_CLOEXEC) < 0) fail("fds", "report fd");
    apply_rlimits();
    if (cfg.mode != MODE_NONE) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("nnp", "PR_SET_NO_NEW_PRIVS");
        apply_landlock();
        trace("landlock");
        drop_capabilities();
        trace("capabilities");
        if (!caps_are_empty()) { errno = EPERM; fail("caps", "capabilities remain after dropping"); }
        // A change of credentials clears the parent-death signal: set it again, then make sure
        // the launcher did not die in between.
        if (cfg.switch_user) {
            if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fail("process", "PR_SET_PDEATHSIG");
            if (getppid() != parent) { errno = ESRCH; fail("process", "the launcher ended during setup"); }
        }
    }
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) < 0) fail("process", "sigprocmask");
    if (cfg.mode != MODE_NONE) {
        struct sock_fprog prog = { cfg.filter_len, cfg.filter };
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) fail("seccomp", "install filter");
    }
    trace("exec");
    execvp(cfg.argv[0], cfg.argv);
    int e = errno;
    dprintf(2, "driftbox-launcher: cannot run %s: %s\n", cfg.argv[0], strerror(e));
    report("exec-failed %d", e);
    report_flush();
    _exit(e == ENOENT ? 127 : 126);
}

// ---- process limit for root ----
// The kernel exempts uid 0 from RLIMIT_NPROC (also uid 0 mapped into a user namespace), so for a
// root runner the nproc limit is enforced with a pids cgroup (cgroup v1 "pids" hierarchy) that the
// outer launcher enters before creating the sandbox and leaves (and removes) at the end.

static int write_text_at(int dirfd, const char *path, const char *text) {
    int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = (ssize_t)strlen(text);
    int ok = write(fd, text, n) == n;
    close(fd);
    return ok ? 0 : -1;
}

// A launcher killed with SIGKILL cannot remove its group: remove empty groups whose launcher is gone.
static void remove_stale_pids_cgroups(void) {
    int fd = dup(pids_base_fd);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) { if (fd >= 0) close(fd); return; }
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        if (strncmp(e->d_name, "driftbox-", 9) != 0) continue;
        long pid = strtol(e->d_name + 9, &end, 10);
        if (*end || pid <= 0) continue;
        if (kill((pid_t)pid, 0) < 0 && errno == ESRCH) unlinkat(pids_base_fd, e->d_name, AT_REMOVEDIR);
    }
    closedir(d);
}

// Enters a fresh pids cgroup. The hierarchy is kept open by fd: in full mode this process's root
// later becomes the sandbox's read-only root, and leaving must still work.
static void enter_pids_cgroup(void) {
    char path[128], text[32];
    rlim_t max = RLIM_INFINITY;
    for (int i = 0; i < cfg.n_rlims; i++)
        if (cfg.rlims[i].resource == RLIMIT_NPROC) max = cfg.rlims[i].value;
    if (getuid() != 0 || max == RLIM_INFINITY) return;
    pids_base_fd = open("/sys/fs/cgroup/pids", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    pids_parent_procs_fd = pids_base_fd < 0 ? -1 : openat(pids_base_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
    if (pids_parent_procs_fd < 0) {
        report("pids-cgroup none");
        report_flush();  // a warning is never lost, even if the launcher is SIGKILLed later
        return;
    }
    remove_stale_pids_cgroups();
    snprintf(pids_name, sizeof pids_name, "driftbox-%d", getpid());
    if (mkdirat(pids_base_fd, pids_name, 0755) < 0) fail("cgroup", "mkdir /sys/fs/cgroup/pids/%s", pids_name);
    pids_owner = getpid();
    snprintf(path, sizeof path, "%s/pids.max", pids_name);
    snprintf(text, sizeof text, "%llu", (unsigned long long)max);
    if (write_text_at(pids_base_fd, path, text) < 0) fail("cgroup", "write %s", path);
    snprintf(path, sizeof path, "%s/cgroup.procs", pids_name);
    snprintf(text, sizeof text, "%d", getpid());
    if (write_text_at(pids_base_fd, path, text) < 0) fail("cgroup", "join %s", pids_name);
    report("pids-cgroup /sys/fs/cgroup/pids/%s", pids_name);
}

static void leave_pids_cgroup(void) {
    char text[32];
    if (!pids_name[0]) return;
    snprintf(text, sizeof text, "%d", getpid());
    if (write(pids_parent_procs_fd, text, strlen(text)) < 0) return;
    // Killed members are uncharged when they are released, which can trail their reaping.
    for (int i = 0; i < 200 && unlinkat(pids_base_fd, pids_name, AT_REMOVEDIR) < 0 && errno == EBUSY; i++) usleep(1000);
}

// ---- supervision ----
// Reports the command's resource usage (every reaped descendant: user and system microseconds,
// peak RSS in KiB; the launcher's own work is not included), then its status. Written once the
// whole tree is dead.
static void report_status(int st) {
    struct rusage ru;
    if (getrusage(RUSAGE_CHILDREN, &ru) == 0)
        report("usage %ld %ld %ld", (long)(ru.ru_utime.tv_sec * 1000000L + ru.ru_utime.tv_usec),
               (long)(ru.ru_stime.tv_sec * 1000000L + ru.ru_stime.tv_usec), ru.ru_maxrss);
    if (WIFEXITED(st)) report("status exit %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st)) report("status signal %d", WTERMSIG(st));
}

static int exit_code_of(int st) {
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// Reduced mode: this process is the subreaper; kill every child, wait for each so its own
// children are reparented here, and repeat until no descendant is left.
// The main child's wait status is stored in *main_status if it is reaped here.
static void kill_descendants(pid_t main_pid, int *main_status) {
    char path[300], buf[512];
    pid_t self = getpid();
    static pid_t victims[4096];
    for (;;) {
        // Fast path: every living descendant has a living ancestor among this subreaper's
        // children, so no children means no descendants and no /proc scan is needed.
        int st0;
        pid_t r = waitpid(-1, &st0, WNOHANG);
        if (r < 0 && errno == ECHILD) return;
        if (r == main_pid) *main_status = st0;
        int found = 0;
        DIR *d = opendir("/proc");
        if (!d) return;
        struct dirent *e;
        while ((e = readdir(d)) && found < 4096) {
            if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
            snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) continue;
            ssize_t n = read(fd, buf, sizeof buf - 1);
            close(fd);
            if (n <= 0) continue;
            buf[n] = 0;
            // "PID (COMM) STATE PPID ...": COMM may hold anything, so parse after the last ')'.
            char *rp = strrchr(buf, ')'), *end;
            if (!rp || rp[1] != ' ' || !rp[2] || rp[3] != ' ' || strtol(rp + 4, &end, 10) != self) continue;
            victims[found] = (pid_t)strtol(e->d_name, &end, 10);
            kill(victims[found++], SIGKILL);
        }
        closedir(d);
        int st;
        for (int i = 0; i < found; i++)
            if (waitpid(victims[i], &st, 0) == main_pid) *main_status = st;
        pid_t p;
        while ((p = waitpid(-1, &st, WNOHANG)) > 0)
            if (p == main_pid) *main_status = st;
        if (!found) return;
    }
}

// The outer launcher: waits for `main_pid` (the init of the pid namespace in full mode, the
// command in reduced mode) while watching termination requests and the lifeline.
static int supervise(pid_t main_pid, int sfd, int is_init_parent) {
    int status = -1, terminating = 0;
    struct pollfd pfd[2] = { { sfd, POLLIN, 0 }, { cfg.lifeline_fd, POLLIN, 0 } };
    int nfds = cfg.lifeline_fd >= 0 ? 2 : 1;
    for (;;) {
        int request = 0;
        // Full mode: init gets 300 ms to kill and reap the namespace (so its usage is counted).
        if (poll(pfd, nfds, terminating ? 300 : -1) == 0 && terminating) kill(main_pid, SIGKILL);
        if (nfds == 2 && (pfd[1].revents & (POLLHUP | POLLERR | POLLIN))) { request = 1; nfds = 1; }
        if (pfd[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == sizeof si)
                if (si.ssi_signo != SIGCHLD) request = 1;
        }
        if (request && !terminating) {
            terminating = 1;
            if (is_init_parent) kill(main_pid, SIGTERM);
            else kill_descendants(main_pid, &status);
        }
        pid_t p;
        int st;
        while ((p = waitpid(-1, &st, WNOHANG)) > 0)
            if (p == main_pid) status = st;
        if (status != -1) {
            if (!is_init_parent) { int ignored; kill_descendants(main_pid, &ignored); report_status(status); }
            return status;
        }
    }
}

// pid 1 of the new pid namespace: forks the command and reaps everything. When the command ends,
// or on SIGTERM from the outer launcher, it kills every process left in the namespace, reaps
// them (so their CPU time is counted) and exits with the command's status.
__attribute__((noreturn)) static void run_init(const struct network *net) {
    forget_report();
    trace("init-start");
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fail("process", "PR_SET_PDEATHSIG");
    if (net->ready[1] >= 0) close(net->ready[1]);
    if (cfg.gateway_fd >= 0) close(cfg.gateway_fd);  // the outer launcher sends the socket
    build_root();
    trace("root");
    if (sethostname("driftbox", 8) < 0) fail("uts", "sethostname");
    join_network(net);
    trace("network");
    if (cfg.lifeline_fd >= 0) close(cfg.lifeline_fd);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (sfd < 0) fail("init", "signalfd");
    pid_t child = fork();
    if (child < 0) fail("process", "fork command");
    if (child == 0) { forget_report(); close(sfd); exec_command(); }
    int status = -1, terminate = 0;
    while (status == -1 && !terminate) {
        struct signalfd_siginfo si;
        ssize_t n = read(sfd, &si, sizeof si);
        if (n == sizeof si && si.ssi_signo == SIGTERM) terminate = 1;
        pid_t p;
        int st;
        while ((p = waitpid(-1, &st, WNOHANG)) > 0)
            if (p == child) status = st;
    }
    trace("command-reaped");
    kill(-1, SIGKILL);
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {}
    trace("namespace-empty");
    if (status == -1) _exit(128 + SIGKILL);
    report_status(status);
    report_flush();
    _exit(exit_code_of(status));
}

// ---- probe ----
static int probe_userns(void) {
    pid_t p = fork();
    if (p < 0) return 0;
    if (p == 0) {
        int null = open("/dev/null", O_WRONLY);
        cfg.report_fd = null;  // failures here are expected and silent
        enter_namespaces(1);
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) _exit(1);
        if (mount("tmpfs", "/tmp", "tmpfs", 0, "size=1m") < 0) _exit(1);
        _exit(0);
    }
    int st;
    if (waitpid(p, &st, 0) < 0) return 0;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static int probe(void) {
    dprintf(1, "seccomp %d\n", prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 ? 1 : 0);
    dprintf(1, "landlock %d\n", landlock_abi());
    dprintf(1, "userns %d\n", probe_userns());
    dprintf(1, "uid %u\n", getuid());
    return 0;
}

// ---- test hook ----
// `driftbox-launcher --self-test-runtime` prints, one per line, what the C runtime's formatting
// and error texts produce for every conversion the launcher uses (the return value, then the
// text in brackets), so Tests/SandboxTests can compare them with the C standard's answers.
// It touches nothing but stdout.
static int self_test_runtime(void) {
    char b[64], big[3000];
    const char *none = NULL;
    int n;
#define LINE(size, ...) do { n = snprintf(b, size, __VA_ARGS__); dprintf(1, "%d [%s]\n", n, b); } while (0)
    LINE(sizeof b, "%s|%5s|%2s|%s", "abc", "ab", "long", none);
    LINE(sizeof b, "%d|%d|%d|%d", 0, -42, INT32_MIN, INT32_MAX);
    LINE(sizeof b, "%5d|%05d|%3d|%03d", -42, -42, 12345, 7);
    LINE(sizeof b, "%u|%u|%5u", 0U, UINT32_MAX, 42U);
    LINE(sizeof b, "%ld|%ld|%06ld", (long)INT64_MIN, (long)INT64_MAX, 42L);
    LINE(sizeof b, "%lld|%llu|%llu", (long long)INT64_MIN, (unsigned long long)UINT64_MAX, 0ULL);
    LINE(sizeof b, "%c%%|%c", 'x', '-');
    LINE(8, "%s", "abcdefghij");
    LINE(1, "%d", 12345);
    LINE(sizeof b, "%08d", -1);
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = 0;
    dprintf(1, "%s", big);  // dprintf formats into 2048 bytes: 2047 characters arrive
    dprintf(1, "\n");
    static const int errnos[] = { 0, EPERM, ENOENT, EACCES, EINVAL, ENOEXEC, EROFS, EAFNOSUPPORT, 133, 134, -1 };
    for (size_t i = 0; i < sizeof errnos / sizeof errnos[0]; i++) dprintf(1, "%d %s\n", errnos[i], strerror(errnos[i]));
#undef LINE
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--probe") == 0) return probe();
    if (argc == 2 && strcmp(argv[1], "--self-test-runtime") == 0) return self_test_runtime();
    const char *t = getenv("DRIFTBOX_LAUNCHER_TRACE");
    trace_on = t && strcmp(t, "1") == 0;
    if (t) unsetenv("DRIFTBOX_LAUNCHER_TRACE");
    trace("start");
    parse_args(argc, argv);
    load_filter();
    trace("args");
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) fail("process", "sigprocmask");
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) fail("process", "signalfd");
    if (cfg.lifeline_fd >= 0 && fcntl(cfg.lifeline_fd, F_SETFD, FD_CLOEXEC) < 0) fail("fds", "lifeline fd %d", cfg.lifeline_fd);
    if (cfg.gateway_fd >= 0 && fcntl(cfg.gateway_fd, F_SETFD, FD_CLOEXEC) < 0) fail("fds", "gateway fd %d", cfg.gateway_fd);
    report("mode %s", cfg.mode == MODE_FULL ? "full" : cfg.mode == MODE_REDUCED ? "reduced" : "none");
    if (cfg.mode != MODE_NONE) report("landlock %d", landlock_abi());
    pid_t child;
    enter_pids_cgroup();
    trace("cgroup");
    if (cfg.mode == MODE_FULL) {
        enter_namespaces(0);
        trace("namespaces");
        struct network net;
        prepare_network(&net);
        child = fork();
        if (child < 0) fail("process", "fork init");
        if (child == 0) { close(sfd); run_init(&net); }
        create_network(&net);
        trace("network-ready");
        int st = supervise(child, sfd, 1);
        trace("init-reaped");
        leave_pids_cgroup();
        report_flush();
        trace("exit");
        return exit_code_of(st);
    }
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) fail("process", "PR_SET_CHILD_SUBREAPER");
    child = fork();
    if (child < 0) fail("process", "fork command");
    if (child == 0) { forget_report(); close(sfd); if (cfg.lifeline_fd >= 0) close(cfg.lifeline_fd); exec_command(); }
    int st = supervise(child, sfd, 0);
    trace("command-reaped");
    leave_pids_cgroup();
    report_flush();
    trace("exit");
    return exit_code_of(st);
}
