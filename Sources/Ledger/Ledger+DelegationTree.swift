// A delegation tree's pool hold: placed for a root, charged as the tree spends, released as parts
// of the tree close (see `Ledger+Delegations.swift` for the accounting it keeps true).

extension Ledger {
    /// Places a pool hold of `amount` for a root delegation (segments in burn-down order, the rest
    /// on the overdraft), as an authorize does, without a hold-expiry event: the delegation's own
    /// expiry closes it. Returns its slot.
    mutating func placeHold(identity: Int32, pool p: Int, tier: Int, amount: Int64, expiresAtMs: Int64, entitlement e: Int) -> Int32 {
        let (slot, generation) = takeHoldSlot()
        let h = Int(slot)
        let left = takeFromGrants(pool: p, amount: amount) { ledger, g, take in
            ledger.grants[Int(g)].reserved += take
            ledger.holds[h].segments.append(HoldState.Segment(grant: g, amount: take))
        }
        pools[p].overdraftReserved += left
        pools[p].held += amount
        holds[h].generation = generation
        holds[h].phase = .open
        holds[h].identity = identity
        holds[h].pool = Int32(p)
        holds[h].tier = tier
        holds[h].amount = amount
        holds[h].expiresAtMs = expiresAtMs
        holds[h].overdraftPart = left
        identities[Int(identity)].entitlements[e].openHeld &+= amount
        return slot
    }

    /// Charges `amount` spent in delegation `d`'s tree to its root's pool hold: the hold's
    /// reservations in burn-down order go to usage, then its overdraft part to overage; the root
    /// delegator's entitlement counts it as spent instead of held. Returns the overdraft part.
    mutating func chargeTree(_ d: Int, _ amount: Int64) -> Int64 {
        let r = Int(delegations[d].root)
        let h = Int(delegations[r].hold)
        let p = Int(holds[h].pool)
        let account = Account.pool(PoolID(Int32(p)))
        var left = amount
        var k = 0
        while left > 0 && k < holds[h].segments.count {
            let segment = holds[h].segments[k]
            let used = min(segment.amount, left)
            left -= used
            grants[Int(segment.grant)].reserved -= used
            post(account, .usage, used, grant: segment.grant)
            if used == segment.amount { k += 1 } else { holds[h].segments[k].amount -= used }
        }
        if k > 0 { holds[h].segments.removeFirst(k) }
        let overdraft = left
        if overdraft > 0 {
            holds[h].overdraftPart -= overdraft
            pools[p].overdraftReserved -= overdraft
            pools[p].overdrawn += overdraft
            post(account, .overage, overdraft)
        }
        holds[h].amount -= amount
        pools[p].held -= amount
        pools[p].spentTotal &+= amount - overdraft
        pools[p].overageTotal &+= overdraft
        let delegator = Int(delegations[r].delegator), e = Int(delegations[r].entitlement)
        identities[delegator].entitlements[e].openHeld -= amount
        identities[delegator].entitlements[e].noteSpend(amount, countsDraw: false, atMs: nowMs)
        delegations[r].treeSpent += amount
        return overdraft
    }

    /// Releases `amount` of root `r`'s pool hold back to the pool: first its overdraft part, then
    /// its reservations from the last in burn-down order (keeping those the tree would draw next);
    /// a reservation whose grant expired meanwhile expires now. Returns what became available.
    mutating func releaseFromRootHold(_ r: Int, _ amount: Int64) -> Int64 {
        let h = Int(delegations[r].hold)
        let p = Int(holds[h].pool)
        let account = Account.pool(PoolID(Int32(p)))
        let fromOverdraft = min(amount, holds[h].overdraftPart)
        holds[h].overdraftPart -= fromOverdraft
        pools[p].overdraftReserved -= fromOverdraft
        var released = fromOverdraft
        var left = amount - fromOverdraft
        while left > 0, let segment = holds[h].segments.last {
            let take = min(segment.amount, left)
            left -= take
            let gi = Int(segment.grant)
            grants[gi].reserved -= take
            if grants[gi].expired {
                post(account, .expiry, take, grant: segment.grant)
                pools[p].expiredTotal &+= take
            } else {
                grants[gi].remaining += take
                pools[p].effectiveRemaining += take
                released += take
                if !grants[gi].listed { list(segment.grant) }
            }
            if take == segment.amount { holds[h].segments.removeLast() } else { holds[h].segments[holds[h].segments.count - 1].amount -= take }
        }
        precondition(left == 0, "released more than the root hold reserves")
        holds[h].amount -= amount
        pools[p].held -= amount
        let delegator = Int(delegations[r].delegator), e = Int(delegations[r].entitlement)
        identities[delegator].entitlements[e].openHeld -= amount
        return released
    }

    /// Closes delegation `d` and everything below it: the open holds through each are released,
    /// each one's unspent rest goes back to the pool. Returns what became available in the pool.
    @discardableResult
    mutating func closeTree(_ d: Int) -> Int64 {
        var released: Int64 = 0
        for c in delegations[d].children
        where delegations[Int(c.slot)].generation == c.generation && delegations[Int(c.slot)].phase == .open {
            released += closeTree(Int(c.slot))
        }
        for hold in delegations[d].holdsPlaced
        where holds[Int(hold.slot)].generation == hold.generation && holds[Int(hold.slot)].phase == .open
            && holds[Int(hold.slot)].delegation == Int32(d) {
            _ = settleDelegated(hold: Int(hold.slot), charge: 0, phase: .released)
        }
        let rest = delegations[d].amount - delegations[d].spent - delegations[d].delegated
        let r = Int(delegations[d].root)
        if r == d {
            let h = Int(delegations[d].hold)
            released += releaseFromRootHold(d, rest)
            precondition(holds[h].amount == 0 && holds[h].segments.isEmpty && holds[h].overdraftPart == 0,
                         "a root hold outlived its tree")
            holds[h].phase = .released
            holds[h].reservesDelegation = nil
            freeHoldSlots.append(Int32(h))
        } else {
            released += releaseFromRootHold(r, rest)
            delegations[r].treeReturned += rest
        }
        delegations[d].phase = .closed
        delegations[d].children.removeAll(keepingCapacity: true)
        delegations[d].holdsPlaced.removeAll(keepingCapacity: true)
        freeDelegationSlots.append(Int32(d))
        return released
    }

    /// Closes every open delegation identity `i` made (and so everything below them), and, when
    /// `includingHeld`, those it holds: a revoked holder can never draw on them again, so their
    /// credits go back to the pool now. A suspended holder's own budget stays (frozen: its draws
    /// are refused) until it is resumed, closed from above or expires.
    /// - Complexity: O(delegation slots) plus the closed trees.
    mutating func closeDelegations(of i: Int, includingHeld: Bool) {
        let who = Int32(i)
        for d in delegations.indices where delegations[d].phase == .open
            && (delegations[d].delegator == who || (includingHeld && delegations[d].holder == who)) {
            closeTree(d)
        }
    }
}
