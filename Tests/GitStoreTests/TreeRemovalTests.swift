import Foundation
import Glibc
import Posix
import Testing

@Suite("Tree removal")
struct TreeRemovalTests {
    /// A fresh folder under the temporary directory.
    func folder(_ name: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("driftbox-\(name)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("a 30,000-level chain of long names, links out and FIFOs are removed; what the links name is untouched")
    func deepHostileTree() throws {
        let root = try folder("removal")
        let outside = try folder("removal-outside")
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try Data("keep\n".utf8).write(to: URL(fileURLWithPath: outside + "/keep.txt"))
        // Built relative to descriptors: the chain is far deeper than a path can name.
        let name = String(repeating: "n", count: 200)
        var fd = open(root, O_RDONLY | O_DIRECTORY)
        for level in 0..<30_000 {
            let current = level < 40 ? name : "d"
            #expect(mkdirat(fd, current, 0o755) == 0)
            if level % 1000 == 0 {
                #expect(symlinkat(outside, fd, "out") == 0)
                #expect(mkfifoat(fd, "pipe", 0o644) == 0)
                let file = openat(fd, "f.py", O_WRONLY | O_CREAT, 0o644)
                close(file)
            }
            let next = openat(fd, current, O_RDONLY | O_DIRECTORY)
            close(fd)
            fd = next
        }
        close(fd)

        try TreeRemoval.remove(root)

        #expect(!FileManager.default.fileExists(atPath: root))
        #expect(FileManager.default.contents(atPath: outside + "/keep.txt") == Data("keep\n".utf8))
    }

    @Test("a missing path is fine; a file or a link at the path is unlinked, not followed")
    func missingFileAndLink() throws {
        let root = try folder("removal-small")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try TreeRemoval.remove(root + "/absent")
        try Data("x".utf8).write(to: URL(fileURLWithPath: root + "/file"))
        try TreeRemoval.remove(root + "/file")
        #expect(!FileManager.default.fileExists(atPath: root + "/file"))
        try FileManager.default.createDirectory(atPath: root + "/target", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: root + "/target/inside"))
        #expect(symlink(root + "/target", root + "/link") == 0)
        try TreeRemoval.remove(root + "/link")
        #expect(FileManager.default.fileExists(atPath: root + "/target/inside"))
        var info = stat()
        #expect(lstat(root + "/link", &info) != 0)
    }
}
