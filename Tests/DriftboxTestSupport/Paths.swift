import Foundation
import Glibc

/// The package checkout, found from this file's path (`Tests/DriftboxTestSupport/Paths.swift`):
/// the tests work from a checkout anywhere (a temporary folder, a home folder, /opt).
public let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// ``packageRoot`` as a file URL.
public let packageRootURL = URL(fileURLWithPath: packageRoot, isDirectory: true)

/// A host folder for what sandbox tests place outside the workspace (targets of hostile cases,
/// agent programs): `/var/tmp`. Unlike the checkout or the system's temporary folder it is neither
/// behind full mode's private /tmp, /run or home nor one of the readable system paths, wherever the
/// checkout lies (/tmp, a home folder, /opt), and every user may write there.
public let hostOutsideFolder = "/var/tmp"

/// A fresh folder `driftbox-<label>-<UUID>` under ``hostOutsideFolder``.
/// - Throws: ``TestSupportError`` when it cannot be made.
public func outsideFolder(_ label: String) throws -> String {
    let path = hostOutsideFolder + "/driftbox-\(label)-\(UUID().uuidString)"
    do {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
        throw TestSupportError("cannot make a folder", at: path, "\(hostOutsideFolder) must exist and be writable: \(error)")
    }
    return path
}

/// A fresh folder `driftbox-<label>-<UUID>` under the system's temporary folder.
/// - Throws: ``TestSupportError`` when it cannot be made.
public func temporaryFolder(_ label: String) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("driftbox-\(label)-\(UUID().uuidString)")
    do {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    } catch {
        throw TestSupportError("cannot make a temporary folder", at: folder.path, "check TMPDIR and free space: \(error)")
    }
    return folder
}

/// A per-test temporary folder, removed by ``cleanup()`` or when the last reference goes away.
public final class TemporaryFolder: @unchecked Sendable {
    /// The folder's absolute path.
    public let path: String

    /// Makes `driftbox-<label>-<UUID>` under the system's temporary folder.
    /// - Throws: ``TestSupportError`` when it cannot be made.
    public init(_ label: String = "t") throws {
        path = try temporaryFolder(label).path
    }

    deinit { cleanup() }

    /// `path/relative`.
    public func file(_ relative: String) -> String { path + "/" + relative }

    /// `path/relative`.
    public func callAsFunction(_ relative: String) -> String { file(relative) }

    /// Writes a text file at `relative`, creating its folders.
    /// - Throws: ``TestSupportError`` when it cannot be written.
    public func write(_ relative: String, _ text: String, executable: Bool = false) throws {
        try writeBytes(Array(text.utf8), to: file(relative), executable: executable)
    }

    /// Removes the folder and everything in it (again harmless).
    public func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// Writes a text file, creating its folders.
/// - Throws: ``TestSupportError`` when it cannot be written.
public func write(_ text: String, to path: String, executable: Bool = false) throws {
    try writeBytes(Array(text.utf8), to: path, executable: executable)
}

/// Writes a file of bytes, creating its folders.
/// - Throws: ``TestSupportError`` when it cannot be written.
public func writeBytes(_ bytes: [UInt8], to path: String, executable: Bool = false) throws {
    do {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: executable ? 0o755 : 0o644], ofItemAtPath: path)
    } catch {
        throw TestSupportError("cannot write a test file", at: path, "check the folder is writable: \(error)")
    }
}

/// Bytes that are not UTF-8 (a lone continuation byte, an overlong form and 0xFF), for file
/// contents and names.
public let notUTF8: [UInt8] = [0x80, 0xC0, 0xAF, 0xFF, 0xFE]

/// Writes `bytes` to a path given as raw bytes (which need not be UTF-8), replacing the file.
/// - Throws: ``TestSupportError`` naming the path and errno.
public func writeBytes(_ bytes: [UInt8], toRawPath path: [UInt8]) throws {
    let fd = (path + [0]).withUnsafeBufferPointer { buffer in
        buffer.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
    }
    let where_ = String(decoding: path, as: UTF8.self)
    guard fd >= 0 else { throw TestSupportError("cannot create a file", at: where_, "errno \(errno)") }
    defer { close(fd) }
    var written = 0
    while written < bytes.count {
        let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { throw TestSupportError("cannot write a file", at: where_, "errno \(errno)") }
        written += n
    }
}

/// What a test-support call could not do: what, where, and what to do.
public struct TestSupportError: Error, CustomStringConvertible {
    /// The whole message.
    public let description: String

    /// A message naming what failed, where (a path or command), and what to do.
    public init(_ what: String, at location: String, _ remedy: String) {
        description = "\(what) (\(location)): \(remedy)"
    }
}
