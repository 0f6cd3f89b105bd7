import Foundation
import Glibc
import Testing
@testable import Sandbox

/// The metadata of one host file: what a chmod, chown or utimes would change.
struct HostMetadata: Equatable, CustomStringConvertible {
    let mode: UInt32
    let uid: UInt32
    let gid: UInt32
    let mtime: timespec
    let ctime: timespec

    init?(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        mode = st.st_mode
        uid = st.st_uid
        gid = st.st_gid
        mtime = st.st_mtim
        ctime = st.st_ctim
    }

    static func == (a: HostMetadata, b: HostMetadata) -> Bool {
        a.mode == b.mode && a.uid == b.uid && a.gid == b.gid && a.mtime.tv_sec == b.mtime.tv_sec && a.mtime.tv_nsec == b.mtime.tv_nsec
            && a.ctime.tv_sec == b.ctime.tv_sec && a.ctime.tv_nsec == b.ctime.tv_nsec
    }

    var description: String { "mode \(String(mode, radix: 8)) owner \(uid):\(gid) mtime \(mtime.tv_sec).\(mtime.tv_nsec) ctime \(ctime.tv_sec).\(ctime.tv_nsec)" }

    /// Puts mode and mtime back should a broken sandbox have changed them (ctime cannot be).
    func restore(_ path: String) {
        chmod(path, mode_t(mode & 0o7777))
        lchown(path, uid, gid)
        var times = [timespec(tv_sec: 0, tv_nsec: (1 << 30) - 2), mtime]  // UTIME_OMIT for atime
        utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW)
    }
}

/// Host files whose metadata the metadata cases attack.
let attackedDevices = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"]

@Suite("Hostile agent: metadata, setuid bits, unix sockets", .serialized, .timeLimit(.minutes(5)))
struct HostileMetadataTests {
    @Test("chmod, chown and touch -d on the device nodes and a host file leave the host's metadata unchanged; the devices still work",
          arguments: Sandboxes.modes)
    func deviceMetadata(mode: SandboxMode) async throws {
        let sandbox = try Sandboxes.get(mode)
        let targets = attackedDevices.filter { access($0, F_OK) == 0 } + ["/etc/hostname"].filter { access($0, F_OK) == 0 }
        let before = targets.map { HostMetadata($0) }
        defer {
            for (path, old) in zip(targets, before) where HostMetadata(path) != old { old?.restore(path) }
        }
        let ws = try workspace()
        defer { ws.cleanup() }
        var script = ""
        for path in targets {
            script += "chmod 0600 \(path) 2>/dev/null; echo \"chmod \(path) $?\"; "
            script += "chown 1:1 \(path) 2>/dev/null; echo \"chown \(path) $?\"; "
            script += "touch -h -d 2001-01-01 \(path) 2>/dev/null; echo \"touch \(path) $?\"; "
        }
        script += "echo x > /dev/null && echo wrote-null; head -c 8 /dev/urandom | wc -c; head -c 8 /dev/zero | wc -c"
        let result = try await sandbox.run(SandboxedCommand("/bin/sh", ["-c", script], workspace: ws.path))
        #expect(result.termination == .exited(0), "stderr: \(result.stderr.text)")
        let expected = targets.flatMap { path in ["chmod", "chown", "touch"].map { "\($0) \(path) 1" } } + ["wrote-null", "8", "8"]
        #expect(result.stdout.text.split(separator: "\n").map(String.init) == expected)
        for (path, old) in zip(targets, before) {
            #expect(HostMetadata(path) == old, "\(path) changed on the host")
        }
    }

    @Test("the errno of a metadata change is the mount's (full) or the kernel's owner check (reduced as nobody)", arguments: Sandboxes.modes)
    func deviceMetadataErrno(mode: SandboxMode) async throws {
        let sandbox = try Sandboxes.get(mode)
        let before = HostMetadata("/dev/null")
        defer { if HostMetadata("/dev/null") != before { before?.restore("/dev/null") } }
        let binary = try CompiledPrograms.shared.binary("""
            show(chmod("/dev/null", 0600)); struct timespec t[2] = {{0, 0}, {978307200, 0}};
            show(utimensat(AT_FDCWD, "/dev/null", t, 0)); show(chown("/dev/null", 0, 0));
            """)
        let ws = try workspace(with: binary)
        defer { ws.cleanup() }
        let result = try await sandbox.run(SandboxedCommand("./prog", workspace: ws.path))
        // Reduced mode for a runner that is not root: the kernel's owner check (EPERM) as well.
        let expected = mode == .full ? "EROFS\nEROFS\nEROFS\n" : "EPERM\nEPERM\nEPERM\n"
        #expect(result.stdout.text == expected)
        #expect(HostMetadata("/dev/null") == before)
    }

