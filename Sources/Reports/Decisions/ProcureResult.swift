import Ledger
import Scenario
import Simulation
import Stochastic

/// What the pools as written did to one variant's demand: the same replications, run with the
/// scenario's own funding and policies.
public struct PoolLimits: Sendable {
    /// Per replication, the demand the pools let through (credits spent over time).
    public var allowed: [UsageCurve]
    /// Per replication, requests a pool refused for lack of credit (after any retries).
    public var refusedForCredit: [Int64]
    /// Per replication, requests a pool's policy degraded to a cheaper model.
    public var degraded: [Int64]
    /// Per replication, requests still refused for lack of credit with the pools' limits lifted
    /// (a delegation's own budget, say): they are not in the priced demand either.
    public var refusedWhenLifted: [Int64]
    /// The pools that refused or degraded a request in some replication, in model order.
    public var cappingPools: [String] = []

    /// Replications in which the pools cut the demand: a request refused for lack of credit, or
    /// less spent than the workload spends with the limits lifted (degraded, throttled past the
    /// horizon, charged short).
    public func cappedReplications(demand: [UsageCurve]) -> Int {
        demand.indices.filter { r in refusedForCredit[r] > 0 || allowed[r].total < demand[r].total - 1e-6 }.count
    }
}

/// `burnrate procure`: every plan priced on the same simulated demand, replication by replication.
///
/// Demand, for procurement, is what the workload would use: each variant is run twice on the same
/// replications (same seed, same streams: common random numbers), once as written, to see whether
/// its pools refused or degraded requests for lack of credit, and once with every pool's credit
/// limit lifted (``liftingCreditLimits(_:)``); the plans price the second run.
public struct ProcureResult: Sendable {
    public var scenario: String
    /// nil for the scenario as written, else the variant's name.
    public var variant: String?
    public var replications: Int
    public var horizonHours: Double
    public var plans: [Plan]
    /// Per replication, the demand curve the plans price.
    public var demand: [UsageCurve]
    /// costs[plan][replication].
    public var costs: [[PlanCost]]
    public var breakEvens: [(a: String, b: String, usage: [Double])]
    /// How the pools as written limited the demand (nil when the result was built from curves).
    public var limits: PoolLimits?
    /// The scenario's variants, each priced the same way (on the result of the scenario as written).
    public var variants: [ProcureResult] = []

    public init(scenario: String, variant: String? = nil, replications: Int, horizonHours: Double, plans: [Plan],
                demand: [UsageCurve], limits: PoolLimits? = nil) {
        self.scenario = scenario
        self.variant = variant
        self.replications = replications
        self.horizonHours = horizonHours
        self.plans = plans
        self.demand = demand
        self.limits = limits
        costs = plans.map { plan in demand.map { PlanPricing.price(plan, $0) } }
        let top = max(demand.map(\.total).max() ?? 1, 1)
        var pairs: [(String, String, [Double])] = []
        for i in plans.indices {
            for j in plans.indices where j > i {
                pairs.append((plans[i].id, plans[j].id, PlanPricing.breakEvens(plans[i], plans[j], horizonHours: horizonHours, upTo: 2 * top)))
            }
        }
        breakEvens = pairs
    }

    /// What every pool gets when its credit limits are lifted: a grant burned after all others
    /// (lowest priority, no expiry), so large that no draw is short and no threshold policy
    /// (degrade, throttle, top-up, alerts) is reached. A billion credits, less when many pools
    /// would bring the ledger's total funding near `Int64` (a quarter of it at most).
    static func liftMicrocredits(pools: Int) -> Int64 {
        min(1_000_000_000 * Money.microcreditsPerCredit, Int64.max / 4 / Int64(max(1, pools)))
    }

    /// The model with every pool's credit limit lifted (``liftMicrocredits(pools:)``); identities'
    /// caps, rate caps, stop conditions and everything random are left as they are, so the run
    /// draws the same requests as the model as written.
    public static func liftingCreditLimits(_ model: SimulationModel) -> SimulationModel {
        var lifted = model
        let amount = liftMicrocredits(pools: model.pools.count)
        for p in lifted.pools.indices {
            lifted.pools[p].grants.append(GrantSpec(amountMicrocredits: amount, priority: .max, category: .paid))
        }
        return lifted
    }

