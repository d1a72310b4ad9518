import Foundation
import Testing
@testable import Reports
@testable import Scenario

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite("burnrate check")
struct CheckTests {
    func summary(_ yaml: String) throws -> Summary {
        Summary(try RunData.run(try Scenario.parse(yaml: yaml, file: "small.yaml"), replications: 6, threads: 2))
    }

    var smallText: String { try! String(contentsOfFile: fixturePath("small.yaml"), encoding: .utf8) }

    @Test func expectationsHoldOrFailWithTheirValue() throws {
        let failing = smallText.replacingOccurrences(of: "continuity: \">= 0.5\"", with: "continuity: \">= 0.99\"\n  spend_credits.p95: \"<= 100\"")
        let results = Checker.expectations(try summary(failing))
        #expect(results.map(\.name) == ["continuity >= 0.99", "spend_credits.p95 <= 100"] || results.map(\.name) == ["spend_credits.p95 <= 100", "continuity >= 0.99"])
        #expect(results.first { $0.name.hasPrefix("continuity") }?.passed == false)
        #expect(results.first { $0.name.hasPrefix("spend") }?.passed == true)
    }

    @Test func aPolicyChangeThatHurtsContinuityIsARegression() throws {
        let base = try summary(smallText)
        let baseline = try JSONSerialization.jsonObject(with: Data(base.text.utf8)) as! [String: Any]
        // Same scenario, less funding: continuity falls.
        let worse = try summary(smallText.replacingOccurrences(of: "amount: 14, expires: 2d", with: "amount: 9, expires: 2d"))
        let results = Checker.regressions(worse, baseline: baseline, tolerance: 0.01, perMetric: [:])
        #expect(results.first { $0.name == "continuity.mean" }?.passed == false)
        // Less spend is not a regression.
        #expect(results.first { $0.name == "spend_credits.mean" }?.passed == true)
        // Against itself, nothing regresses.
        let against = Checker.regressions(base, baseline: baseline, tolerance: 0, perMetric: [:])
        #expect(against.allSatisfy { $0.passed })
    }

    @Test func junitIsWellFormedAndCountsFailures() throws {
        let results = [
            CheckResult(scenario: "a", kind: .expectation, name: "continuity >= 0.99", actual: 0.9, passed: false, detail: "fails"),
            CheckResult(scenario: "a", kind: .regression, name: "spend_credits.mean", actual: 10, passed: true, detail: "within <5%>"),
        ]
        let xml = Checker.junit(results)
        let parsed = XMLParser(data: Data(xml.utf8)).parse()
        #expect(parsed)
        #expect(xml.contains("failures=\"1\""))
        #expect(Checker.table(results).hasSuffix("1 passed, 1 failed\n"))
    }
}
