import Scenario
import Simulation
import Stochastic

/// Cumulative usage over the horizon in one replication: credits consumed and requests served by
/// time t, linear between the simulation's samples.
public struct UsageCurve: Sendable {
    public var timesHours: [Double]
    public var usageCredits: [Double]
    public var served: [Double]

    /// From a replication's sampled series, closed at the horizon with its totals.
    public init(_ r: ReplicationResult) {
        var t = r.sampleTimesMs.map { Double($0) / 3_600_000 }
        var u = r.spendSeries.map { Double($0) / 1_000_000 }
        var s = r.servedSeries.map(Double.init)
        if t.first != 0 { t.insert(0, at: 0); u.insert(0, at: 0); s.insert(0, at: 0) }
        t.append(Double(r.horizonMs) / 3_600_000)
        u.append(Double(r.totals.spendMicrocredits) / 1_000_000)
        s.append(Double(r.totals.requestsServed + r.totals.requestsDegraded))
        self.init(timesHours: t, usageCredits: u, served: s)
    }

    public init(timesHours: [Double], usageCredits: [Double], served: [Double]) {
        self.timesHours = timesHours
        self.usageCredits = usageCredits
        self.served = served
    }

    /// `total` credits used at a constant rate over `horizonHours` (for break-even curves).
    public static func uniform(total: Double, horizonHours: Double) -> UsageCurve {
        UsageCurve(timesHours: [0, horizonHours], usageCredits: [0, total], served: [0, 0])
    }

    public var horizonHours: Double { timesHours.last ?? 0 }
    public var total: Double { usageCredits.last ?? 0 }

    func interpolate(_ ys: [Double], at t: Double) -> Double {
        guard let last = timesHours.last, t < last else { return ys.last ?? 0 }
        var i = 0
        while i + 1 < timesHours.count && timesHours[i + 1] <= t { i += 1 }
        let t0 = timesHours[i], t1 = timesHours[i + 1]
        return t1 > t0 ? ys[i] + (ys[i + 1] - ys[i]) * (t - t0) / (t1 - t0) : ys[i + 1]
    }

    public func usage(at t: Double) -> Double { interpolate(usageCredits, at: t) }
    public func served(at t: Double) -> Double { interpolate(served, at: t) }
}

/// What one plan costs under one usage curve.
public struct PlanCost: Sendable, Equatable {
    public var cost: Double
    /// Credits paid for and never used (expired, lost at a period's end, or left at the horizon).
    public var unusedCredits: Double
    public var servedRequests: Double
    /// Share of the demand served (below 1 only for a prepaid plan that stops when exhausted).
    public var continuity: Double
}

/// Prices plans on usage curves (DESIGN.md, "Buying plans").
public enum PlanPricing {
    public static func price(_ plan: Plan, _ curve: UsageCurve) -> PlanCost {
        let served = curve.served.last ?? 0
        switch plan.kind {
        case .payAsYouGo(let p):
            return PlanCost(cost: p * curve.total, unusedCredits: 0, servedRequests: served, continuity: 1)
        case .licence(let l):
            let period = Double(l.periodMs) / 3_600_000
            let periods = max(1, Int((curve.horizonHours / period - 1e-9).rounded(.up)))
            var cost = 0.0, unused = 0.0
            for k in 0..<periods {
                let used = curve.usage(at: min(Double(k + 1) * period, curve.horizonHours)) - curve.usage(at: Double(k) * period)
                cost += Double(l.seats) * l.pricePerSeat + max(0, used - l.includedCredits) * l.overagePricePerCredit
                unused += max(0, l.includedCredits - used)
            }
            return PlanCost(cost: cost, unusedCredits: unused, servedRequests: served, continuity: 1)
        case .commit(let c):
            let period = Double(c.periodMs) / 3_600_000
            let periods = max(1, Int((curve.horizonHours / period - 1e-9).rounded(.up)))
            var cost = 0.0, unused = 0.0, carry = 0.0
            for k in 0..<periods {
                let used = curve.usage(at: min(Double(k + 1) * period, curve.horizonHours)) - curve.usage(at: Double(k) * period)
                let credits = c.amount / (1 - c.discount) + carry
                cost += c.amount + max(0, used - credits) * c.overagePricePerCredit
                let left = max(0, credits - used)
                carry = k + 1 < periods ? c.rollover * left : 0
                unused += left - carry
            }
            return PlanCost(cost: cost, unusedCredits: unused, servedRequests: served, continuity: 1)
        case .prepaid(let p):
            return prepaid(p, curve)
        }
    }

