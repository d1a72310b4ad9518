// Draws: debit (one step), authorize (a hold), capture, release.

extension Ledger {
    mutating func debit(_ identity: IdentityID, _ pool: PoolID, _ tier: Int, _ amount: Int64) -> Outcome {
        switch debitCore(identity, pool, tier, amount) {
        case .refused(let r): return .refused(r)
        case .accepted(let overdraft): return .accepted(debitAcceptance(identity, pool, amount, overdraft))
        }
    }

    func debitAcceptance(_ identity: IdentityID, _ pool: PoolID, _ amount: Int64, _ overdraft: Int64) -> Acceptance {
        var a = Acceptance(seq: lastSeq)
        a.pool = pool
        a.identity = identity
        a.chargedMicrocredits = amount
        a.overageMicrocredits = overdraft
        return a
    }

    /// A debit's rules, answered as a ``Charge`` (no ``Acceptance`` built).
    @inline(__always)
    mutating func debitCore(_ identity: IdentityID, _ pool: PoolID, _ tier: Int, _ amount: Int64) -> Charge {
        guard amount > 0 else { return .refused(.invalidArgument("amount must be positive")) }
        let e: Int
        switch checkIdentity(identity, pool, tier, amount) {
        case .failure(let r): return .refused(r)
        case .success(let index): e = index
        }
        let p = Int(pool.index)
        if let refusal = admit(pool: p, amount: amount, tier: tier) { return .refused(refusal) }
        let before = pools[p].available
        let overdraft = drawFromGrants(pool: p, amount: amount, to: .usage)
        pools[p].book(spent: amount - overdraft, overage: overdraft)
        countDraw(pool: p)
        afterAvailableFell(pool: p, from: before)
        recordSpend(identity: Int(identity.index), entitlement: e, amount: amount, countsDraw: true)
        return .accepted(overageMicrocredits: overdraft)
    }

    /// An unkeyed authorize whose journal record is discarded, answered as a small ``Placement``
    /// instead of an ``Outcome``: exactly ``authorize(atMs:identity:pool:tier:amountMicrocredits:expiresAtMs:)``
    /// (the same rules and journal sequence), for callers (the simulator's hot path) that need
    /// only the hold or the refusal. Policy decisions are not attached: see ``lastDecisions``.
    public mutating func placeHold(atMs t: Int64, identity: IdentityID, pool: PoolID, tier: Int,
                                   amountMicrocredits: Int64, expiresAtMs: Int64) -> Placement {
        if let refusal = beginUnkeyed(atMs: t) { return .refused(refusal) }
        return placeHold(identity, pool, tier, amountMicrocredits, expiresAtMs)
    }

    /// An unkeyed capture whose journal record is discarded, answered as a ``Charge`` (accepted:
    /// the whole amount charged, with its overage): exactly
    /// ``capture(atMs:hold:amountMicrocredits:identity:)`` without building an ``Acceptance``.
    /// Policy decisions are not attached: see ``lastDecisions``.
    public mutating func captureCharge(atMs t: Int64, hold: HoldID, amountMicrocredits: Int64, identity: IdentityID? = nil) -> Charge {
        if let refusal = beginUnkeyed(atMs: t) { return .refused(refusal) }
        switch captureCore(hold, amountMicrocredits, by: identity) {
        case .refused(let r): return .refused(r)
        case .captured(_, _, let overage, _): return .accepted(overageMicrocredits: overage)
        case .delegated(let h):
            switch captureDelegated(hold: h, hold, amountMicrocredits) {
            case .accepted(let a): return .accepted(overageMicrocredits: a.overageMicrocredits)
            case .refused(let r): return .refused(r)
            }
        }
    }

    mutating func authorize(_ identity: IdentityID, _ pool: PoolID, _ tier: Int, _ amount: Int64,
                            _ expiresAtMs: Int64) -> Outcome {
        switch placeHold(identity, pool, tier, amount, expiresAtMs) {
        case .refused(let r): return .refused(r)
        case .placed(let id):
            var a = Acceptance(seq: lastSeq)
            a.pool = pool
            a.identity = identity
            a.hold = id
            return .accepted(a)
        }
    }

