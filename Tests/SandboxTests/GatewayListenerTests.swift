import Foundation
import Glibc
import Synchronization
import Testing
@testable import Sandbox

/// The gateway hand-off: a socket listening inside the sandbox's network namespace reaches the
/// runner; the same address leads nowhere else.
@Suite("Gateway listener", .serialized, .timeLimit(.minutes(3)))
struct GatewayListenerTests {
    /// What the runner's side saw: the descriptors received and the line each connection sent.
    final class RunnerSide: Sendable {
        let received = Mutex<[Int32]>([])
        let lines = Mutex<[String]>([])

        /// Accepts one connection on `fd` on a thread of its own, reads a line, answers `reply`.
        func serveOnce(_ fd: Int32, reply: String) {
            received.withLock { $0.append(fd) }
            Thread.detachNewThread { [self] in
                let connection = accept(fd, nil, nil)
                guard connection >= 0 else { return }
                defer { close(connection) }
                var line: [UInt8] = []
                var byte: UInt8 = 0
                while read(connection, &byte, 1) == 1 && byte != 10 { line.append(byte) }
                lines.withLock { $0.append(String(decoding: line, as: UTF8.self)) }
                let answer = Array((reply + "\n").utf8)
                _ = answer.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
            }
        }
    }

    /// The local address of a socket, as "ADDRESS:PORT".
    static func localAddress(_ fd: Int32) -> String? {
        var a = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) == 0 } }
        guard ok else { return nil }
        var text = [CChar](repeating: 0, count: 64)
        inet_ntop(AF_INET, &a.sin_addr, &text, socklen_t(text.count))
        return String(cString: text) + ":" + String(UInt16(bigEndian: a.sin_port))
    }

    /// Whether a connection waits on a host listener (non-blocking accept; connections that were
    /// made are queued there, so after the command ended this is exact).
    static func connectionWaiting(on fd: Int32) -> Bool {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        let connection = accept(fd, nil, nil)
        if connection >= 0 { close(connection) }
        return connection >= 0
    }

    @Test("a command connects to the gateway port inside and the runner accepts; a host listener on the same and another port gets nothing")
    func handOff() async throws {
        let sandbox = try Sandboxes.get(.full)
        // Canaries on the host's loopback: one at the port the gateway takes inside, one elsewhere.
        let (sameCanary, port) = try HostTargets.listenTCP()
        defer { close(sameCanary) }
        let (otherCanary, otherPort) = try HostTargets.listenTCP()
        defer { close(otherCanary) }
        let ws = try workspace()
        defer { ws.cleanup() }
        let runner = RunnerSide()
        let script = """
            exec 3<>/dev/tcp/127.0.0.1/\(port) || exit 9
            echo hello-from-inside >&3
            read -r answer <&3
            echo "answer=$answer"
            if (exec 4<>/dev/tcp/127.0.0.1/\(otherPort)) 2>/dev/null; then echo other=reached; else echo other=refused; fi
            exec 3>&-
            ls /proc/self/fd | tr '\\n' ' '
            """
        let command = SandboxedCommand("/bin/bash", ["-c", script], workspace: ws.path, timeout: .seconds(60),
                                       gateway: GatewayListener(port: port) { fd in runner.serveOnce(fd, reply: "hello-from-runner") })
        let result = try await sandbox.run(command)
        #expect(result.termination == .exited(0), "stderr: \(result.stderr.text)")
        let lines = result.stdout.text.split(separator: "\n").map(String.init)
        #expect(lines.prefix(2) == ["answer=hello-from-runner", "other=refused"])
        // Only stdio and the listing's own directory are open inside: neither the socket pair nor
        // the listening socket crossed into the command.
        #expect(lines.last == "0 1 2 3 ", "\(lines)")
        #expect(runner.lines.withLock { $0 } == ["hello-from-inside"])
        let received = runner.received.withLock { $0 }
        #expect(received.count == 1)
        if let fd = received.first {
            #expect(Self.localAddress(fd) == "127.0.0.1:\(port)")
            #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0)
            close(fd)
        }
        #expect(!Self.connectionWaiting(on: sameCanary))
        #expect(!Self.connectionWaiting(on: otherCanary))
    }

    @Test("each command gets a listener of its own, handed over once")
    func oneListenerPerCommand() async throws {
        let sandbox = try Sandboxes.get(.full)
        let ws = try workspace()
        defer { ws.cleanup() }
        let runner = RunnerSide()
        for round in 1...2 {
            let command = SandboxedCommand("/bin/bash", ["-c", "exec 3<>/dev/tcp/127.0.0.1/4000 && echo \(round) >&3 && read -r a <&3 && echo $a"],
                                           workspace: ws.path, timeout: .seconds(60),
                                           gateway: GatewayListener { fd in runner.serveOnce(fd, reply: "r\(round)") })
            let result = try await sandbox.run(command)
            #expect(result.stdout.text == "r\(round)\n", "stderr: \(result.stderr.text)")
        }
        let received = runner.received.withLock { $0 }
        #expect(received.count == 2)
        for fd in received { close(fd) }
        #expect(runner.lines.withLock { $0 }.sorted() == ["1", "2"])
    }

    @Test("reduced mode and the host network refuse the gateway with the reason")
    func refusedWithoutNamespace() async throws {
        let ws = try workspace()
        defer { ws.cleanup() }
        let command = SandboxedCommand("/bin/true", workspace: ws.path, gateway: GatewayListener { fd in close(fd) })
        let reduced = try Sandboxes.get(.reduced)
        await #expect {
            try await reduced.run(command)
        } throws: { error in
            guard let error = error as? SandboxError else { return false }
            return error.code == .invalidCommand && "\(error)".contains("needs full mode")
        }
        _ = try Sandboxes.get(.full)
        let network = try Sandbox(SandboxOptions(policy: try shippedPolicy("network"), mode: .full))
        await #expect {
            try await network.run(command)
        } throws: { error in
            guard let error = error as? SandboxError else { return false }
            return error.code == .invalidCommand && "\(error)".contains("network off")
        }
    }

    @Test("the launcher itself refuses a gateway without a private network namespace")
    func launcherRefuses() throws {
        let launcher = try Launcher.locate()
        for extra in [["--mode", "reduced"], ["--mode", "full", "--host-net"], ["--mode", "full", "--gateway-port", "4000"]] {
            let args = extra + (extra.contains("--gateway-port") ? [] : ["--gateway-port", "4000", "--gateway-fd", "2"]) + ["--", "/bin/true"]
            let result = try runHost([launcher] + args, allowFailure: true, combineOutput: true)
            #expect(result.status == 125, "\(extra): \(result.output)")
            #expect(result.output.contains("error args: --gateway"), "\(extra): \(result.output)")
        }
    }
}
