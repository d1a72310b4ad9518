import Audit
import Foundation
import Scenario
import Testing

/// The committed scenarios' findings are explained in docs/audit.md, line by line: this keeps
/// the explanation true.
@Suite("Committed scenarios: their findings are the ones docs/audit.md explains")
struct CommittedScenarioTests {
    static var root: URL {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }

    @Test func everyCommittedScenarioHasItsFindingsExplained() throws {
        let docPath = Self.root.appendingPathComponent("docs/audit.md").path
        let doc = try #require(try? String(contentsOfFile: docPath, encoding: .utf8), "docs/audit.md is missing")
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("scenarios").path)
            .filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(!names.isEmpty, "no scenario in scenarios/")
        for name in names {
            let path = Self.root.appendingPathComponent("scenarios/\(name)").path
            let findings = ScenarioAudit.findings(try Scenario.load(path: path, displayPath: "scenarios/\(name)"))
            let counts = Dictionary(grouping: findings, by: \.rule.id).map { "\($0.key) ×\($0.value.count)" }.sorted()
            let line = "- `scenarios/\(name)`: " + (counts.isEmpty ? "no findings" : counts.joined(separator: ", "))
            #expect(doc.contains(line), "docs/audit.md must explain \(name)'s findings with the line: \(line)")
        }
    }
}