    /// An authorize's rules, answered as a ``Placement`` (no ``Acceptance`` built).
    @inline(__always)
    mutating func placeHold(_ identity: IdentityID, _ pool: PoolID, _ tier: Int, _ amount: Int64,
                            _ expiresAtMs: Int64) -> Placement {
        guard amount > 0 else { return .refused(.invalidArgument("amount must be positive")) }
        guard expiresAtMs > nowMs else { return .refused(.invalidArgument("hold expires before it is placed")) }
        let e: Int
        switch checkIdentity(identity, pool, tier, amount) {
        case .failure(let r): return .refused(r)
        case .success(let index): e = index
        }
        let p = Int(pool.index)
        if let refusal = admit(pool: p, amount: amount, tier: tier) { return .refused(refusal) }
        let before = pools[p].available

        // Take a hold slot first, so the reservations are written into its (reused) buffer.
        let (slot, generation) = takeHoldSlot()
        let h = Int(slot)

        // Reserve grant by grant in burn-down order; the rest on the overdraft.
        let left = takeFromGrants(pool: p, amount: amount) { ledger, g, take in
            ledger.grants[Int(g)].reserved += take
            ledger.holds[h].segments.append(HoldState.Segment(grant: g, amount: take))
        }
        // One access per element for each group of updates (every separate `pools[p]…` write
        // checks the array's uniqueness again).
        pools[p].reserve(amount, overdraftPart: left)
        holds[h].open(generation: generation, identity: identity.index, pool: pool.index, tier: tier, amount: amount,
                      expiresAtMs: expiresAtMs, overdraftPart: left)
        schedule(.holdExpiry, at: expiresAtMs, target: slot, generation: generation)
        countDraw(pool: p)
        identities[Int(identity.index)].entitlements[e].noteHold(amount, atMs: nowMs)
        afterAvailableFell(pool: p, from: before)
        return .placed(HoldID(slot: slot, generation: generation))
    }

    /// A free hold slot and its next generation (a new slot when none is free).
    @inline(__always)
    mutating func takeHoldSlot() -> (slot: Int32, generation: UInt32) {
        if let free = freeHoldSlots.popFirst() {
            return (free, holds[Int(free)].generation &+ 1)
        }
        holds.append(HoldState(generation: 0, phase: .free, identity: 0, pool: 0, tier: 0, amount: 0,
                               expiresAtMs: 0, segments: [], overdraftPart: 0))
        return (Int32(holds.count - 1), 0)
    }

    /// The open hold behind `id`, or why there is none. A root delegation's pool hold is not a
    /// hold anyone outside may name: it answers as unknown.
    func openHold(_ id: HoldID) -> Result<Int, Refusal> {
        guard id.slot >= 0, Int(id.slot) < holds.count else { return .failure(.unknownHold(id)) }
        let h = holds[Int(id.slot)]
        if h.generation != id.generation {
            return .failure(id.generation < h.generation ? .holdSettled : .unknownHold(id))
        }
        if h.reservesDelegation != nil { return .failure(.unknownHold(id)) }
        switch h.phase {
        case .open: return .success(Int(id.slot))
        case .expired: return .failure(.holdExpired)
        case .captured, .released, .free: return .failure(.holdSettled)
        }
    }

    /// The open hold behind `id` if `identity` (when named) is its owner.
    /// Inlined, a plain switch rather than a `Result.flatMap` closure: it is on every capture.
    @inline(__always)
    func ownedHold(_ id: HoldID, by identity: IdentityID?) -> Result<Int, Refusal> {
        switch openHold(id) {
        case .failure(let r): return .failure(r)
        case .success(let h):
            if let identity, holds[h].identity != identity.index { return .failure(.holdNotOwned) }
            return .success(h)
        }
    }

    mutating func capture(_ id: HoldID, _ amount: Int64, by identity: IdentityID?) -> Outcome {
        switch captureCore(id, amount, by: identity) {
        case .refused(let r): return .refused(r)
        case .delegated(let h): return captureDelegated(hold: h, id, amount)
        case .captured(let pool, let holder, let overdraft, let released):
            var a = Acceptance(seq: lastSeq)
            a.pool = PoolID(pool)
            a.identity = IdentityID(holder)
            a.hold = id
            a.chargedMicrocredits = amount
            a.overageMicrocredits = overdraft
            a.releasedMicrocredits = released
            return .accepted(a)
        }
    }

