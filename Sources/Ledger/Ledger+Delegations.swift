// Delegation: budgets down an agent chain.
//
// A root delegation is a hold of the delegating identity on a pool, placed by the same rules as an
// authorize (entitlement, caps, the pool's policies). A sub-delegation reserves from the parent
// delegation its delegator holds. Per delegation d, with amount A(d):
//
//   spent(d) + held(d) + delegated(d) ≤ A(d)
//
// where `spent` is what its holder drew through it (debits, captures), `held` its holder's open
// holds through it, and `delegated` the amounts of the sub-delegations made from it (open or
// closed: a child's amount, once handed down, is consumed from the parent). The root's pool hold
// is always Σ over the open delegations of its tree of A − spent − delegated: every draw in the
// tree charges the root's hold (pool → usage), and each delegation that closes releases its
// unspent rest from it to the pool. So a tree never spends more than its root's amount, and
//
//   A(root) = Σ spent in the tree + Σ returned by closed delegations + the root hold
//
// Closing, expiry, or suspension/revocation of an identity above closes a delegation and its whole
// subtree in one command (depth ≤ `maxDelegationDepth`, so the recursion is bounded).

struct DelegationState: Hashable, Codable, Sendable {
    enum Phase: UInt8, Hashable, Codable, Sendable { case open, closed }
    var generation: UInt32
    var phase: Phase
    /// The parent's slot and generation (-1 for a root).
    var parent: Int32
    var parentGeneration: UInt32
    /// The root's slot (its own for a root).
    var root: Int32
    /// 1 for a root delegation.
    var depth: Int32
    var delegator: Int32
    var holder: Int32
    var pool: Int32
    /// Root only: the slot of its pool hold, and the index of the root delegator's entitlement on
    /// the pool (which counts the hold as open, then the tree's spend against its cap).
    var hold: Int32
    var entitlement: Int32
    var amount: Int64
    var spent: Int64 = 0
    var held: Int64 = 0
    var delegated: Int64 = 0
    /// `Int64.max` when it has no expiry (then its parent's bounds it).
    var expiresAtMs: Int64
    /// Sub-delegations made from it (some may be closed; compacted as it grows).
    var children: [DelegationID] = []
    /// Holds placed through it (some may be settled; compacted as it grows), and how many are open.
    var holdsPlaced: [HoldID] = []
    var openHolds: Int = 0
    /// Root only: spent in the whole tree, and the rests closed parts of the tree returned.
    var treeSpent: Int64 = 0
    var treeReturned: Int64 = 0

    /// What is left to spend, hold or delegate.
    var free: Int64 { amount - spent - held - delegated }
}

/// A delegation as a query reports it.
public struct DelegationBalance: Hashable, Sendable {
    public var delegation: DelegationID
    public var parent: DelegationID?
    public var pool: PoolID
    public var delegator: IdentityID
    public var holder: IdentityID
    /// 1 for a root delegation.
    public var depth: Int
    public var amountMicrocredits: Int64
    /// Drawn by the holder through it.
    public var spentMicrocredits: Int64
    /// Reserved by the holder's open holds through it.
    public var heldMicrocredits: Int64
    /// Handed down to sub-delegations.
    public var delegatedMicrocredits: Int64
    /// What is left to spend, hold or delegate.
    public var availableMicrocredits: Int64
    public var expiresAtMs: Int64?
    /// Root only: spent in the whole tree.
    public var treeSpentMicrocredits: Int64?
}

extension Ledger {
    // MARK: Commands

