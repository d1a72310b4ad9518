// The admission query: would a debit be accepted, and how much of it could be charged? A pure
// question answered by a debit's own rule code (`checkIdentity`, then the pool's policy walk), for
// callers that decide before they draw: the simulator's unreserved requests check at arrival and
// record after completion, as proxies do.

/// What ``Ledger/admission(atMs:identity:pool:tier:amountMicrocredits:)`` answers.
public struct Admission: Hashable, Sendable {
    public enum Verdict: Hashable, Sendable {
        case accepted
        case refused(Refusal)
    }

    /// What a debit of the whole amount would get.
    public var verdict: Verdict
    /// The largest part of the amount a debit would be accepted for: all of it when accepted;
    /// when refused for credit (``Refusal/insufficientFunds(availableMicrocredits:)``,
    /// ``Refusal/spendCapExceeded(capMicrocredits:usedMicrocredits:)``), what the pool under its
    /// policies and the identity's spend cap can still take, checked by asking again for that
    /// part; 0 for every other refusal (identity, tier, rate cap, degrade, throttle), which no
    /// smaller amount escapes.
    public var coverableMicrocredits: Int64

    public var isAccepted: Bool { verdict == .accepted }

    public var refusal: Refusal? {
        if case .refused(let r) = verdict { return r }
        return nil
    }
}

extension Ledger {
    /// Whether a debit of `amountMicrocredits` by `identity` from `pool` at tier `tier` would be
    /// accepted at `atMs`, and how much of it would be (``Admission/coverableMicrocredits``).
    ///
    /// The same checks, in the same order, as the debit itself: the amount, the identity (status,
    /// entitlement, tier, rate cap, spend cap), then the pool's policies. A pure query: it changes
    /// nothing, is not journaled and takes no sequence number. Where a debit's policies would act,
    /// the query answers as if they had: an `auto_top_up` or a `borrow` that would cover the draw
    /// makes it "accepted" (nothing is bought or moved); a draw is not counted against a rate cap
    /// or a throttle; alerts and stop conditions, which judge after a draw, do not bear on it.
    ///
    /// Time: the answer is as of `atMs`, including the scheduled events a command at `atMs` would
    /// run first (expiries, refills, grants becoming effective): those run on a private copy, so
    /// the ledger's clock does not move. `atMs` before the ledger's clock is refused, as for a
    /// command. Caveat: a debit's policy walk may top up a parent drained by borrowing, which the
    /// query does not foresee (it matters only to a pool with two `borrow` policies).
    /// - Complexity: O(entitlements of the identity + policies of the pool) when no scheduled
    ///   event falls due by `atMs`; otherwise also the cost of those events, and of copying the
    ///   state they touch.
    public func admission(atMs t: Int64, identity: IdentityID, pool: PoolID, tier: Int, amountMicrocredits amount: Int64) -> Admission {
        guard t >= nowMs else {
            return Admission(verdict: .refused(.timeWentBackwards(nowMs: nowMs)), coverableMicrocredits: 0)
        }
        if nextEventDueMs > t {
            // Nothing falls due: only the clock differs, and a copy with the clock set costs no
            // copy of the state (the arrays are shared until written).
            if t == nowMs { return admissionNow(identity, pool, tier, amount) }
            var later = self
            later.nowMs = t
            return later.admissionNow(identity, pool, tier, amount)
        }
        var later = self
        later.advance(to: t)
        return later.admissionNow(identity, pool, tier, amount)
    }

    /// ``admission(atMs:identity:pool:tier:amountMicrocredits:)`` at the ledger's clock, with no
    /// event due.
    func admissionNow(_ identity: IdentityID, _ pool: PoolID, _ tier: Int, _ amount: Int64) -> Admission {
        let whole = debitVerdict(identity, pool, tier, amount)
        guard let refusal = whole.refusal else { return Admission(verdict: .accepted, coverableMicrocredits: amount) }
        // The largest part: shrink to what the refusal says is left (the cap's room, the pool's
        // capacity) and ask again. Each round strictly shrinks the part, and only those two bound
        // it, so two rounds settle it; four keep the query O(1) whatever happens.
        var part = amount
        var why = refusal
        var capacity = whole.capacityMicrocredits
        for _ in 0..<4 {
            let next: Int64
            switch why {
            case .spendCapExceeded(let cap, let used): next = min(part, cap &- used)
            case .insufficientFunds: next = min(part, capacity)
            default: next = 0
            }
            guard next > 0, next < part else { break }
            part = next
            let verdict = debitVerdict(identity, pool, tier, part)
            guard let r = verdict.refusal else { return Admission(verdict: .refused(refusal), coverableMicrocredits: part) }
            why = r
            capacity = verdict.capacityMicrocredits
        }
        return Admission(verdict: .refused(refusal), coverableMicrocredits: 0)
    }

    /// A debit's checks in `debitCore`'s order, without acting: the amount, the identity, then the
    /// pool's policies (with the pool's capacity where their walk ended; 0 when it did not start).
    @inline(__always)
    func debitVerdict(_ identity: IdentityID, _ pool: PoolID, _ tier: Int, _ amount: Int64) -> (refusal: Refusal?, capacityMicrocredits: Int64) {
        guard amount > 0 else { return (.invalidArgument("amount must be positive"), 0) }
        if case .failure(let r) = checkIdentity(identity, pool, tier, amount) { return (r, 0) }
        return policyVerdict(pool: Int(pool.index), amount: amount, tier: tier)
    }
}
