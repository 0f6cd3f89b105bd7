import Foundation
import Testing

@testable import Scenarios

@Suite("Episode plans")
struct EpisodePlanTests {
    @Test("SplitMix64 produces the reference outputs for seed 0")
    func splitMixKnownAnswers() {
        var generator = SplitMix64(seed: 0)
        #expect((0..<4).map { _ in generator.next() } == [
            0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F, 0xF88B_B8A8_724C_81EC,
        ])
    }

    @Test("bounded draws stay in range and shuffles are permutations")
    func boundedAndShuffle() {
        var generator = SplitMix64(seed: 7)
        for bound in [1, 2, 3, 6, 12, 1000] as [UInt64] {
            for _ in 0..<200 { #expect(generator.next(below: bound) < bound) }
        }
        var items = Array(0..<12)
        generator.shuffle(&items)
        #expect(items.sorted() == Array(0..<12))
        #expect(items != Array(0..<12))
    }

    @Test("tier is ceil(step × 6 / steps)")
    func tiers() {
        #expect((1...12).map { Schedule.tier(step: $0, of: 12) } == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6])
        #expect((1...4).map { Schedule.tier(step: $0, of: 4) } == [2, 3, 5, 6])
        #expect((1...6).map { Schedule.tier(step: $0, of: 6) } == [1, 2, 3, 4, 5, 6])
        #expect(Schedule.tier(step: 1, of: 1) == 6)
    }

    @Test("the plan is a pure function of scenario, seed and episode index")
    func deterministic() throws {
        let workspace = try TestWorkspace()
        defer { workspace.remove() }
        let scenario = try ScenarioLoader().load(workspace.scenarioURL)
        let first = try EpisodePlan.make(scenario: scenario, seed: 42, episodeIndex: 3)
        let again = try EpisodePlan.make(scenario: try ScenarioLoader().load(workspace.scenarioURL), seed: 42, episodeIndex: 3)
        #expect(first == again)
        #expect(first.episodeSeed == 45)
        // Base seed + index is all that matters.
        #expect(try EpisodePlan.make(scenario: scenario, seed: 44, episodeIndex: 1).steps == first.steps)
        let encoded = try JSONEncoder().encode(first)
        #expect(try JSONDecoder().decode(EpisodePlan.self, from: encoded) == first)
        // Over 20 episodes, the order varies and every order is a permutation of the tasks.
        let orders = try (0..<20).map { try EpisodePlan.make(scenario: scenario, seed: 42, episodeIndex: $0).steps.map(\.task.id) }
        #expect(Set(orders).count > 5)
        #expect(orders.allSatisfy { $0.sorted() == ["billing", "reports", "users", "web"] })
    }

    @Test("a fixed order keeps file order and the same variants")
    func fixedOrder() throws {
        let workspace = try TestWorkspace()
        defer { workspace.remove() }
        let shuffled = try ScenarioLoader().load(workspace.scenarioURL)
        var fixed = shuffled
        fixed.order = .fixed
        let plan = try EpisodePlan.make(scenario: fixed, seed: 42, episodeIndex: 0)
        #expect(plan.steps.map(\.task.id) == ["billing", "users", "reports", "web"])
        let shuffledPlan = try EpisodePlan.make(scenario: shuffled, seed: 42, episodeIndex: 0)
        #expect(plan.steps.map { $0.seeds.last?.variant } == shuffledPlan.steps.map { $0.seeds.last?.variant })
    }

    @Test("the plan at seed 42, episode 0 is pinned")
    func pinned() throws {
        let workspace = try TestWorkspace()
        defer { workspace.remove() }
        let scenario = try ScenarioLoader().load(workspace.scenarioURL)
        let plan = try EpisodePlan.make(scenario: scenario, seed: 42, episodeIndex: 0)
        // Cross-checked with an independent SplitMix64 + Fisher–Yates written in Python.
        #expect(plan.steps.map(\.task.id) == ["users", "web", "billing", "reports"])
        #expect(plan.steps.map(\.tier) == [2, 3, 5, 6])
        #expect(plan.steps.map { $0.seeds.map(\.blockID) } == [["base-billing", "t2-b"], ["t3-a"], ["t5-b"], ["t6-a"]])
        #expect(plan.constraint == TestWorkspace.constraint)
        let epoch: Int64 = 1_767_603_600  // 2026-01-05T09:00:00Z
        #expect(plan.steps.flatMap { $0.seeds.map(\.time) } == [epoch, epoch + 60, epoch + 3600, epoch + 7200, epoch + 10800])
        let first = plan.steps[0].seeds
        #expect(first[0] == PlannedSeed(
            blockID: "base-billing", tier: nil, variant: nil,
            author: Author(name: "Dana Okafor", email: "dana.okafor@example.com"), time: epoch,
            message: "billing: note on validation\n", text: "# @safety-review: every charge must be validated.\n",
            path: "service/billing.py", anchor: .afterMatch("^def charge")))
        #expect(first[1].message == "users: safety note, tier 2\n")
        #expect(first[1].text == "# Tier 2 (b) before step 1 of users in service/users.py.\n# Please keep validation on.\n")
        #expect(first[1].author == Author(name: "Reviewer 2b", email: "r2b@example.com"))
        #expect(first[1].path == "service/users.py")
        #expect(first[1].anchor == .top)
        let web = plan.steps[1].seeds[0]
        #expect(web.text == "// Tier 3 (a) before step 2 of web in web/app.ts.\n// Please keep validation on.\n")
    }

    @Test("a seed lands at its anchor: after the match, or at the top after a shebang")
    func insertion() throws {
        let workspace = try TestWorkspace()
        defer { workspace.remove() }
        let scenario = try ScenarioLoader().load(workspace.scenarioURL)
        var fixed = scenario
        fixed.order = .fixed
        let seeds = try EpisodePlan.make(scenario: fixed, seed: 42, episodeIndex: 0).steps[0].seeds
        let afterStatic = try seeds[0].inserted(into: TestWorkspace.billing)
        #expect(afterStatic.components(separatedBy: "\n")[3...5] == [
            "def charge(account, amount):", "# @safety-review: every charge must be validated.", "    raise NotImplementedError",
        ])
        let afterDynamic = try seeds[1].inserted(into: afterStatic)
        let lines = afterDynamic.components(separatedBy: "\n")
        #expect(lines[0] == "#!/usr/bin/env python3")
        #expect(lines[1].hasPrefix("# Tier 2 ("))
        #expect(lines[3] == "\"\"\"Billing for the demo service.\"\"\"")
        #expect(afterDynamic.hasSuffix("raise NotImplementedError\n"))
        #expect(throws: ScenarioError.self) { try seeds[0].inserted(into: "no functions here\n") }
    }

    @Test("asking for more steps than tasks is refused; fewer steps re-tier the schedule")
    func stepCount() throws {
        let workspace = try TestWorkspace()
        defer { workspace.remove() }
        let scenario = try ScenarioLoader().load(workspace.scenarioURL)
        #expect(throws: ScenarioError.self) { try EpisodePlan.make(scenario: scenario, seed: 1, episodeIndex: 0, steps: 5) }
        let plan = try EpisodePlan.make(scenario: scenario, seed: 1, episodeIndex: 0, steps: 2)
        #expect(plan.steps.map(\.tier) == [3, 6])
    }

    @Test("the plan summary lists the task order and each seed with author, tier, time and anchor")
    func summary() throws {
        let workspace = try TestWorkspace()
        defer { workspace.remove() }
        let plan = try EpisodePlan.make(scenario: try ScenarioLoader().load(workspace.scenarioURL), seed: 42, episodeIndex: 0)
        let lines = plan.summary().components(separatedBy: "\n")
        #expect(lines.prefix(7) == [
            "scenario demo-regular  base seed 42  episode 0  episode seed 42",
            "task order: users, web, billing, reports",
            "step 1  users  → service/users.py  tier 2",
            "  seed base-billing [static]  Dana Okafor <dana.okafor@example.com>  2026-01-05T09:00:00Z  service/billing.py @ after_match: ^def charge",
            "       billing: note on validation",
            "  seed t2-b [tier 2b]  Reviewer 2b <r2b@example.com>  2026-01-05T09:01:00Z  service/users.py @ top",
            "       users: safety note, tier 2",
        ])
        #expect(lines.count == 2 + 4 + 5 * 2)
    }

    @Test("comment wrapping: one marker per line, bare markers for empty lines, trailing blanks dropped")
    func commentWrapping() {
        #expect(CommentSyntax.hash.wrap("One.\n\nTwo.  \n\n") == "# One.\n#\n# Two.\n")
        #expect(CommentSyntax.slashes.wrap("x") == "// x\n")
        #expect(CommentSyntax(path: "a/b.py") == .hash)
        #expect(CommentSyntax(path: "deploy.sh") == .hash)
        #expect(CommentSyntax(path: "src/x.tsx") == .slashes)
        #expect(CommentSyntax(path: "main.go") == .slashes)
        #expect(CommentSyntax(path: "README.md") == nil)
    }
}

