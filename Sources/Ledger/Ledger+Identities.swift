// Identities: the entitlement check (before any balance check), spend caps, rate caps, usage,
// and the spend-rate stop condition.

extension Ledger {
    /// Checks, in order: the identity exists and is active, is entitled to the pool, for this
    /// tier, within its rate cap and its spend cap. Returns the entitlement's index.
    ///
    /// Inlined: called from a mutating draw, an out-of-line non-mutating call copies the whole
    /// ledger value (208 bytes) onto the stack first, on every draw.
    @inline(__always)
    func checkIdentity(_ identity: IdentityID, _ pool: PoolID, _ tier: Int?, _ amount: Int64) -> Result<Int, Refusal> {
        guard isIdentity(identity) else { return .failure(.unknownIdentity(identity)) }
        let i = Int(identity.index)
        // Field by field: copying the whole identity would retain its name and arrays.
        switch identities[i].status {
        case .active: break
        case .suspended: return .failure(.identitySuspended)
        case .revoked: return .failure(.identityRevoked)
        }
        guard isPool(pool) else { return .failure(.unknownPool(pool)) }
        guard let e = identities[i].entitlementIndex(pool: pool.index) else { return .failure(.notEntitled) }
        // Read in place: a copy of the entitlement state is a ~100-byte memcpy per draw.
        // No tier: a delegation, which reserves budget for whatever tiers its tree draws at (each
        // of those draws is checked against this entitlement's tiers).
        if let tier {
            guard tier >= 0, tier < 64, identities[i].entitlements[e].entitlement.allowedTiers & (1 << UInt64(tier)) != 0 else {
                return .failure(.tierNotAllowed(tier: tier))
            }
        }
        if let maxDraws = identities[i].entitlements[e].entitlement.rateMaxDraws {
            let windowMs = identities[i].entitlements[e].entitlement.rateWindowMs
            let window = nowMs / windowMs
            if identities[i].entitlements[e].rateWindow == window && identities[i].entitlements[e].rateCount >= maxDraws {
                return .failure(.rateCapExceeded(retryAfterMs: (window + 1) * windowMs - nowMs))
            }
        }
        if let cap = identities[i].entitlements[e].entitlement.capPerPeriodMicrocredits {
            let period = nowMs / identities[i].entitlements[e].entitlement.capPeriodMs
            let spent = identities[i].entitlements[e].capPeriodIndex == period ? identities[i].entitlements[e].capSpent : 0
            let used = spent &+ identities[i].entitlements[e].openHeld
            guard let total = Money.add(used, amount), total <= cap else {
                return .failure(.spendCapExceeded(capMicrocredits: cap, usedMicrocredits: used))
            }
        }
        return .success(e)
    }

    /// Counts a draw against the entitlement's rate cap.
    @inline(__always)
    mutating func noteRate(identity i: Int, entitlement e: Int) {
        identities[i].entitlements[e].noteDraw(atMs: nowMs)
    }

    /// Records credits an identity spent: cap period, usage buckets, stop condition.
    mutating func recordSpend(identity i: Int, entitlement e: Int, amount: Int64, countsDraw: Bool) {
        // One access to the identity for all the updates (each separate `identities[i]…` write
        // would check the arrays' uniqueness again).
        let watched = identities[i].recordSpend(entitlement: e, amount: amount, countsDraw: countsDraw,
                                                atMs: nowMs, usagePeriodMs: config.usagePeriodMs)
        if watched { checkStopCondition(identity: i, amount: amount) }
    }

    /// The spend-rate anomaly check. The draw that trips it is accepted (it already passed every
    /// check); the suspension takes effect from the next command, like a manual suspend. It
    /// judges only once `baselineWindows` windows have passed since the identity first spent.
    mutating func checkStopCondition(identity i: Int, amount: Int64) {
        guard let stop = identities[i].stopCondition, identities[i].status == .active else { return }
        let window = nowMs / stop.windowMs
        if identities[i].stopFirstWindow == nil { identities[i].stopFirstWindow = window }
        var windows = identities[i].stopWindows
        if let last = windows.last, last.periodIndex == window {
            windows[windows.count - 1].spentMicrocredits &+= amount
        } else {
            windows.append(UsageBucket(periodIndex: window, spentMicrocredits: amount, draws: 0))
        }
        // Keep the current window and the `baselineWindows` before it.
        while let first = windows.first, first.periodIndex < window - Int64(stop.baselineWindows) {
            windows.removeFirst()
        }
        identities[i].stopWindows = windows
        // Judge only against a complete baseline.
        guard window - identities[i].stopFirstWindow! >= Int64(stop.baselineWindows) else { return }
        let current = windows[windows.count - 1].spentMicrocredits
        var baselineTotal: Int64 = 0
        for w in windows.dropLast() { baselineTotal &+= w.spentMicrocredits }
        // current > factor × (baselineTotal / baselineWindows), in integers:
        // current × 100 × baselineWindows > factorPercent × baselineTotal.
        let lhs = current.multipliedReportingOverflow(by: 100 * Int64(stop.baselineWindows))
        let rhs = stop.factorPercent.multipliedReportingOverflow(by: baselineTotal)
        let anomalous = lhs.overflow || (!rhs.overflow && lhs.partialValue > rhs.partialValue)
        if anomalous && current >= stop.minSpendMicrocredits {
            identities[i].status = .suspended
            decisions.append(.identitySuspended(identity: IdentityID(Int32(i)), reason: "spend_rate_anomaly"))
            closeDelegations(of: i, includingHeld: false)
        }
    }
}
