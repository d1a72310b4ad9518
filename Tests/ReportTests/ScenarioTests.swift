import Foundation
import Testing
@testable import Reports
@testable import Scenario
import Simulation

@Suite("Scenario files")
struct ScenarioTests {
    @Test(arguments: ["quickstart.yaml", "replay.yaml", "procure.yaml"])
    func contractExamplesLoadAndRun(file: String) throws {
        let scenario = try Scenario.load(path: try sharedScenario(file))
        #expect(!scenario.variants.isEmpty)
        // One replication each keeps the debug-build suite fast; determinism and statistics are
        // tested elsewhere.
        let data = try RunData.run(scenario, replications: 1, threads: 2)
        #expect(data.variants.allSatisfy { $0.records.count == 1 })
        #expect(data.variants[0].records[0].run["requests_total"]! > 0)
    }

    @Test func theQuickstartContractMeansWhatItSays() throws {
        let s = try Scenario.load(path: try sharedScenario("quickstart.yaml"))
        #expect(s.name == "quickstart" && s.replications == 200 && s.base.seed == 42)
        #expect(s.base.horizonMs == 30 * 86_400_000)
        #expect(s.poolNames == ["org", "eng", "research"])
        #expect(s.variants.map(\.name) == [nil, "hard-stop-only", "overdraft-instead"])
        #expect(s.initialFundingMicrocredits[1] == 1_700_000_000)
        // eng: alerts, degrade below 10% of 1,700 credits to gpt-4o-mini (tier 1), hard stop.
        #expect(s.base.pools[1].spec.policies == [.alerts(thresholdsMicrocredits: [850_000_000, 340_000_000, 85_000_000]),
                                                  .degrade(toTier: 1, belowMicrocredits: 170_000_000), .hardStop])
        #expect(s.variants[2].model.pools[1].spec.policies == [.overdraft(limitMicrocredits: 300_000_000)])
        #expect(s.expectations.map(\.text) == ["continuity >= 0.90", "spend_credits.p95 <= 2600"])
        let runaway = try #require(s.base.workloads.last)
        #expect(runaway.stopsAtFirstRefusal && runaway.startMs == 10 * 86_400_000)
    }

    @Test func everyProblemIsReportedAtOnceWithItsLocation() {
        let e = errors("""
            name: broken
            horizon: 30
            seed: 1
            prices:
              gpt-4o: { input: 2.50, output: 10.00 }
            pools:
              - id: eng
                grants: [ { amount: -5 } ]
                polices: []
            identities:
              - id: bot
                pool: engg
                workload:
                  arrivals: { poisson: { rate: 10/fortnight } }
                  model: { gpt-4o: 0.7, gpt-5: 0.2 }
            """)
        #expect(e.contains("bad.yaml:2:10: horizon must be a duration with a unit (500ms, 90s, 15m, 12h, 30d, 4w), got '30'"))
        #expect(e.contains("bad.yaml:8:25: grant amount must not be negative, got -5"))
        #expect(e.contains { $0.hasPrefix("bad.yaml:9:5: pool: unknown key 'polices' (did you mean 'policies'?)") })
        #expect(e.contains("bad.yaml:12:11: no pool 'engg' (did you mean 'eng'?)"))
        #expect(e.contains("bad.yaml:14:36: poisson rate must be a rate such as 600/h (units /s /m /h /d), got '10/fortnight'"))
        #expect(e.contains("bad.yaml:15:29: model 'gpt-5' is not in prices (did you mean 'gpt-4o'?)"))
        #expect(e.count >= 6)
    }

    @Test(arguments: [
        ("name: x\nhorizon: 1d\nprices: { m: { input: 1, output: 1 } }\npools: [ { id: p } ]\nidentities: [ { id: a, pool: p, workload: { arrivals: { poisson: { rate: 1/h } }, model: { m: 0.5 } } } ]\n",
         "model shares must sum to 1, they sum to 0.5"),
        ("name: x\nhorizon: 1d\nprices: { m: { input: 1, output: 1 } }\npools: [ { id: p } ]\nidentities: [ { id: a, pool: p, workload: { replay: { trace: missing.csv, format: azure-llm } } } ]\n",
         "cannot replay the trace: ./missing.csv:0: cannot open the trace"),
        ("name: x\nhorizon: 1d\nprices: { m: { input: 1, output: 1 } }\npools: [ { id: p, policies: [ { overdraft: { limit: -3 } } ] } ]\nidentities: []\n",
         "overdraft limit must not be negative, got -3"),
        ("name: x\nhorizon: 1d\nprices: { m: { input: 1, output: 1 } }\npools: [ { id: p } ]\nidentities: [ { id: a, pool: p, workload: { arrivals: { poisson: { rate: 1/h } }, input_tokens: { lognormal: { median: -4, sigma: 1 } } } } ]\n",
         "input_tokens: median must be positive and finite, got -4"),
        ("name: x\nhorizon: 1d\nprices: { m: { input: 1, output: 1 } }\npools: [ { id: p } ]\nidentities: []\nvariants: { v: { q.policies: [] } }\n",
         "variant 'v': no pool or identity 'q' (did you mean 'p'?)"),
        ("name: x\nhorizon: 1d\nprices: { m: { input: 1, output: 1 } }\npools: [ { id: p } ]\nidentities: []\nexpect: { continuty: \">= 0.9\" }\n",
         "unknown metric 'continuty' (did you mean 'continuity'?)"),
        ("name: x\nhorizon: [1d\n", "YAML:"),
        ("name: x\nhorizon: 1d\nseed: 1\nseed: 2\nprices: {}\npools: []\nidentities: []\n", "YAML:"),
    ])
    func malformedScenariosFailWithAnActionableMessage(yaml: String, expected: String) {
        let e = errors(yaml)
        #expect(e.contains { $0.contains(expected) }, "\(e)")
        #expect(e.allSatisfy { $0.range(of: #"^bad\.yaml:\d+:\d+: "#, options: .regularExpression) != nil })
    }
}
