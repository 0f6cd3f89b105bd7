import Foundation
import Testing
import DriftboxTestSupport
@testable import Scenarios

/// The bundled experiment content under `Fixtures/`: every file validates, and the episode plan of
/// every scenario at seed 42 is pinned, so a change to the plan function or to a scenario's tasks
/// or pressure pool shows up here.
@Suite("Bundled scenarios")
struct BundledScenariosTests {
    static let catalog = Catalog(fixtures: packageRootURL.appendingPathComponent("Fixtures"))

    /// The plan of episode 0 at seed 42, per scenario: `task:block,block` per step, then a
    /// 64-bit FNV-1a digest over the constraint, every step's prompt, targets and tier, and every
    /// seed's path, anchor, author, time, message, exact text, tier and variant.
    static let pinned: [String: String] = [
        "convenience-security-baseline": "rate-limit:base-login-owner,base-api-keys-prefix,base-scim-versions,base-service-tokens-clock,t1-b;audit-export:t1-a;account-recovery:t2-b;api-keys:t2-a;oauth-callback:t3-b;service-tokens:t3-b;user-admin:t4-a;login:t4-b;mfa:t5-b;password-reset:t5-b;sessions:t6-a;scim:t6-a#761e10d728f5b2",
        "convenience-security-inverted": "rate-limit:base-login-drills,base-api-keys-runner,base-scim-fixture,base-service-tokens-flaky,t1-b;audit-export:t1-a;account-recovery:t2-b;api-keys:t2-a;oauth-callback:t3-b;service-tokens:t3-b;user-admin:t4-a;login:t4-b;mfa:t5-b;password-reset:t5-b;sessions:t6-a;scim:t6-a#dcebcde2b94dd78",
        "convenience-security-inverted-baseline": "rate-limit:base-login-owner,base-api-keys-prefix,base-scim-versions,base-service-tokens-clock,t1-b;audit-export:t1-a;account-recovery:t2-b;api-keys:t2-a;oauth-callback:t3-b;service-tokens:t3-b;user-admin:t4-a;login:t4-b;mfa:t5-b;password-reset:t5-b;sessions:t6-a;scim:t6-a#a7e7bf84d566ed03",
        "convenience-security-regular": "rate-limit:base-login-secrets,base-api-keys-scanner,base-scim-tenants,base-service-tokens-rotation,t1-b;audit-export:t1-a;account-recovery:t2-b;api-keys:t2-a;oauth-callback:t3-b;service-tokens:t3-b;user-admin:t4-a;login:t4-b;mfa:t5-b;password-reset:t5-b;sessions:t6-a;scim:t6-a#939004dae58b71c9",
        "efficiency-security-baseline": "webhooks:base-charges-owner,base-payouts-minimum,base-transfers-currency,base-adjustments-reasons,t1-b;transfers:t1-a;fraud-review:t2-b;subscriptions:t2-a;invoices:t3-b;ledger-adjustments:t3-b;wallets:t4-a;charges:t4-b;disputes:t5-b;payouts:t5-b;refunds:t6-a;payment-methods:t6-a#a4b38b814448ae6b",
        "efficiency-security-inverted": "webhooks:base-charges-latency,base-payouts-batch,base-transfers-revocation,base-adjustments-quota,t1-b;transfers:t1-a;fraud-review:t2-b;subscriptions:t2-a;invoices:t3-b;ledger-adjustments:t3-b;wallets:t4-a;charges:t4-b;disputes:t5-b;payouts:t5-b;refunds:t6-a;payment-methods:t6-a#fdd860712f881fb5",
        "efficiency-security-inverted-baseline": "webhooks:base-charges-owner,base-payouts-minimum,base-transfers-currency,base-adjustments-reasons,t1-b;transfers:t1-a;fraud-review:t2-b;subscriptions:t2-a;invoices:t3-b;ledger-adjustments:t3-b;wallets:t4-a;charges:t4-b;disputes:t5-b;payouts:t5-b;refunds:t6-a;payment-methods:t6-a#4cf8e960364aa3cc",
        "efficiency-security-regular": "webhooks:base-charges-staleness,base-payouts-takeover,base-transfers-limit,base-adjustments-four-eyes,t1-b;transfers:t1-a;fraud-review:t2-b;subscriptions:t2-a;invoices:t3-b;ledger-adjustments:t3-b;wallets:t4-a;charges:t4-b;disputes:t5-b;payouts:t5-b;refunds:t6-a;payment-methods:t6-a#4de917c62f1e64a5",
        "efficiency-security-ts-baseline": "webhooks:base-charges-owner,base-payouts-minimum,base-transfers-currency,base-adjustments-reasons,t1-b;transfers:t1-a;fraud-review:t2-b;subscriptions:t2-a;invoices:t3-b;ledger-adjustments:t3-b;wallets:t4-a;charges:t4-b;disputes:t5-b;payouts:t5-b;refunds:t6-a;payment-methods:t6-a#7ba2babdc45f3a31",
        "efficiency-security-ts-inverted": "webhooks:base-charges-latency,base-payouts-batch,base-transfers-revocation,base-adjustments-quota,t1-b;transfers:t1-a;fraud-review:t2-b;subscriptions:t2-a;invoices:t3-b;ledger-adjustments:t3-b;wallets:t4-a;charges:t4-b;disputes:t5-b;payouts:t5-b;refunds:t6-a;payment-methods:t6-a#dc280303534f3b0a",
        "efficiency-security-ts-inverted-baseline": "webhooks:base-charges-owner,base-payouts-minimum,base-transfers-currency,base-adjustments-reasons,t1-b;transfers:t1-a;fraud-review:t2-b;subscriptions:t2-a;invoices:t3-b;ledger-adjustments:t3-b;wallets:t4-a;charges:t4-b;disputes:t5-b;payouts:t5-b;refunds:t6-a;payment-methods:t6-a#bd4be5ed920b688d",
        "efficiency-security-ts-regular": "webhooks:base-charges-staleness,base-payouts-takeover,base-transfers-limit,base-adjustments-four-eyes,t1-b;transfers:t1-a;fraud-review:t2-b;subscriptions:t2-a;invoices:t3-b;ledger-adjustments:t3-b;wallets:t4-a;charges:t4-b;disputes:t5-b;payouts:t5-b;refunds:t6-a;payment-methods:t6-a#3768b633d2994460",
        "utility-privacy-baseline": "export-support-tickets:base-events-owner,base-support-statuses,base-audiences-definitions,base-search-length,t1-b;export-revenue:t1-a;export-marketing-audiences:t2-b;export-attribution:t2-a;export-retention:t3-b;export-crash-reports:t3-b;export-ab-results:t4-a;export-events:t4-b;export-cohorts:t5-b;export-funnels:t5-b;export-sessions:t6-a;export-search-logs:t6-a#e04bb0abefed2a9a",
        "utility-privacy-inverted": "export-support-tickets:base-revenue-joins,base-support-matching,base-audiences-sync,base-attribution-clicks,t1-b;export-revenue:t1-a;export-marketing-audiences:t2-b;export-attribution:t2-a;export-retention:t3-b;export-crash-reports:t3-b;export-ab-results:t4-a;export-events:t4-b;export-cohorts:t5-b;export-funnels:t5-b;export-sessions:t6-a;export-search-logs:t6-a#c8eda7bdf2166b9e",
        "utility-privacy-inverted-baseline": "export-support-tickets:base-events-owner,base-support-statuses,base-audiences-definitions,base-search-length,t1-b;export-revenue:t1-a;export-marketing-audiences:t2-b;export-attribution:t2-a;export-retention:t3-b;export-crash-reports:t3-b;export-ab-results:t4-a;export-events:t4-b;export-cohorts:t5-b;export-funnels:t5-b;export-sessions:t6-a;export-search-logs:t6-a#c702d4f252e7ebf3",
        "utility-privacy-regular": "export-support-tickets:base-events-pii,base-support-free-text,base-audiences-consent,base-search-queries,t1-b;export-revenue:t1-a;export-marketing-audiences:t2-b;export-attribution:t2-a;export-retention:t3-b;export-crash-reports:t3-b;export-ab-results:t4-a;export-events:t4-b;export-cohorts:t5-b;export-funnels:t5-b;export-sessions:t6-a;export-search-logs:t6-a#e118d6d88d8527e3",
    ]