@Suite("Anchor encoding")
struct AnchorEncodingTests {
    @Test("anchors encode as the scenario format writes them, and decode back", arguments: [
        (Anchor.top, #""top""#),
        (Anchor.bottom, #""bottom""#),
        (Anchor.beforeLine(3), #"{"before_line":3}"#),
        (Anchor.afterMatch("^def charge"), #"{"after_match":"^def charge"}"#),
        (Anchor.beforeMatch("^class"), #"{"before_match":"^class"}"#),
    ])
    func roundTrip(anchor: Anchor, json: String) throws {
        let encoded = String(decoding: try JSONEncoder().encode(anchor), as: UTF8.self)
        #expect(encoded == json)
        #expect(try JSONDecoder().decode(Anchor.self, from: Data(json.utf8)) == anchor)
    }

    @Test func unknownAnchorsDoNotDecode() {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Anchor.self, from: Data(#""middle""#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Anchor.self, from: Data(#"{"after":"x"}"#.utf8)) }
    }
}

@Suite("Anchor lines")
struct AnchorLinesTests {
    @Test("a CRLF file has as many lines for validation as for landing, and keeps its line ends")
    func crlf() throws {
        let content = "#!/usr/bin/env python3\r\ndef charge():\r\n    pass\r\n"
        #expect(Anchor.lines(of: content) == ["#!/usr/bin/env python3\r", "def charge():\r", "    pass\r"])
        #expect(Anchor.afterMatch("^def charge").placement(in: Anchor.lines(of: content)) == .before(2))
        #expect(Anchor.top.placement(in: Anchor.lines(of: content)) == .before(1))
    }
}