    mutating func delegate(_ identity: IdentityID, child: String, from source: DelegationSource, _ amount: Int64,
                           expiresAtMs: Int64?) -> Outcome {
        guard amount > 0 else { return .refused(.invalidArgument("amount must be positive")) }
        if let e = expiresAtMs, e <= nowMs { return .refused(.invalidArgument("delegation expires before it is made")) }
        if let problem = LedgerName.problem(child) { return .refused(.invalidArgument("child identity name: \(problem)")) }
        let existingChild = identityByName[child]
        var pool: Int32
        var parent: Int = -1
        var depth: Int32 = 1
        var entitlement = -1
        var expires = expiresAtMs ?? .max
        switch source {
        case .pool(let p):
            switch checkIdentity(identity, p, nil, amount) {
            case .failure(let r): return .refused(r)
            case .success(let e): entitlement = e
            }
            pool = p.index
        case .delegation(let id):
            guard isIdentity(identity) else { return .refused(.unknownIdentity(identity)) }
            if let r = statusRefusal(Int(identity.index)) { return .refused(r) }
            switch openDelegation(id) {
            case .failure(let r): return .refused(r)
            case .success(let d): parent = d
            }
            guard delegations[parent].holder == identity.index else { return .refused(.delegationNotOwned) }
            depth = delegations[parent].depth + 1
            guard Int(depth) <= config.maxDelegationDepth else {
                return .refused(.delegationDepthExceeded(maxDepth: config.maxDelegationDepth))
            }
            let free = delegations[parent].free
            guard amount <= free else { return .refused(.insufficientFunds(availableMicrocredits: free)) }
            pool = delegations[parent].pool
            expires = min(expires, delegations[parent].expiresAtMs)
        }
        // The child: another identity, not one already on the chain (a budget does not come back
        // up), and able to draw.
        if let c = existingChild {
            if c == identity.index { return .refused(.invalidArgument("a delegation goes to another identity")) }
            var a = parent
            while a >= 0 {
                if delegations[a].delegator == c { return .refused(.invalidArgument("'\(child)' is already on this delegation chain")) }
                a = Int(delegations[a].parent)
            }
            if identities[Int(c)].status != .active {
                return .refused(.invalidArgument("the child identity '\(child)' is \(identities[Int(c)].status.rawValue)"))
            }
        } else if identities.count >= Int(Int32.max) {
            return .refused(.overflow)
        }
        // Last, the pool's policies (they may act: a top-up is a real purchase).
        var holdSlot: Int32 = -1
        if case .pool(let p) = source {
            let pi = Int(p.index)
            if let refusal = admit(pool: pi, amount: amount, tier: -1) { return .refused(refusal) }
            let before = pools[pi].available
            holdSlot = placeHold(identity: identity.index, pool: pi, tier: -1, amount: amount, expiresAtMs: expires, entitlement: entitlement)
            countDraw(pool: pi)
            noteRate(identity: Int(identity.index), entitlement: entitlement)
            afterAvailableFell(pool: pi, from: before)
        }
        let c: Int32
        if let existingChild {
            c = existingChild
        } else {
            // A sub-agent works in its delegator's environment.
            c = Int32(identities.count)
            var state = IdentityState(name: child, status: .active, stopCondition: nil)
            state.environment = identities[Int(identity.index)].environment
            identities.append(state)
            identityByName[child] = c
        }

        let (slot, generation) = takeDelegationSlot()
        let d = Int(slot)
        let id = DelegationID(slot: slot, generation: generation)
        var state = DelegationState(generation: generation, phase: .open, parent: -1, parentGeneration: 0, root: slot, depth: depth,
                                    delegator: identity.index, holder: c, pool: pool, hold: holdSlot,
                                    entitlement: Int32(entitlement), amount: amount, expiresAtMs: expires)
        if parent >= 0 {
            state.parent = Int32(parent)
            state.parentGeneration = delegations[parent].generation
            state.root = delegations[parent].root
            state.entitlement = -1
        }
        // Reuse the slot's buffers (as holds do).
        state.children = delegations[d].children
        state.children.removeAll(keepingCapacity: true)
        state.holdsPlaced = delegations[d].holdsPlaced
        state.holdsPlaced.removeAll(keepingCapacity: true)
        delegations[d] = state
        if holdSlot >= 0 { holds[Int(holdSlot)].reservesDelegation = slot }
        if parent >= 0 {
            delegations[parent].delegated += amount
            compactChildren(parent)
            delegations[parent].children.append(id)
        }
        // A sub-delegation expiring with its parent needs no event of its own: the parent's closes it.
        if expires != .max && (parent < 0 || expires < delegations[parent].expiresAtMs) {
            schedule(.delegationExpiry, at: expires, target: slot, generation: generation)
        }
        var a = Acceptance(seq: lastSeq)
        a.pool = PoolID(pool)
        a.identity = IdentityID(c)
        a.delegation = id
        return .accepted(a)
    }

