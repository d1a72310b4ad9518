// Exhaustion policies. A pool evaluates its ordered list on every draw (debit, authorize, and the
// part of a capture above its hold). At each step "short" means the draw exceeds what is
// available plus the overdraft allowed by the policies seen so far:
//
// - hard_stop: refuse if short. Policies after it are never reached by a short draw.
// - overdraft(limit): from here on the pool may go down to −limit.
// - degrade(tier, below): unless the request is already at `tier`, answer "degrade to tier" if
//   short, or if the draw would leave less than `below` available.
// - throttle(max, window, below): while available is below `below`, at most `max` draws per
//   fixed window; the next is refused with the time until the window ends.
// - auto_top_up(below, amount, cap, price): if short, buy `amount` (repeatedly, within the
//   period cap) before going on; after any draw that leaves available below `below`, buy once.
// - borrow(cap): if short, move the shortfall from the parent pool (its available credits, not
//   its overdraft), within the period cap; moved credits keep their terms.
// - alerts(thresholds): after a draw, each threshold crossed downwards fires once per period.
//
// After the list, a draw still short is refused: a pool without policies is a hard stop.

extension Ledger {
    /// Resets the pool's per-period counters when its period changed.
    @inline(__always)
    mutating func rollPeriod(pool p: Int) {
        let index = (nowMs &- pools[p].createdAtMs) / pools[p].periodMs
        if index != pools[p].periodIndex {
            pools[p].periodIndex = index
            pools[p].toppedUpInPeriod = 0
            pools[p].borrowedInPeriod = 0
            pools[p].alertsFired = 0
        }
    }

    /// Decides whether pool `p` admits a draw of `amount`; may buy credits or borrow on the way.
    /// Returns nil when the draw may proceed (possibly into the overdraft).
    mutating func admit(pool p: Int, amount: Int64, tier: Int) -> Refusal? {
        // A draw the pool covers passes every policy unless one can act on covered draws.
        if pools[p].admitsCoveredDraws && amount <= pools[p].available { return nil }
        let policies = pools[p].policies
        if policies.isEmpty {
            return .insufficientFunds(availableMicrocredits: max(pools[p].available, 0))
        }
        rollPeriod(pool: p)
        var allowance: Int64 = 0
        for policy in policies {
            let available = pools[p].available
            let short = amount > available &+ allowance
            switch policy {
            case .hardStop:
                if short { return .insufficientFunds(availableMicrocredits: max(available, 0)) }
            case .overdraft(let limit):
                allowance = max(allowance, limit)
            case .degrade(let toTier, let below):
                if tier != toTier && (short || available &- amount < below) { return .degrade(toTier: toTier) }
            case .throttle(let maxDraws, let windowMs, let below):
                if available < below {
                    let window = nowMs / windowMs
                    if pools[p].throttleWindow == window && pools[p].throttleCount >= maxDraws {
                        return .throttled(retryAfterMs: (window &+ 1) &* windowMs &- nowMs)
                    }
                }
            case .autoTopUp(_, let topUp, let cap, let price):
                // Bounded: each round buys at least one micro-credit or stops.
                var rounds = 0
                while amount > pools[p].available &+ allowance && rounds < 1_000 {
                    guard buyTopUp(pool: p, amount: topUp, cap: cap, price: price) else { break }
                    rounds += 1
                }
            case .borrow(let cap):
                if short { borrow(pool: p, need: amount - (available + allowance), cap: cap) }
            case .alerts:
                break
            }
        }
        let available = pools[p].available
        return amount <= available &+ allowance ? nil : .insufficientFunds(availableMicrocredits: max(available, 0))
    }

    /// The largest draw `pool` would admit now without acting (no top-up, no borrowing): what is
    /// available plus the overdraft its policies allow *before* a hard stop ends the list, never
    /// negative. A pure query, for callers that must size a charge (the simulator's unreserved
    /// requests) without re-implementing the policy order.
    /// - Complexity: O(policies).
    public func coverableMicrocredits(in pool: PoolID) -> Int64 {
        let p = Int(pool.index)
        var allowance: Int64 = 0
        for policy in pools[p].policies {
            if case .hardStop = policy { break }
            if case .overdraft(let limit) = policy { allowance = max(allowance, limit) }
        }
        return max(pools[p].available &+ allowance, 0)
    }

    /// Buys up to `amount` (whatever the period cap still allows). Returns false when nothing
    /// could be bought.
    mutating func buyTopUp(pool p: Int, amount: Int64, cap: Int64, price: Int64) -> Bool {
        let room = cap - pools[p].toppedUpInPeriod
        let buy = min(amount, room)
        guard buy > 0, Money.subtract(fundingBalance, buy) != nil else { return false }
        pools[p].toppedUpInPeriod += buy
        pools[p].toppedUpTotal &+= buy
        let g = addGrant(pool: Int32(p), amount: buy, effectiveAtMs: nowMs, expiresAtMs: .max, priority: 0,
                         category: .paid, price: price, isRefill: false, from: .funding)
        decisions.append(.toppedUp(pool: PoolID(Int32(p)), grant: GrantID(g), amountMicrocredits: buy))
        return true
    }

    mutating func borrow(pool p: Int, need: Int64, cap: Int64) {
        let parent = Int(pools[p].parent)
        guard parent >= 0 else { return }
        let room = cap - pools[p].borrowedInPeriod
        let amount = min(need, room, max(pools[parent].available, 0))
        guard amount > 0 else { return }
        let before = pools[parent].available
        moveCredits(from: parent, to: p, amount: amount)
        pools[p].borrowedInPeriod += amount
        pools[p].borrowedTotal &+= amount
        decisions.append(.borrowed(pool: PoolID(Int32(p)), from: PoolID(Int32(parent)), amountMicrocredits: amount))
        afterAvailableFell(pool: parent, from: before)
    }

    /// Counts a draw in the pool's throttle window.
    @inline(__always)
    mutating func countDraw(pool p: Int) {
        guard pools[p].hasThrottle else { return }
        for policy in pools[p].policies {
            guard case .throttle(_, let windowMs, _) = policy else { continue }
            let window = nowMs / windowMs
            if pools[p].throttleWindow != window {
                pools[p].throttleWindow = window
                pools[p].throttleCount = 0
            }
            pools[p].throttleCount += 1
            return
        }
    }

    /// After available credits fell from `before`: fire alerts crossed and top-ups triggered.
    mutating func afterAvailableFell(pool p: Int, from before: Int64) {
        if pools[p].available >= pools[p].quietAboveMicrocredits { return }
        let policies = pools[p].policies
        rollPeriod(pool: p)
        for policy in policies {
            switch policy {
            case .autoTopUp(let below, let amount, let cap, let price):
                if pools[p].available < below { _ = buyTopUp(pool: p, amount: amount, cap: cap, price: price) }
            case .alerts(let thresholds):
                let after = pools[p].available
                for (k, threshold) in thresholds.enumerated() {
                    let bit: UInt64 = 1 << UInt64(k)
                    if before >= threshold && after < threshold && pools[p].alertsFired & bit == 0 {
                        pools[p].alertsFired |= bit
                        decisions.append(.alert(pool: PoolID(Int32(p)), thresholdMicrocredits: threshold))
                    }
                }
            default:
                break
            }
        }
    }
}
