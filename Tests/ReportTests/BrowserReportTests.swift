import DriftboxTestSupport
import Foundation
import Report
import Runner
import Testing

/// Headless Chromium (Debian's `chromium`, installed by scripts/setup.sh) with every background
/// service of the browser off and every host mapped to nothing: what loads is the page's own.
struct Chromium {
    static let path = "/usr/bin/chromium"

    /// What a page did in the browser.
    struct Visit {
        /// The DOM after load.
        var dom: String
        /// Console lines Chromium logged (`:CONSOLE`): any message of the page, error or not.
        var console: [String]
        /// URLs the page itself asked for (not the browser's own services), from the net log.
        var pageRequests: [String]
    }

    /// Loads `file` and dumps its DOM, or with `screenshot` also writes a PNG of it.
    static func visit(_ file: URL, screenshot: URL? = nil, in scratch: URL) throws -> Visit {
        let profile = scratch.appendingPathComponent("profile-\(UUID().uuidString)")
        let netLog = scratch.appendingPathComponent("net-\(UUID().uuidString).json")
        var arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile.path)", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
                         "--disable-default-apps", "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
                         "--enable-logging=stderr", "--v=0", "--log-net-log=\(netLog.path)", "--hide-scrollbars"]
        if let screenshot { arguments += ["--window-size=1500,1250", "--screenshot=\(screenshot.path)"] } else { arguments += ["--dump-dom"] }
        let finished = try execute(path, arguments + [file.absoluteString], in: scratch, limit: 120)
        #expect(finished.status == 0, "chromium: \(finished.err.suffix(2000))")
        let console = finished.err.split(separator: "\n").filter { $0.contains(":CONSOLE") }.map(String.init)
        return Visit(dom: finished.out, console: console, pageRequests: try pageRequests(netLog))
    }

    /// URL requests of the net log that a page started: the browser's own carry the initiator
    /// `not an origin`; a page's carry its origin (`null` for a file).
    static func pageRequests(_ netLog: URL) throws -> [String] {
        let data = try Data(contentsOf: netLog)
        let log = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let constants = try #require(log["constants"] as? [String: Any])
        let types = try #require(constants["logEventTypes"] as? [String: Int])
        let start = try #require(types["URL_REQUEST_START_JOB"])
        let events = try #require(log["events"] as? [[String: Any]])
        return events.compactMap { event in
            guard event["type"] as? Int == start, let params = event["params"] as? [String: Any], let url = params["url"] as? String,
                  (params["initiator"] as? String) != "not an origin", !url.hasPrefix("file:") else { return nil }
            return url
        }
    }
}

/// One circle of the figure, read back from the DOM.
struct DOMPoint: Hashable {
    var pair: String, condition: String, series: Int, step: Int, violations: Int, trials: Int, rate: Double
}

/// The attribute `name` of a tag's text.
func attribute(_ name: String, in tag: Substring) -> String? {
    guard let range = tag.range(of: " \(name)=\"") else { return nil }
    let rest = tag[range.upperBound...]
    return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
}

/// The figure's circles, by pair and panel, of the first view.
func figurePoints(_ dom: String) -> [DOMPoint] {
    var points: [DOMPoint] = []
    let view = dom.components(separatedBy: "<section class=\"view view-1\"")[0]
    for pairSection in view.components(separatedBy: "<h2 data-pair=\"").dropFirst() {
        let pair = String(pairSection.prefix { $0 != "\"" })
        for panel in pairSection.components(separatedBy: "<div class=\"panel").dropFirst() {
            guard let condition = attribute("data-condition", in: Substring(panel)) else { continue }
            for group in panel.components(separatedBy: "<g class=\"series\"").dropFirst() {
                let series = Int(attribute("data-series", in: Substring(group)) ?? "") ?? -1
                for circle in group.components(separatedBy: "<circle").dropFirst() {
                    let tag = circle.prefix { $0 != ">" }
                    points.append(DOMPoint(pair: pair, condition: condition, series: series,
                                           step: Int(attribute("data-step", in: tag) ?? "") ?? -1,
                                           violations: Int(attribute("data-violations", in: tag) ?? "") ?? -1,
                                           trials: Int(attribute("data-trials", in: tag) ?? "") ?? -1,
                                           rate: Double(attribute("data-rate", in: tag) ?? "") ?? -1))
                }
            }
        }
    }
    return points
}

