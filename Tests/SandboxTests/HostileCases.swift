import Glibc
@testable import Sandbox

/// What a hostile case must produce.
enum Outcome: Equatable, Sendable, CustomStringConvertible {
    /// Exit 0 and exactly this stdout (trailing newline trimmed).
    case prints(String)
    /// Killed by this signal.
    case signal(Int32)
    /// Exit with this status, and stdout containing this text.
    case exit(Int32, containing: String)

    var description: String {
        switch self {
        case .prints(let s): "prints \(s.debugDescription)"
        case .signal(let s): "signal \(s)"
        case .exit(let c, let t): "exit \(c) with \(t.debugDescription)"
        }
    }
}

/// How the case's program is given.
enum Program: Sendable {
    /// Statements of a C `main`, compiled with `CompiledPrograms.prelude`.
    case c(String)
    /// A /bin/sh script (stderr folded into stdout).
    case sh(String)
}

/// One hostile-agent case from the threat list, with its precise expected outcome per mode
/// (nil: not run in that mode).
struct HostileCase: CustomStringConvertible, Sendable {
    let area: String
    let name: String
    let program: Program
    let full: Outcome?
    let reduced: Outcome?

    /// Host tools the case's script runs (checked in /usr/bin and /bin).
    let requires: [String]

    var description: String { "\(area): \(name)" }

    init(_ area: String, _ name: String, _ program: Program, full: Outcome?, reduced: Outcome?, requires: [String] = []) {
        self.area = area
        self.name = name
        self.program = program
        self.full = full
        self.reduced = reduced
        self.requires = requires
    }

    init(_ area: String, _ name: String, _ program: Program, both: Outcome, requires: [String] = []) {
        self.init(area, name, program, full: both, reduced: both, requires: requires)
    }

    /// The tools this case needs that the host lacks.
    var missingTools: [String] {
        requires.filter { access("/usr/bin/" + $0, X_OK) != 0 && access("/bin/" + $0, X_OK) != 0 }
    }
}


/// Whether reduced-mode commands run as ``AgentUser/nobody`` rather than as the runner (a root runner).
let reducedRunsAsAgentUser = getuid() == 0 && uidZeroIsHostRoot

/// What reading /etc/shadow gives a reduced-mode command: it cannot be masked there, so a runner
/// that can read it would let its commands read it; a root runner's commands run as nobody.
let shadowAsSeenByRunner: String = {
    var st = stat()
    guard stat("/etc/shadow", &st) == 0 else { return "ENOENT" }
    return access("/etc/shadow", R_OK) == 0 && !reducedRunsAsAgentUser ? "\(st.st_size) bytes" : "EACCES"
}()

/// Whether the runner's home has `name` (decides ENOENT vs EACCES for reduced mode). Nobody
/// cannot search root's home at all (EACCES either way).
func homeHas(_ name: String) -> Bool { reducedRunsAsAgentUser || access(Sandbox.runnerHome() + "/" + name, F_OK) == 0 }

