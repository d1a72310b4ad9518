// Grants: creating them, burning them down, moving them between pools.

extension Ledger {
    /// The burn-down order: lower priority value first, then soonest expiry, then oldest, then
    /// creation order (the grant index), which makes the order total.
    @inline(__always)
    func burnsBefore(_ a: Int32, _ b: Int32) -> Bool {
        let x = grants[Int(a)], y = grants[Int(b)]
        if x.priority != y.priority { return x.priority < y.priority }
        if x.expiresAtMs != y.expiresAtMs { return x.expiresAtMs < y.expiresAtMs }
        if x.effectiveAtMs != y.effectiveAtMs { return x.effectiveAtMs < y.effectiveAtMs }
        return a < b
    }

    /// Puts a grant into its pool's active list at its burn-down position.
    mutating func list(_ g: Int32) {
        let p = Int(grants[Int(g)].pool)
        var lo = 0, hi = pools[p].active.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if burnsBefore(pools[p].active[mid], g) { lo = mid + 1 } else { hi = mid }
        }
        pools[p].active.insert(g, at: lo)
        grants[Int(g)].listed = true
    }

    mutating func unlist(at position: Int, pool p: Int) {
        let g = pools[p].active.remove(at: position)
        grants[Int(g)].listed = false
    }

    mutating func unlist(_ g: Int32) {
        let p = Int(grants[Int(g)].pool)
        if let i = pools[p].active.firstIndex(of: g) { unlist(at: i, pool: p) }
    }

    /// Creates a grant in `pool` with credits coming from `source` (the funding source, another
    /// pool, or an adjustment account). Returns its index.
    @discardableResult
    mutating func addGrant(pool p: Int32, amount: Int64, effectiveAtMs: Int64, expiresAtMs: Int64, priority: Int32,
                           category: GrantCategory, price: Int64, isRefill: Bool, from source: Account) -> Int32 {
        let g = Int32(grants.count)
        grants.append(GrantState(pool: p, amount: amount, remaining: amount, reserved: 0,
                                 effectiveAtMs: effectiveAtMs, expiresAtMs: expiresAtMs, priority: priority,
                                 category: category, priceMicrocreditsPerCredit: price, isRefill: isRefill,
                                 effective: false, expired: false, listed: false))
        post(source, .pool(PoolID(p)), amount, grant: g)
        if source == .funding { pools[Int(p)].fundedTotal &+= amount }
        if expiresAtMs != .max { schedule(.grantExpiry, at: expiresAtMs, target: g) }
        if effectiveAtMs > nowMs {
            pools[Int(p)].pending &+= amount
            list(g)
            schedule(.grantEffective, at: effectiveAtMs, target: g)
        } else {
            activate(g)
        }
        return g
    }

    /// Makes a grant usable. New credits first settle any overdraft the pool has outstanding:
    /// an overdrawn pool that is funded pays back what it borrowed before anything else.
    mutating func activate(_ g: Int32) {
        let gi = Int(g), p = Int(grants[gi].pool)
        if grants[gi].listed { pools[p].pending &-= grants[gi].remaining }
        grants[gi].effective = true
        let settle = min(grants[gi].remaining, pools[p].overdrawn)
        if settle > 0 {
            grants[gi].remaining -= settle
            pools[p].overdrawn -= settle
        }
        pools[p].effectiveRemaining &+= grants[gi].remaining
        if grants[gi].remaining > 0 {
            if !grants[gi].listed { list(g) }
        } else if grants[gi].listed {
            unlist(g)
        }
    }

    /// Walks the pool's effective grants in burn-down order, taking up to `amount`: each piece
    /// leaves its grant's remaining credits (and the pool's effective total) and is handed to
    /// `use` with its grant. Returns what the grants could not cover. The one loop behind draws,
    /// holds and transfers.
    @inline(__always)
    mutating func takeFromGrants(pool p: Int, amount: Int64, _ use: (inout Ledger, Int32, Int64) -> Void) -> Int64 {
        var left = amount
        var i = 0
        while left > 0 && i < pools[p].active.count {
            let g = pools[p].active[i]
            let gi = Int(g)
            guard grants[gi].effective else { i += 1; continue }
            let take = min(grants[gi].remaining, left)
            grants[gi].remaining -= take
            pools[p].effectiveRemaining -= take
            left -= take
            if grants[gi].remaining == 0 { unlist(at: i, pool: p) } else { i += 1 }
            use(&self, g, take)
        }
        return left
    }

    /// Takes `amount` from the pool's effective grants in burn-down order, to `account`; what the
    /// grants cannot cover goes on the overdraft (to `.overage`). The caller has checked that the
    /// pool may go that far. Returns the overdraft part.
    @discardableResult
    mutating func drawFromGrants(pool p: Int, amount: Int64, to account: Account) -> Int64 {
        let source = Account.pool(PoolID(Int32(p)))
        let left = takeFromGrants(pool: p, amount: amount) { ledger, g, take in
            ledger.post(source, account, take, grant: g)
        }
        if left > 0 {
            pools[p].overdrawn += left
            post(source, .overage, left)
        }
        return left
    }

    /// Moves `amount` of effective credits from pool `from` to pool `to`, grant by grant in
    /// burn-down order; each moved piece becomes a grant in `to` with the same expiry, priority,
    /// category and price, so moving credits never launders their terms. The caller has checked
    /// `amount ≤ available(from)`.
    mutating func moveCredits(from: Int, to: Int, amount: Int64) {
        let left = takeFromGrants(pool: from, amount: amount) { ledger, g, take in
            let terms = ledger.grants[Int(g)]
            ledger.addGrant(pool: Int32(to), amount: take, effectiveAtMs: ledger.nowMs, expiresAtMs: terms.expiresAtMs,
                            priority: terms.priority, category: terms.category, price: terms.priceMicrocreditsPerCredit,
                            isRefill: false, from: .pool(PoolID(Int32(from))))
        }
        precondition(left == 0, "moveCredits beyond available: caller must check")
    }

    // MARK: Commands

    mutating func fund(_ pool: PoolID, _ spec: GrantSpec) -> Outcome {
        guard isPool(pool) else { return .refused(.unknownPool(pool)) }
        guard spec.amountMicrocredits > 0 else { return .refused(.invalidArgument("amount must be positive")) }
        guard spec.priceMicrocreditsPerCredit >= 0 else { return .refused(.invalidArgument("price must not be negative")) }
        let effective = max(spec.effectiveAtMs ?? nowMs, nowMs)
        let expires = spec.expiresAtMs ?? .max
        guard expires > effective else { return .refused(.invalidArgument("grant expires before it becomes effective")) }
        // Bound every balance: the funding total may never overflow, so no sum of credits can.
        guard Money.subtract(fundingBalance, spec.amountMicrocredits) != nil,
              Money.add(pools[Int(pool.index)].fundedTotal, spec.amountMicrocredits) != nil
        else { return .refused(.overflow) }
        let g = addGrant(pool: pool.index, amount: spec.amountMicrocredits, effectiveAtMs: effective,
                         expiresAtMs: expires, priority: spec.priority, category: spec.category,
                         price: spec.priceMicrocreditsPerCredit, isRefill: false, from: .funding)
        var a = Acceptance(seq: lastSeq)
        a.pool = pool
        a.grant = GrantID(g)
        return .accepted(a)
    }

    mutating func transferBetweenPools(_ from: PoolID, _ to: PoolID, _ amount: Int64) -> Outcome {
        guard isPool(from) else { return .refused(.unknownPool(from)) }
        guard isPool(to) else { return .refused(.unknownPool(to)) }
        guard from != to else { return .refused(.invalidArgument("transfer to the same pool")) }
        guard amount > 0 else { return .refused(.invalidArgument("amount must be positive")) }
        let available = pools[Int(from.index)].available
        // A transfer never draws on an overdraft: it would turn debt into credit elsewhere.
        guard amount <= available else { return .refused(.insufficientFunds(availableMicrocredits: max(available, 0))) }
        let before = pools[Int(from.index)].available
        moveCredits(from: Int(from.index), to: Int(to.index), amount: amount)
        afterAvailableFell(pool: Int(from.index), from: before)
        var a = Acceptance(seq: lastSeq)
        a.pool = to
        return .accepted(a)
    }

    mutating func adjust(_ pool: PoolID, _ amount: Int64, _ against: AdjustmentAccount) -> Outcome {
        guard isPool(pool) else { return .refused(.unknownPool(pool)) }
        guard amount != 0, amount != .min else { return .refused(.invalidArgument("adjustment amount must be non-zero")) }
        let p = Int(pool.index)
        let account: Account = against == .funding ? .funding : .usage
        var a = Acceptance(seq: lastSeq)
        a.pool = pool
        if amount > 0 {
            guard Money.subtract(fundingBalance, amount) != nil, Money.subtract(usageBalance, amount) != nil else {
                return .refused(.overflow)
            }
            let g = addGrant(pool: pool.index, amount: amount, effectiveAtMs: nowMs, expiresAtMs: .max, priority: 0,
                             category: .paid, price: 0, isRefill: false, from: account)
            a.grant = GrantID(g)
        } else {
            let take = -amount
            let available = pools[p].available
            guard take <= available else { return .refused(.insufficientFunds(availableMicrocredits: max(available, 0))) }
            let before = available
            drawFromGrants(pool: p, amount: take, to: account)
            afterAvailableFell(pool: p, from: before)
        }
        return .accepted(a)
    }
}
