import Foundation
import Glibc

/// `Tests/AgentsTests/Resources/scripted_chat_server.py` run as a host process: an
/// OpenAI-compatible chat-completions server on 127.0.0.1 (ephemeral port) that answers from a
/// script and logs every request body.
public final class ScriptedChatServer: @unchecked Sendable {
    /// The server program in the package.
    public static let program = packageRoot + "/Tests/AgentsTests/Resources/scripted_chat_server.py"

    /// Its port.
    public let port: Int
    /// The file every request body is appended to, one JSON line each.
    public let requestLog: String
    private let process: Process

    /// Whether it serves HTTPS.
    public let tls: Bool

    /// The base URL clients use (`http(s)://127.0.0.1:PORT/v1`).
    public var baseURL: String { "\(tls ? "https" : "http")://127.0.0.1:\(port)/v1" }

    /// A certificate authority (`ca.pem`) and a certificate for 127.0.0.1 it signed (`server.pem`,
    /// `server.key`), made in `folder` with the openssl CLI.
    public static func makeCertificates(in folder: String) throws -> (caBundle: String, certificate: String, key: String) {
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n".write(toFile: folder + "/ext.cnf", atomically: true, encoding: .utf8)
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try runHost(["openssl", "req", "-x509"] + curve + ["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=driftbox test CA",
                                                          "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], in: folder)
        try runHost(["openssl", "req"] + curve + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"], in: folder)
        try runHost(["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                     "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf"], in: folder)
        return (folder + "/ca.pem", folder + "/server.pem", folder + "/server.key")
    }

    /// Starts the server with `script` (a JSON list of replies, see the program) in `folder`.
    /// - Parameters:
    ///   - program: the server program (another copy of it, e.g. one the sandbox can read).
    ///   - tls: a certificate and its key: the server speaks HTTPS.
    /// - Throws: ``TestSupportError`` when it does not report its port.
    public init(script: String, in folder: String, program: String = ScriptedChatServer.program,
                tls: (certificate: String, key: String)? = nil) throws {
        self.tls = tls != nil
        try script.write(toFile: folder + "/script.json", atomically: true, encoding: .utf8)
        requestLog = folder + "/requests.jsonl"
        let portFile = folder + "/port.txt"
        _ = FileManager.default.createFile(atPath: portFile, contents: nil)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["python3", program, folder + "/script.json", requestLog] + (tls.map { [$0.certificate, $0.key] } ?? [])
        server.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: portFile))
        try server.run()
        // Not a measure of speed: only so a server that never starts fails the test instead of
        // hanging it. Python's start-up on a loaded 2-core host takes well under a second.
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOfFile: portFile, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first, line.hasPrefix("PORT "), let port = Int(line.dropFirst(5)) {
                self.port = port
                process = server
                return
            }
            guard server.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        server.terminate()
        throw TestSupportError("the scripted chat server did not report its port within 120 s", at: program, "run it by hand to see why")
    }

    /// The request bodies received so far.
    public var requests: [[String: Any]] {
        let text = (try? String(contentsOfFile: requestLog, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }

    /// Stops the server (SIGKILL: a test process may hand its children a blocked SIGTERM) and
    /// waits for it.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}
