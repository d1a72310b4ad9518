import Foundation
import Testing
@testable import Reports
@testable import Scenario
import Simulation

@Suite("Demand uncertainty in scenarios")
struct UncertaintyScenarioTests {
    func scenario(_ workload: String) -> String {
        """
        name: u
        horizon: 30d
        seed: 1
        replications: 3
        prices: { m: { input: 1, output: 1 } }
        pools: [ { id: eng, grants: [ { amount: 1000 } ] } ]
        identities:
          - id: agent
            pool: eng
            workload:
        \(workload)
        """
    }

    @Test func theContractExampleLoads() throws {
        let s = try Scenario.parse(yaml: scenario("""
                  arrivals: { poisson: { rate: 120/h }, growth: { per_month: 0.10 } }
                  model: m
                  uncertainty:
                    rate: { gamma: { mean: 1, cv: 0.3 } }
                    growth: { normal: { mean: 0.10, sd: 0.05 } }
            """), file: "u.yaml")
        let u = try #require(s.base.workloads[0].uncertainty)
        #expect(abs((u.rate?.mean ?? 0) - 1) < 1e-12)
        #expect(abs((u.growthPerMonth?.mean ?? 0) - 0.10) < 1e-12)
        // It runs, and a replication's rate is its own: three replications, three different counts.
        let data = try RunData.run(s, replications: 3, threads: 1)
        #expect(Set(data.variants[0].records.map { $0.run["requests_total"]! }).count == 3)
    }

    @Test(arguments: [
        ("      arrivals: { poisson: { rate: 1/h } }\n      model: m\n      uncertainty: { rate: 1, spread: 2 }", "u.yaml:13:", "'spread'"),
        ("      arrivals: { poisson: { rate: 1/h } }\n      model: m\n      uncertainty: {}", "u.yaml:13:", "needs 'rate'"),
        ("      arrivals: { poisson: { rate: 1/h } }\n      model: m\n      uncertainty: { rate: { normal: { mean: 0, sd: 1 } } }", "u.yaml:13:", "mean must be positive"),
        ("      arrivals: { periodic: { rate: 1/h } }\n      model: m\n      uncertainty: { growth: 0.1 }", "u.yaml:13:", "only poisson and renewal"),
        ("      arrivals: { poisson: { rate: 1/h } }\n      model: m\n      uncertainty: { growth: -2 }", "u.yaml:13:", "growth"),
    ])
    func badUncertaintyIsAnErrorAtItsLine(workload: String, at: String, says: String) {
        let e = errors(scenario(workload), file: "u.yaml")
        #expect(e.contains { $0.contains(at) && $0.contains(says) }, "\(e)")
    }
}