    mutating func closeDelegation(_ id: DelegationID, by identity: IdentityID?) -> Outcome {
        let d: Int
        switch openDelegation(id) {
        case .failure(let r): return .refused(r)
        case .success(let slot): d = slot
        }
        if let identity {
            guard isIdentity(identity) else { return .refused(.unknownIdentity(identity)) }
            var a = d
            var above = false
            while a >= 0 {
                if delegations[a].delegator == identity.index { above = true; break }
                a = Int(delegations[a].parent)
            }
            guard above else { return .refused(.delegationNotOwned) }
        }
        let pool = delegations[d].pool, holder = delegations[d].holder
        let released = closeTree(d)
        var a = Acceptance(seq: lastSeq)
        a.pool = PoolID(pool)
        a.identity = IdentityID(holder)
        a.delegation = id
        a.releasedMicrocredits = released
        return .accepted(a)
    }

    mutating func delegatedDebit(_ id: DelegationID, _ identity: IdentityID, _ tier: Int, _ amount: Int64) -> Outcome {
        guard amount > 0 else { return .refused(.invalidArgument("amount must be positive")) }
        let d: Int
        switch checkHolder(id, identity, tier) {
        case .failure(let r): return .refused(r)
        case .success(let slot): d = slot
        }
        let free = delegations[d].free
        guard amount <= free else { return .refused(.insufficientFunds(availableMicrocredits: free)) }
        delegations[d].spent += amount
        let overdraft = chargeTree(d, amount)
        recordDelegatedSpend(holder: Int(identity.index), amount)
        var a = Acceptance(seq: lastSeq)
        a.pool = PoolID(delegations[d].pool)
        a.identity = identity
        a.delegation = id
        a.chargedMicrocredits = amount
        a.overageMicrocredits = overdraft
        return .accepted(a)
    }

    mutating func delegatedAuthorize(_ id: DelegationID, _ identity: IdentityID, _ tier: Int, _ amount: Int64,
                                     _ expiresAtMs: Int64) -> Outcome {
        guard amount > 0 else { return .refused(.invalidArgument("amount must be positive")) }
        guard expiresAtMs > nowMs else { return .refused(.invalidArgument("hold expires before it is placed")) }
        let d: Int
        switch checkHolder(id, identity, tier) {
        case .failure(let r): return .refused(r)
        case .success(let slot): d = slot
        }
        let free = delegations[d].free
        guard amount <= free else { return .refused(.insufficientFunds(availableMicrocredits: free)) }
        let (slot, generation) = takeHoldSlot()
        let h = Int(slot)
        holds[h].generation = generation
        holds[h].phase = .open
        holds[h].identity = identity.index
        holds[h].pool = delegations[d].pool
        holds[h].tier = tier
        holds[h].amount = amount
        holds[h].expiresAtMs = expiresAtMs
        holds[h].overdraftPart = 0
        holds[h].delegation = Int32(d)
        schedule(.holdExpiry, at: expiresAtMs, target: slot, generation: generation)
        delegations[d].held += amount
        delegations[d].openHolds += 1
        if delegations[d].holdsPlaced.count >= 8 && delegations[d].holdsPlaced.count >= 2 * delegations[d].openHolds {
            // Amortised O(1): drop the settled ones once they are half the list.
            let placed = delegations[d].holdsPlaced
            delegations[d].holdsPlaced.removeAll(keepingCapacity: true)
            for hold in placed where holds[Int(hold.slot)].generation == hold.generation && holds[Int(hold.slot)].phase == .open {
                delegations[d].holdsPlaced.append(hold)
            }
        }
        let hold = HoldID(slot: slot, generation: generation)
        delegations[d].holdsPlaced.append(hold)
        var a = Acceptance(seq: lastSeq)
        a.pool = PoolID(delegations[d].pool)
        a.identity = identity
        a.delegation = id
        a.hold = hold
        return .accepted(a)
    }