    /// The price of the next pack after `bought` credits.
    static func packPrice(_ p: Plan.Prepaid, bought: Double) -> Double {
        if let price = p.packPrice { return price }
        var cost = 0.0
        let start = bought, end = bought + p.packCredits
        for (i, tier) in p.tiers.enumerated() {
            let upper = i + 1 < p.tiers.count ? p.tiers[i + 1].fromCredits : .infinity
            let lo = max(start, tier.fromCredits), hi = min(end, upper)
            if hi > lo { cost += (hi - lo) * tier.pricePerCredit }
        }
        return cost
    }

    /// Packs consumed oldest first; a pack bought at t expires at t + expires.
    static func prepaid(_ p: Plan.Prepaid, _ curve: UsageCurve) -> PlanCost {
        let expires = p.expiresMs.map { Double($0) / 3_600_000 } ?? .infinity
        var packs: [(left: Double, expiresAt: Double)] = []
        var cost = 0.0, bought = 0.0, unused = 0.0
        func buy(at t: Double) {
            cost += packPrice(p, bought: bought)
            bought += p.packCredits
            packs.append((p.packCredits, t + expires))
        }
        let overagePrice = p.overagePricePerCredit ?? packPrice(p, bought: 0) / p.packCredits
        let epsilon = 1e-9
        buy(at: 0)
        var t = 0.0
        let horizon = curve.horizonHours
        var segment = 0
        while t < horizon - epsilon {
            // Expire what is due.
            for i in packs.indices where packs[i].expiresAt <= t + epsilon { unused += packs[i].left; packs[i].left = 0 }
            packs.removeAll { $0.left <= epsilon && $0.expiresAt <= t + epsilon }
            while segment + 1 < curve.timesHours.count && curve.timesHours[segment + 1] <= t + epsilon { segment += 1 }
            guard segment + 1 < curve.timesHours.count else { break }
            let t0 = curve.timesHours[segment], t1 = curve.timesHours[segment + 1]
            let rate = t1 > t0 ? (curve.usageCredits[segment + 1] - curve.usageCredits[segment]) / (t1 - t0) : 0
            let nextExpiry = packs.map(\.expiresAt).filter { $0 > t + epsilon }.min() ?? .infinity
            let stepEnd = min(t1, nextExpiry, horizon)
            let need = rate * (stepEnd - t)
            let available = packs.reduce(0) { $0 + $1.left }
            if available >= need - epsilon {
                var rest = need
                for i in packs.indices where rest > 0 {
                    let take = min(rest, packs[i].left)
                    packs[i].left -= take
                    rest -= take
                }
                t = stepEnd
                continue
            }
            // Runs dry inside this step.
            let dry = t + available / rate
            for i in packs.indices { packs[i].left = 0 }
            switch p.whenExhausted {
            case .buyPack:
                buy(at: dry)
                t = dry
            case .payAsYouGo:
                cost += (curve.total - curve.usage(at: dry)) * overagePrice
                // Later expiries have nothing left to lose.
                return PlanCost(cost: cost, unusedCredits: unused, servedRequests: curve.served.last ?? 0, continuity: 1)
            case .stop:
                let served = curve.served(at: dry), total = curve.served.last ?? 0
                return PlanCost(cost: cost, unusedCredits: unused, servedRequests: served, continuity: total > 0 ? served / total : 1)
            }
        }
        unused += packs.reduce(0) { $0 + $1.left }
        let served = curve.served.last ?? 0
        return PlanCost(cost: cost, unusedCredits: unused, servedRequests: served, continuity: 1)
    }

    /// Usage levels over the horizon (spread evenly in time) at which the cheaper of `a` and `b`
    /// changes, searched on [0, `upTo`]. Empty when one is cheaper (or equal) everywhere there.
    public static func breakEvens(_ a: Plan, _ b: Plan, horizonHours: Double, upTo: Double, steps: Int = 4000) -> [Double] {
        func diff(_ u: Double) -> Double {
            let c = UsageCurve.uniform(total: u, horizonHours: horizonHours)
            return price(a, c).cost - price(b, c).cost
        }
        let tolerance = 1e-9 * max(1, abs(diff(upTo)))
        func sign(_ x: Double) -> Int { x > tolerance ? 1 : x < -tolerance ? -1 : 0 }
        var out: [Double] = []
        var lastSign = 0, lastU = 0.0
        for k in 0...steps {
            let u = upTo * Double(k) / Double(steps)
            let s = sign(diff(u))
            if s != 0 {
                if lastSign != 0 && s != lastSign {
                    // Bisect (lastU, u] for the flip.
                    var lo = lastU, hi = u
                    for _ in 0..<80 {
                        let mid = (lo + hi) / 2
                        if sign(diff(mid)) == lastSign { lo = mid } else { hi = mid }
                    }
                    out.append(roundMicro(hi))
                }
                lastSign = s
                lastU = u
            }
        }
        return out
    }
}

