// Scheduled events: hold expiry, period close (rollover and refill), grant expiry, grants
// becoming effective. They run in time order before the command that moves the clock past them,
// so expiry is exact at its time whether or not anyone looked in between.

extension Ledger {
    /// Runs every event due at or before `t`, then sets the clock to `t`.
    /// - Complexity: O(k log e) for k due events among e scheduled.
    @inline(__always)
    mutating func advance(to t: Int64) {
        while nextEventDueMs <= t, let next = popNextEvent() {
            nowMs = next.atMs
            run(next)
        }
        nowMs = t
    }

    mutating func run(_ event: ScheduledEvent) {
        switch event.kind {
        case .holdExpiry:
            let h = Int(event.target)
            guard holds[h].generation == event.generation, holds[h].phase == .open,
                  holds[h].expiresAtMs == event.atMs
            else { return }
            if holds[h].delegation != nil {
                _ = settleDelegated(hold: h, charge: 0, phase: .expired)
            } else {
                _ = settle(hold: h, charge: 0, phase: .expired)
            }
        case .delegationExpiry:
            let d = Int(event.target)
            guard delegations[d].generation == event.generation, delegations[d].phase == .open,
                  delegations[d].expiresAtMs == event.atMs
            else { return }
            _ = closeTree(d)
        case .grantEffective:
            let g = event.target
            guard !grants[Int(g)].effective, !grants[Int(g)].expired else { return }
            activate(g)
        case .grantExpiry:
            expire(grant: event.target)
        case .periodClose:
            closePeriod(pool: Int(event.target))
        }
    }

    /// Expires what is left of a grant (its unreserved part; reserved credits expire when their
    /// hold lets go of them).
    mutating func expire(grant g: Int32) {
        let gi = Int(g)
        guard !grants[gi].expired else { return }
        let p = Int(grants[gi].pool)
        let before = pools[p].available
        let left = grants[gi].remaining
        if grants[gi].effective {
            pools[p].effectiveRemaining -= left
        } else {
            pools[p].pending -= left
        }
        grants[gi].remaining = 0
        grants[gi].expired = true
        if grants[gi].listed { unlist(g) }
        post(.pool(PoolID(grants[gi].pool)), .expiry, left, grant: g)
        pools[p].expiredTotal &+= left
        if left > 0 { afterAvailableFell(pool: p, from: before) }
    }

    /// Closes the period of a pool with a refill: rolls over part of what the refill grants have
    /// left, then refills for the new period. The refill grants themselves expire at this same
    /// instant (their expiry events run right after this one).
    mutating func closePeriod(pool p: Int) {
        guard let refill = pools[p].refill else { return }
        let t = nowMs
        var left: Int64 = 0
        var candidates: [Int32] = []
        for g in pools[p].active where grants[Int(g)].isRefill && grants[Int(g)].expiresAtMs == t {
            left += grants[Int(g)].remaining
            candidates.append(g)
        }
        // rolled = ⌊left × ppm / 10⁶⌋, computed without overflow for any Int64 `left`.
        let (q, r) = left.quotientAndRemainder(dividingBy: 1_000_000)
        var roll = q * refill.rolloverPartsPerMillion + r * refill.rolloverPartsPerMillion / 1_000_000
        if let cap = refill.rolloverCapMicrocredits { roll = min(roll, cap) }
        if roll > 0 {
            // Take the rolled credits out of the expiring refill grants (burn-down order) and
            // re-grant them as one rollover grant for the next period: a reclassification inside
            // the pool, so the pool's balance does not change.
            var need = roll
            for g in candidates where need > 0 {
                let take = min(grants[Int(g)].remaining, need)
                grants[Int(g)].remaining -= take
                pools[p].effectiveRemaining -= take
                need -= take
                if grants[Int(g)].remaining == 0 { unlist(g) }
            }
            addGrant(pool: Int32(p), amount: roll, effectiveAtMs: t, expiresAtMs: t &+ pools[p].periodMs,
                     priority: refill.priority, category: .rollover, price: refill.priceMicrocreditsPerCredit,
                     isRefill: false, from: .pool(PoolID(Int32(p))))
        }
        refillPool(Int32(p), periodStartMs: t)
        schedule(.periodClose, at: t &+ pools[p].periodMs, target: Int32(p))
    }

    /// The refill grant of the period starting at `periodStartMs`.
    mutating func refillPool(_ p: Int32, periodStartMs: Int64) {
        guard let refill = pools[Int(p)].refill, Money.subtract(fundingBalance, refill.amountMicrocredits) != nil else { return }
        addGrant(pool: p, amount: refill.amountMicrocredits, effectiveAtMs: periodStartMs,
                 expiresAtMs: periodStartMs &+ pools[Int(p)].periodMs, priority: refill.priority, category: .paid,
                 price: refill.priceMicrocreditsPerCredit, isRefill: true, from: .funding)
    }
}
