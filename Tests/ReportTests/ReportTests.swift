import Foundation
import Testing
@testable import Reports
@testable import Scenario
import Simulation

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite("Runner and reports")
struct ReportTests {
    func small() throws -> Scenario { try Scenario.load(path: fixturePath("small.yaml"), displayPath: "small.yaml") }

    /// Golden files: regenerate with `BURNRATE_UPDATE_GOLDEN=1 swift test --filter goldenFiles`
    /// and review the diff.
    @Test func goldenFilesPinSummaryAndReport() throws {
        let files = ReportWriter.files(for: try RunData.run(try small(), replications: 8, threads: 2))
        for name in ["summary.json", "report.md"] {
            let produced = try #require(files.first { $0.path == name }).contents
            let golden = fixturePath("golden") + "/" + name
            if ProcessInfo.processInfo.environment["BURNRATE_UPDATE_GOLDEN"] == "1" {
                try produced.write(toFile: sourceFixtures() + "/golden/" + name, atomically: true, encoding: .utf8)
                continue
            }
            let expected = try String(contentsOfFile: golden, encoding: .utf8)
            #expect(produced == expected, "\(name) differs from its golden file")
        }
    }

    func sourceFixtures() -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    }

    @Test func theReportIsByteIdenticalWhateverTheThreadCount() throws {
        let s = try small()
        let one = ReportWriter.files(for: try RunData.run(s, replications: 12, threads: 1))
        let two = ReportWriter.files(for: try RunData.run(s, replications: 12, threads: 2))
        #expect(one.map(\.path) == two.map(\.path))
        for (a, b) in zip(one, two) { #expect(a.contents == b.contents, "\(a.path) differs") }
    }

    @Test func threeShardsMergeIntoTheSingleRun() throws {
        let s = try small()
        let single = try RunData.run(s, replications: 12, threads: 2)
        var parts: [RunData] = []
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for i in 0..<3 {
            let part = try RunData.run(s, replications: 12, threads: 2, shard: (i, 3))
            try ReportWriter.writePartial(part, to: dir + "/part\(i)")
            parts.append(try ReportWriter.readPartial(dir + "/part\(i)"))
        }
        let merged = try RunData.merge(parts.reversed())
        #expect(Summary(merged).text == Summary(single).text)
        #expect(throws: MergeError.self) { try RunData.merge(Array(parts.prefix(2))) }
    }

    @Test func chartsAreWellFormedSVGWithTheirSeries() throws {
        let data = try RunData.run(try small(), replications: 8, threads: 2)
        let files = ReportWriter.files(for: data)
        let svgs = files.filter { $0.path.hasSuffix(".svg") }
        #expect(svgs.count == 2 + 4)
        for svg in svgs {
            let parser = XMLParser(data: Data(svg.contents.utf8))
            #expect(parser.parse(), "\(svg.path) is not well-formed XML")
            #expect(svg.contents.contains("<text"), "\(svg.path) has no labels")
        }
        // The balance fan plots one median point per sample time.
        let fan = try #require(svgs.first { $0.path == "charts/balance-team.svg" }).contents
        let polyline = try #require(fan.components(separatedBy: "<polyline").dropFirst().first)
        let points = polyline.components(separatedBy: "points=\"")[1].components(separatedBy: "\"")[0].split(separator: " ")
        #expect(points.count == data.sampleTimesHours.count)
        #expect(fan.contains("available credits") && fan.contains("time (hours)"))
    }

    @Test func writingReplacesTheReportDirectoryAtomically() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/report"
        try ReportWriter.write(try RunData.run(try small(), replications: 4, threads: 2), to: out)
        try ReportWriter.write(try RunData.run(try small(), replications: 4, threads: 2), to: out)
        let names = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(names == [".burnrate-report", "charts", "data", "report.md", "summary.json"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["report"])
        // A file added by hand is not burnrate's to delete: the folder is no longer replaced.
        try "mine".write(toFile: out + "/notes.txt", atomically: true, encoding: .utf8)
        #expect(throws: ReportWriter.OutputRefused.self) { try ReportWriter.write(try RunData.run(try small(), replications: 4, threads: 2), to: out) }
        #expect(try String(contentsOfFile: out + "/notes.txt", encoding: .utf8) == "mine")
    }

    @Test func aMarkerThatDoesNotListTheFolderDoesNotMakeItReplaceable() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/Sources"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try "code".write(toFile: out + "/main.swift", atomically: true, encoding: .utf8)
        for fake in ["", "x", ReportWriter.markerHeader + "\n", ReportWriter.markerHeader + "\n4 main.swift\n"] {
            try fake.write(toFile: out + "/" + ReportWriter.marker, atomically: true, encoding: .utf8)
            // The last one lists main.swift exactly, but not the marker's own size: still refused
            // unless everything matches; a forged listing can only "replace" what it names.
            if fake.hasSuffix("main.swift\n") { continue }
            #expect(throws: ReportWriter.OutputRefused.self, "\(fake.debugDescription)") {
                try ReportWriter.write(try RunData.run(try small(), replications: 2, threads: 1), to: out)
            }
            #expect(try String(contentsOfFile: out + "/main.swift", encoding: .utf8) == "code")
        }
    }

    @Test func aPartialResultWhoseNamesBreakTheRuleIsRefused() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var part = try RunData.run(try small(), replications: 2, threads: 1, shard: (0, 1))
        try ReportWriter.writePartial(part, to: dir + "/ok")
        #expect(try ReportWriter.readPartial(dir + "/ok").scenario == "small")
        for hostile in ["../../escaped", "=cmd|<script>", "evil\u{1B}[2J"] {
            part.scenario = hostile
            try? FileManager.default.removeItem(atPath: dir + "/bad")
            try ReportWriter.writePartial(part, to: dir + "/bad")
            #expect(throws: ReportWriter.PartialRefused.self, "\(hostile.debugDescription)") { try ReportWriter.readPartial(dir + "/bad") }
        }
    }

    @Test func summaryJSONFollowsTheSchema() throws {
        let text = Summary(try RunData.run(try small(), replications: 8, threads: 2)).text
        let json = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        #expect(json["schema"] as? String == "burnrate.summary/1")
        #expect(json["scenario"] as? String == "small")
        let metrics = json["metrics"] as! [String: Any]
        let continuity = metrics["continuity"] as! [String: Any]
        #expect(Set(continuity.keys).isSuperset(of: ["mean", "sd", "ci95", "p05", "p50", "p95", "p99"]))
        #expect((json["pools"] as! [String: Any]).keys.sorted() == ["sandbox", "team"])
        #expect((json["variants"] as! [String: Any]).keys.sorted() == ["degrade"])
        #expect(!text.contains("/tmp") && !text.contains("/work"))
    }
}
