// Read-only questions about the ledger's state.

/// A pool's balance.
public struct PoolBalance: Hashable, Sendable, Codable {
    public var pool: PoolID
    public var name: String
    /// The pool's account balance: every credit in it (held, pending and overdrawn included).
    public var totalMicrocredits: Int64
    /// Reserved by open holds.
    public var heldMicrocredits: Int64
    /// What a draw may take now without an overdraft (negative while overdrawn).
    public var availableMicrocredits: Int64
    /// Funded but not yet effective.
    public var pendingMicrocredits: Int64
    /// Drawn beyond funding and not yet settled.
    public var overdrawnMicrocredits: Int64
    public var grants: [GrantBalance]
}

/// One grant's state, as a balance query reports it.
public struct GrantBalance: Hashable, Sendable, Codable {
    public var grant: GrantID
    public var amountMicrocredits: Int64
    public var remainingMicrocredits: Int64
    public var reservedMicrocredits: Int64
    public var effectiveAtMs: Int64
    public var expiresAtMs: Int64?
    public var priority: Int32
    public var category: GrantCategory
    public var priceMicrocreditsPerCredit: Int64
}

/// Lifetime totals of a pool.
public struct PoolTotals: Hashable, Sendable, Codable {
    public var fundedMicrocredits: Int64
    public var spentMicrocredits: Int64
    public var overageMicrocredits: Int64
    public var expiredMicrocredits: Int64
    public var toppedUpMicrocredits: Int64
    public var borrowedMicrocredits: Int64
}

extension Ledger {
    public var poolCount: Int { pools.count }
    public var identityCount: Int { identities.count }

    public func pool(named name: String) -> PoolID? { poolByName[name].map(PoolID.init) }
    public func identity(named name: String) -> IdentityID? { identityByName[name].map(IdentityID.init) }
    public func name(of pool: PoolID) -> String? { isPool(pool) ? pools[Int(pool.index)].name : nil }
    public func name(of identity: IdentityID) -> String? {
        isIdentity(identity) ? identities[Int(identity.index)].name : nil
    }

    /// The balance of `pool`, with its live grants (those with credits left or reserved) in
    /// burn-down order. Reflects the ledger clock: events due later have not run.
    /// - Complexity: O(grants of the pool).
    public func balance(of pool: PoolID) -> PoolBalance? {
        guard isPool(pool) else { return nil }
        let p = pools[Int(pool.index)]
        var live: [Int32] = p.active
        for (g, state) in grants.enumerated() where Int(state.pool) == Int(pool.index) && !state.listed && state.reserved > 0 {
            live.append(Int32(g))
        }
        let listed = live.sorted { burnsBefore($0, $1) }
        return PoolBalance(
            pool: pool, name: p.name, totalMicrocredits: poolBalances[Int(pool.index)], heldMicrocredits: p.held,
            availableMicrocredits: p.available, pendingMicrocredits: p.pending, overdrawnMicrocredits: p.overdrawn,
            grants: listed.map { g in
                let s = grants[Int(g)]
                return GrantBalance(grant: GrantID(g), amountMicrocredits: s.amount, remainingMicrocredits: s.remaining,
                                    reservedMicrocredits: s.reserved, effectiveAtMs: s.effectiveAtMs,
                                    expiresAtMs: s.expiresAtMs == .max ? nil : s.expiresAtMs, priority: s.priority,
                                    category: s.category, priceMicrocreditsPerCredit: s.priceMicrocreditsPerCredit)
            })
    }

    /// What a draw may take from `pool` now without an overdraft. O(1).
    @inline(__always)
    public func available(in pool: PoolID) -> Int64 { pools[Int(pool.index)].available }

    /// How far below zero `pool` may go (its `overdraft` policy's limit, 0 without one). O(1).
    public func overdraftLimit(of pool: PoolID) -> Int64 { pools[Int(pool.index)].overdraftLimit }

    /// Lifetime totals of `pool`.
    public func totals(of pool: PoolID) -> PoolTotals? {
        guard isPool(pool) else { return nil }
        let p = pools[Int(pool.index)]
        return PoolTotals(fundedMicrocredits: p.fundedTotal, spentMicrocredits: p.spentTotal,
                          overageMicrocredits: p.overageTotal, expiredMicrocredits: p.expiredTotal,
                          toppedUpMicrocredits: p.toppedUpTotal, borrowedMicrocredits: p.borrowedTotal)
    }

    /// The balance of a double-entry account.
    public func balance(of account: Account) -> Int64 {
        switch account {
        case .funding: fundingBalance
        case .usage: usageBalance
        case .overage: overageBalance
        case .expiry: expiryBalance
        case .pool(let p): isPool(p) ? poolBalances[Int(p.index)] : 0
        }
    }

    public func status(of identity: IdentityID) -> IdentityStatus? {
        isIdentity(identity) ? identities[Int(identity.index)].status : nil
    }

    /// Whether `identity` holds an entitlement on `pool`, whatever its limits (the service lets an
    /// identity read only the balances of pools it may draw from).
    public func isEntitled(_ identity: IdentityID, to pool: PoolID) -> Bool {
        isIdentity(identity) && isPool(pool) && identities[Int(identity.index)].entitlementIndex(pool: pool.index) != nil
    }

    /// Credits `identity` spent with `fromMs ≤ t < toMs`, at the granularity of
    /// ``LedgerConfig/usagePeriodMs`` (a usage period counts when it starts in the range).
    public func usage(of identity: IdentityID, fromMs: Int64 = .min, toMs: Int64 = .max) -> Int64 {
        guard isIdentity(identity) else { return 0 }
        var total: Int64 = 0
        for b in identities[Int(identity.index)].usage {
            let start = b.periodIndex &* config.usagePeriodMs
            if start >= fromMs && start < toMs { total &+= b.spentMicrocredits }
        }
        return total
    }

    /// Spend of `identity` per usage period: (period start, spent, draws), oldest first.
    public func usagePeriods(of identity: IdentityID) -> [(startMs: Int64, spentMicrocredits: Int64, draws: Int64)] {
        guard isIdentity(identity) else { return [] }
        return identities[Int(identity.index)].usage.map {
            ($0.periodIndex &* config.usagePeriodMs, $0.spentMicrocredits, $0.draws)
        }
    }

    /// The open hold's amount, or nil when `hold` is not open.
    public func heldAmount(_ hold: HoldID) -> Int64? {
        guard case .success(let h) = openHold(hold) else { return nil }
        return holds[h].amount
    }

    /// The time of the next scheduled ledger event (expiry, refill, hold expiry), if any.
    public var nextEventAtMs: Int64? { nextEvent?.atMs }
}
