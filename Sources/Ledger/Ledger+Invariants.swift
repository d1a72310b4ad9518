// The ledger's invariants, checked after every command in tests, and its state digest.

extension Ledger {
    /// Every invariant violated by the current state, as readable sentences (empty when sound).
    ///
    /// - the sum of all account balances is zero;
    /// - each pool's account balance equals what its grants hold minus its overdraft;
    /// - no pool is below minus its overdraft limit; held ≤ total + overdraft limit;
    /// - each grant's remainder is in [0, amount], its reservation too;
    /// - cached figures (available, pending, held, active list order) match a recomputation.
    /// - Complexity: O(pools + grants + holds).
    public func invariantViolations() -> [String] {
        var problems: [String] = []
        var sum = fundingBalance &+ usageBalance &+ overageBalance &+ expiryBalance
        for b in poolBalances { sum &+= b }
        if sum != 0 { problems.append("account balances sum to \(sum), not 0") }
        if usageBalance < 0 || overageBalance < 0 || expiryBalance < 0 || fundingBalance > 0 {
            problems.append("an account has the wrong sign (usage \(usageBalance), overage \(overageBalance), expiry \(expiryBalance), funding \(fundingBalance))")
        }
        var grantSum = [Int64](repeating: 0, count: pools.count)
        var effective = [Int64](repeating: 0, count: pools.count)
        var pending = [Int64](repeating: 0, count: pools.count)
        var reserved = [Int64](repeating: 0, count: pools.count)
        for (g, s) in grants.enumerated() {
            let p = Int(s.pool)
            if s.remaining < 0 || s.reserved < 0 || s.remaining + s.reserved > s.amount {
                problems.append("grant#\(g): remaining \(s.remaining) + reserved \(s.reserved) outside [0, \(s.amount)]")
            }
            if s.expired && s.remaining != 0 { problems.append("grant#\(g) expired with \(s.remaining) left") }
            grantSum[p] += s.remaining + s.reserved
            reserved[p] += s.reserved
            if s.effective && !s.expired { effective[p] += s.remaining }
            if !s.effective && !s.expired { pending[p] += s.remaining }
            let shouldList = !s.expired && s.remaining > 0
            if shouldList != s.listed && !( !s.effective && !s.expired && s.listed) {
                problems.append("grant#\(g) listed=\(s.listed) but remaining \(s.remaining), expired \(s.expired)")
            }
        }
        var held = [Int64](repeating: 0, count: pools.count)
        for h in holds where h.phase == .open {
            held[Int(h.pool)] += h.amount
            var parts = h.overdraftPart
            for s in h.segments { parts += s.amount }
            if parts != h.amount { problems.append("a hold's parts sum to \(parts), not \(h.amount)") }
        }
        for (p, pool) in pools.enumerated() {
            let name = pool.name
            if poolBalances[p] != grantSum[p] - pool.overdrawn {
                problems.append("\(name): balance \(poolBalances[p]) ≠ grants \(grantSum[p]) − overdrawn \(pool.overdrawn)")
            }
            if pool.effectiveRemaining != effective[p] { problems.append("\(name): cached effective \(pool.effectiveRemaining) ≠ \(effective[p])") }
            if pool.pending != pending[p] { problems.append("\(name): cached pending \(pool.pending) ≠ \(pending[p])") }
            if pool.held != held[p] { problems.append("\(name): cached held \(pool.held) ≠ open holds \(held[p])") }
            if pool.held != reserved[p] + pool.overdraftReserved {
                problems.append("\(name): held \(pool.held) ≠ reserved \(reserved[p]) + overdraft reserved \(pool.overdraftReserved)")
            }
            if pool.overdrawn < 0 || pool.overdraftReserved < 0 { problems.append("\(name): negative overdraft figures") }
            if pool.overdrawn + pool.overdraftReserved > pool.overdraftLimit {
                problems.append("\(name): overdraft \(pool.overdrawn) + reserved \(pool.overdraftReserved) beyond limit \(pool.overdraftLimit)")
            }
            if poolBalances[p] < -pool.overdraftLimit { problems.append("\(name): balance \(poolBalances[p]) below −\(pool.overdraftLimit)") }
            if pool.held > poolBalances[p] + pool.overdraftLimit {
                problems.append("\(name): held \(pool.held) > balance \(poolBalances[p]) + overdraft \(pool.overdraftLimit)")
            }
            for i in pool.active.indices.dropFirst() where !burnsBefore(pool.active[i - 1], pool.active[i]) {
                problems.append("\(name): active grants out of burn-down order")
            }
        }
        return problems
    }

