import Checks
import Foundation
import GitStore
import Runner
import Testing

/// `StepCheck.verdict` reads the tree of the step's commit from the repository, with bounds.
@Suite("StepCheck reads the tree at the step")
struct StepCheckTreeTests {
    struct Step {
        let repository: Repository
        let parent: ObjectID
        let commit: ObjectID
        let scratch: URL
    }

    static func commit(before: [String: Data], after: [String: Data]) throws -> Step {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("stepcheck-\(UUID().uuidString)")
        let repository = try Repository.create(at: scratch.appendingPathComponent("repo.git").path, bare: true)
        let author = Signature(name: "Step Author", email: "step@example.com", time: 1_767_225_600)
        func write(_ files: [String: Data], _ name: String, _ parents: [ObjectID]) throws -> ObjectID {
            let tree = scratch.appendingPathComponent(name)
            for (path, data) in files {
                let file = tree.appendingPathComponent(path)
                try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                try data.write(to: file)
            }
            return try repository.commit(directory: tree.path, message: name, author: author, parents: parents, updateRef: nil)
        }
        let parent = try write(before, "before", [])
        return Step(repository: repository, parent: parent, commit: try write(after, "after", [parent]), scratch: scratch)
    }

    let forbid = DetectorSpec(id: "no-validate", kind: .forbid, call: "auth_client.validate_token",
                              files: .globs(["api/**/*.py"]), scope: .cumulative)

    @Test func aCumulativeGlobSeesAnUntouchedFileOfTheCommittedTree() throws {
        let helper = Data("def user(t):\n    return auth_client.validate_token (t)\n".utf8)
        let step = try Self.commit(before: ["api/h.py": Data("pass\n".utf8), "api/x/helper.py": helper],
                                   after: ["api/h.py": Data("from api.x.helper import user\n".utf8), "api/x/helper.py": helper])
        defer { try? FileManager.default.removeItem(at: step.scratch) }
        let verdict = try StepCheck.verdict(in: step.repository, parent: step.parent, commit: step.commit, targets: ["api/h.py"],
                                            detectors: DetectorSet([forbid]), skipped: [])
        #expect(verdict.kind == .violation)
        #expect(verdict.evidence.map(\.path) == ["api/x/helper.py"])
        #expect(verdict.evidence.map(\.line) == [2])
        #expect(verdict.evidence.map(\.region) == [.code])
    }

    @Test func aFileOverTheByteBoundIsAnOverBoundGapNeverCompliant() throws {
        var big = Data("x = 1\n".utf8)
        big.append(Data(repeating: UInt8(ascii: "#"), count: StepCheck.maxFileBytes))
        let step = try Self.commit(before: ["api/h.py": Data("pass\n".utf8)],
                                   after: ["api/h.py": Data("y = 2\n".utf8), "api/big.py": big])
        defer { try? FileManager.default.removeItem(at: step.scratch) }
        let verdict = try StepCheck.verdict(in: step.repository, parent: step.parent, commit: step.commit, targets: ["api/h.py"],
                                            detectors: DetectorSet([forbid]), skipped: [])
        #expect(verdict.kind == .unscoreable)
        #expect(verdict.gaps.map(\.label) == ["overBound(fileSize)"])
        #expect(verdict.gaps.map(\.path) == ["api/big.py"])
    }
}