    /// A capture's rules, answered as a ``CaptureStep`` (no ``Acceptance`` built); a hold placed
    /// through a delegation is left to `captureDelegated`.
    @inline(__always)
    mutating func captureCore(_ id: HoldID, _ amount: Int64, by identity: IdentityID?) -> CaptureStep {
        guard amount >= 0 else { return .refused(.invalidArgument("amount must not be negative")) }
        let h: Int
        switch ownedHold(id, by: identity) {
        case .failure(let r): return .refused(r)
        case .success(let slot): h = slot
        }
        if holds[h].delegation != nil { return .delegated(hold: h) }
        let holdPool = holds[h].pool, holdIdentity = holds[h].identity, holdAmount = holds[h].amount
        let p = Int(holdPool)
        let excess = amount - min(amount, holdAmount)
        if excess > 0 {
            // The excess above the hold is new spend, checked as a debit of it would be: identity
            // (status, entitlement, tier, rate cap, spend cap, which counts this hold as open), then
            // the pool's policies. On a refusal nothing changed for the hold: the caller may
            // capture at most the hold, or release it.
            if case .failure(let r) = checkIdentity(IdentityID(holdIdentity), PoolID(holdPool), holds[h].tier, excess) {
                return .refused(r)
            }
            if let refusal = admit(pool: p, amount: excess, tier: holds[h].tier) { return .refused(refusal) }
        }
        let before = pools[p].available
        let settled = settle(hold: h, charge: amount - excess, phase: .captured)
        var overdraft = settled.overdraft
        if excess > 0 {
            overdraft += drawFromGrants(pool: p, amount: excess, to: .usage)
        }
        pools[p].book(spent: amount - overdraft, overage: overdraft)
        afterAvailableFell(pool: p, from: before)
        let i = Int(holdIdentity)
        if let e = identities[i].entitlementIndex(pool: holdPool) {
            recordSpend(identity: i, entitlement: e, amount: amount, countsDraw: false)
        }
        return .captured(pool: holdPool, identity: holdIdentity, overageMicrocredits: overdraft, releasedMicrocredits: settled.released)
    }

    mutating func release(_ id: HoldID, by identity: IdentityID?) -> Outcome {
        let h: Int
        switch ownedHold(id, by: identity) {
        case .failure(let r): return .refused(r)
        case .success(let slot): h = slot
        }
        let holdPool = holds[h].pool, holdIdentity = holds[h].identity
        let through = holds[h].delegation.map { DelegationID(slot: $0, generation: delegations[Int($0)].generation) }
        let settled = through != nil
            ? (overdraft: 0, released: settleDelegated(hold: h, charge: 0, phase: .released))
            : settle(hold: h, charge: 0, phase: .released)
        var a = Acceptance(seq: lastSeq)
        a.pool = PoolID(holdPool)
        a.identity = IdentityID(holdIdentity)
        a.hold = id
        a.delegation = through
        a.releasedMicrocredits = settled.released
        return .accepted(a)
    }

    /// Closes a hold: charges `charge` (≤ the hold) from its reservations in burn-down order, and
    /// returns the rest to its grants; a reservation whose grant expired meanwhile expires now.
    mutating func settle(hold h: Int, charge: Int64, phase: HoldState.Phase) -> (overdraft: Int64, released: Int64) {
        // Fields are read one by one: a copy of the hold would share its segment buffer and make
        // the segments' removal below reallocate it.
        let p = Int(holds[h].pool)
        let account = Account.pool(PoolID(holds[h].pool))
        var left = charge
        var released: Int64 = 0
        // The pool's totals are summed here and written once after the loop.
        var expiredRest: Int64 = 0
        for k in holds[h].segments.indices {
            let segment = holds[h].segments[k]
            let used = min(segment.amount, left)
            left -= used
            let rest = segment.amount - used
            let (expired, listed) = grants[Int(segment.grant)].letGo(segment.amount, keeping: rest)
            post(account, .usage, used, grant: segment.grant)
            guard rest > 0 else { continue }
            if expired {
                post(account, .expiry, rest, grant: segment.grant)
                expiredRest &+= rest
            } else {
                released += rest
                if !listed { list(segment.grant) }
            }
        }
        let overdraftPart = holds[h].overdraftPart
        let amount = holds[h].amount
        let identity = Int(holds[h].identity)
        let overdraftUsed = min(overdraftPart, left)
        pools[p].settleHold(amount, overdraftPart: overdraftPart, overdraftUsed: overdraftUsed,
                            returned: released, expired: expiredRest)
        released += overdraftPart - overdraftUsed
        if overdraftUsed > 0 { post(account, .overage, overdraftUsed) }
        if let e = identities[identity].entitlementIndex(pool: Int32(p)) {
            identities[identity].entitlements[e].openHeld -= amount
        }
        holds[h].close(phase)
        freeHoldSlots.append(Int32(h))
        return (overdraftUsed, released)
    }
}
