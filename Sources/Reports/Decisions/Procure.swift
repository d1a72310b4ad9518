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
    /// What is paid: a period that the horizon cuts short is paid whole (DESIGN.md, "Buying plans").
    public var cost: Double
    /// Credits paid for and never used (expired, lost at a period's end, or left at the horizon).
    public var unusedCredits: Double
    public var servedRequests: Double
    /// Share of the demand served (below 1 only for a prepaid plan that stops when exhausted).
    public var continuity: Double
    /// The cost with the horizon's share of a period the horizon cuts short: that period pays
    /// share × its fixed charge and gets share × its included or committed credits, overage as
    /// usual. Equal to `cost` for plans without periods or when the horizon is whole periods.
    public var proratedCost: Double

    public init(cost: Double, unusedCredits: Double, servedRequests: Double, continuity: Double, proratedCost: Double? = nil) {
        self.cost = cost
        self.unusedCredits = unusedCredits
        self.servedRequests = servedRequests
        self.continuity = continuity
        self.proratedCost = proratedCost ?? cost
    }
}

/// Prices plans on usage curves (DESIGN.md, "Buying plans").
public enum PlanPricing {
    /// The periods a plan with a period pays over `horizonHours`, and the share of the last one
    /// that falls inside the horizon (1 when the horizon is a whole number of periods).
    static func periods(periodMs: Int64, horizonHours: Double) -> (count: Int, lastShare: Double) {
        let period = Double(periodMs) / 3_600_000
        let count = max(1, Int((horizonHours / period - 1e-9).rounded(.up)))
        let share = min(1, max(0, horizonHours / period - Double(count - 1)))
        return (count, share > 1 - 1e-9 ? 1 : share)
    }

    /// The length of a plan's period in hours and the horizon's share of the last period paid,
    /// when the horizon cuts that period short (a 365-day commitment over a 90-day horizon: 90/365).
    public static func partialPeriod(_ plan: Plan, horizonHours: Double) -> (periodHours: Double, share: Double)? {
        let periodMs: Int64
        switch plan.kind {
        case .licence(let l): periodMs = l.periodMs
        case .commit(let c): periodMs = c.periodMs
        case .payAsYouGo, .prepaid: return nil
        }
        let p = periods(periodMs: periodMs, horizonHours: horizonHours)
        return p.lastShare < 1 ? (Double(periodMs) / 3_600_000, p.lastShare) : nil
    }

    public static func price(_ plan: Plan, _ curve: UsageCurve) -> PlanCost {
        let served = curve.served.last ?? 0
        switch plan.kind {
        case .payAsYouGo(let p):
            return PlanCost(cost: p * curve.total, unusedCredits: 0, servedRequests: served, continuity: 1)
        case .licence(let l):
            let period = Double(l.periodMs) / 3_600_000
            let (periods, lastShare) = Self.periods(periodMs: l.periodMs, horizonHours: curve.horizonHours)
            var cost = 0.0, unused = 0.0, prorated = 0.0
            for k in 0..<periods {
                let used = curve.usage(at: min(Double(k + 1) * period, curve.horizonHours)) - curve.usage(at: Double(k) * period)
                let seats = Double(l.seats) * l.pricePerSeat
                cost += seats + max(0, used - l.includedCredits) * l.overagePricePerCredit
                unused += max(0, l.includedCredits - used)
                let share = k + 1 == periods ? lastShare : 1
                prorated += share * seats + max(0, used - share * l.includedCredits) * l.overagePricePerCredit
            }
            return PlanCost(cost: cost, unusedCredits: unused, servedRequests: served, continuity: 1, proratedCost: prorated)
        case .commit(let c):
            let period = Double(c.periodMs) / 3_600_000
            let (periods, lastShare) = Self.periods(periodMs: c.periodMs, horizonHours: curve.horizonHours)
            var cost = 0.0, unused = 0.0, carry = 0.0, prorated = 0.0
            for k in 0..<periods {
                let used = curve.usage(at: min(Double(k + 1) * period, curve.horizonHours)) - curve.usage(at: Double(k) * period)
                let bought = c.amount / (1 - c.discount)
                let credits = bought + carry
                cost += c.amount + max(0, used - credits) * c.overagePricePerCredit
                let share = k + 1 == periods ? lastShare : 1
                prorated += share * c.amount + max(0, used - (share * bought + carry)) * c.overagePricePerCredit
                let left = max(0, credits - used)
                carry = k + 1 < periods ? c.rollover * left : 0
                unused += left - carry
            }
            return PlanCost(cost: cost, unusedCredits: unused, servedRequests: served, continuity: 1, proratedCost: prorated)
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