    mutating func delegatedCapture(_ id: DelegationID, _ hold: HoldID, _ amount: Int64, by identity: IdentityID?) -> Outcome {
        switch ownedHold(hold, by: identity) {
        case .failure(let r): return .refused(r)
        case .success(let h):
            guard let d = holds[h].delegation, d == id.slot, delegations[Int(d)].generation == id.generation else {
                return .refused(.invalidArgument("hold \(hold.raw) was not placed through delegation \(id.raw)"))
            }
        }
        return capture(hold, amount, by: identity)
    }

    /// A capture of hold `h`, placed through a delegation: the amount is spent in the delegation
    /// (above the hold, the excess must fit in what the delegation has free), the root's hold is
    /// charged with it, and the rest of the hold returns to the delegation.
    mutating func captureDelegated(hold h: Int, _ id: HoldID, _ amount: Int64) -> Outcome {
        let d = Int(holds[h].delegation!)
        let holder = Int(holds[h].identity), holdAmount = holds[h].amount
        let excess = amount - min(amount, holdAmount)
        if excess > 0 {
            if let r = statusRefusal(holder) { return .refused(r) }
            let free = delegations[d].free
            guard excess <= free else { return .refused(.insufficientFunds(availableMicrocredits: free)) }
        }
        let released = settleDelegated(hold: h, charge: amount, phase: .captured)
        let overdraft = amount > 0 ? chargeTree(d, amount) : 0
        if amount > 0 { recordDelegatedSpend(holder: holder, amount) }
        var a = Acceptance(seq: lastSeq)
        a.pool = PoolID(delegations[d].pool)
        a.identity = IdentityID(Int32(holder))
        a.hold = id
        a.delegation = DelegationID(slot: Int32(d), generation: delegations[d].generation)
        a.chargedMicrocredits = amount
        a.overageMicrocredits = overdraft
        a.releasedMicrocredits = released
        return .accepted(a)
    }

    /// Closes hold `h` placed through a delegation, charging `charge` to the delegation's spend
    /// (the caller charges the root's hold). Returns what went back to the delegation.
    mutating func settleDelegated(hold h: Int, charge: Int64, phase: HoldState.Phase) -> Int64 {
        let d = Int(holds[h].delegation!)
        let amount = holds[h].amount
        delegations[d].held -= amount
        delegations[d].openHolds -= 1
        delegations[d].spent += charge
        holds[h].phase = phase
        holds[h].delegation = nil
        freeHoldSlots.append(Int32(h))
        return max(0, amount - charge)
    }

    // MARK: Rules

    /// Why identity `i`'s status forbids it to act, if it does.
    @inline(__always)
    func statusRefusal(_ i: Int) -> Refusal? {
        switch identities[i].status {
        case .active: nil
        case .suspended: .identitySuspended
        case .revoked: .identityRevoked
        }
    }

    /// The open delegation behind `id`, or why there is none.
    func openDelegation(_ id: DelegationID) -> Result<Int, Refusal> {
        guard id.slot >= 0, Int(id.slot) < delegations.count else { return .failure(.unknownDelegation(id)) }
        let d = delegations[Int(id.slot)]
        if d.generation != id.generation {
            return .failure(id.generation < d.generation ? .delegationClosed : .unknownDelegation(id))
        }
        return d.phase == .open ? .success(Int(id.slot)) : .failure(.delegationClosed)
    }