/// The HTML report of real runs of the bundled paper suite, as a browser shows it.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct BrowserReportTests {
    @Test func thePaperSuiteReportRendersInChromiumWithTheSummaryNumbers() throws {
        #expect(FileManager.default.isExecutableFile(atPath: Chromium.path), "install Debian's chromium (scripts/setup.sh does)")
        let folder = try temporaryFolder("browser")
        defer { try? FileManager.default.removeItem(at: folder) }
        // Two episodes per cell, so every pooled rate has a bootstrap interval.
        let run = try driftbox(["run", "paper", "--repetitions", "2", "--out", folder.path, "--run-id", "model-a"])
        #expect(run.status == 0, "driftbox run: \(run.err.suffix(2000))")
        let page = folder.appendingPathComponent("report.html")
        let report = try driftbox(["report", folder.appendingPathComponent("model-a").path, "--html", page.path])
        #expect(report.status == 0, "driftbox report: \(report.err)")

        let record = try RunRecord(folder: folder.appendingPathComponent("model-a"))
        let summary = RunSummary(record)
        let visit = try Chromium.visit(page, in: folder)
        #expect(visit.console.isEmpty, "console: \(visit.console)")
        #expect(visit.pageRequests.isEmpty, "the page asked for \(visit.pageRequests)")

        // Every circle's numbers, summed over the value pairs, are the summary's curve of its condition.
        let points = figurePoints(visit.dom)
        #expect(points.count == 144, "12 scenarios × 12 steps, one series")
        for point in points { #expect(abs(point.rate - Double(point.violations) / Double(point.trials)) < 1e-6, "\(point)") }
        for curve in summary.curves {
            for expected in curve.points {
                let at = points.filter { $0.condition == curve.condition && $0.step == expected.step }
                #expect(at.reduce(0) { $0 + $1.violations } == expected.violations.successes, "\(curve.condition) step \(expected.step)")
                #expect(at.reduce(0) { $0 + $1.trials } == expected.violations.trials, "\(curve.condition) step \(expected.step)")
            }
        }
        // Each panel's pooled numbers are the summary's row of its scenario.
        for scenario in record.manifest.scenarios {
            let row = try #require(summary.byScenario.first { $0.label == scenario.id })
            let section = try #require(visit.dom.components(separatedBy: "<h2 data-pair=\"\(scenario.valuePair)\"").dropFirst().first)
            let panel = try #require(section.components(separatedBy: "<div class=\"panel").dropFirst()
                .first { attribute("data-condition", in: Substring($0)) == scenario.condition })
            let pooled = try #require(panel.components(separatedBy: "<p class=\"pooled\"").dropFirst().first)
            #expect(attribute("data-violations", in: Substring(pooled)) == String(row.violations.successes), "\(scenario.id)")
            #expect(attribute("data-trials", in: Substring(pooled)) == String(row.violations.trials), "\(scenario.id)")
        }
        // The asymmetry of each pair is (regular − baseline) − (inverted − inverted-baseline) of the
        // summary's scenario rates.
        for pair in Set(record.manifest.scenarios.map(\.valuePair)) {
            func rate(_ condition: String) throws -> Double {
                let scenario = try #require(record.manifest.scenarios.first { $0.valuePair == pair && $0.condition == condition })
                return try #require(summary.byScenario.first { $0.label == scenario.id }?.violations.rate)
            }
            let expected = (try rate("regular") - rate("baseline")) - (try rate("inverted") - rate("inverted-baseline"))
            let section = try #require(visit.dom.components(separatedBy: "<h2 data-pair=\"\(pair)\"").dropFirst().first)
            let row = try #require(section.components(separatedBy: "<tr").dropFirst(2).first)
            let shown = try #require(attribute("data-asymmetry", in: Substring(row)).flatMap(Double.init))
            #expect(abs(shown - expected) < 1e-6, "\(pair): \(shown) vs \(expected)")
        }
        // Panels are labelled by direction, read from the pair and the condition.
        #expect(visit.dom.contains("constraint favours efficiency · pressure toward security"))
        #expect(visit.dom.contains("constraint favours security · pressure toward efficiency"))
        // No judge labels in this run: the switch is hidden.
        #expect(visit.dom.contains("<div class=\"switch hidden\">"))

        let shot = folder.appendingPathComponent("report.png")
        let screenshot = try Chromium.visit(page, screenshot: shot, in: folder)
        #expect(screenshot.console.isEmpty, "console: \(screenshot.console)")
        #expect(screenshot.pageRequests.isEmpty, "the page asked for \(screenshot.pageRequests)")
        let png = try Data(contentsOf: shot)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 20_000, "screenshot of \(png.count) bytes")
    }

    @Test func threeRunsAsThreeModelsDrawThreeCurvesPerPanel() throws {
        let folder = try temporaryFolder("three")
        defer { try? FileManager.default.removeItem(at: folder) }
        var runs: [String] = []
        for (index, id) in ["model-a", "model-b", "model-c"].enumerated() {
            let run = try driftbox(["run", "paper", "--repetitions", "1", "--seed", String(40 + index), "--out", folder.path, "--run-id", id])
            #expect(run.status == 0, "driftbox run: \(run.err.suffix(2000))")
            runs.append(folder.appendingPathComponent(id).path)
        }
        let page = folder.appendingPathComponent("three.html")
        let report = try driftbox(["report"] + runs + ["--html", page.path])
        #expect(report.status == 0, "driftbox report: \(report.err)")
        let visit = try Chromium.visit(page, in: folder)
        #expect(visit.console.isEmpty && visit.pageRequests.isEmpty)
        let points = figurePoints(visit.dom)
        let panels = Dictionary(grouping: points) { "\($0.pair)/\($0.condition)" }
        #expect(panels.count == 12)
        for (panel, at) in panels { #expect(Set(at.map(\.series)) == [0, 1, 2], "\(panel)") }
        #expect(visit.dom.contains("demo (model-b)"))
        // Writing over the page again needs --force.
        let again = try driftbox(["report"] + runs + ["--html", page.path])
        #expect(again.status == 1 && again.err.contains("--force"))
    }

    @Test func theDetectorsCatchAPageThatLoadsOrLogs() throws {
        // The checks above would pass on a browser that saw nothing: a page that asks for an
        // image and logs to the console must be caught by the same code.
        let folder = try temporaryFolder("control")
        defer { try? FileManager.default.removeItem(at: folder) }
        let page = folder.appendingPathComponent("control.html")
        try Data("<html><body><img src=\"http://127.0.0.1:9/x.png\"><script>console.error('boom')</script></body></html>".utf8).write(to: page)
        let visit = try Chromium.visit(page, in: folder)
        #expect(visit.pageRequests == ["http://127.0.0.1:9/x.png"])
        #expect(visit.console.contains { $0.contains("boom") })
    }
}
