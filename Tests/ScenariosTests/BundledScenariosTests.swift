import Foundation
import Testing
@testable import Scenarios

/// The bundled experiment content under `Fixtures/`: every file validates, and the episode plan of
/// every scenario at seed 42 is pinned, so a change to the plan function or to a scenario's tasks
/// or pressure pool shows up here.
@Suite("Bundled scenarios")
struct BundledScenariosTests {
    static let catalog = Catalog(fixtures: URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures"))

    /// The plan of episode 0 at seed 42, per scenario: `task:block,block` per step, then a
    /// 64-bit FNV-1a digest over every seed's path, author, time, message and exact text.
    static let pinned: [String: String] = [
        "convenience-security-baseline": "rate-limit:base-login-owner,base-api-keys-prefix,base-scim-versions,base-service-tokens-clock,t1-b;audit-export:t1-a;account-recovery:t2-b;api-keys:t2-a;oauth-callback:t3-b;service-tokens:t3-b;user-admin:t4-a;login:t4-b;mfa:t5-b;password-reset:t5-b;sessions:t6-a;scim:t6-a#3f2230354824966a",
        "convenience-security-inverted": "rate-limit:base-login-drills,base-api-keys-runner,base-scim-fixture,base-service-tokens-flaky,t1-b;audit-export:t1-a;account-recovery:t2-b;api-keys:t2-a;oauth-callback:t3-b;service-tokens:t3-b;user-admin:t4-a;login:t4-b;mfa:t5-b;password-reset:t5-b;sessions:t6-a;scim:t6-a#4ad509b43e267d87",
        "convenience-security-inverted-baseline": "rate-limit:base-login-owner,base-api-keys-prefix,base-scim-versions,base-service-tokens-clock,t1-b;audit-export:t1-a;account-recovery:t2-b;api-keys:t2-a;oauth-callback:t3-b;service-tokens:t3-b;user-admin:t4-a;login:t4-b;mfa:t5-b;password-reset:t5-b;sessions:t6-a;scim:t6-a#3f2230354824966a",
        "convenience-security-regular": "rate-limit:base-login-secrets,base-api-keys-scanner,base-scim-tenants,base-service-tokens-rotation,t1-b;audit-export:t1-a;account-recovery:t2-b;api-keys:t2-a;oauth-callback:t3-b;service-tokens:t3-b;user-admin:t4-a;login:t4-b;mfa:t5-b;password-reset:t5-b;sessions:t6-a;scim:t6-a#71189f3a6cb70f6b",
        "efficiency-security-baseline": "webhooks:base-charges-owner,base-payouts-minimum,base-transfers-currency,base-adjustments-reasons,t1-b;transfers:t1-a;fraud-review:t2-b;subscriptions:t2-a;invoices:t3-b;ledger-adjustments:t3-b;wallets:t4-a;charges:t4-b;disputes:t5-b;payouts:t5-b;refunds:t6-a;payment-methods:t6-a#a204f85feb03feb8",
        "efficiency-security-inverted": "webhooks:base-charges-latency,base-payouts-batch,base-transfers-revocation,base-adjustments-quota,t1-b;transfers:t1-a;fraud-review:t2-b;subscriptions:t2-a;invoices:t3-b;ledger-adjustments:t3-b;wallets:t4-a;charges:t4-b;disputes:t5-b;payouts:t5-b;refunds:t6-a;payment-methods:t6-a#aff30e7da3bd1931",
        "efficiency-security-inverted-baseline": "webhooks:base-charges-owner,base-payouts-minimum,base-transfers-currency,base-adjustments-reasons,t1-b;transfers:t1-a;fraud-review:t2-b;subscriptions:t2-a;invoices:t3-b;ledger-adjustments:t3-b;wallets:t4-a;charges:t4-b;disputes:t5-b;payouts:t5-b;refunds:t6-a;payment-methods:t6-a#a204f85feb03feb8",
        "efficiency-security-regular": "webhooks:base-charges-staleness,base-payouts-takeover,base-transfers-limit,base-adjustments-four-eyes,t1-b;transfers:t1-a;fraud-review:t2-b;subscriptions:t2-a;invoices:t3-b;ledger-adjustments:t3-b;wallets:t4-a;charges:t4-b;disputes:t5-b;payouts:t5-b;refunds:t6-a;payment-methods:t6-a#4e23a3dc10d9bfd2",
        "efficiency-security-ts-baseline": "webhooks:base-charges-owner,base-payouts-minimum,base-transfers-currency,base-adjustments-reasons,t1-b;transfers:t1-a;fraud-review:t2-b;subscriptions:t2-a;invoices:t3-b;ledger-adjustments:t3-b;wallets:t4-a;charges:t4-b;disputes:t5-b;payouts:t5-b;refunds:t6-a;payment-methods:t6-a#68d33e9f2138705c",
        "efficiency-security-ts-inverted": "webhooks:base-charges-latency,base-payouts-batch,base-transfers-revocation,base-adjustments-quota,t1-b;transfers:t1-a;fraud-review:t2-b;subscriptions:t2-a;invoices:t3-b;ledger-adjustments:t3-b;wallets:t4-a;charges:t4-b;disputes:t5-b;payouts:t5-b;refunds:t6-a;payment-methods:t6-a#32de546f7191b7cf",
        "efficiency-security-ts-inverted-baseline": "webhooks:base-charges-owner,base-payouts-minimum,base-transfers-currency,base-adjustments-reasons,t1-b;transfers:t1-a;fraud-review:t2-b;subscriptions:t2-a;invoices:t3-b;ledger-adjustments:t3-b;wallets:t4-a;charges:t4-b;disputes:t5-b;payouts:t5-b;refunds:t6-a;payment-methods:t6-a#68d33e9f2138705c",
        "efficiency-security-ts-regular": "webhooks:base-charges-staleness,base-payouts-takeover,base-transfers-limit,base-adjustments-four-eyes,t1-b;transfers:t1-a;fraud-review:t2-b;subscriptions:t2-a;invoices:t3-b;ledger-adjustments:t3-b;wallets:t4-a;charges:t4-b;disputes:t5-b;payouts:t5-b;refunds:t6-a;payment-methods:t6-a#5d5d6c403da9b445",
        "utility-privacy-baseline": "export-support-tickets:base-events-owner,base-support-statuses,base-audiences-definitions,base-search-length,t1-b;export-revenue:t1-a;export-marketing-audiences:t2-b;export-attribution:t2-a;export-retention:t3-b;export-crash-reports:t3-b;export-ab-results:t4-a;export-events:t4-b;export-cohorts:t5-b;export-funnels:t5-b;export-sessions:t6-a;export-search-logs:t6-a#85d9f137685f835",
        "utility-privacy-inverted": "export-support-tickets:base-revenue-joins,base-support-matching,base-audiences-sync,base-attribution-clicks,t1-b;export-revenue:t1-a;export-marketing-audiences:t2-b;export-attribution:t2-a;export-retention:t3-b;export-crash-reports:t3-b;export-ab-results:t4-a;export-events:t4-b;export-cohorts:t5-b;export-funnels:t5-b;export-sessions:t6-a;export-search-logs:t6-a#2f25b5104cd63d51",
        "utility-privacy-inverted-baseline": "export-support-tickets:base-events-owner,base-support-statuses,base-audiences-definitions,base-search-length,t1-b;export-revenue:t1-a;export-marketing-audiences:t2-b;export-attribution:t2-a;export-retention:t3-b;export-crash-reports:t3-b;export-ab-results:t4-a;export-events:t4-b;export-cohorts:t5-b;export-funnels:t5-b;export-sessions:t6-a;export-search-logs:t6-a#85d9f137685f835",
        "utility-privacy-regular": "export-support-tickets:base-events-pii,base-support-free-text,base-audiences-consent,base-search-queries,t1-b;export-revenue:t1-a;export-marketing-audiences:t2-b;export-attribution:t2-a;export-retention:t3-b;export-crash-reports:t3-b;export-ab-results:t4-a;export-events:t4-b;export-cohorts:t5-b;export-funnels:t5-b;export-sessions:t6-a;export-search-logs:t6-a#570b977f2139c7ca",
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
        #expect(Self.fingerprint(plan) == Self.pinned[id])
        // The plan is a pure function: computing it again gives the same value.
        #expect(try EpisodePlan.make(scenario: scenario, seed: 42, episodeIndex: 0) == plan)
    }

    static func fingerprint(_ plan: EpisodePlan) -> String {
        let order = plan.steps.map { step in "\(step.task.id):" + step.seeds.map(\.blockID).joined(separator: ",") }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for step in plan.steps {
            for seed in step.seeds {
                for field in [seed.path, seed.author.name, seed.author.email, String(seed.time), seed.message, seed.text] {
                    for byte in field.utf8 + [0] {
                        hash ^= UInt64(byte)
                        hash = hash &* 0x100_0000_01b3
                    }
                }
            }
        }
        return order.joined(separator: ";") + "#" + String(hash, radix: 16)
    }
}
