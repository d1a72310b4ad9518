import Ledger
import Stochastic
import Testing
@testable import Simulation

/// Agent chains in the simulator (DESIGN.md, "Delegation: budgets down an agent chain"): each
/// task's sub-agents draw through ledger delegations, and the run reports spend by depth.
@Suite struct AgentChainTests {
    /// One pool, one identity whose workload is `tasks` tasks (one an hour, from time zero) at a
    /// fixed cost, each running `chain`.
    static func model(_ chain: AgentChain?, tasks: Int64 = 10, costMicrocredits: Int64, fundingMicrocredits: Int64 = credits(1_000)) -> SimulationModel {
        var m = singlePoolModel(horizonHours: tasks, ratePerHour: 0, fundingMicrocredits: fundingMicrocredits,
                                fixedCostMicrocredits: costMicrocredits, arrivals: .periodic(intervalMs: Millis.hour))
        m.workloads[0].agents = chain
        return m
    }

    /// Runs replication 0 and returns its result with the run's final ledger.
    static func run(_ model: SimulationModel) throws -> (ReplicationResult, ReplicationRun) {
        var run = ReplicationRun(try CompiledModel(model), replication: 0)
        let result = try run.execute()
        return (result, run)
    }

    @Test func spendByDepthIsExactWithFixedCosts() throws {
        // 3 sub-agents of 5 credits each, each making 2 requests of 0.5 and handing 1 credit to
        // each of its own 3 sub-agents, which make 2 requests each.
        let chain = AgentChain(delegateMicrocredits: [credits(5), credits(1)], children: 3, requests: 2)
        let (plain, _) = try Self.run(Self.model(nil, costMicrocredits: 500_000))
        let tasks = plain.totals.requestsTotal
        #expect(tasks == 10)
        #expect(plain.spendByDepthMicrocredits == nil && plain.identities[0].spendByDepthMicrocredits == nil)
        #expect(plain.runMetrics[Metric.spendByDepth[0].name] == nil)

        let (r, run) = try Self.run(Self.model(chain, costMicrocredits: 500_000))
        let perTask: Int64 = 1 + 3 * 2 + 9 * 2
        #expect(r.totals.requestsTotal == tasks * perTask)
        #expect(r.totals.requestsServed == tasks * perTask)
        let depths = try #require(r.spendByDepthMicrocredits)
        #expect(depths == [tasks * 500_000, tasks * 3 * 2 * 500_000, tasks * 9 * 2 * 500_000])
        #expect(r.identities[0].spendByDepthMicrocredits == depths)
        #expect(r.totals.spendMicrocredits == depths.reduce(0, +))
        #expect(r.runMetrics["depth_1_spend_credits"] == Double(tasks * 3))
        #expect(r.runMetrics["depth_2_spend_credits"] == Double(tasks * 9))
        #expect(r.runMetrics["depth_3_spend_credits"] == nil)
        #expect(r.identityMetrics(0)["depth_0_spend_credits"] == Double(tasks) * 0.5)
        // Every delegation was closed, and what the sub-agents left came back to the pool.
        let pool = run.poolIDs[0]
        #expect(run.ledger.openDelegations.isEmpty)
        #expect(run.ledger.available(in: pool) == credits(1_000) - r.totals.spendMicrocredits)
        #expect(r.pools[0].endBalanceMicrocredits == credits(1_000) - r.totals.spendMicrocredits)
        // The sub-agents are identities the ledger created, reused by every task.
        #expect(run.ledger.identity(named: "agent:sub-3.3") != nil)
        #expect(run.ledger.identity(named: "agent:sub-4") == nil)
    }

    @Test func aDelegationTooSmallRefusesTheChildAndTheRestReturnsOnClose() throws {
        // Each sub-agent gets 1 credit and asks for 3 requests of 0.4: two pass, the third finds
        // 0.2 left in its delegation; closing returns the 0.2 to the pool.
        let chain = AgentChain(delegateMicrocredits: [credits(1)], children: 2, requests: 3)
        let model = Self.model(chain, costMicrocredits: 400_000)
        let (r, run) = try Self.run(model)
        let tasks: Int64 = 10
        #expect(r.totals.requestsTotal == tasks * (1 + 2 * 3))
        #expect(r.totals.requestsServed == tasks * (1 + 2 * 2))
        #expect(r.totals.requestsRejected == tasks * 2)
        #expect(r.totals.rejectedForCredit == 0, "a delegation running short is not the pool running dry")
        #expect(r.pools[0].exhaustedAtMs == nil)
        #expect(r.spendByDepthMicrocredits == [tasks * 400_000, tasks * 2 * 2 * 400_000])
        #expect(run.ledger.openDelegations.isEmpty)
        #expect(run.ledger.available(in: run.poolIDs[0]) == credits(1_000) - r.totals.spendMicrocredits)
        let (_, tally) = try Engine.runTallyingRejections(try CompiledModel(model), replication: 0)
        #expect(tally.identity(0) == ["delegation_exhausted": tasks * 2])

        // Left open (close: never), each task's unspent rests stay held on the pool.
        var open = chain
        open.closesAfter = false
        let (o, orun) = try Self.run(Self.model(open, costMicrocredits: 400_000))
        #expect(o.totals.spendMicrocredits == r.totals.spendMicrocredits)
        #expect(orun.ledger.openDelegations.count == Int(tasks) * 2)
        #expect(orun.ledger.available(in: orun.poolIDs[0]) == credits(1_000) - o.totals.spendMicrocredits - tasks * 2 * 200_000)
    }

