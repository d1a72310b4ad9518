@testable import Ledger

/// A deliberately simple model of one pool with one identity: grants in a flat list, holds as
/// lists of reservations, every question answered by scanning everything. It knows nothing of
/// the ledger's indexes, caches, heaps or slot reuse; the property test checks that the ledger
/// answers exactly as this model does.
struct ReferenceModel {
    struct Grant {
        var amount: Int64, remaining: Int64, reserved: Int64 = 0
        var effectiveAt: Int64, expiresAt: Int64, priority: Int32
        var effective = false, expired = false
    }
    struct Hold {
        var id: HoldID
        var parts: [(grant: Int, amount: Int64)]
        var overdraft: Int64, amount: Int64, expiresAt: Int64
        var open = true, expired = false
    }

    var limit: Int64
    var now: Int64 = 0
    var grants: [Grant] = []
    var holds: [Hold] = []
    var overdrawn: Int64 = 0
    var overdraftReserved: Int64 = 0
    var suspended = false
    var usage: Int64 = 0, overage: Int64 = 0, expiry: Int64 = 0

    var available: Int64 {
        grants.filter { $0.effective && !$0.expired }.reduce(0) { $0 + $1.remaining } - overdrawn - overdraftReserved
    }
    var held: Int64 { holds.filter(\.open).reduce(0) { $0 + $1.amount } }
    var total: Int64 { grants.reduce(0) { $0 + $1.remaining + $1.reserved } - overdrawn }

    /// Grant indexes in burn-down order: priority, soonest expiry, oldest, creation.
    var burnOrder: [Int] {
        grants.indices.filter { grants[$0].effective && !grants[$0].expired && grants[$0].remaining > 0 }.sorted {
            let a = grants[$0], b = grants[$1]
            return (a.priority, a.expiresAt, a.effectiveAt, $0) < (b.priority, b.expiresAt, b.effectiveAt, $1)
        }
    }

    /// Runs what falls due up to `t`, one event at a time in (time, kind, creation) order:
    /// hold expiries, then grant expiries, then grants becoming effective.
    mutating func advance(to t: Int64) {
        while true {
            var best: (time: Int64, kind: Int, index: Int)? = nil
            func consider(_ c: (Int64, Int, Int)) {
                if c.0 <= t, best == nil || (c.0, c.1, c.2) < (best!.time, best!.kind, best!.index) { best = c }
            }
            for (i, h) in holds.enumerated() where h.open { consider((h.expiresAt, 0, i)) }
            for (i, g) in grants.enumerated() where !g.expired { consider((g.expiresAt, 2, i)) }
            for (i, g) in grants.enumerated() where !g.effective && !g.expired { consider((g.effectiveAt, 3, i)) }
            guard let e = best else { break }
            now = e.time
            switch e.kind {
            case 0: settle(e.index, charge: 0, expired: true)
            case 2:
                expiry += grants[e.index].remaining
                grants[e.index].remaining = 0
                grants[e.index].expired = true
            default: activate(e.index)
            }
        }
        now = t
    }

    mutating func activate(_ g: Int) {
        grants[g].effective = true
        let settleAmount = min(grants[g].remaining, overdrawn)
        grants[g].remaining -= settleAmount
        overdrawn -= settleAmount
    }

    mutating func fund(_ amount: Int64, expiresAt: Int64?, priority: Int32, effectiveAt: Int64?) {
        let eff = max(effectiveAt ?? now, now)
        grants.append(Grant(amount: amount, remaining: amount, effectiveAt: eff, expiresAt: expiresAt ?? .max, priority: priority))
        if eff <= now { activate(grants.count - 1) }
    }

    /// Takes `amount` in burn-down order; returns the reservations made (or the draws).
    mutating func take(_ amount: Int64, reserve: Bool) -> (parts: [(grant: Int, amount: Int64)], overdraft: Int64) {
        var left = amount
        var parts: [(grant: Int, amount: Int64)] = []
        for g in burnOrder where left > 0 {
            let x = min(grants[g].remaining, left)
            grants[g].remaining -= x
            if reserve { grants[g].reserved += x } else { usage += x }
            parts.append((g, x))
            left -= x
        }
        if reserve { overdraftReserved += left } else { overdrawn += left; overage += left }
        return (parts, left)
    }

    func check(_ amount: Int64) -> Refusal? {
        if suspended { return .identitySuspended }
        return amount <= available + limit ? nil : .insufficientFunds(availableMicrocredits: max(available, 0))
    }

    mutating func debit(_ amount: Int64) -> Refusal? {
        if let r = check(amount) { return r }
        _ = take(amount, reserve: false)
        return nil
    }

    mutating func authorize(_ amount: Int64, expiresAt: Int64, id: () -> HoldID?) -> Refusal? {
        if let r = check(amount) { return r }
        let (parts, od) = take(amount, reserve: true)
        holds.append(Hold(id: id()!, parts: parts, overdraft: od, amount: amount, expiresAt: expiresAt))
        return nil
    }

    mutating func settle(_ h: Int, charge: Int64, expired: Bool) {
        var left = charge
        for p in holds[h].parts {
            let used = min(p.amount, left)
            left -= used
            usage += used
            grants[p.grant].reserved -= p.amount
            if grants[p.grant].expired { expiry += p.amount - used } else { grants[p.grant].remaining += p.amount - used }
        }
        let odUsed = min(holds[h].overdraft, left)
        overdraftReserved -= holds[h].overdraft
        overdrawn += odUsed
        overage += odUsed
        holds[h].open = false
        holds[h].expired = expired
    }

    mutating func capture(_ h: Int, _ amount: Int64) -> Refusal? {
        guard holds[h].open else { return holds[h].expired ? .holdExpired : .holdSettled }
        let excess = max(0, amount - holds[h].amount)
        // The excess is new spend: the identity check comes first, as for a debit.
        if excess > 0 && suspended { return .identitySuspended }
        if excess > 0 && excess > available + limit { return .insufficientFunds(availableMicrocredits: max(available, 0)) }
        settle(h, charge: amount - excess, expired: false)
        if excess > 0 { _ = take(excess, reserve: false) }
        return nil
    }

    /// Another identity's capture or release: refused, and nothing changes.
    func stranger(_ h: Int) -> Refusal {
        holds[h].open ? .holdNotOwned : (holds[h].expired ? .holdExpired : .holdSettled)
    }

    mutating func release(_ h: Int) -> Refusal? {
        guard holds[h].open else { return holds[h].expired ? .holdExpired : .holdSettled }
        settle(h, charge: 0, expired: false)
        return nil
    }
}