    /// A draw's checks through a delegation, identity first: the identity exists and is active,
    /// the delegation is open and `identity` holds it, and the tier is one the root delegator's
    /// entitlement allows (a budget handed down does not widen what it may buy).
    @inline(__always)
    func checkHolder(_ id: DelegationID, _ identity: IdentityID, _ tier: Int) -> Result<Int, Refusal> {
        guard isIdentity(identity) else { return .failure(.unknownIdentity(identity)) }
        if let r = statusRefusal(Int(identity.index)) { return .failure(r) }
        let d: Int
        switch openDelegation(id) {
        case .failure(let r): return .failure(r)
        case .success(let slot): d = slot
        }
        guard delegations[d].holder == identity.index else { return .failure(.delegationNotOwned) }
        let root = Int(delegations[d].root)
        let allowed = identities[Int(delegations[root].delegator)].entitlements[Int(delegations[root].entitlement)].entitlement.allowedTiers
        guard tier >= 0, tier < 64, allowed & (1 << UInt64(tier)) != 0 else { return .failure(.tierNotAllowed(tier: tier)) }
        return .success(d)
    }

    /// Records credits a holder spent through a delegation: its total and usage bucket, and its
    /// stop condition if it has one (a suspension it trips closes what it delegated).
    mutating func recordDelegatedSpend(holder i: Int, _ amount: Int64) {
        identities[i].recordUsage(amount, atMs: nowMs, usagePeriodMs: config.usagePeriodMs)
        if identities[i].stopCondition != nil { checkStopCondition(identity: i, amount: amount) }
    }

    /// A free delegation slot and its next generation.
    mutating func takeDelegationSlot() -> (slot: Int32, generation: UInt32) {
        if let free = freeDelegationSlots.popFirst() {
            return (free, delegations[Int(free)].generation &+ 1)
        }
        delegations.append(DelegationState(generation: 0, phase: .closed, parent: -1, parentGeneration: 0, root: -1, depth: 0,
                                           delegator: 0, holder: 0, pool: 0, hold: -1, entitlement: -1, amount: 0, expiresAtMs: 0))
        return (Int32(delegations.count - 1), 0)
    }

    /// Drops closed children from `d`'s list once they are half of it (amortised O(1)).
    mutating func compactChildren(_ d: Int) {
        let children = delegations[d].children
        guard children.count >= 8 else { return }
        var open = 0
        for c in children where delegations[Int(c.slot)].generation == c.generation && delegations[Int(c.slot)].phase == .open { open += 1 }
        guard children.count >= 2 * open else { return }
        delegations[d].children = children.filter {
            delegations[Int($0.slot)].generation == $0.generation && delegations[Int($0.slot)].phase == .open
        }
    }

    // MARK: Queries

    /// The open delegation `id`, or nil when it is unknown or closed. - Complexity: O(1).
    public func delegation(_ id: DelegationID) -> DelegationBalance? {
        guard case .success(let d) = openDelegation(id) else { return nil }
        let s = delegations[d]
        return DelegationBalance(
            delegation: id, parent: s.parent >= 0 ? DelegationID(slot: s.parent, generation: s.parentGeneration) : nil,
            pool: PoolID(s.pool), delegator: IdentityID(s.delegator), holder: IdentityID(s.holder), depth: Int(s.depth),
            amountMicrocredits: s.amount, spentMicrocredits: s.spent, heldMicrocredits: s.held,
            delegatedMicrocredits: s.delegated, availableMicrocredits: s.free,
            expiresAtMs: s.expiresAtMs == .max ? nil : s.expiresAtMs, treeSpentMicrocredits: s.root == Int32(d) ? s.treeSpent : nil)
    }

    /// Every open delegation, in slot order. - Complexity: O(delegation slots).
    public var openDelegations: [DelegationBalance] {
        delegations.indices.compactMap { d in
            delegations[d].phase == .open ? delegation(DelegationID(slot: Int32(d), generation: delegations[d].generation)) : nil
        }
    }
}
