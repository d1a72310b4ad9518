import Ledger
import Stochastic
import Testing
@testable import Simulation

@Suite("Determinism and the request lifecycle")
struct DeterminismTests {
    /// A busier model: two pools, holds with latency, retries, a degrade policy, a runaway.
    func richModel(seed: UInt64 = 7) -> SimulationModel {
        let prices = PriceTable([
            ModelPrice(model: "gpt-4o", tier: 0, inputMicrocreditsPerMillionTokens: 2_500_000, outputMicrocreditsPerMillionTokens: 10_000_000),
            ModelPrice(model: "gpt-4o-mini", tier: 1, inputMicrocreditsPerMillionTokens: 150_000, outputMicrocreditsPerMillionTokens: 600_000),
        ])
        let tokens = Sampler.lognormal(try! LogNormal(median: 900, sigma: 1.0))
        let out = Sampler.lognormal(try! LogNormal(median: 250, sigma: 0.8))
        return SimulationModel(
            name: "rich", seed: seed, horizonMs: 72 * Millis.hour,
            pools: [
                PoolSetup(PoolSpec(name: "eng", policies: [.degrade(toTier: 1, belowMicrocredits: credits(5)), .hardStop]),
                          grants: [GrantSpec(amountMicrocredits: credits(10))]),
                PoolSetup(PoolSpec(name: "ops", policies: [.overdraft(limitMicrocredits: credits(2))]),
                          grants: [GrantSpec(amountMicrocredits: credits(10), expiresAtMs: 48 * Millis.hour)]),
            ],
            identities: [
                IdentitySetup(IdentitySpec(name: "coder"), entitlements: [(pool: 0, entitlement: Entitlement())]),
                IdentitySetup(IdentitySpec(name: "oncall", stopCondition: StopCondition(windowMs: Millis.minute, baselineWindows: 30, factorPercent: 1_000, minSpendMicrocredits: credits(1) / 5)),
                              entitlements: [(pool: 1, entitlement: Entitlement())]),
            ],
            prices: prices, modelForTier: [1: 1],
            workloads: [
                Workload(name: "coder", identity: 0, pool: 0, arrivals: .poisson(ratePerHour: 40, profile: .businessHours, growthPerDay: 0.02),
                         models: [0, 1], modelWeights: [0.7, 0.3], inputTokens: tokens, outputTokens: out,
                         latencyMs: .lognormal(try! LogNormal(median: 4_000, sigma: 0.5)), reserve: .maxOutputTokens(1_000),
                         retry: RetryPolicy(maxRetries: 2, backoffMs: 30_000)),
                Workload(name: "oncall", identity: 1, pool: 1, arrivals: .renewal(ratePerHour: 12, family: .gamma(cv: 2.5), profile: .flat, growthPerDay: 0),
                         models: [1], inputTokens: tokens, outputTokens: out),
                Workload(name: "runaway", identity: 1, pool: 1, arrivals: .periodic(intervalMs: 2_000), models: [0],
                         inputTokens: .constant(3_000), outputTokens: .constant(800), stopsAtFirstRefusal: true, startMs: 30 * Millis.hour),
            ],
            sampleEveryMs: Millis.hour)
    }

    @Test func theSameSeedGivesTheSameReplicationsWhateverTheThreads() throws {
        let compiled = try CompiledModel(richModel())
        let one = try MonteCarlo.run(compiled, replications: 0..<12, threads: 1)
        let two = try MonteCarlo.run(compiled, replications: 0..<12, threads: 2)
        #expect(one == two)
        #expect(Set(one.map(\.ledgerDigest)).count == 12)  // different replications differ
        let again = try MonteCarlo.run(try CompiledModel(richModel()), replications: 3..<4)
        #expect(again[0] == one[3])
        let otherSeed = try MonteCarlo.run(try CompiledModel(richModel(seed: 8)), replications: 3..<4)
        #expect(otherSeed[0] != one[3])
    }

