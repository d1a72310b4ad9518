import Audit
import Foundation
import Scenario
import Testing

func fixture(_ name: String, file: String = #filePath) -> String {
    URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
}

func sarifSchema() throws -> SchemaValidator {
    let path = fixture("sarif-schema-2.1.0-excerpt.json")
    let data = try #require(FileManager.default.contents(atPath: path), "the SARIF schema excerpt is missing: \(path)")
    return SchemaValidator(root: try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any]))
}

func parse(_ json: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
}

@Suite("SARIF 2.1.0: valid against the OASIS schema, and what code scanning reads")
struct SARIFTests {
    /// Breaks several rules, in a file whose name needs percent-encoding.
    static let report: AuditReport = {
        let yaml = wellGoverned.replacingOccurrences(of: "    rate_cap: 60/m\n", with: "") + """
              - id: bare
                pool: eng

            """
        let scenario = try! Scenario.parse(yaml: yaml, file: "scenarios/team a.yaml")
        return AuditReport(findings: ScenarioAudit.findings(scenario), files: [scenario.file])
    }()

    @Test func theLogIsValidAgainstTheSchema() throws {
        let log = try parse(Self.report.sarif())
        #expect(try sarifSchema().validate(log) == [])
        // A database's findings have no region: still valid.
        let db = AuditReport(findings: Self.report.findings.map { var f = $0; f.location.line = nil; f.location.column = nil; return f },
                             files: ["live.db"])
        #expect(try sarifSchema().validate(try parse(db.sarif())) == [])
    }

    @Test func theValidatorRejectsWhatTheSchemaForbids() throws {
        var log = try parse(Self.report.sarif())
        var runs = log["runs"] as! [[String: Any]]
        var results = runs[0]["results"] as! [[String: Any]]
        results[0]["level"] = "fatal"
        var location = (results[0]["locations"] as! [[String: Any]])[0]
        location["physicalLocation"] = ["region": ["startLine": 0]]
        results[0]["locations"] = [location]
        runs[0]["results"] = results
        runs[0]["tool"] = ["driver": ["rules": []]]
        log["runs"] = runs
        let problems = try sarifSchema().validate(log)
        #expect(problems.contains { $0.contains("results[0].level") })
        #expect(problems.contains { $0.contains("startLine") && $0.contains("minimum") })
        #expect(problems.contains { $0.contains("physicalLocation") && $0.contains("anyOf") })
        #expect(problems.contains { $0.contains("driver") && $0.contains("'name' is required") })
    }

    @Test func resultsCarryTheRuleTheLevelAndTheNodeAtFault() throws {
        let log = try parse(Self.report.sarif())
        #expect(log["version"] as? String == "2.1.0")
        let run = (log["runs"] as! [[String: Any]])[0]
        let driver = (run["tool"] as! [String: Any])["driver"] as! [String: Any]
        #expect(driver["name"] as? String == "burnrate")
        let rules = driver["rules"] as! [[String: Any]]
        #expect(rules.map { $0["id"] as! String } == Rule.all.map(\.id))
        for rule in rules {
            let frameworks = (rule["properties"] as! [String: Any])["frameworks"] as! [String: [String]]
            #expect(frameworks.keys.sorted() == ["NIST CSF 2.0", "NIST SP 800-207", "OWASP Top 10 for Agentic Applications 2026"])
            #expect(frameworks.values.allSatisfy { !$0.isEmpty })
        }
        let results = run["results"] as! [[String: Any]]
        #expect(results.count == Self.report.findings.count && results.count >= 3)
        for (result, finding) in zip(results, Self.report.findings) {
            #expect(result["ruleId"] as? String == finding.rule.id && result["level"] as? String == finding.level.rawValue)
            #expect((result["message"] as! [String: Any])["text"] as? String == finding.message)
            let physical = (result["locations"] as! [[String: Any]])[0]["physicalLocation"] as! [String: Any]
            #expect((physical["artifactLocation"] as! [String: Any])["uri"] as? String == "scenarios/team%20a.yaml")
            let region = physical["region"] as! [String: Int]
            #expect(region["startLine"] == finding.location.line && region["startColumn"] == finding.location.column)
            #expect(rules[result["ruleIndex"] as! Int]["id"] as? String == finding.rule.id)
        }
        #expect(Self.report.findings.contains { $0.rule.id == "BR001" && $0.location.line == 21 && $0.location.column == 5 })
    }

    @Test func aSARIFFileIsWrittenWholeOrNotAtAll() throws {
        let dir = NSTemporaryDirectory() + "burnrate-sarif-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try AtomicFile.write("old", to: dir + "/a.sarif")
        try AtomicFile.write(Self.report.sarif(), to: dir + "/a.sarif")
        #expect(try String(contentsOfFile: dir + "/a.sarif", encoding: .utf8) == Self.report.sarif())
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["a.sarif"])
        #expect(throws: AtomicFile.WriteError.self) { try AtomicFile.write("x", to: dir + "/missing/a.sarif") }
    }
}
