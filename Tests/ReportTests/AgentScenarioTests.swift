import Foundation
import Testing
@testable import Reports
@testable import Scenario
import Simulation

/// `agents:` on a workload (docs/scenario-format.md, "Agent chains"): parsed with located errors,
/// run through the ledger's delegations, reported as spend by depth in `summary.json`.
@Suite struct AgentScenarioTests {
    static func yaml(_ agents: String, workload: String = "arrivals: { periodic: { rate: 1/h } }, cost: { fixed: 0.5 }") -> String {
        """
        name: chains
        horizon: 10h
        pools: [ { id: eng, grants: [ { amount: 1000 } ] } ]
        identities:
          - id: planner
            pool: eng
            workload: { \(workload), agents: \(agents) }
        """
    }

    @Test func aChainIsParsedWithItsDefaults() throws {
        let s = try Scenario.parse(yaml: Self.yaml("{ delegate: [5, 1], children: 3, requests: 2 }"), file: "a.yaml", directory: ".")
        #expect(s.base.workloads[0].agents == AgentChain(delegateMicrocredits: [5_000_000, 1_000_000], children: 3, requests: 2, closesAfter: true))
        let one = try Scenario.parse(yaml: Self.yaml("{ delegate: 2, depth: 3, close: never }"), file: "a.yaml", directory: ".")
        #expect(one.base.workloads[0].agents == AgentChain(delegateMicrocredits: [2_000_000, 2_000_000, 2_000_000], children: 1, requests: 1, closesAfter: false))
    }

    @Test func badChainsAreLocatedErrors() {
        // Line 7 is the identity's workload; its `agents:` mapping opens at column 86.
        let cases: [(String, String)] = [
            ("{ delegate: 5, depth: 5 }", "bad.yaml:7:108: agents.depth is at most 4, the ledger's max_delegation_depth (got 5)"),
            ("{ delegate: -5 }", "bad.yaml:7:98: agents.delegate must not be negative, got -5"),
            ("{ delegate: 0 }", "bad.yaml:7:98: agents.delegate must be positive"),
            ("{ delegate: 5, fanout: 3 }", "bad.yaml:7:101: agents: unknown key 'fanout'"),
            ("{ delegate: [5, 1], depth: 3 }", "bad.yaml:7:113: agents.depth 3 differs from the 2 amount(s) listed in 'delegate'"),
            ("{ delegate: [1, 1, 1, 1, 1] }", "bad.yaml:7:98: agents.delegate lists 5 levels; the ledger's max_delegation_depth is 4"),
            ("{ children: 2 }", "bad.yaml:7:86: agents need 'delegate'"),
            ("{ delegate: 1, children: 0 }", "bad.yaml:7:111: agents.children must be at least 1, got 0"),
            ("{ delegate: 1, requests: -1 }", "bad.yaml:7:111: agents.requests must be at least 0, got -1"),
            ("{ delegate: 1, close: later }", "bad.yaml:7:108: agents.close is after"),
            ("{ delegate: 1, children: 100, depth: 3 }", "bad.yaml:7:111: a task's agent tree is at most 10,000 sub-agents"),
        ]
        for (agents, expected) in cases {
            let e = errors(Self.yaml(agents))
            #expect(e.count == 1 && e[0].hasPrefix(expected), "\(agents): \(e)")
        }
    }

    @Test func theWorkEstimateCountsEachTasksAgentTree() throws {
        let plain = try Scenario.parse(yaml: Self.yaml("{ delegate: 1 }").replacingOccurrences(of: ", agents: { delegate: 1 }", with: ""),
                                       file: "a.yaml", directory: ".")
        let chain = try Scenario.parse(yaml: Self.yaml("{ delegate: [5, 1], children: 3, requests: 2 }"), file: "a.yaml", directory: ".")
        #expect(plain.base.workloads[0].agents == nil)
        let perTask = 1.0 + 12 * (1 + 2) + 3  // the task, 12 sub-agents' delegations and requests, 3 closes
        let task = plain.work[0].parts[0].eventsPerReplication
        #expect(task == 10)
        #expect(chain.work[0].parts[0].eventsPerReplication == task * perTask)
    }

    @Test func aReplayTakesNoAgents() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "timestamp,identity,model,input_tokens,output_tokens\n0,planner,m,10,10\n1000,planner,m,10,10\n".write(toFile: dir + "/t.csv", atomically: true, encoding: .utf8)
        let e = errors(Self.yaml("{ delegate: 1 }", workload: "replay: { trace: t.csv, resample: none }, cost: { fixed: 1 }"), directory: dir)
        #expect(e.count == 1 && e[0].contains("agents spawn sub-agents from synthetic requests"), "\(e)")
    }

    @Test func summaryReportsSpendByDepthTheSameOnOneAndTwoThreads() throws {
        let yaml = """
            name: chains
            horizon: 2d
            seed: 7
            prices:
              small: { input: 1.0, output: 4.0 }
              large: { input: 5.0, output: 15.0 }
            pools: [ { id: eng, grants: [ { amount: 300 } ] } ]
            identities:
              - id: planner
                pool: eng
                workload:
                  arrivals: { poisson: { rate: 4/h } }
                  model: { small: 0.7, large: 0.3 }
                  input_tokens: { lognormal: { median: 20000, sigma: 1 } }
                  output_tokens: { lognormal: { median: 2000, sigma: 0.8 } }
                  agents: { delegate: [2, 0.5], children: 2, requests: 2 }
              - id: solo
                pool: eng
                workload: { arrivals: { poisson: { rate: 2/h } }, model: small, input_tokens: 1000 }
            """
        let s = try Scenario.parse(yaml: yaml, file: "chains.yaml", directory: ".")
        let one = Summary(try RunData.run(s, replications: 6, threads: 1)).text
        let two = Summary(try RunData.run(s, replications: 6, threads: 2)).text
        #expect(one == two)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(one.utf8)) as? [String: Any])
        let run = try #require(json["metrics"] as? [String: Any])
        for d in 0...2 { #expect(run["depth_\(d)_spend_credits"] != nil, "depth \(d)") }
        #expect(run["depth_3_spend_credits"] == nil)
        let identities = try #require(json["identities"] as? [String: Any])
        let planner = try #require((identities["planner"] as? [String: Any])?["metrics"] as? [String: Any])
        let solo = try #require((identities["solo"] as? [String: Any])?["metrics"] as? [String: Any])
        #expect(planner["depth_1_spend_credits"] != nil)
        #expect(solo["depth_0_spend_credits"] == nil, "an identity without agents reports no depths")
        // The depths sum to the spend, replication by replication.
        let data = try RunData.run(s, replications: 3, threads: 1)
        for r in data.variants[0].records {
            let sum = (0...2).reduce(0.0) { $0 + (r.run["depth_\($1)_spend_credits"] ?? .nan) }
            #expect(abs(sum - r.run["spend_credits"]!) < 1e-6)
            #expect(r.run["depth_1_spend_credits"]! > 0)
        }
    }
}