    @Test func theRichModelConservesRequestsAndCredits() throws {
        // Engine.run throws a ConservationError when a law breaks; check the breakdowns too.
        for r in try MonteCarlo.run(try CompiledModel(richModel()), replications: 0..<8) {
            let t = r.totals
            #expect(t.requestsTotal == t.requestsServed + t.requestsDegraded + t.requestsRejected + t.requestsInFlight)
            #expect(r.pools.reduce(0) { $0 + $1.counts.requestsTotal } == t.requestsTotal)
            #expect(r.identities.reduce(0) { $0 + $1.counts.spendMicrocredits } == t.spendMicrocredits)
            #expect(t.requestsDegraded > 0)
            #expect(r.sampleTimesMs.count == 72)
            #expect(r.pools.allSatisfy { $0.availableSeries.count == 72 })
        }
    }

    @Test func aRunawayLoopIsStoppedByTheSpendRateStopCondition() throws {
        let r = try Engine.run(try CompiledModel(richModel()), replication: 0)
        let oncall = r.identities[1]
        #expect(oncall.runawayStarted)
        let stoppedAfter = try #require(oncall.runawayStoppedAfterMs)
        // Each loop call costs 0.0155 credits; the condition needs ten
        // times the baseline (0.2 credits at least): it trips within the first minute or two.
        #expect(stoppedAfter <= 2 * Millis.minute)
        #expect(oncall.runawaySpendMicrocredits > 0)
        #expect(r.runMetrics["time_to_stop_minutes"] != nil)
        #expect(r.runMetrics["runaway_spend_credits"]! > 0)
    }

    @Test func reserveNoneLetsConcurrentRequestsOvershootTheBudget() throws {
        // 50 requests arrive at the same instant, each costing 1 credit after a 1 s latency, and
        // the pool holds 10: all pass the balance check; 40 credits are served beyond the budget.
        var model = singlePoolModel(horizonHours: 1, ratePerHour: 0, fundingMicrocredits: credits(10), fixedCostMicrocredits: credits(1),
                                    arrivals: .periodic(intervalMs: Millis.hour))
        model.workloads = (0..<50).map { i in
            Workload(name: "w\(i)", identity: 0, pool: 0, arrivals: .periodic(intervalMs: Millis.hour), models: [0],
                     fixedCostMicrocredits: credits(1), latencyMs: .constant(1_000), reserve: .none)
        }
        let r = try Engine.run(try CompiledModel(model), replication: 0)
        #expect(r.totals.requestsServed == 50)
        #expect(r.totals.spendMicrocredits == credits(10))
        #expect(r.totals.overshootMicrocredits == credits(40))
        // With holds (reserve actual), the same burst is cut at the budget.
        for i in model.workloads.indices { model.workloads[i].reserve = .actual }
        let held = try Engine.run(try CompiledModel(model), replication: 0)
        #expect(held.totals.requestsServed == 10 && held.totals.requestsRejected == 40)
        #expect(held.totals.overshootMicrocredits == 0)
    }

    @Test func reserveNoneIsAdmittedByTheSameRulesAsADebit() throws {
        // 60 one-credit requests, one a minute with a 1 s latency (never two in flight), against
        // a 5-credit daily spend cap on the entitlement and a well-funded pool. Unreserved
        // requests ask the ledger whether the debit would be accepted, so the cap refuses the
        // sixth onwards at arrival, as it does with holds: nothing is served beyond the cap.
        var model = singlePoolModel(horizonHours: 1, ratePerHour: 0, fundingMicrocredits: credits(1_000), fixedCostMicrocredits: credits(1),
                                    arrivals: .periodic(intervalMs: Millis.minute))
        model.identities[0].entitlements[0].entitlement = Entitlement(capPerPeriodMicrocredits: credits(5), capPeriodMs: Millis.day)
        model.workloads[0].latencyMs = .constant(1_000)
        model.workloads[0].reserve = .none
        let unreserved = try Engine.run(try CompiledModel(model), replication: 0)
        model.workloads[0].reserve = .actual
        let held = try Engine.run(try CompiledModel(model), replication: 0)
        #expect(held.totals.requestsTotal == 60 && held.totals.requestsServed == 5 && held.totals.requestsRejected == 55)
        #expect(unreserved.totals.requestsTotal == 60)
        #expect(unreserved.totals.requestsServed == 5)
        #expect(unreserved.totals.requestsRejected == 55)
        #expect(unreserved.totals.spendMicrocredits == credits(5))
        #expect(unreserved.totals.overshootMicrocredits == 0)
    }