/// `burnrate procure`: every plan priced on the same simulated demand, replication by replication.
public struct ProcureResult: Sendable {
    public var scenario: String
    public var replications: Int
    public var horizonHours: Double
    public var plans: [Plan]
    /// Per replication, the demand curve.
    public var demand: [UsageCurve]
    /// costs[plan][replication].
    public var costs: [[PlanCost]]
    public var breakEvens: [(a: String, b: String, usage: [Double])]

    public init(scenario: String, replications: Int, horizonHours: Double, plans: [Plan], demand: [UsageCurve]) {
        self.scenario = scenario
        self.replications = replications
        self.horizonHours = horizonHours
        self.plans = plans
        self.demand = demand
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

    /// Runs the scenario (as written, unconstrained demand is what the plans price) and prices it.
    public static func run(_ scenario: Scenario, replications: Int, threads: Int?,
                           progress: (@Sendable (Int) -> Void)? = nil) throws -> ProcureResult {
        guard !scenario.plans.isEmpty else { throw DecisionError("\(scenario.file): the scenario has no 'plans:' to compare") }
        var model = scenario.base
        // Hourly samples at least, so that pack purchases and periods fall close to their time.
        model.sampleEveryMs = min(model.sampleEveryMs, 3_600_000)
        let results = try MonteCarlo.run(try CompiledModel(model), replications: 0..<replications, threads: threads, progress: progress)
        return ProcureResult(scenario: scenario.name, replications: replications, horizonHours: Double(model.horizonMs) / 3_600_000,
                             plans: scenario.plans, demand: results.map(UsageCurve.init))
    }

    /// The share of replications in which each plan is cheapest (ties shared equally), among the
    /// plans that served the whole demand of that replication (a plan that stops when exhausted
    /// buys less service, so it is not cheaper for the same usage).
    public var probabilityCheapest: [Double] {
        var wins = Array(repeating: 0.0, count: plans.count)
        for r in demand.indices {
            // A plan that stopped serving did not buy the same usage: it competes only when no plan served it all.
            let full = plans.indices.filter { costs[$0][r].continuity >= 1 - 1e-12 }
            let eligible = full.isEmpty ? Array(plans.indices) : full
            let c = costs.map { $0[r].cost }
            let best = eligible.map { c[$0] }.min() ?? 0
            let winners = eligible.filter { abs(c[$0] - best) <= 1e-9 * max(1, abs(best)) }
            for w in winners { wins[w] += 1 / Double(winners.count) }
        }
        return wins.map { $0 / Double(max(1, demand.count)) }
    }

    func summaries(_ p: Int) -> [String: MetricSummary] {
        var out: [String: MetricSummary] = [:]
        let c = costs[p]
        out["cost"] = MetricSummary(c.map(\.cost))
        out["cost_per_served_request"] = MetricSummary(c.map { $0.servedRequests > 0 ? $0.cost / $0.servedRequests : 0 })
        out["unused_credits"] = MetricSummary(c.map(\.unusedCredits))
        out["continuity"] = MetricSummary(c.map(\.continuity))
        return out
    }

    public var json: JSON {
        var plansJSON: [String: JSON] = [:]
        let cheapest = probabilityCheapest
        for (i, plan) in plans.enumerated() {
            guard case .object(var o) = Summary.metricsJSON(summaries(i)) else { continue }
            o["probability_cheapest"] = .number(cheapest[i])
            plansJSON[plan.id] = .object(o)
        }
        var be: [JSON] = []
        for pair in breakEvens {
            for u in pair.usage { be.append(.object(["plans": .array([.string(pair.a), .string(pair.b)]), "usage_credits": .number(u)])) }
        }
        return .object([
            "schema": .string("burnrate.procure/1"), "scenario": .string(scenario), "replications": .number(Double(replications)),
            "horizon_hours": .number(horizonHours), "usage_credits": Summary.metricJSON("usage_credits", MetricSummary(demand.map(\.total))!),
            "plans": .object(plansJSON), "break_even": .array(be),
        ])
    }
}
