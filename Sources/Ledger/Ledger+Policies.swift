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
    ///
    /// The rules are `nextPolicyStep`'s; this driver carries out the top-ups and borrowing it asks
    /// for. ``policyVerdict(pool:amount:tier:)`` is the same walk without acting.
    mutating func admit(pool p: Int, amount: Int64, tier: Int) -> Refusal? {
        // A draw the pool covers passes every policy unless one can act on covered draws.
        if pools[p].admitsCoveredDraws && amount <= pools[p].available { return nil }
        if pools[p].policies.isEmpty {
            return .insufficientFunds(availableMicrocredits: max(pools[p].available, 0))
        }
        rollPeriod(pool: p)
        // A covered draw that leaves every degrade and throttle threshold behind is admitted by
        // the walk with no act on the way (top-ups and borrowing act only on short draws).
        if amount >= 0 && amount <= pools[p].available
            && Self.coveredDrawPasses(pools[p].policies, leaving: pools[p].available &- amount) { return nil }
        var walk = policyWalk(pool: p)
        while true {
            switch nextPolicyStep(pool: p, amount: amount, tier: tier, &walk) {
            case .admitted:
                return nil
            case .refused(let refusal):
                return refusal
            case .topUp(let buy, let cap, let price):
                let bought = buyTopUp(pool: p, amount: buy, cap: cap, price: price)
                assert(bought, "the policy walk sized a top-up the ledger would not buy")
            case .borrow(let moved, let cap):
                borrow(pool: p, need: moved, cap: cap)
            }
            // The walk predicted what the step does to the pool; the pure query relies on that
            // prediction, so check it here, where the ledger really acted. Then go on from the
            // ledger's own figures (a parent drained by borrowing may have topped itself up,
            // which the walk does not predict).
            let actual = policyWalk(pool: p)
            assert(actual.availableMicrocredits == walk.availableMicrocredits
                   && actual.toppedUpInPeriodMicrocredits == walk.toppedUpInPeriodMicrocredits
                   && actual.borrowedInPeriodMicrocredits == walk.borrowedInPeriodMicrocredits,
                   "the policy walk mispredicted a top-up or a borrowing")
            walk.adoptFigures(of: actual)
        }
    }

    /// Whether a covered draw leaving `left` available passes every degrade and throttle
    /// threshold in `policies` (a degrade refuses below its threshold, a throttle counts only
    /// below its own), so that the walk would admit it with no act on the way. Cheaper than the
    /// walk; not stored in the pool, so that snapshots keep their fields.
    @inline(__always)
    static func coveredDrawPasses(_ policies: [Policy], leaving left: Int64) -> Bool {
        for policy in policies {
            switch policy {
            case .degrade(_, let below), .throttle(_, _, let below):
                if left < below { return false }
            default:
                continue
            }
        }
        return true
    }

    /// What ``admit(pool:amount:tier:)`` would decide now, without acting: a top-up or a borrowing
    /// the walk reaches counts as done (the draw is admitted if they would cover it), nothing is
    /// bought, moved or counted, and the pool's period counters are read as `rollPeriod` would
    /// leave them. Also returns the pool's capacity where the walk ended (what is available plus
    /// the overdraft allowed so far, after those top-ups and borrowings).
    ///
    /// Not predicted: a top-up of the parent set off by a borrowing (it matters only to a second
    /// `borrow` policy in the same list, which then sees the parent as drained).
    /// - Complexity: O(policies), plus the top-up rounds (at most 1,000 per policy).
    @inline(__always)
    func policyVerdict(pool p: Int, amount: Int64, tier: Int) -> (refusal: Refusal?, capacityMicrocredits: Int64) {
        if pools[p].admitsCoveredDraws && amount <= pools[p].available { return (nil, pools[p].available) }
        if pools[p].policies.isEmpty {
            return (.insufficientFunds(availableMicrocredits: max(pools[p].available, 0)), pools[p].available)
        }
        var walk = policyWalk(pool: p)
        while true {
            let step = nextPolicyStep(pool: p, amount: amount, tier: tier, &walk)
            let capacity = walk.availableMicrocredits &+ walk.allowanceMicrocredits
            switch step {
            case .admitted: return (nil, capacity)
            case .refused(let refusal): return (refusal, capacity)
            case .topUp, .borrow: continue  // already counted in the walk's figures
            }
        }
    }

    /// The start of a walk down pool `p`'s policies: its figures as they stand, with the
    /// per-period counters as `rollPeriod` would leave them (a pure query does not roll them).
    @inline(__always)
    func policyWalk(pool p: Int) -> PolicyWalk {
        let currentPeriod = (nowMs &- pools[p].createdAtMs) / pools[p].periodMs == pools[p].periodIndex
        let parent = Int(pools[p].parent)
        return PolicyWalk(availableMicrocredits: pools[p].available,
                          toppedUpInPeriodMicrocredits: currentPeriod ? pools[p].toppedUpInPeriod : 0,
                          borrowedInPeriodMicrocredits: currentPeriod ? pools[p].borrowedInPeriod : 0,
                          parentAvailableMicrocredits: parent >= 0 ? pools[parent].available : 0,
                          fundingBalanceMicrocredits: fundingBalance)
    }

    /// The policy rules: walks pool `p`'s list from where `walk` stands until it decides, or until
    /// a policy would act (buy a top-up, borrow from the parent). It then counts the act in
    /// `walk`'s figures and returns it; the caller carries it out (``admit(pool:amount:tier:)``)
    /// or not (``policyVerdict(pool:amount:tier:)``), and calls again to go on. Pure: reads the
    /// ledger, changes only `walk`.
    ///
    /// Inlined for the same reason as `checkIdentity`: an out-of-line non-mutating call from a
    /// mutating draw copies the whole ledger value first.
    @inline(__always)
    func nextPolicyStep(pool p: Int, amount: Int64, tier: Int, _ walk: inout PolicyWalk) -> PolicyStep {
        let policies = pools[p].policies
        while walk.index < policies.count {
            let available = walk.availableMicrocredits
            let allowance = walk.allowanceMicrocredits
            let short = amount > available &+ allowance
            switch policies[walk.index] {
            case .hardStop:
                if short { return .refused(.insufficientFunds(availableMicrocredits: max(available, 0))) }
            case .overdraft(let limit):
                walk.allowanceMicrocredits = max(allowance, limit)
            case .degrade(let toTier, let below):
                if tier != toTier && (short || available &- amount < below) { return .refused(.degrade(toTier: toTier)) }
            case .throttle(let maxDraws, let windowMs, let below):
                if available < below {
                    let window = nowMs / windowMs
                    if pools[p].throttleWindow == window && pools[p].throttleCount >= maxDraws {
                        return .refused(.throttled(retryAfterMs: (window &+ 1) &* windowMs &- nowMs))
                    }
                }
            case .autoTopUp(_, let topUp, let cap, let price):
                // Buys while short, whatever the period cap still allows. Bounded: each round buys
                // at least one micro-credit or stops, and there are at most 1,000 rounds.
                if short && walk.topUpRounds < 1_000 {
                    let buy = min(topUp, cap - walk.toppedUpInPeriodMicrocredits)
                    if buy > 0, let funding = Money.subtract(walk.fundingBalanceMicrocredits, buy) {
                        walk.topUpRounds += 1
                        walk.availableMicrocredits += buy
                        walk.toppedUpInPeriodMicrocredits += buy
                        walk.fundingBalanceMicrocredits = funding
                        return .topUp(amount: buy, cap: cap, price: price)
                    }
                }
                walk.topUpRounds = 0
            case .borrow(let cap):
                // The shortfall, from the parent's available credits (not its overdraft), within
                // the period cap.
                if short && pools[p].parent >= 0 {
                    let moved = min(amount - (available + allowance), cap - walk.borrowedInPeriodMicrocredits,
                                    max(walk.parentAvailableMicrocredits, 0))
                    if moved > 0 {
                        walk.index += 1
                        walk.availableMicrocredits += moved
                        walk.borrowedInPeriodMicrocredits += moved
                        walk.parentAvailableMicrocredits -= moved
                        return .borrow(amount: moved, cap: cap)
                    }
                }
            case .alerts:
                break
            }
            walk.index += 1
        }
        let available = walk.availableMicrocredits
        return amount <= available &+ walk.allowanceMicrocredits
            ? .admitted : .refused(.insufficientFunds(availableMicrocredits: max(available, 0)))
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

/// Where a walk down a pool's policy list stands, and the pool's figures as the policies passed so
/// far left them (or, in a pure query, would have left them).
struct PolicyWalk {
    /// The policy the walk is at.
    var index = 0
    /// The overdraft allowed by the policies passed so far.
    var allowanceMicrocredits: Int64 = 0
    /// Top-ups bought so far by the `auto_top_up` policy the walk is at.
    var topUpRounds = 0
    var availableMicrocredits: Int64
    var toppedUpInPeriodMicrocredits: Int64
    var borrowedInPeriodMicrocredits: Int64
    /// 0 without a parent.
    var parentAvailableMicrocredits: Int64
    var fundingBalanceMicrocredits: Int64

    init(availableMicrocredits: Int64, toppedUpInPeriodMicrocredits: Int64, borrowedInPeriodMicrocredits: Int64,
         parentAvailableMicrocredits: Int64, fundingBalanceMicrocredits: Int64) {
        self.availableMicrocredits = availableMicrocredits
        self.toppedUpInPeriodMicrocredits = toppedUpInPeriodMicrocredits
        self.borrowedInPeriodMicrocredits = borrowedInPeriodMicrocredits
        self.parentAvailableMicrocredits = parentAvailableMicrocredits
        self.fundingBalanceMicrocredits = fundingBalanceMicrocredits
    }

    /// Takes the figures of `other` (the ledger's, after it acted), keeping where the walk stands.
    mutating func adoptFigures(of other: PolicyWalk) {
        availableMicrocredits = other.availableMicrocredits
        toppedUpInPeriodMicrocredits = other.toppedUpInPeriodMicrocredits
        borrowedInPeriodMicrocredits = other.borrowedInPeriodMicrocredits
        parentAvailableMicrocredits = other.parentAvailableMicrocredits
        fundingBalanceMicrocredits = other.fundingBalanceMicrocredits
    }
}

/// What the policy walk decided, or the act it reached.
enum PolicyStep {
    case admitted
    case refused(Refusal)
    /// Buy `amount` under an `auto_top_up` policy with this period cap and price, then walk on.
    case topUp(amount: Int64, cap: Int64, price: Int64)
    /// Move `amount` from the parent under a `borrow` policy with this period cap, then walk on.
    case borrow(amount: Int64, cap: Int64)
}