    @Test func retriesWithBackoffSucceedAfterARefill() throws {
        // The pool is refilled with 1 credit each hour, and another request spends the first
        // refill at t = 0. A 1-credit request refused at t = 0 retries after 40 min and 80 min
        // more (backoff 40 min × 2): the first retry still finds the pool empty, the second lands
        // after the refill at 60 min.
        func model(periodMs: Int64) -> SimulationModel {
            var model = singlePoolModel(horizonHours: 3, ratePerHour: 0, fundingMicrocredits: 1, fixedCostMicrocredits: credits(1),
                                        arrivals: .periodic(intervalMs: 10 * Millis.hour))
            model.pools[0].spec.periodMs = periodMs
            model.pools[0].spec.refill = Refill(amountMicrocredits: credits(1))
            model.pools[0].grants = []
            model.workloads.insert(Workload(name: "first", identity: 0, pool: 0, arrivals: .periodic(intervalMs: 10 * Millis.hour),
                                            models: [0], fixedCostMicrocredits: credits(1)), at: 0)
            model.workloads[1].retry = RetryPolicy(maxRetries: 2, backoffMs: 40 * Millis.minute)
            return model
        }
        let r = try Engine.run(try CompiledModel(model(periodMs: Millis.hour)), replication: 0)
        #expect(r.totals.requestsTotal == 2)
        #expect(r.totals.requestsServed == 2)
        #expect(r.totals.spendMicrocredits == credits(2))
        #expect(r.pools[0].exhaustedAtMs == 0)
        #expect(r.pools[0].downtimeMs == 120 * Millis.minute)
        // Without a refill before the last retry (the period outlasts the horizon), the same
        // request is rejected: the refill is what served it.
        let unrefilled = try Engine.run(try CompiledModel(model(periodMs: 4 * Millis.hour)), replication: 0)
        #expect(unrefilled.totals.requestsServed == 1)
        #expect(unrefilled.totals.requestsRejected == 1)
        #expect(unrefilled.totals.spendMicrocredits == credits(1))
    }
}

@Suite("Metric names")
struct MetricNameTests {
    @Test func replicationMetricsUseTheNamesOfTheContract() throws {
        let model = DeterminismTests().richModel()
        let r = try Engine.run(try CompiledModel(model), replication: 0)
        // DESIGN.md, "Metrics": these names are part of the contract.
        let contract: Set<String> = [
            "requests_total", "requests_served", "requests_degraded", "requests_rejected", "continuity", "full_service",
            "exhaustion_probability", "time_to_exhaustion_hours", "downtime_hours", "spend_credits", "overage_credits",
            "unused_credits", "budget_utilisation", "overshoot_credits", "runaway_spend_credits", "time_to_stop_minutes",
        ]
        // Keys added since (DESIGN.md: "more keys may be added; these keep their meaning").
        // Token classes (DESIGN.md, "Prices and token classes"): only in runs with a cache or batch.
        // The leaked credential's, named by DESIGN.md's "Faults: a leaked credential".
        let known = contract.union(["spend_cv", "runaway_stopped", "leak_spend_credits", "leak_requests_served", "time_to_revoke_hours", "cached_input_share", "cache_savings_credits",
                                    "input_spend_credits", "cached_input_spend_credits", "cache_write_spend_credits",
                                    "cache_write_1h_spend_credits", "output_spend_credits",
                                    // Spend by delegation depth (DESIGN.md, "Delegation"): only in runs with agent chains.
                                    "depth_0_spend_credits", "depth_1_spend_credits", "depth_2_spend_credits",
                                    "depth_3_spend_credits", "depth_4_spend_credits"])
        #expect(Set(Metric.names) == known, "the registry and the contract differ")
        let names = Set(r.runMetrics.keys)
        #expect(names.isSubset(of: known), "unexpected: \(names.subtracting(known))")
        #expect(contract.subtracting(names).isEmpty, "missing: \(contract.subtracting(names))")
        #expect(Set(r.poolMetrics(0).keys).isSubset(of: known))
        #expect(Set(r.identityMetrics(1).keys).isSubset(of: known))
        let summary = summarize([r.runMetrics, try Engine.run(try CompiledModel(model), replication: 1).runMetrics])
        #expect(summary["spend_cv"] != nil)
        #expect(summary["exhaustion_probability"]!.ci95.count == 2)
    }
}
