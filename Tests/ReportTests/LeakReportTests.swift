import Foundation
import Testing
@testable import Reports
import Scenario
import Simulation

/// The `leaked_key` fault as a scenario says it, and what report.md says of it.
@Suite("Leaked credential: the scenario fault and the report")
struct LeakReportTests {
    static func yaml(caps: String = "") -> String {
        """
        name: leak
        horizon: 10d
        seed: 3
        pools:
          - id: eng
            grants: [ { amount: 10000 } ]
        identities:
          - id: svc
            pool: eng
        \(caps.isEmpty ? "" : "    " + caps)
            workload: { arrivals: { periodic: { rate: 1/h } }, cost: { fixed: 1 } }
          - id: other
            pool: eng
            workload: { arrivals: { periodic: { rate: 1/h } }, cost: { fixed: 1 } }
        faults:
          - leaked_key: { identity: svc, at: 1d, rate: 10/h, detected_after: 84h }

        """
    }

    @Test func aScenarioLeakSpendsAsTheClosedFormAndReportMdSaysWhatBoundedIt() throws {
        let open = Summary(try RunData.run(try Scenario.parse(yaml: Self.yaml(), file: "leak.yaml"), replications: 2, threads: 1))
        #expect(open.run[0][Metric.leakSpendCredits.name]?.mean == 840)
        #expect(open.identities[0][1][Metric.continuity.name]?.mean == 1)  // the other identity: the pool held
        let report = MarkdownReport.render(open, charts: [])
        #expect(report.contains("a leaked credential cost 840 credits on average"), "\(report)")
        #expect(report.contains("what bounded it: nothing but detection"))

        let capped = Summary(try RunData.run(try Scenario.parse(yaml: Self.yaml(caps: "caps: { per_day: 74 }"), file: "leak.yaml"),
                                             replications: 2, threads: 1))
        // The cap is shared with svc's own hourly request: in each of the four cap periods the
        // leak's 10 an hour take about 10/11 of the 74 before the cap refuses both (the closed form
        // without the legitimate work is LeakTests'), then svc's own work is refused too.
        let spend = try #require(capped.run[0][Metric.leakSpendCredits.name]?.mean)
        #expect(spend > 4 * 60 && spend < 4 * 74)
        #expect(try #require(capped.identities[0][0][Metric.continuity.name]?.mean) < 1)
        #expect(MarkdownReport.render(capped, charts: []).contains("what bounded it: a spend cap"))
    }

    @Test func aLeakedKeyNeedsADetectionDelayAndAKnownIdentity() throws {
        let noDetection = Self.yaml().replacingOccurrences(of: ", detected_after: 84h", with: "")
        #expect(throws: ScenarioErrors.self) { try Scenario.parse(yaml: noDetection, file: "leak.yaml") }
        do { _ = try Scenario.parse(yaml: noDetection, file: "leak.yaml") } catch {
            #expect(error.description.contains("leak.yaml:16:17:") && error.description.contains("detected_after"), "\(error)")
        }
        let unknown = Self.yaml().replacingOccurrences(of: "identity: svc, at", with: "identity: svx, at")
        do { _ = try Scenario.parse(yaml: unknown, file: "leak.yaml"); Issue.record("accepted") } catch {
            #expect(error.description.contains("no identity 'svx'") && error.description.contains("did you mean 'svc'"), "\(error)")
        }
        let law = Self.yaml().replacingOccurrences(of: "detected_after: 84h", with: "detected_after: { lognormal: { median: 20d, sigma: 1 } }")
        let scenario = try Scenario.parse(yaml: law, file: "leak.yaml")
        #expect(scenario.base.workloads.contains { $0.name == "svc/leak" && $0.leak != nil })
    }
}
