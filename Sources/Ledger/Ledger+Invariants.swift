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
        // Holds placed through a delegation reserve within it, not on the pool (the delegation's
        // root hold does): `delegationViolations` checks them.
        for h in holds where h.phase == .open && h.delegation == nil {
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
        problems += delegationViolations()
        return problems
    }

    /// The delegation invariants: per open delegation, spent + held + delegated ≤ its amount and
    /// held matches its open holds; closed means closed below (an open delegation's parent is
    /// open, and no identity above it is suspended or revoked); per root, its pool hold is the
    /// unspent rest of its open tree, the tree never spends more than the root's amount, and
    /// amount = tree spent + returned + held on the pool (conservation).
    /// - Complexity: O(delegation slots + holds).
    func delegationViolations() -> [String] {
        guard !delegations.isEmpty else { return [] }
        var problems: [String] = []
        var heldThrough = [Int64](repeating: 0, count: delegations.count)
        var openThrough = [Int](repeating: 0, count: delegations.count)
        var treeRest = [Int64](repeating: 0, count: delegations.count)
        for (h, hold) in holds.enumerated() where hold.phase == .open {
            if let d = hold.delegation {
                heldThrough[Int(d)] += hold.amount
                openThrough[Int(d)] += 1
                if delegations[Int(d)].phase != .open { problems.append("hold slot \(h) is open in closed delegation slot \(d)") }
                if !hold.segments.isEmpty || hold.overdraftPart != 0 { problems.append("hold slot \(h) through a delegation reserves on the pool") }
            }
            if let d = hold.reservesDelegation, delegations[Int(d)].phase != .open || delegations[Int(d)].hold != Int32(h) {
                problems.append("hold slot \(h) reserves for delegation slot \(d), which is not its open root")
            }
        }
        for (d, s) in delegations.enumerated() where s.phase == .open {
            let name = "delegation slot \(d)"
            if s.spent < 0 || s.held < 0 || s.delegated < 0 || s.spent + s.held + s.delegated > s.amount {
                problems.append("\(name): spent \(s.spent) + held \(s.held) + delegated \(s.delegated) exceeds its amount \(s.amount)")
            }
            if s.held != heldThrough[d] || s.openHolds != openThrough[d] {
                problems.append("\(name): held \(s.held) in \(s.openHolds) holds ≠ its open holds \(heldThrough[d]) in \(openThrough[d])")
            }
            if s.depth < 1 || Int(s.depth) > config.maxDelegationDepth { problems.append("\(name): depth \(s.depth) out of range") }
            if s.parent >= 0 {
                let p = delegations[Int(s.parent)]
                if p.generation != s.parentGeneration || p.phase != .open {
                    problems.append("\(name) is open below a closed delegation")
                } else if p.depth + 1 != s.depth || p.root != s.root || p.pool != s.pool || p.holder != s.delegator {
                    problems.append("\(name): inconsistent with its parent")
                }
            } else if s.root != Int32(d) {
                problems.append("\(name): a root that names another root")
            }
            // Closed means closed below: nobody above may be suspended or revoked while it is open.
            if identities[Int(s.delegator)].status != .active {
                problems.append("\(name) is open though its delegator is \(identities[Int(s.delegator)].status.rawValue)")
            }
            if identities[Int(s.holder)].status == .revoked { problems.append("\(name) is open though its holder is revoked") }
            treeRest[Int(s.root)] += s.amount - s.spent - s.delegated
        }
        for (r, s) in delegations.enumerated() where s.phase == .open && s.root == Int32(r) {
            let name = "root delegation slot \(r)"
            guard s.hold >= 0, Int(s.hold) < holds.count, holds[Int(s.hold)].phase == .open,
                  holds[Int(s.hold)].reservesDelegation == Int32(r)
            else { problems.append("\(name) has no open pool hold"); continue }
            let held = holds[Int(s.hold)].amount
            if held != treeRest[r] { problems.append("\(name): pool hold \(held) ≠ the unspent rest of its open tree \(treeRest[r])") }
            if s.treeSpent > s.amount { problems.append("\(name): its tree spent \(s.treeSpent), more than its amount \(s.amount)") }
            if s.treeSpent + s.treeReturned + held != s.amount {
                problems.append("\(name): spent \(s.treeSpent) + returned \(s.treeReturned) + held \(held) ≠ amount \(s.amount)")
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
                // Only when set, as environments (a state without delegations keeps its digest).
                if let x = h.delegation { d.add("delegation"); d.add(Int64(x)) }
                if let x = h.reservesDelegation { d.add("reserves"); d.add(Int64(x)) }
            }
        }
        for s in freeHoldSlots { d.add(Int64(s)) }
        if !delegations.isEmpty {
            d.add("delegations")
            for g in delegations {
                d.add(Int64(g.generation)); d.add(Int64(g.phase.rawValue))
                guard g.phase == .open else { continue }
                d.add(Int64(g.parent)); d.add(Int64(g.parentGeneration)); d.add(Int64(g.root)); d.add(Int64(g.depth))
                d.add(Int64(g.delegator)); d.add(Int64(g.holder)); d.add(Int64(g.pool)); d.add(Int64(g.hold)); d.add(Int64(g.entitlement))
                d.add(g.amount); d.add(g.spent); d.add(g.held); d.add(g.delegated); d.add(g.expiresAtMs)
                for c in g.children { d.add(c.raw) }
                for h in g.holdsPlaced { d.add(h.raw) }
                d.add(Int64(g.openHolds)); d.add(g.treeSpent); d.add(g.treeReturned)
            }
            for s in freeDelegationSlots { d.add(Int64(s)) }
        }
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
        if let x = a.delegation { add("delegation"); add(x.raw) }
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