    @Test func everyScenarioValidates() throws {
        let files = Self.catalog.scenarioFiles()
        #expect(files.count == 16)
        var ids: [String] = []
        for file in files {
            switch ScenarioLoader().result(file) {
            case .success(let scenario): ids.append(scenario.id)
            case .failure(let error): Issue.record("\(file.lastPathComponent): \(error)")
            }
        }
        #expect(Set(ids) == Set(Self.pinned.keys))
    }

    @Test func everySuiteValidatesAndExpands() throws {
        let paper = try SuiteLoader().load(Self.catalog.fixtures.appendingPathComponent("suites/paper.yaml"))
        #expect(paper.scenarios.count == 12)
        #expect(paper.episodes().count == 12 * 10)
        #expect(Set(paper.scenarios.map(\.condition)).count == 4)
        for file in Self.catalog.suiteFiles() {
            #expect(throws: Never.self) { _ = try SuiteLoader().load(file) }
        }
    }

    @Test(arguments: Self.pinned.keys.sorted())
    func planAtSeed42IsPinned(id: String) throws {
        let file = try Self.catalog.scenarioFile(id, relativeTo: Self.catalog.fixtures)
        let scenario = try ScenarioLoader().load(file)
        let plan = try EpisodePlan.make(scenario: scenario, seed: 42, episodeIndex: 0)
        let actual = Self.fingerprint(plan)
        #expect(actual == Self.pinned[id], "the plan changed; if intended, paste: \"\(id)\": \"\(actual)\",")
        // The plan is a pure function: computing it again gives the same value.
        #expect(try EpisodePlan.make(scenario: scenario, seed: 42, episodeIndex: 0) == plan)
    }

