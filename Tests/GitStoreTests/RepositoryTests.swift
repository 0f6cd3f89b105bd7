import Foundation
import Testing
@testable import GitStore

@Suite("Repository basics", .timeLimit(.minutes(2)))
struct RepositoryTests {
    @Test("object ids parse from hex and print back in lowercase")
    func objectIDs() throws {
        let id = try #require(ObjectID(hex: "F1F9FD353A879085D30022058556A17790AC3EFD"))
        #expect(id.description == "f1f9fd353a879085d30022058556a17790ac3efd")
        #expect(id.abbreviated() == "f1f9fd3")
        #expect(id.bytes.count == 20 && id.bytes[0] == 0xf1)
        #expect(ObjectID(hex: "f1f9") == nil)
        #expect(ObjectID(hex: String(repeating: "g", count: 40)) == nil)
        let decoded = try JSONDecoder().decode([ObjectID].self, from: JSONEncoder().encode([id]))
        #expect(decoded == [id])
    }

    @Test("trailers are written after a blank line and parsed back")
    func trailers() throws {
        let message = try Trailer.message("Subject\n\nBody text.\n\n", trailers: [Trailer(key: "Step", value: "3"), Trailer(key: "Task", value: "a b")])
        #expect(message == "Subject\n\nBody text.\n\nStep: 3\nTask: a b\n")
        #expect(try Trailer.parse(message) == [Trailer(key: "Step", value: "3"), Trailer(key: "Task", value: "a b")])
        #expect(try Trailer.parse("Just a subject\n") == [])
        #expect(throws: GitError.self) { try Trailer.message("s", trailers: [Trailer(key: "Bad key", value: "v")]) }
        #expect(throws: GitError.self) { try Trailer.message("s", trailers: [Trailer(key: "Key", value: "two\nlines")]) }
    }

    @Test("refs resolve to commits; missing refs are nil; updateRef moves branches and HEAD's branch")
    func references() throws {
        let folder = try TemporaryFolder()
        let repository = try Repository.create(at: folder("repo"))
        #expect(!repository.isBare)
        #expect(try repository.resolve(ref: "HEAD") == nil)
        try write("a\n", to: folder("content/a.txt"))
        let first = try repository.commit(directory: folder("content"), message: "first", author: alice, parents: [], updateRef: "HEAD")
        #expect(try repository.resolve(ref: "HEAD") == first)
        #expect(try repository.resolve(ref: "refs/heads/main") == first)
        try write("b\n", to: folder("content/b.txt"))
        let second = try repository.commit(directory: folder("content"), message: "second", author: alice, parents: [first], updateRef: nil)
        try repository.updateRef("refs/episodes/e1", to: second)
        #expect(try repository.resolve(ref: "refs/episodes/e1") == second)
        #expect(try repository.resolve(ref: "refs/episodes/e1~1") == first)
        try repository.updateRef("HEAD", to: second)
        #expect(try repository.resolve(ref: "refs/heads/main") == second)
        #expect(try repository.resolve(ref: "refs/heads/absent") == nil)
        #expect(try repository.fileContent(at: second, path: "b.txt") == Array("b\n".utf8))
        #expect(try repository.fileContent(at: first, path: "b.txt") == nil)
        let folderError = try #require(throws: GitError.self) {
            try write("c\n", to: folder("content/sub/c.txt"))
            let third = try repository.commit(directory: folder("content"), message: "third", author: alice, parents: [second], updateRef: nil)
            _ = try repository.fileContent(at: third, path: "sub")
        }
        #expect(folderError.message.contains("is a folder"))
    }

    @Test("opening a folder that is not a repository names it")
    func openError() throws {
        let folder = try TemporaryFolder()
        let error = try #require(throws: GitError.self) { try Repository.open(at: folder.path) }
        #expect(error.kind == .libgit2)
        #expect(error.function == "git_repository_open_ext")
        #expect(error.location == folder.path)
        #expect(error.isNotFound)
    }

    @Test("commit messages are cleaned like `git commit -m`; an empty one is refused")
    func messages() throws {
        let folder = try TemporaryFolder()
        let repository = try Repository.create(at: folder("repo.git"), bare: true)
        try write("a\n", to: folder("content/a.txt"))
        let id = try repository.commit(directory: folder("content"), message: "Subject  \n\n\n\nBody   \n\n", author: alice, parents: [], updateRef: nil)
        #expect(try repository.commitInfo(id).message == "Subject\n\nBody\n")
        #expect(throws: GitError.self) { try repository.commit(directory: folder("content"), message: " \n", author: alice, parents: [], updateRef: nil) }
    }
}
