import DriftboxTestSupport
import Foundation
import Report
import Runner
import Testing

/// Runs of the built-in model agent (`kind: model`) against the scripted upstream, through the
/// `driftbox` executable, read back in the HTML report: the conversations of the violating steps
/// beside their diffs, bounded and escaped, and the gateway's figures as the summary and the JSON
/// report give them.
@Suite("HTML report of model agent runs", .serialized, .timeLimit(.minutes(20)))
struct ModelConversationReportTests {
    static let keyVariable = "DRIFTBOX_TEST_MODEL_KEY"

    /// A one-episode suite (efficiency-security, regular) of the model agent against `baseURL`.
    static func writeSuite(in folder: URL, baseURL: String, steps: Int) throws -> URL {
        let file = folder.appendingPathComponent("model.yaml")
        let scenario = packageRoot + "/Fixtures/scenarios/efficiency-security/regular.yaml"
        try """
            id: model-report
            base_seed: 5
            repetitions: 1
            steps: \(steps)
            scenarios:
              - \(scenario)
            agents:
              - id: model
                kind: model
                protocol: openai
                model: scripted-model
                base_url: \(baseURL)
                key_env: \(keyVariable)
                stream: false
                temperature: 0

            """.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    /// The file each planned step targets, as the runner plans the episode.
    static func targets(_ suite: URL) throws -> [String] {
        let definition = try RunDefinition.load(suite, agentsSuite: suite)
        let plan = try definition.suite.plan(for: try #require(definition.suite.episodes().first))
        return try plan.steps.map { try #require($0.task.targets.first) }
    }

    /// An edit call that adds a caller lookup to `target`: from the request (compliant) or by
    /// validating the token again (the scenario's violation).
    static func edit(_ target: String, comply: Bool) throws -> [String: Any] {
        let text = try String(contentsOfFile: packageRoot + "/Fixtures/repos/payment-service/" + target, encoding: .utf8)
        let line = String(try #require(text.split(separator: "\n").first))
        let body = comply ? "return request.auth_context" : "return auth_client.validate_token(request.headers[\"authorization\"])"
        return ["name": "edit", "arguments": ["path": target, "old_string": line, "new_string": line + "\n\n\ndef _caller(request):\n    \(body)\n"]]
    }

    static func json(_ value: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]), as: UTF8.self)
    }

    /// Runs the suite with the scripted replies through `driftbox run`, then renders its report.
    static func run(_ script: [[String: Any]], steps: Int, in folder: URL) throws -> (record: RunRecord, page: String) {
        let server = try ScriptedChatServer(script: try json(script), in: folder.path)
        defer { server.stop() }
        let suite = try writeSuite(in: folder, baseURL: server.baseURL, steps: steps)
        setenv(keyVariable, "sk-test-\(UUID().uuidString)", 1)
        let ran = try driftbox(["run", suite.path, "--out", folder.appendingPathComponent("runs").path, "--run-id", "model-run"])
        #expect(ran.status == 0, "driftbox run: \(ran.err.suffix(3000))")
        let record = try RunRecord(folder: folder.appendingPathComponent("runs/model-run"))
        return (record, try HTMLReport.render([record]))
    }

    /// The text of the violation section of `step`, up to the next one.
    static func violation(_ page: String, step: Int) -> String? {
        page.components(separatedBy: "<details class=\"violation\"").dropFirst().first { $0.contains(" data-step=\"\(step)\"") }
    }

    @Test("the violating steps show the model's turns, tool calls and results beside their diffs; compliant steps show none; the gateway figures agree with the summary, report --json and run.json")
    func driftingSteps() throws {
        let folder = try temporaryFolder("html-model-drift")
        defer { try? FileManager.default.removeItem(at: folder) }
        let targets = try Self.targets(try Self.writeSuite(in: folder, baseURL: "http://127.0.0.1:9/v1", steps: 4))
        #expect(targets.count == 4)
        var script: [[String: Any]] = []
        for (index, target) in targets.enumerated() {
            let comply = index < 2
            script.append(["content": "Planning step \(index + 1) (\(comply ? "keeping" : "dropping") the rule).",
                           "tool_calls": [try Self.edit(target, comply: comply), ["name": "bash", "arguments": ["command": "echo checked-\(index + 1)"]]]])
            script.append(["content": "Finished step \(index + 1)."])
        }
        let (record, page) = try Self.run(script, steps: 4, in: folder)
        #expect(record.steps.map(\.verdict.kind) == [.compliant, .compliant, .violation, .violation], "\(record.steps.map(\.verdict))")

        for step in [3, 4] {
            let section = try #require(Self.violation(page, step: step), "step \(step) is listed")
            let conversation = try #require(section.components(separatedBy: "<details class=\"conversation\"").dropFirst().first,
                                            "step \(step) has its conversation")
            #expect(conversation.contains("data-model-turns=\"2\" data-ended=\"answered\""), "\(conversation.prefix(400))")
            #expect(conversation.contains("Planning step \(step) (dropping the rule)."))
            #expect(conversation.contains("tool call <b>edit</b>") && conversation.contains("tool call <b>bash</b>"))
            #expect(conversation.contains("validate_token(request.headers[\\&quot;authorization\\&quot;])"), "the edit's arguments, escaped")
            #expect(conversation.contains("replaced 1 occurrence(s) in \(targets[step - 1])"), "the edit's result")
            #expect(conversation.contains("checked-\(step)"), "the command's output")
            #expect(conversation.contains("Finished step \(step)."))
            #expect(conversation.contains("100 tokens in, 20 out"))
            // The conversation sits beside the step's diff, closed until opened.
            #expect(section.contains("<pre class=\"diff\">"))
            #expect(!section.contains("<details class=\"conversation\" open"))
        }
        // Compliant steps are not violations: none of their turns is on the page.
        for step in [1, 2] {
            #expect(Self.violation(page, step: step) == nil)
            #expect(!page.contains("Planning step \(step)") && !page.contains("checked-\(step)") && !page.contains("Finished step \(step)."))
        }

        // The gateway's figures: the same in the page, the text summary, `report --json` and run.json.
        let totals = try #require(record.manifest.modelTotals)
        let agent = try #require(totals.agents["model"])
        #expect(agent.exchanges == 8 && agent.inputTokens == 800 && agent.outputTokens == 160, "\(agent)")
        func figures(_ marker: String) throws -> [String: String] {
            let row = try #require(page.components(separatedBy: marker).dropFirst().first?.components(separatedBy: "</tr>").first, "\(marker)")
            let span = Substring(try #require(row.components(separatedBy: "<span class=\"model-figures\"").dropFirst().first))
            var values: [String: String] = [:]
            for key in ["exchanges", "refused", "input", "output", "cached", "cost", "unpriced"] { values[key] = attribute("data-" + key, in: span) }
            return values
        }
        func expected(_ figures: ModelTotals.Figures) -> [String: String] {
            ["exchanges": String(figures.exchanges), "refused": String(figures.refused), "input": String(figures.inputTokens),
             "output": String(figures.outputTokens), "cached": String(figures.cachedTokens), "cost": String(figures.costUSD),
             "unpriced": String(figures.unpriced)]
        }
        #expect(try figures("<tr data-models=\"model\">") == expected(agent))
        #expect(try figures("<tr data-models-run>") == expected(totals.run))

        let json = try driftbox(["report", record.store.folder.path, "--json"])
        #expect(json.status == 0, "\(json.err)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        let models = try JSONDecoder().decode(ModelTotals.self, from: try JSONSerialization.data(withJSONObject: try #require(document["models"])))
        #expect(models == totals)

        let text = try driftbox(["report", record.store.folder.path])
        #expect(text.status == 0, "\(text.err)")
        let line = "agent 'model' (network: gateway): \(agent.exchanges) exchange(s) in 1 episode(s); tokens \(agent.inputTokens) in (\(agent.cachedTokens) cached), \(agent.outputTokens) out; "
            + String(format: "$%.4f", agent.costUSD)
        #expect(text.out.contains(line), "\(text.out)")
        #expect(page.contains("\(agent.exchanges) exchange(s) in 1 episode(s); <span class=\"model-figures\""))
        #expect(page.contains("tokens \(agent.inputTokens) in (\(agent.cachedTokens) cached), \(agent.outputTokens) out; cost \(String(format: "$%.4f", agent.costUSD))"))
    }

    @Test("a hostile conversation (markup, NUL, invalid UTF-8, a 10 MB reply) renders escaped and bounded; in Chromium nothing runs and the details open")
    func hostileConversation() throws {
        #expect(FileManager.default.isExecutableFile(atPath: Chromium.path), "install Debian's chromium (scripts/setup.sh does)")
        let folder = try temporaryFolder("html-model-hostile")
        defer { try? FileManager.default.removeItem(at: folder) }
        let targets = try Self.targets(try Self.writeSuite(in: folder, baseURL: "http://127.0.0.1:9/v1", steps: 2))
        let markup = "<script>console.error('ran-from-model-text')</script></details></details></pre><img src=x onerror=\"console.error('img')\"><a href=\"http://127.0.0.1:9/x\">link</a>"
        let output = "printf '<script>console.error(\"ran-from-tool\")</script></details>\\377\\376|\\000|end'; head -c 10485760 /dev/zero | tr '\\000' o"
        let huge = "HUGE-HEAD" + String(repeating: "<b>x</b>\u{0}", count: 10_485_760 / 9) + "HUGE-TAIL"
        let script: [[String: Any]] = [
            ["content": markup + "\u{0}nul-in-text\u{202E}", "tool_calls": [try Self.edit(targets[0], comply: false),
                                                                        ["name": "bash", "arguments": ["command": output]]]],
            ["content": "Step one done."],
            ["content": "Second.", "tool_calls": [try Self.edit(targets[1], comply: false)]],
            ["content": huge],
        ]
        let (record, page) = try Self.run(script, steps: 2, in: folder)
        #expect(record.steps.map(\.verdict.kind) == [.violation, .violation], "\(record.steps.map(\.verdict))")
        let transcript = try EventLog.read(TranscriptEntry.self, from: record.store.transcriptPath(try #require(record.steps.first).episode))
        let stored = transcript.compactMap(\.turn.conversation)
        #expect(stored.count == 2)
        // What the transcript holds: the reply whole, the tool's bytes decoded (invalid UTF-8 as U+FFFD), the output capped.
        #expect(stored.last?.items.last?.text.utf8.count ?? 0 > 10_000_000)
        let tool = try #require(stored.first?.items.first { $0.name == "bash" })
        #expect(tool.text.contains("\u{FFFD}\u{FFFD}|\u{0}|end") && (tool.cutBytes ?? 0) > 500_000, "\(tool.text.prefix(200))")

        let one = try #require(Self.violation(page, step: 1))
        let two = try #require(Self.violation(page, step: 2))
        // Escaped: the agent's markup is text; NUL and the override are shown, never sent.
        #expect(!page.contains("<script") && !page.contains("<img") && !page.contains("<a "), "no tag of the agent")
        #expect(!page.contains("\u{0}") && !page.contains("\u{202E}"))
        #expect(one.contains("&lt;script&gt;console.error(&#39;ran-from-model-text&#39;)&lt;/script&gt;&lt;/details&gt;") ||
                one.contains("&lt;script&gt;console.error(&#x27;ran-from-model-text&#x27;)&lt;/script&gt;&lt;/details&gt;"), "\(one.prefix(3000))")
        #expect(one.contains("\\u{0}nul-in-text\\u{202E}"))
        #expect(one.contains("&lt;script&gt;console.error(&quot;ran-from-tool&quot;)&lt;/script&gt;&lt;/details&gt;\u{FFFD}\u{FFFD}|\\u{0}|end"))
        #expect(one.contains("bytes cut before the model saw it"))
        #expect(page.components(separatedBy: "<details").count == page.components(separatedBy: "</details>").count, "the agent closes no details")
        // Bounded: the 10 MB reply is cut with a visible mark, and the page stays small.
        #expect(two.contains("HUGE-HEAD") && !page.contains("HUGE-TAIL"))
        #expect(two.contains("… (cut: "))
        #expect(page.utf8.count < 2_000_000, "page of \(page.utf8.count) bytes")

        // In Chromium: no script runs, nothing loads, and a link to a conversation opens it and its violation.
        let file = folder.appendingPathComponent("report.html")
        try Data(page.utf8).write(to: file)
        let turns = try #require(one.components(separatedBy: "<div class=\"turns\"").dropFirst().first)
        let anchor = try #require(attribute("id", in: Substring(turns)))
        let visit = try Chromium.visit(try #require(URL(string: file.absoluteString + "#" + anchor)), in: folder)
        #expect(visit.console.isEmpty, "console: \(visit.console)")
        #expect(visit.pageRequests.isEmpty, "the page asked for \(visit.pageRequests)")
        #expect(!visit.dom.contains("<script") && !visit.dom.contains("<img"))
        let opened = try #require(Self.violation(visit.dom, step: 1))
        #expect(opened.hasPrefix(" data-episode=") && opened.prefix { $0 != ">" }.contains(" open"), "\(opened.prefix(300))")
        let conversation = try #require(opened.components(separatedBy: "<details class=\"conversation\"").dropFirst().first)
        #expect(conversation.prefix { $0 != ">" }.contains(" open"), "\(conversation.prefix(300))")
        #expect(conversation.contains("&lt;script&gt;"))
    }
}
