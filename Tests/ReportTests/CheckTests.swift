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

    func baseline(_ s: Summary) throws -> Baseline {
        .summary(try BaselineSummary(json: try JSONSerialization.jsonObject(with: Data(s.text.utf8)) as! [String: Any]))
    }

    @Test func aPolicyChangeThatHurtsContinuityIsARegression() throws {
        let base = try summary(smallText)
        // Same scenario, less funding: continuity falls.
        let worse = try summary(smallText.replacingOccurrences(of: "amount: 14, expires: 2d", with: "amount: 9, expires: 2d"))
        let results = Checker.regressions(worse, baseline: try baseline(base), tolerances: Tolerances(relative: 0.01))
        let continuity = try #require(results.first { $0.name == "continuity.mean" })
        #expect(continuity.passed == false && continuity.verdict == .worse)
        #expect(continuity.change! < 0 && continuity.changeInterval!.upperBound < 0)
        // Less spend is not a regression: it is better.
        #expect(results.first { $0.name == "spend_credits.mean" }?.verdict == .better)
        // Against itself, nothing regresses.
        let against = Checker.regressions(base, baseline: try baseline(base), tolerances: Tolerances(relative: 0))
        #expect(against.allSatisfy { $0.passed && $0.verdict == .withinNoise })
    }

    /// Reproduction: changing only the seed failed the gate on `spend_cv.mean`.
    @Test func aSeedOnlyChangePassesAgainstTheBaselineSummary() throws {
        let text = smallText.replacingOccurrences(of: "replications: 8", with: "replications: 40")
        let simulate = { (t: String) throws -> Summary in Summary(try RunData.run(try Scenario.parse(yaml: t, file: "small.yaml"), replications: 40, threads: 2)) }
        let base = try simulate(text)
        for seed in [4, 5, 6, 7] {
            let reseeded = try simulate(text.replacingOccurrences(of: "seed: 3", with: "seed: \(seed)"))
            let results = Checker.regressions(reseeded, baseline: try baseline(base), tolerances: Tolerances())
            let failed = results.filter { !$0.passed }.map(\.name)
            #expect(failed.isEmpty, "seed \(seed): \(failed)")
            let names = results.map(\.name)
            #expect(names.contains("spend_cv.mean"))
        }
    }

    /// With the baseline rerun on the same seed, a seed-only change is no change at all, and a
    /// regression smaller than the unpaired noise is still caught.
    @Test func pairedRerunCancelsNoiseAndCatchesSmallRegressions() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        for sub in ["now", "base"] { try FileManager.default.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true) }
        let baseText = smallText
        try baseText.write(to: dir.appendingPathComponent("base/small.yaml"), atomically: true, encoding: .utf8)
        // Seed only.
        try baseText.replacingOccurrences(of: "seed: 3", with: "seed: 11").write(to: dir.appendingPathComponent("now/small.yaml"), atomically: true, encoding: .utf8)
        var check = CheckRun(paths: [dir.appendingPathComponent("now").path], baselineScenarios: dir.appendingPathComponent("base").path,
                             replications: 12, threads: 2)
        var results = try check.run().filter { $0.kind == .regression }
        #expect(!results.isEmpty)
        #expect(results.allSatisfy { $0.change == 0 && $0.passed }, "\(results.map { "\($0.name) \($0.change ?? .nan)" })")
        // A little less funding: the pool runs dry a bit earlier in every replication.
        try baseText.replacingOccurrences(of: "amount: 14, expires: 2d", with: "amount: 13, expires: 2d")
            .write(to: dir.appendingPathComponent("now/small.yaml"), atomically: true, encoding: .utf8)
        check.tolerances = Tolerances(relative: 0)
        results = try check.run().filter { $0.kind == .regression }
        let paired = try #require(results.first { $0.name == "continuity.mean" })
        #expect(!paired.passed, "\(paired)")
    }

    /// Reproduction: a misspelt metric in --tolerance was silently ignored.
    @Test func unknownToleranceMetricsAreErrorsWithASuggestion() throws {
        #expect(throws: DecisionError.self) { try Tolerances.parse(["overage_credit=1000"]) }
        do { _ = try Tolerances.parse(["overage_credit=1000"]) } catch { #expect(error.description.contains("did you mean 'overage_credits'")) }
        #expect(throws: DecisionError.self) { try Tolerances.parse(["requests_served=0.1"]) }
        #expect(throws: DecisionError.self) { try Tolerances.parse(["continuity=-1"]) }
        let t = try Tolerances.parse(["0.1", "continuity=0.001"])
        #expect(t.relative == 0.1 && t.of("continuity") == 0.001 && t.of("spend_credits") == 0.1)
    }

    /// Reproduction: a new scenario with no baseline exited 2 with no table.
    @Test func aScenarioWithoutABaselineIsReportedAsNew() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("reports"), withIntermediateDirectories: true)
        try smallText.write(to: dir.appendingPathComponent("small.yaml"), atomically: true, encoding: .utf8)
        let check = CheckRun(paths: [dir.appendingPathComponent("small.yaml").path], baselineSummaries: dir.appendingPathComponent("reports").path,
                             replications: 4, threads: 2)
        let results = try check.run()
        #expect(results.contains { $0.kind == .new && $0.passed })
        #expect(results.contains { $0.kind == .expectation })
        #expect(Checker.table(results).contains("1 new without a baseline"))
    }

    /// Reproduction: an improvement (downtime 73 → 7 h) was labelled "within tolerance", with no
    /// delta column; runaway traffic raising requests_served counted as better.
    @Test func improvementsAreLabelledAndWorkloadCountsAreNotCompared() throws {
        let text = smallText.replacingOccurrences(of: "grants: [ { amount: 2 } ]", with: "grants: [ { amount: 200 } ]")
        let base = try summary(text.replacingOccurrences(of: "amount: 14, expires: 2d", with: "amount: 9, expires: 2d"))
        let better = try summary(text.replacingOccurrences(of: "amount: 14, expires: 2d", with: "amount: 30, expires: 2d"))
        let results = Checker.regressions(better, baseline: try baseline(base), tolerances: Tolerances())
        #expect(results.first { $0.name == "downtime_hours.mean" }?.verdict == .better)
        #expect(results.first { $0.name == "continuity.mean" }?.verdict == .better)
        #expect(!results.contains { $0.name.hasPrefix("requests_") })
        let table = Checker.table(results)
        #expect(table.contains("| change (95% interval) |"))
        #expect(table.contains("| ok (better; "))
    }

    /// Reproduction: `eng.continuity` was an unknown metric.
    @Test func expectationsPerPoolAndPerIdentity() throws {
        let text = smallText.replacingOccurrences(of: "continuity: \">= 0.5\"",
                                                  with: "team.continuity.p05: \">= 0.5\"\n  tinkerer.spend_credits: \"<= 0.0001\"\n  sandbox.continuity: \">= 0\"")
        let results = Checker.expectations(try summary(text))
        #expect(results.count == 3)
        #expect(results.first { $0.name.hasPrefix("tinkerer.") }?.passed == false)
        #expect(results.first { $0.name.hasPrefix("sandbox.") }?.passed == true)
        let e = try #require(Expectation(text: "team.continuity.p05 >= 0.5"))
        #expect(e.scope == "team" && e.metric == "continuity" && e.statistic == "p05")
        // Unknown scopes, and metrics not measured on a scope, are located errors.
        for (key, message) in [("tema.continuity", "neither a pool nor an identity (did you mean 'team'?)"),
                               ("agent.unused_credits", "not measured per identity"),
                               ("team.contnuity", "unknown metric 'contnuity' (did you mean 'continuity'?)")] {
            let bad = smallText.replacingOccurrences(of: "continuity: \">= 0.5\"", with: "\(key): \">= 0.5\"")
            #expect(throws: ScenarioErrors.self) { try Scenario.parse(yaml: bad, file: "small.yaml") }
            do { _ = try Scenario.parse(yaml: bad, file: "small.yaml") } catch {
                #expect(error.description.contains(message), "\(error.description)")
                #expect(error.description.contains("small.yaml:"))
            }
        }
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