    @Test func aPoolTooSmallForTheRootDelegationRefusesTheWholeTree() throws {
        // 3 credits; each task: 2 roots of 1 credit, each sub-agent makes a request of 0.4 and
        // hands 0.5 to each of 2 sub-agents (the second finds 0.1 free: refused), which make one
        // request each; then the task's own request. Task 1 spends 2 × 0.8 + 0.4, leaving 1.0;
        // task 2's first root spends 0.8 (0.2 left), its second root and its own request are
        // refused for lack of credit, as is everything after.
        let chain = AgentChain(delegateMicrocredits: [credits(1), credits(1) / 2], children: 2, requests: 1)
        let model = Self.model(chain, costMicrocredits: 400_000, fundingMicrocredits: credits(3))
        let (r, run) = try Self.run(model)
        #expect(r.totals.requestsTotal == 10 * (1 + 2 + 4))
        #expect(r.totals.requestsServed == 5 + 2)
        #expect(r.totals.spendMicrocredits == 2_800_000)
        #expect(r.spendByDepthMicrocredits == [400_000, 1_200_000, 1_200_000])
        #expect(r.totals.rejectedForCredit == 60)
        #expect(r.pools[0].exhaustedAtMs == Millis.hour)
        #expect(run.ledger.openDelegations.isEmpty)
        #expect(run.ledger.available(in: run.poolIDs[0]) == credits(3) - r.totals.spendMicrocredits)
        let (_, tally) = try Engine.runTallyingRejections(try CompiledModel(model), replication: 0)
        #expect(tally.identity(0) == ["delegation_exhausted": 3, "insufficient_funds": 60])
    }

    @Test func agentChainsGiveTheSameReplicationsWhateverTheThreads() throws {
        let prices = [ModelPrice(model: "small", tier: 0, inputMicrocreditsPerMillionTokens: 1_000_000, outputMicrocreditsPerMillionTokens: 4_000_000),
                      ModelPrice(model: "large", tier: 0, inputMicrocreditsPerMillionTokens: 5_000_000, outputMicrocreditsPerMillionTokens: 15_000_000)]
        var m = singlePoolModel(horizonHours: 48, ratePerHour: 6, fundingMicrocredits: credits(400), prices: prices, models: [0, 1],
                                weights: [0.7, 0.3], input: .lognormal(try LogNormal(median: 20_000, sigma: 1)),
                                output: .lognormal(try LogNormal(median: 2_000, sigma: 0.8)))
        m.workloads[0].agents = AgentChain(delegateMicrocredits: [credits(2), credits(1) / 2, credits(1) / 10], children: 2, requests: 2)
        m.workloads[0].latencyMs = .constant(5_000)
        let compiled = try CompiledModel(m)
        let one = try MonteCarlo.run(compiled, replications: 0..<6, threads: 1)
        let two = try MonteCarlo.run(compiled, replications: 0..<6, threads: 2)
        #expect(one == two)
        #expect(Set(one.map(\.ledgerDigest)).count == 6)
        for r in one {
            let depths = try #require(r.spendByDepthMicrocredits)
            #expect(depths.count == 4)
            #expect(depths.reduce(0, +) == r.totals.spendMicrocredits)
            #expect(depths.allSatisfy { $0 >= 0 } && depths[1] > 0)
        }
    }

    @Test func aTighterChainDrawsTheSameRequests() throws {
        // Common random numbers: sub-agents' requests are drawn whether or not their delegation
        // can pay, so a variant with smaller budgets below sees the same tasks and token draws,
        // and the identity's own requests (depth 0) cost the same.
        let prices = [ModelPrice(model: "m", tier: 0, inputMicrocreditsPerMillionTokens: 2_000_000, outputMicrocreditsPerMillionTokens: 8_000_000)]
        func model(_ helpers: Int64) throws -> SimulationModel {
            var m = singlePoolModel(horizonHours: 24, ratePerHour: 5, fundingMicrocredits: credits(1_000), prices: prices,
                                    input: .lognormal(try LogNormal(median: 5_000, sigma: 1)), output: .constant(500))
            m.workloads[0].agents = AgentChain(delegateMicrocredits: [credits(1), helpers], children: 2, requests: 2)
            return m
        }
        let wide = try Engine.run(try CompiledModel(model(credits(1) / 4)), replication: 3)
        let tight = try Engine.run(try CompiledModel(model(credits(1) / 100)), replication: 3)
        #expect(wide.totals.requestsTotal == tight.totals.requestsTotal)
        #expect(tight.totals.requestsRejected > wide.totals.requestsRejected)
        let w = try #require(wide.spendByDepthMicrocredits), t = try #require(tight.spendByDepthMicrocredits)
        #expect(w[0] == t[0] && w[0] > 0)
        #expect(t[2] < w[2])
    }

    @Test func setUpRefusesAChainTheLedgerCannotHold() {
        for chain in [AgentChain(delegateMicrocredits: [1, 1, 1, 1, 1]), AgentChain(delegateMicrocredits: [1], children: 0),
                      AgentChain(delegateMicrocredits: [-1]), AgentChain(delegateMicrocredits: [])] {
            #expect(throws: SetupError.self) { try CompiledModel(Self.model(chain, costMicrocredits: 1)) }
        }
    }
}