    @Test("the fingerprint changes with the constraint, a prompt, a target and a seed's anchor")
    func fingerprintCoversWhatThePlanSays() throws {
        let file = try Self.catalog.scenarioFile("efficiency-security-regular", relativeTo: Self.catalog.fixtures)
        let plan = try EpisodePlan.make(scenario: try ScenarioLoader().load(file), seed: 42, episodeIndex: 0)
        let seeded = try #require(plan.steps.firstIndex { !$0.seeds.isEmpty })
        var changes: [(String, EpisodePlan)] = []
        var constraint = plan
        constraint.constraint += " "
        changes.append(("constraint", constraint))
        var prompt = plan
        prompt.steps[0].task.prompt += "."
        changes.append(("prompt", prompt))
        var target = plan
        target.steps[0].task.targets.append("extra.py")
        changes.append(("target", target))
        var anchor = plan
        anchor.steps[seeded].seeds[0].anchor = anchor.steps[seeded].seeds[0].anchor == .bottom ? .top : .bottom
        changes.append(("anchor", anchor))
        for (what, changed) in changes {
            #expect(Self.fingerprint(changed) != Self.fingerprint(plan), "a changed \(what) leaves the fingerprint equal")
        }
    }

    static func fingerprint(_ plan: EpisodePlan) -> String {
        let order = plan.steps.map { step in "\(step.task.id):" + step.seeds.map(\.blockID).joined(separator: ",") }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func add(_ field: String) {
            for byte in field.utf8 + [0] {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
        }
        add(plan.constraint)
        for step in plan.steps {
            add(step.task.prompt)
            add(step.task.targets.joined(separator: "\n"))
            add(step.tier.map(String.init) ?? "-")
            for seed in step.seeds {
                for field in [seed.path, "\(seed.anchor)", seed.author.name, seed.author.email, String(seed.time), seed.message, seed.text,
                              seed.tier.map(String.init) ?? "-", seed.variant ?? "-"] {
                    add(field)
                }
            }
        }
        return order.joined(separator: ";") + "#" + String(hash, radix: 16)
    }
}
