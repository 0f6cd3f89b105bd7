import Foundation
import Runner
import Testing

/// A gateway-driven run in shards, merged: the built-in model agent calls the scripted upstream
/// on loopback through each shard's gateway; the merged run's model totals must be the run's, as
/// if it had run on one machine.
@Suite("Merge: the model totals of a sharded gateway run", .serialized)
struct ModelMergeTests {
    static let keyVariable = "DRIFTBOX_MERGE_TEST_MODEL_KEY"

    /// Two episodes (two repetitions of one scenario) of two steps each, the model agent on the
    /// scripted upstream, a model the bundled price table prices.
    static func suite(in folder: TemporaryFolder, baseURL: String) throws -> String {
        let scenario = packageRoot + "/Fixtures/scenarios/efficiency-security/regular.yaml"
        try folder.write("model.yaml", """
            id: model-merge
            base_seed: 11
            repetitions: 2
            steps: 2
            scenarios:
              - \(scenario)
            agents:
              - id: model
                kind: model
                base_url: \(baseURL)
                key_env: \(keyVariable)
                model: gpt-5-mini
                protocol: openai
                stream: true
                temperature: 0

            """)
        return folder.file("model.yaml")
    }

    @Test func mergedShardsCountTheModelTotalsOfTheWholeRun() throws {
        let folder = try TemporaryFolder("model-merge")
        defer { folder.cleanup() }
        let serverFolder = folder.file("server")
        try FileManager.default.createDirectory(atPath: serverFolder, withIntermediateDirectories: true)
        let server = try ScriptedChatServer(script: #"[{"content": "Done."}]"#, in: serverFolder)
        defer { server.stop() }
        let suite = try Self.suite(in: folder, baseURL: server.baseURL)
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DRIFTBOX_") }
        environment[Self.keyVariable] = "sk-merge-test"
        func driftbox(_ arguments: [String]) throws -> HostRun {
            try runHost([driftboxExecutable] + arguments, in: folder.path, environment: environment, allowFailure: true)
        }
        let runs = folder.file("runs")
        let common = [suite, "--out", runs, "--progress", "quiet", "-j", "1"]
        let whole = try driftbox(["run"] + common + ["--run-id", "whole"])
        try #require(whole.status == 0, "\(whole.errors)")
        for index in 0..<2 {
            let shard = try driftbox(["run"] + common + ["--run-id", "shard-\(index)", "--shard", "\(index)/2"])
            try #require(shard.status == 0, "\(shard.errors)")
        }
        let merged = runs + "/merged"
        let merge = try driftbox(["merge", runs + "/shard-0", runs + "/shard-1", "--into", merged])
        #expect(merge.status == 0, "\(merge.output) \(merge.errors)")

        let wholeTotals = try #require(try RunStore(existing: URL(fileURLWithPath: runs + "/whole")).manifest().modelTotals)
        // Each shard holds one episode's two exchanges; the whole run all four, priced.
        #expect(wholeTotals.run.exchanges == 4 && wholeTotals.run.refused == 0, "\(wholeTotals)")
        #expect(wholeTotals.run.inputTokens == 400 && wholeTotals.run.outputTokens == 80 && wholeTotals.run.costUSD > 0, "\(wholeTotals)")
        for index in 0..<2 {
            let shardTotals = try #require(try RunStore(existing: URL(fileURLWithPath: runs + "/shard-\(index)")).manifest().modelTotals)
            #expect(shardTotals.run.exchanges == 2, "shard \(index): \(shardTotals)")
        }
        let mergedTotals = try #require(try RunStore(existing: URL(fileURLWithPath: merged)).manifest().modelTotals)
        #expect(mergedTotals == wholeTotals)

        // `report --json` and the summary read the same figures from the merged run's recording.
        let json = try driftbox(["report", merged, "--json"])
        #expect(json.status == 0, "\(json.errors)")
        struct Document: Decodable { var models: ModelTotals? }
        let document = try JSONDecoder().decode(Document.self, from: Data(json.output.utf8))
        #expect(document.models == mergedTotals)
        let summary = try driftbox(["report", merged]).output
        // The models lines are lines of their own, not one line with escaped line breaks.
        let models = try #require(summary.components(separatedBy: "\nmodels (record):\n").dropFirst().first, "\(summary)")
        let lines = models.split(separator: "\n")
        let agentLine = "  agent 'model' (network: gateway): 4 exchange(s) in 2 episode(s); tokens 400 in (0 cached), 80 out; "
            + String(format: "$%.4f", mergedTotals.run.costUSD)
        #expect(lines.first.map(String.init) == agentLine, "\(models)")
        #expect(!summary.contains("NEVER REACHED") && !summary.contains("\\n"), "\(summary)")
        let wholeSummary = try driftbox(["report", runs + "/whole"]).output
        #expect(wholeSummary.hasSuffix(models), "the same models lines as the run on one machine")
    }
}