    /// A 64-bit FNV-1a digest of the whole state (clock, sequence, accounts, pools, grants, holds,
    /// identities, scheduled events, idempotency keys). Two ledgers with equal digests are, for
    /// every practical purpose, in the same state: replaying a journal must reproduce it.
    public var stateDigest: UInt64 {
        var d = Digest()
        d.add(nowMs); d.add(Int64(bitPattern: lastSeq))
        d.add(fundingBalance); d.add(usageBalance); d.add(overageBalance); d.add(expiryBalance)
        for b in poolBalances { d.add(b) }
        for p in pools {
            d.add(p.name); d.add(Int64(p.parent)); d.add(p.periodMs); d.add(p.createdAtMs)
            for g in p.active { d.add(Int64(g)) }
            d.add(p.effectiveRemaining); d.add(p.pending); d.add(p.overdrawn); d.add(p.overdraftReserved); d.add(p.held)
            d.add(p.periodIndex); d.add(p.toppedUpInPeriod); d.add(p.borrowedInPeriod); d.add(Int64(bitPattern: p.alertsFired))
            d.add(p.throttleWindow); d.add(Int64(p.throttleCount))
            d.add(p.fundedTotal); d.add(p.spentTotal); d.add(p.overageTotal); d.add(p.expiredTotal)
            d.add(p.toppedUpTotal); d.add(p.borrowedTotal)
            d.add(String(describing: p.policies)); d.add(String(describing: p.refill))
            // Only when set: a state without environments keeps the digest it had before they
            // existed, so that older snapshots still restore.
            if let e = p.environment { d.add("environment"); d.add(e) }
        }
        for g in grants {
            d.add(Int64(g.pool)); d.add(g.amount); d.add(g.remaining); d.add(g.reserved); d.add(g.effectiveAtMs)
            d.add(g.expiresAtMs); d.add(Int64(g.priority)); d.add(g.category.rawValue); d.add(g.priceMicrocreditsPerCredit)
            d.add(g.isRefill ? 1 : 0); d.add(g.effective ? 1 : 0); d.add(g.expired ? 1 : 0)
        }
        for h in holds {
            d.add(Int64(h.generation)); d.add(Int64(h.phase.rawValue))
            if h.phase == .open {
                d.add(Int64(h.identity)); d.add(Int64(h.pool)); d.add(Int64(h.tier)); d.add(h.amount); d.add(h.expiresAtMs)
                for s in h.segments { d.add(Int64(s.grant)); d.add(s.amount) }
                d.add(h.overdraftPart)
            }
        }
        for s in freeHoldSlots { d.add(Int64(s)) }
        for i in identities {
            d.add(i.name); d.add(i.status.rawValue); d.add(i.spentTotal); d.add(String(describing: i.stopCondition))
            if let e = i.environment { d.add("environment"); d.add(e) }
            for e in i.entitlements {
                d.add(Int64(e.pool)); d.add(String(describing: e.entitlement)); d.add(e.capPeriodIndex); d.add(e.capSpent)
                d.add(e.openHeld); d.add(e.rateWindow); d.add(Int64(e.rateCount))
            }
            for b in i.usage { d.add(b.periodIndex); d.add(b.spentMicrocredits); d.add(b.draws) }
            for b in i.stopWindows { d.add(b.periodIndex); d.add(b.spentMicrocredits) }
            d.add(i.stopFirstWindow ?? .min)
        }
        for e in (events.unordered + orderedEvents).sorted() {
            d.add(e.atMs); d.add(Int64(e.kind.rawValue)); d.add(Int64(bitPattern: e.seq)); d.add(Int64(e.target)); d.add(Int64(e.generation))
        }
        d.add(Int64(bitPattern: eventSeq))
        for entry in keyEntries where keys[IdempotencyKey(entry.key)] != nil {
            d.add(entry.key); d.add(entry.atMs); d.add(entry.outcome)
        }
        return d.value
    }

    /// Rebuilds a ledger by applying the requests of `records` in order to an empty one. Returns
    /// the ledger and the sequence numbers whose outcome differs from the one recorded (empty
    /// when the replay is faithful).
    public static func replay(_ records: [JournalRecord], config: LedgerConfig = LedgerConfig()) -> (Ledger, mismatches: [UInt64]) {
        var ledger = Ledger(config: config)
        var mismatches: [UInt64] = []
        for r in records {
            let outcome = ledger.apply(r.request)
            if outcome != r.outcome || ledger.lastSeq != r.seq { mismatches.append(r.seq) }
        }
        return (ledger, mismatches)
    }
}

/// 64-bit FNV-1a over a canonical byte stream.
struct Digest {
    var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ x: Int64) {
        var v = UInt64(bitPattern: x)
        for _ in 0..<8 {
            value ^= v & 0xff
            value = value &* 0x0000_0100_0000_01b3
            v >>= 8
        }
    }

    /// An outcome, field by field (reflection would be slow for a day of keys).
    mutating func add(_ o: Outcome) {
        guard case .accepted(let a) = o else { add(1); add(o.refusal?.code ?? ""); return }
        add(0); add(Int64(bitPattern: a.seq))
        add(a.pool.map { Int64($0.index) } ?? -1); add(a.identity.map { Int64($0.index) } ?? -1)
        add(a.grant.map { Int64($0.index) } ?? -1); add(a.hold?.raw ?? -1)
        add(a.chargedMicrocredits); add(a.overageMicrocredits); add(a.releasedMicrocredits)
        add(Int64(a.decisions.count))
        for decision in a.decisions { add(String(describing: decision)) }
    }

    mutating func add(_ s: String) {
        add(Int64(s.utf8.count))
        for b in s.utf8 {
            value ^= UInt64(b)
            value = value &* 0x0000_0100_0000_01b3
        }
    }
}