    /// Runs every variant of the scenario as written and with its pools' credit limits lifted,
    /// and prices the lifted demand. `progress` gets (replications done, replications in all).
    public static func run(_ scenario: Scenario, replications: Int, threads: Int?,
                           progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> ProcureResult {
        guard !scenario.plans.isEmpty else { throw DecisionError("\(scenario.file): the scenario has no 'plans:' to compare") }
        let total = 2 * replications * scenario.variants.count
        var results: [ProcureResult] = []
        for (v, variant) in scenario.variants.enumerated() {
            var model = variant.model
            // Hourly samples at least, so that pack purchases and periods fall close to their time.
            model.sampleEveryMs = min(model.sampleEveryMs, 3_600_000)
            let asWrittenDone = 2 * v * replications, liftedDone = asWrittenDone + replications
            let asWritten = try MonteCarlo.run(try CompiledModel(model), replications: 0..<replications, threads: threads,
                                               progress: progress.map { p in { @Sendable n in p(asWrittenDone + n, total) } })
            let lifted = try MonteCarlo.run(try CompiledModel(liftingCreditLimits(model)), replications: 0..<replications, threads: threads,
                                            progress: progress.map { p in { @Sendable n in p(liftedDone + n, total) } })
            let limits = PoolLimits(allowed: asWritten.map(UsageCurve.init), refusedForCredit: asWritten.map(\.totals.rejectedForCredit),
                                    degraded: asWritten.map(\.totals.requestsDegraded),
                                    refusedWhenLifted: lifted.map(\.totals.rejectedForCredit),
                                    cappingPools: model.pools.indices.filter { p in
                                        asWritten.contains { $0.pools[p].counts.rejectedForCredit > 0 || $0.pools[p].counts.requestsDegraded > 0 }
                                    }.map { model.pools[$0].spec.name })
            results.append(ProcureResult(scenario: scenario.name, variant: variant.name, replications: replications,
                                         horizonHours: Double(model.horizonMs) / 3_600_000, plans: scenario.plans,
                                         demand: lifted.map(UsageCurve.init), limits: limits))
        }
        var out = results[0]
        out.variants = Array(results.dropFirst())
        return out
    }

    /// The share of replications in which each plan is cheapest (ties shared equally), among the
    /// plans that served the whole demand of that replication (a plan that stops when exhausted
    /// buys less service, so it is not cheaper for the same usage).
    public var probabilityCheapest: [Double] { Self.probabilityCheapest(costs, by: \.cost) }

    /// The same on the pro-rated view (``PlanCost/proratedCost``).
    public var probabilityCheapestProrated: [Double] { Self.probabilityCheapest(costs, by: \.proratedCost) }

    static func probabilityCheapest(_ costs: [[PlanCost]], by value: (PlanCost) -> Double) -> [Double] {
        let replications = costs.first?.count ?? 0
        var wins = Array(repeating: 0.0, count: costs.count)
        for r in 0..<replications {
            // A plan that stopped serving did not buy the same usage: it competes only when no plan served it all.
            let full = costs.indices.filter { costs[$0][r].continuity >= 1 - 1e-12 }
            let eligible = full.isEmpty ? Array(costs.indices) : full
            let c = costs.map { value($0[r]) }
            let best = eligible.map { c[$0] }.min() ?? 0
            let winners = eligible.filter { abs(c[$0] - best) <= 1e-9 * max(1, abs(best)) }
            for w in winners { wins[w] += 1 / Double(winners.count) }
        }
        return wins.map { $0 / Double(max(1, replications)) }
    }

    /// Plans whose period the horizon cuts short, by index: the period and the horizon's share of it.
    public var partialPeriods: [Int: (periodHours: Double, share: Double)] {
        var out: [Int: (periodHours: Double, share: Double)] = [:]
        for (i, plan) in plans.enumerated() {
            if let p = PlanPricing.partialPeriod(plan, horizonHours: horizonHours) { out[i] = p }
        }
        return out
    }

    /// The plans priced on the demand the pools as written allowed (what a run with the
    /// scenario's own funding would have priced); nil without ``limits``.
    public var pricedAsWritten: ProcureResult? {
        guard let limits else { return nil }
        return ProcureResult(scenario: scenario, variant: variant, replications: replications, horizonHours: horizonHours,
                             plans: plans, demand: limits.allowed)
    }

    func summaries(_ p: Int) -> [String: MetricSummary] {
        var out: [String: MetricSummary] = [:]
        let c = costs[p]
        out["cost"] = MetricSummary(c.map(\.cost))
        out["cost_per_served_request"] = MetricSummary(c.map { $0.servedRequests > 0 ? $0.cost / $0.servedRequests : 0 })
        out["unused_credits"] = MetricSummary(c.map(\.unusedCredits))
        out[Metric.continuity.name] = MetricSummary(c.map(\.continuity))
        if !partialPeriods.isEmpty { out["cost_prorated"] = MetricSummary(c.map(\.proratedCost)) }
        return out
    }

    /// The answer of this result alone: plans, break-evens, demand and recommendation.
    var body: [String: JSON] {
        var plansJSON: [String: JSON] = [:]
        let cheapest = probabilityCheapest, partial = partialPeriods
        let prorated = partial.isEmpty ? [] : probabilityCheapestProrated
        for (i, plan) in plans.enumerated() {
            guard case .object(var o) = Summary.metricsJSON(summaries(i)) else { continue }
            o["probability_cheapest"] = .number(cheapest[i])
            if !partial.isEmpty { o["probability_cheapest_prorated"] = .number(prorated[i]) }
            if let p = partial[i] {
                o["partial_period"] = .object(["period_days": .number(p.periodHours / 24), "horizon_share": .number(roundMicro(p.share))])
            }
            plansJSON[plan.id] = .object(o)
        }
        var be: [JSON] = []
        for pair in breakEvens {
            for u in pair.usage { be.append(.object(["plans": .array([.string(pair.a), .string(pair.b)]), "usage_credits": .number(u)])) }
        }
        var out: [String: JSON] = [
            "horizon_hours": .number(horizonHours), "usage_credits": Summary.metricJSON("usage_credits", MetricSummary(demand.map(\.total))!),
            "plans": .object(plansJSON), "break_even": .array(be),
        ]
        if let r = recommendation { out["recommendation"] = r.json(plans) }
        if let limits, let asWritten = pricedAsWritten {
            var d: [String: JSON] = [
                "priced": .string("credit_limits_lifted"),
                "capping_pools": .array(limits.cappingPools.map(JSON.string)),
                "capped_replications": .number(Double(limits.cappedReplications(demand: demand))),
                "as_written_usage_credits": Summary.metricJSON("usage_credits", MetricSummary(limits.allowed.map(\.total))!),
                "requests_refused_for_credit": Summary.metricJSON("requests_refused_for_credit", MetricSummary(limits.refusedForCredit.map(Double.init))!),
                "requests_degraded": Summary.metricJSON("requests_degraded", MetricSummary(limits.degraded.map(Double.init))!),
            ]
            if limits.refusedWhenLifted.contains(where: { $0 > 0 }) {
                d["requests_refused_for_credit_when_lifted"] = Summary.metricJSON("requests_refused_for_credit_when_lifted",
                                                                                  MetricSummary(limits.refusedWhenLifted.map(Double.init))!)
            }
            if let r = asWritten.recommendation { d["cheapest_as_written"] = .string(plans[r.plan].id) }
            out["demand"] = .object(d)
        }
        return out
    }

    public var json: JSON {
        var o = body
        o["schema"] = .string("burnrate.procure/1")
        o["scenario"] = .string(scenario)
        o["replications"] = .number(Double(replications))
        if !variants.isEmpty {
            var v: [String: JSON] = [:]
            for r in variants { v[r.variant ?? ""] = .object(r.body) }
            o["variants"] = .object(v)
        }
        return .object(o)
    }
}