    @Test("setuid and setgid bits are refused, ordinary modes work, and no such bit reaches the host", arguments: Sandboxes.modes)
    func setuidBits(mode: SandboxMode) async throws {
        let sandbox = try Sandboxes.get(mode)
        let binary = try CompiledPrograms.shared.binary("""
            show(open("c1", O_CREAT|O_WRONLY, 04755)); show(open("c2", O_CREAT|O_WRONLY, 02755));
            show(syscall(SYS_creat, "c3", 04755)); show(mknod("n1", S_IFREG | 02644, 0));
            show(syscall(SYS_open, "c4", O_CREAT|O_WRONLY, 06755));
            show(open(".", O_TMPFILE|O_WRONLY, 04755));
            int fd = open("plain", O_CREAT|O_WRONLY, 0755); show(fchmod(fd, 04755)); show(fchmodat(AT_FDCWD, "plain", 02755, 0));
            show(syscall(SYS_chmod, "plain", 0x100000000UL | 04755)); show(fchmod(fd, 0700)); show(fd >= 0 ? 0 : -1);
            show(syscall(452, AT_FDCWD, "plain", 04755, 0));  /* fchmodat2: newer than the reviewed table */
            """)
        let ws = try workspace(with: binary)
        defer { ws.cleanup() }
        let c = try await sandbox.run(SandboxedCommand("./prog", workspace: ws.path))
        #expect(c.stdout.text == ["EPERM", "EPERM", "EPERM", "EPERM", "EPERM", "EPERM", "EPERM", "EPERM", "EPERM", "ok", "ok", "ENOSYS"].joined(separator: "\n") + "\n",
                "stderr: \(c.stderr.text)")
        let script = """
        cp /bin/true t && chmod 4755 t 2>/dev/null; echo "chmod 4755 $?"
        chmod g+s t 2>/dev/null; echo "chmod g+s $?"
        python3 -c 'import os
        try:
            os.chmod("t", 0o6755); print("python chmod ok")
        except PermissionError as e:
            print("python", e.errno)'
        touch s && chmod +x s && chmod 755 s && echo "plain modes ok"
        mkdir d && chmod 1777 d && stat -c %a d
        find . -perm /6000 | wc -l
        """
        let result = try await sandbox.run(SandboxedCommand("/bin/sh", ["-c", script], workspace: ws.path))
        #expect(result.stdout.text == "chmod 4755 1\nchmod g+s 1\npython 1\nplain modes ok\n1777\n0\n", "stderr: \(result.stderr.text)")
        #expect(try filesWithSetIDBits(under: ws.path).isEmpty)
        var st = stat()
        #expect(stat(ws.file("t"), &st) == 0 && st.st_mode & 0o7777 == 0o755)
    }

    @Test("no pathname unix socket outside the workspace is reachable: a listener in a read-only path and one in the checkout accept nothing",
          arguments: Sandboxes.modes)
    func pathnameSockets(mode: SandboxMode) async throws {
        let sandbox = try Sandboxes.get(mode)
        let shared = try TempDir("sockdir")
        defer { shared.cleanup() }
        let inShared = try HostTargets.listenUnix(shared.file("s"))
        defer { close(inShared) }
        let checkoutDir = try outsideFolder("sock")
        defer { try? FileManager.default.removeItem(atPath: checkoutDir) }
        let inCheckout = try HostTargets.listenUnix(checkoutDir + "/s")
        defer { close(inCheckout) }
        let abstractName = "driftbox-\(UUID().uuidString)"
        let abstract = try HostTargets.listenUnix("\0" + abstractName)
        defer { close(abstract) }
        let binary = try CompiledPrograms.shared.binary("""
            for (int i = 1; i < argc; i++) {
                int s = socket(AF_UNIX, SOCK_STREAM, 0); if (s < 0) { show(-1); continue; }
                struct sockaddr_un a = {AF_UNIX}; socklen_t len = sizeof a;
                if (argv[i][0] == '@') { strcpy(a.sun_path + 1, argv[i] + 1); len = offsetof(struct sockaddr_un, sun_path) + strlen(argv[i]); }
                else strcpy(a.sun_path, argv[i]);
                show(connect(s, (void *)&a, len));
            }
            """)
        let ws = try workspace(with: binary)
        defer { ws.cleanup() }
        let command = SandboxedCommand("./prog", [shared.file("s"), checkoutDir + "/s", "@" + abstractName], workspace: ws.path,
                                       readOnlyPaths: [shared.path])
        let result = try await sandbox.run(command)
        #expect(result.stdout.text == "EAFNOSUPPORT\nEAFNOSUPPORT\nEAFNOSUPPORT\n", "stderr: \(result.stderr.text)")
        for listener in [inShared, inCheckout, abstract] {
            _ = fcntl(listener, F_SETFL, O_NONBLOCK)
            #expect(accept(listener, nil, nil) == -1 && errno == EAGAIN, "a connection reached the host's listener")
        }
    }
}

/// Paths under `root` (not following links) with the setuid or setgid bit; iterative.
func filesWithSetIDBits(under root: String) throws -> [String] {
    var found: [String] = []
    var pending = [root]
    while let dir = pending.popLast() {
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) {
            let path = dir + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0 else { continue }
            if st.st_mode & (S_ISUID | S_ISGID) != 0 && (st.st_mode & S_IFMT) != S_IFDIR { found.append(path) }
            if (st.st_mode & S_IFMT) == S_IFDIR { pending.append(path) }
        }
    }
    return found
}