let hostileCases: [HostileCase] = [
    // Files.
    HostileCase("files", "write outside the workspace", .c(#"char p[4096]; snprintf(p, sizeof p, "%s/escaped", ESCAPE); show(open(p, O_CREAT|O_WRONLY, 0644));"#),
                full: .prints("EROFS"), reduced: .prints("EACCES")),
    HostileCase("files", "write through a symlink planted in the workspace", .c(#"symlink(ESCAPE, "link"); show(open("link/escaped", O_CREAT|O_WRONLY, 0644));"#),
                full: .prints("EROFS"), reduced: .prints("EACCES")),
    // A root runner's reduced command runs as nobody: protected_hardlinks refuses first (EPERM).
    HostileCase("files", "hard-link an outside file in", .c(#"char p[4096]; snprintf(p, sizeof p, "%s/secret", ESCAPE); show(link(p, "secret"));"#),
                full: .prints("EXDEV"), reduced: .prints(reducedRunsAsAgentUser ? "EPERM" : "EXDEV")),
    HostileCase("files", "rename a workspace file out", .c(#"char p[4096]; close(open("mine", O_CREAT|O_WRONLY, 0644)); snprintf(p, sizeof p, "%s/escaped", ESCAPE); show(rename("mine", p));"#),
                full: .prints("EXDEV"), reduced: .prints("EACCES")),
    HostileCase("files", "read a host folder outside the system paths (another run, a checkout)", .c(#"char p[4096]; snprintf(p, sizeof p, "%s/secret", ESCAPE); show(open(p, O_RDONLY));"#),
                both: .prints("EACCES")),
    HostileCase("files", "write a .git hook", .c(#"show(open(".git/hooks/pre-commit", O_CREAT|O_WRONLY, 0755));"#),
                full: .prints("EROFS"), reduced: .prints("ok")),
    HostileCase("files", "write .git/config", .c(#"show(open(".git/config", O_WRONLY|O_APPEND));"#),
                full: .prints("EROFS"), reduced: .prints("ok")),
    HostileCase("files", "write a .git ref", .c(#"show(open(".git/refs/heads/evil", O_CREAT|O_WRONLY, 0644));"#),
                full: .prints("EROFS"), reduced: .prints("ok")),
    HostileCase("files", "list the runner's home", .c(#"DIR *d = opendir(HOME_DIR); if (!d) { show(-1); return 0; } int n = 0; while (readdir(d)) n++; printf("%d entries\n", n - 2);"#),
                // A runner without a home (e.g. nobody, /nonexistent) gets "/", which no one may list.
                full: .prints(Sandbox.runnerHome() == "/" ? "EACCES" : "0 entries"), reduced: .prints("EACCES")),
    HostileCase("files", "read ~/.ssh", .c(#"char p[4096]; snprintf(p, sizeof p, "%s/.ssh/id_ed25519", HOME_DIR); show(open(p, O_RDONLY));"#),
                full: .prints("ENOENT"), reduced: .prints(homeHas(".ssh") ? "EACCES" : "ENOENT")),
    HostileCase("files", "read ~/.aws", .c(#"char p[4096]; snprintf(p, sizeof p, "%s/.aws/credentials", HOME_DIR); show(open(p, O_RDONLY));"#),
                full: .prints("ENOENT"), reduced: .prints(homeHas(".aws") ? "EACCES" : "ENOENT")),
    HostileCase("files", "read the runner's /proc/<pid>/environ", .c(#"char p[64]; snprintf(p, sizeof p, "/proc/%d/environ", RUNNER); show(open(p, O_RDONLY));"#),
                full: .prints("ENOENT"), reduced: .prints("EACCES")),
    HostileCase("files", "read the runner's /proc/<pid>/mem", .c(#"char p[64]; snprintf(p, sizeof p, "/proc/%d/mem", RUNNER); show(open(p, O_RDONLY));"#),
                full: .prints("ENOENT"), reduced: .prints("EACCES")),

    HostileCase("files", "read and write a host disk", .c("show(open(BLOCK_DEVICE, O_RDONLY)); show(open(BLOCK_DEVICE, O_RDWR));"),
                full: .prints("ENOENT\nENOENT"), reduced: .prints(access(HostTargets.blockDevice, F_OK) == 0 ? "EACCES\nEACCES" : "ENOENT\nENOENT")),
    HostileCase("files", "read /etc/shadow (root-only system secret)", .c(#"int fd = open("/etc/shadow", O_RDONLY); if (fd < 0) { show(-1); return 0; } static char b[65536]; printf("%ld bytes\n", (long)read(fd, b, sizeof b));"#),
                full: .prints("0 bytes"), reduced: .prints(shadowAsSeenByRunner)),
    HostileCase("files", "read the kernel log through /dev/kmsg", .c(#"show(open("/dev/kmsg", O_RDONLY));"#),
                full: .prints("ENOENT"), reduced: .prints(access("/dev/kmsg", F_OK) == 0 ? "EACCES" : "ENOENT")),
    HostileCase("controls", "/dev/null, /dev/urandom, a pty and /dev/fd work", .sh("echo x > /dev/null && head -c 4 /dev/urandom | wc -c && python3 -c 'import pty, os; m, s = pty.openpty(); print(os.ttyname(s).startswith(\"/dev/pts/\"))' && bash -c 'cat <(echo via-dev-fd)'"),
                both: .prints("4\nTrue\nvia-dev-fd"), requires: ["python3", "bash"]),

    // Processes.
    HostileCase("processes", "ptrace the runner", .c("show(ptrace(PTRACE_ATTACH, RUNNER, 0, 0));"), both: .prints("EPERM")),
    HostileCase("processes", "signal the runner", .c("show(kill(RUNNER, 0));"), full: .prints("ESRCH"), reduced: .prints("EPERM")),
    HostileCase("processes", "process_vm_readv the runner", .c("char b[8]; struct iovec l = {b, 8}, r = {(void *)0x1000, 8}; show(process_vm_readv(RUNNER, &l, 1, &r, 1, 0));"),
                both: .prints("EPERM")),
    HostileCase("processes", "unshare a user namespace", .c("show(unshare(CLONE_NEWUSER));"), both: .prints("EPERM")),
    HostileCase("processes", "setns", .c("show(setns(0, 0));"), both: .prints("EPERM")),
    HostileCase("processes", "clone with CLONE_NEWNET", .c("show(syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0));"), both: .prints("EPERM")),
    HostileCase("processes", "clone with CLONE_NEWUSER and upper bits", .c("show(syscall(SYS_clone, 0xff00000000UL | CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0));"), both: .prints("EPERM")),
    HostileCase("processes", "clone3 is ENOSYS", .c("show(syscall(SYS_clone3, NULL, 0));"), both: .prints("ENOSYS")),
    HostileCase("processes", "threads and posix_spawn still work", .c("""
        pthread_t t; int r = pthread_create(&t, 0, noop, 0); if (r) { errno = r; show(-1); return 0; }
        pthread_join(t, 0); pid_t pid; char *av[] = {"/bin/true", 0};
        r = posix_spawn(&pid, "/bin/true", 0, 0, av, environ); if (r) { errno = r; show(-1); return 0; }
        int st; waitpid(pid, &st, 0); show(WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1);
        """), both: .prints("ok")),
    HostileCase("processes", "mount", .c(#"show(mount("none", "/tmp", "tmpfs", 0, 0));"#), both: .prints("EPERM")),
    HostileCase("processes", "chroot", .c(#"show(chroot("/"));"#), both: .prints("EPERM")),
    HostileCase("processes", "fsopen", .c(#"show(syscall(SYS_fsopen, "tmpfs", 0));"#), both: .prints("ENOSYS")),
    HostileCase("processes", "io_uring_setup (EPERM, not EFAULT)", .c("show(syscall(SYS_io_uring_setup, 1, NULL));"), both: .prints("EPERM")),
    HostileCase("processes", "keyctl", .c("show(syscall(SYS_keyctl, 0, 0, 0, 0, 0));"), both: .prints("EPERM")),
    HostileCase("processes", "bpf", .c("show(syscall(SYS_bpf, 0, NULL, 0));"), both: .prints("EPERM")),
    HostileCase("processes", "perf_event_open", .c("show(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));"), both: .prints("EPERM")),
    HostileCase("processes", "userfaultfd", .c("show(syscall(SYS_userfaultfd, 0));"), both: .prints("EPERM")),
    HostileCase("processes", "open_by_handle_at (EPERM, not EBADF)", .c("show(syscall(SYS_open_by_handle_at, -1, NULL, 0));"), both: .prints("EPERM")),
    HostileCase("processes", "kexec_load", .c("show(syscall(SYS_kexec_load, 0, 0, NULL, 0));"), both: .prints("EPERM")),
    HostileCase("processes", "init_module", .c(#"show(syscall(SYS_init_module, NULL, 0, ""));"#), both: .prints("EPERM")),
    HostileCase("processes", "syslog", .c("show(syscall(SYS_syslog, 3, NULL, 0));"), both: .prints("EPERM")),
    HostileCase("processes", "a syscall newer than the reviewed table", .c("show(syscall(462, 0, 0, 0));"), both: .prints("ENOSYS")),
    HostileCase("processes", "personality MMAP_PAGE_ZERO / READ_IMPLIES_EXEC", .c("show(personality(0x0100000)); show(personality(0x0400000)); show(personality(PER_LINUX));"),
                both: .prints("EPERM\nEPERM\nok")),
    HostileCase("processes", "x32 system call", .c(#"syscall(0x40000000 | 39); printf("survived\n");"#), both: .signal(SIGSYS)),
    HostileCase("processes", "int 0x80 (i386) system call", .c(#"long r; __asm__ volatile("int $0x80" : "=a"(r) : "a"(20)); printf("survived %ld\n", r);"#), both: .signal(SIGSYS)),
    HostileCase("processes", "TIOCSTI and TIOCLINUX (also with upper bits)", .c("char c = 'x'; show(ioctl(0, TIOCSTI, &c)); show(syscall(SYS_ioctl, 0, 0x100005412UL, &c)); show(ioctl(0, TIOCLINUX, &c)); show(ioctl(0, FIONREAD, &c));"),
                both: .prints("EPERM\nEPERM\nEPERM\nok")),
    HostileCase("processes", "su to another user", .sh("su nobody -s /bin/sh -c 'id -u' 2>/dev/null; echo \"su=$?\""), both: .prints("su=1"), requires: ["su"]),
    HostileCase("processes", "NoNewPrivs = 1, no capabilities, seccomp on", .sh("grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status | tr -s '\\t' ' '"),
                // The bounding set is emptied where the launcher may (root, or full mode's namespace);
                // a non-root runner's reduced commands keep the runner's, which no_new_privs and no
                // permitted capabilities make useless.
                full: .prints("CapInh: 0000000000000000\nCapPrm: 0000000000000000\nCapEff: 0000000000000000\nCapBnd: 0000000000000000\nCapAmb: 0000000000000000\nNoNewPrivs: 1\nSeccomp: 2"),
                reduced: .prints("CapInh: 0000000000000000\nCapPrm: 0000000000000000\nCapEff: 0000000000000000\nCapBnd: \(getuid() == 0 ? "0000000000000000" : runnerBoundingSet)\nCapAmb: 0000000000000000\nNoNewPrivs: 1\nSeccomp: 2")),

    // Network.
    HostileCase("network", "curl a public address", .sh("curl -sS -m 5 http://1.1.1.1/ >/dev/null 2>&1; echo \"curl=$?\""), both: .prints("curl=7"), requires: ["curl"]),
    HostileCase("network", "wget a public address", .sh("wget -q -T 5 -t 1 -O /dev/null http://1.1.1.1/ 2>/dev/null; echo \"wget=$?\""), both: .prints("wget=4"), requires: ["wget"]),
    HostileCase("network", "bash /dev/tcp", .sh("bash -c 'echo x > /dev/tcp/1.1.1.1/80' 2>&1 | head -1 | sed 's/.*: //'"),
                full: .prints("Network is unreachable"), reduced: .prints("Address family not supported by protocol"), requires: ["bash"]),
    HostileCase("network", "UDP to a public address (DNS exfiltration)", .c("""
        int s = socket(AF_INET, SOCK_DGRAM, 0); if (s < 0) { show(-1); return 0; }
        struct sockaddr_in a = {AF_INET, htons(53)}; inet_pton(AF_INET, "8.8.8.8", &a.sin_addr);
        show(sendto(s, "x", 1, 0, (void *)&a, sizeof a));
        """), full: .prints("ENETUNREACH"), reduced: .prints("EAFNOSUPPORT")),
    HostileCase("network", "listen on loopback", .c("""
        int s = socket(AF_INET, SOCK_STREAM, 0); if (s < 0) { show(-1); return 0; }
        struct sockaddr_in a = {AF_INET, 0}; a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(s, (void *)&a, sizeof a) < 0) { show(-1); return 0; } show(listen(s, 1));
        """), full: .prints("ok"), reduced: .prints("EAFNOSUPPORT")),
    HostileCase("network", "connect to a host loopback service", .c("""
        int s = socket(AF_INET, SOCK_STREAM, 0); if (s < 0) { show(-1); return 0; }
        struct sockaddr_in a = {AF_INET, htons(PORT)}; a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        show(connect(s, (void *)&a, sizeof a));
        """), full: .prints("ECONNREFUSED"), reduced: .prints("EAFNOSUPPORT")),
    HostileCase("network", "connect to a host abstract unix socket", .c("""
        int s = socket(AF_UNIX, SOCK_STREAM, 0); if (s < 0) { show(-1); return 0; }
        struct sockaddr_un a = {AF_UNIX}; strcpy(a.sun_path + 1, ABSTRACT);
        show(connect(s, (void *)&a, offsetof(struct sockaddr_un, sun_path) + 1 + strlen(ABSTRACT)));
        """), both: .prints("EAFNOSUPPORT")),
    HostileCase("network", "connect to a host pathname unix socket (in /tmp)", .c("""
        int s = socket(AF_UNIX, SOCK_STREAM, 0); if (s < 0) { show(-1); return 0; }
        struct sockaddr_un a = {AF_UNIX}; strcpy(a.sun_path, SOCKPATH);
        show(connect(s, (void *)&a, sizeof a));
        """), both: .prints("EAFNOSUPPORT")),
    HostileCase("network", "unix datagram and seqpacket sockets", .c("show(socket(AF_UNIX, SOCK_DGRAM, 0)); show(socket(AF_UNIX, SOCK_SEQPACKET, 0)); show(socket(AF_LOCAL, SOCK_STREAM | SOCK_CLOEXEC, 0));"),
                both: .prints("EAFNOSUPPORT\nEAFNOSUPPORT\nEAFNOSUPPORT")),
    HostileCase("controls", "socketpair, pipes, python subprocess and asyncio work without unix sockets", .sh("""
        python3 -c 'import asyncio, socket, subprocess
        a, b = socket.socketpair(); a.send(b"pair"); print(b.recv(4).decode())
        print(subprocess.run(["echo", "sub"], capture_output=True, text=True).stdout.strip())
        async def main():
            p = await asyncio.create_subprocess_exec("echo", "async", stdout=asyncio.subprocess.PIPE)
            out, _ = await p.communicate(); return out.decode().strip()
        print(asyncio.run(main()))'
        """), both: .prints("pair\nsub\nasync"), requires: ["python3"]),
    HostileCase("network", "AF_VSOCK, AF_ALG, AF_PACKET sockets", .c("show(socket(40, SOCK_STREAM, 0)); show(socket(38, SOCK_SEQPACKET, 0)); show(socket(17, SOCK_RAW, 0));"),
                both: .prints("EAFNOSUPPORT\nEAFNOSUPPORT\nEAFNOSUPPORT")),
    HostileCase("network", "socket families with upper bits set", .c("show(syscall(SYS_socket, 0x100000000UL | 38, SOCK_SEQPACKET, 0)); show(syscall(SYS_socket, 0x100000000UL | AF_UNIX, SOCK_STREAM, 0));"),
                both: .prints("EAFNOSUPPORT\nEAFNOSUPPORT")),
    HostileCase("network", "netlink other than route", .c("show(socket(AF_NETLINK, SOCK_RAW, 9)); show(socket(AF_NETLINK, SOCK_RAW, 0));"),
                both: .prints("EAFNOSUPPORT\nok")),
    HostileCase("network", "socketpair other than unix", .c("int sv[2]; show(socketpair(AF_INET, SOCK_STREAM, 0, sv)); show(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));"),
                both: .prints("EAFNOSUPPORT\nok")),

    // Resources.
    HostileCase("resources", "only fds 0-2 are inherited", .c(#"int n = 0; for (int fd = 0; fd < 4096; fd++) if (fcntl(fd, F_GETFD) >= 0) n++; printf("%d open\n", n);"#),
                both: .prints("3 open")),

    // Positive controls.
    HostileCase("controls", "python3 with a thread", .sh("python3 -c 'import sys, threading; t = threading.Thread(target=print, args=(\"thread\",)); t.start(); t.join(); print(sys.version_info.major)'"),
                both: .prints("thread\n3"), requires: ["python3"]),
    HostileCase("controls", "a shell script in the workspace", .sh("printf '#!/bin/sh\\necho $((6 * 7))\\n' > run.sh && chmod +x run.sh && ./run.sh"), both: .prints("42")),
    HostileCase("controls", "git log and git diff read the history", .sh("git log --format=%s && git diff --name-only HEAD~1 HEAD"), both: .prints("second\nfirst\nb.txt"), requires: ["git"]),
    HostileCase("controls", "cc writes into the workspace", .sh("printf '#include <stdio.h>\\nint main(void) { puts(\"built\"); return 0; }\\n' > hello.c && cc -o hello hello.c && ./hello"),
                both: .prints("built"), requires: ["cc"]),
]

/// This process's capability bounding set as /proc/self/status shows it (hex).
let runnerBoundingSet: String = {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("CapBnd:") } ?? ""
    return line.split(whereSeparator: { $0 == " " || $0 == "\t" }).last.map(String.init) ?? "unknown"
}()
