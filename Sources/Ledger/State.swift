// The ledger's internal state: plain structs in arrays indexed by dense ids (hot paths index,
// never hash). Only `Ledger` mutates them.

struct GrantState: Hashable, Codable, Sendable {
    var pool: Int32
    var amount: Int64
    /// Unreserved credits that a draw can take (if effective and not expired).
    var remaining: Int64
    /// Credits reserved by open holds.
    var reserved: Int64
    var effectiveAtMs: Int64
    /// `Int64.max` when the grant never expires.
    var expiresAtMs: Int64
    var priority: Int32
    var category: GrantCategory
    var priceMicrocreditsPerCredit: Int64
    /// Created by a period refill (eligible for rollover at the period end).
    var isRefill: Bool
    var effective: Bool
    var expired: Bool
    /// In its pool's `active` list.
    var listed: Bool

    /// A hold lets go of `amount` reserved here, `rest` of which it did not charge: the rest
    /// returns to `remaining` unless the grant expired meanwhile. Returns whether it had expired
    /// and whether it is listed (the caller expires the rest, or lists the grant again).
    @inline(__always)
    mutating func letGo(_ amount: Int64, keeping rest: Int64) -> (expired: Bool, listed: Bool) {
        reserved -= amount
        if rest > 0 && !expired { remaining += rest }
        return (expired, listed)
    }
}

struct PoolState: Hashable, Codable, Sendable {
    var name: String
    var parent: Int32
    var policies: [Policy]
    var periodMs: Int64
    var createdAtMs: Int64
    var refill: Refill?
    /// The overdraft limit granted by the pool's policies (0 without an `overdraft` policy).
    var overdraftLimit: Int64
    /// `PoolSpec.environment`; optional so that snapshots written before it decode unchanged.
    var environment: String? = nil

    // Figures derived once from `policies`, so that the draw path does not walk the list when it
    // cannot matter (see `PoolState.derive`).
    /// No policy can refuse or act on a draw that the pool covers (no throttle, no degrade with a
    /// threshold): a covered draw is admitted without walking the list.
    var admitsCoveredDraws = true
    var hasThrottle = false
    /// After a draw leaves at least this much available, no alert or top-up can fire.
    var quietAboveMicrocredits: Int64 = .min

    /// Grants with something to draw (or about to become effective), in burn-down order:
    /// priority, then soonest expiry, then oldest, then creation order.
    var active: [Int32] = []
    /// Σ remaining over effective, unexpired grants.
    var effectiveRemaining: Int64 = 0
    /// Σ remaining over grants not yet effective.
    var pending: Int64 = 0
    /// Credits drawn beyond funding and not yet settled by new funding.
    var overdrawn: Int64 = 0
    /// Overdraft reserved by open holds.
    var overdraftReserved: Int64 = 0
    /// Σ amount over open holds on this pool.
    var held: Int64 = 0

    // Per-period counters, reset lazily when the period index changes.
    var periodIndex: Int64 = 0
    var toppedUpInPeriod: Int64 = 0
    var borrowedInPeriod: Int64 = 0
    var alertsFired: UInt64 = 0
    // Throttle window.
    var throttleWindow: Int64 = .min
    var throttleCount: Int = 0

    // Lifetime totals, for queries.
    var fundedTotal: Int64 = 0
    var spentTotal: Int64 = 0
    var overageTotal: Int64 = 0
    var expiredTotal: Int64 = 0
    var toppedUpTotal: Int64 = 0
    var borrowedTotal: Int64 = 0

    mutating func derive() {
        admitsCoveredDraws = true
        hasThrottle = false
        quietAboveMicrocredits = .min
        for policy in policies {
            switch policy {
            case .throttle:
                hasThrottle = true
                admitsCoveredDraws = false
            case .degrade(_, let below) where below > 0:
                admitsCoveredDraws = false
            case .autoTopUp(let below, _, _, _):
                quietAboveMicrocredits = max(quietAboveMicrocredits, below)
            case .alerts(let thresholds):
                for t in thresholds { quietAboveMicrocredits = max(quietAboveMicrocredits, t) }
            default:
                break
            }
        }
    }

    /// What a draw may take without any overdraft (may be negative within an overdraft).
    var available: Int64 { effectiveRemaining - overdrawn - overdraftReserved }

    // Updates grouped so that a command writes the pool in one access (each separate
    // `pools[p]…` write checks the array's uniqueness again).

    /// A hold of `amount` placed, `overdraftPart` of it on the overdraft.
    @inline(__always)
    mutating func reserve(_ amount: Int64, overdraftPart: Int64) {
        overdraftReserved += overdraftPart
        held += amount
    }

    /// A hold of `amount` settled: `overdraftUsed` of its overdraft part charged, `returned`
    /// credits back to effective grants, `expired` credits to expiry.
    @inline(__always)
    mutating func settleHold(_ amount: Int64, overdraftPart: Int64, overdraftUsed: Int64, returned: Int64, expired: Int64) {
        effectiveRemaining += returned
        expiredTotal &+= expired
        overdraftReserved -= overdraftPart
        overdrawn += overdraftUsed
        held -= amount
    }

    /// Spend charged: `spent` from grants, `overage` on the overdraft.
    @inline(__always)
    mutating func book(spent: Int64, overage: Int64) {
        spentTotal &+= spent
        overageTotal &+= overage
    }
}

struct HoldState: Hashable, Codable, Sendable {
    enum Phase: UInt8, Hashable, Codable, Sendable { case open, captured, released, expired, free }
    var generation: UInt32
    var phase: Phase
    var identity: Int32
    var pool: Int32
    var tier: Int
    var amount: Int64
    var expiresAtMs: Int64
    /// Reserved parts, in burn-down order: (grant, amount).
    var segments: [Segment]
    /// The part reserved on the pool's overdraft.
    var overdraftPart: Int64
    /// A hold placed through a delegation (its slot): it reserves within the delegation, which
    /// is itself held on the pool, so it has no segments of its own and is not in the pool's
    /// `held`. Optional, so that snapshots written before delegations decode unchanged.
    var delegation: Int32? = nil
    /// The pool hold of a root delegation (its slot): charged as the delegation's tree spends,
    /// released as parts of it close; never captured or released from outside.
    var reservesDelegation: Int32? = nil

    struct Segment: Hashable, Codable, Sendable {
        var grant: Int32
        var amount: Int64
    }

    /// Opens the hold in this slot (its segments are already written).
    @inline(__always)
    mutating func open(generation: UInt32, identity: Int32, pool: Int32, tier: Int, amount: Int64, expiresAtMs: Int64,
                       overdraftPart: Int64) {
        self.generation = generation
        self.phase = .open
        self.identity = identity
        self.pool = pool
        self.tier = tier
        self.amount = amount
        self.expiresAtMs = expiresAtMs
        self.overdraftPart = overdraftPart
    }

    /// Closes the hold with `phase`, emptying its segments but keeping their buffer for the slot's
    /// next hold (one by one: `removeAll(keepingCapacity:)` goes through a generic
    /// `replaceSubrange`, several times the cost for the one or two segments a hold has).
    @inline(__always)
    mutating func close(_ phase: Phase) {
        self.phase = phase
        while !segments.isEmpty { segments.removeLast() }
    }
}

struct EntitlementState: Hashable, Codable, Sendable {
    var pool: Int32
    var entitlement: Entitlement
    var capPeriodIndex: Int64 = .min
    var capSpent: Int64 = 0
    var openHeld: Int64 = 0
    var rateWindow: Int64 = .min
    var rateCount: Int = 0

    /// Counts a draw against the rate cap, if there is one.
    @inline(__always)
    mutating func noteDraw(atMs now: Int64) {
        guard entitlement.rateMaxDraws != nil else { return }
        let window = now / entitlement.rateWindowMs
        if rateWindow != window {
            rateWindow = window
            rateCount = 0
        }
        rateCount += 1
    }

    /// A hold of `amount` placed: held against the spend cap, and a draw against the rate cap.
    @inline(__always)
    mutating func noteHold(_ amount: Int64, atMs now: Int64) {
        openHeld &+= amount
        noteDraw(atMs: now)
    }

    /// Records spend: a draw against the rate cap (unless `countsDraw` is false: a capture was
    /// counted when its hold was placed) and the amount against the cap period, if there is a cap.
    @inline(__always)
    mutating func noteSpend(_ amount: Int64, countsDraw: Bool, atMs now: Int64) {
        if countsDraw { noteDraw(atMs: now) }
        guard entitlement.capPerPeriodMicrocredits != nil else { return }
        let period = now / entitlement.capPeriodMs
        if capPeriodIndex != period {
            capPeriodIndex = period
            capSpent = 0
        }
        capSpent &+= amount
    }
}

struct UsageBucket: Hashable, Codable, Sendable {
    var periodIndex: Int64
    var spentMicrocredits: Int64
    var draws: Int64
}

struct IdentityState: Hashable, Codable, Sendable {
    var name: String
    var status: IdentityStatus
    var entitlements: [EntitlementState] = []
    var stopCondition: StopCondition?
    /// `IdentitySpec.environment`; optional so that snapshots written before it decode unchanged.
    var environment: String? = nil
    /// Spend per stop-condition window: (window index, spent), oldest first.
    var stopWindows: [UsageBucket] = []
    /// The stop-condition window of the identity's first spend: the condition judges only once a
    /// whole baseline has been observed (a new identity has no "normal" yet).
    var stopFirstWindow: Int64?
    var usage: [UsageBucket] = []
    /// [start, end) of the last usage bucket, so that a draw in it needs no division (a cache of
    /// `usage.last`, derived: not part of the state digest).
    var usageBucketStartMs: Int64 = .max
    var usageBucketEndMs: Int64 = .min
    var spentTotal: Int64 = 0

    /// Records credits spent under entitlement `e` at `now`: rate and cap counters, the total and
    /// the usage bucket of the period. Returns whether a stop condition watches this identity
    /// (the caller then checks it).
    @inline(__always)
    mutating func recordSpend(entitlement e: Int, amount: Int64, countsDraw: Bool, atMs now: Int64, usagePeriodMs: Int64) -> Bool {
        entitlements[e].noteSpend(amount, countsDraw: countsDraw, atMs: now)
        recordUsage(amount, atMs: now, usagePeriodMs: usagePeriodMs)
        return stopCondition != nil
    }

    /// Records credits spent at `now` in the total and the usage bucket of the period (a draw
    /// through a delegation, which no entitlement of this identity's covers, records only this).
    @inline(__always)
    mutating func recordUsage(_ amount: Int64, atMs now: Int64, usagePeriodMs: Int64) {
        spentTotal &+= amount
        if !(now >= usageBucketStartMs && now < usageBucketEndMs) {
            // Outside the cached bucket: open the period's bucket unless it is the last one.
            let bucket = now / usagePeriodMs
            if usage.last?.periodIndex != bucket {
                usage.append(UsageBucket(periodIndex: bucket, spentMicrocredits: 0, draws: 0))
            }
            // Cache the bucket's range only where truncating division is floor (t ≥ 0).
            if now >= 0 {
                usageBucketStartMs = bucket * usagePeriodMs
                usageBucketEndMs = (bucket + 1) * usagePeriodMs
            }
        }
        usage[usage.count - 1].spentMicrocredits &+= amount
        usage[usage.count - 1].draws += 1
    }

    /// Inlined: out of line, a call on `identities[i]` copies the identity (144 bytes) first.
    @inline(__always)
    func entitlementIndex(pool: Int32) -> Int? {
        for i in entitlements.indices where entitlements[i].pool == pool { return i }
        return nil
    }
}

/// A scheduled ledger event. At one instant, hold expiries run first (released credits count
/// for rollover), then period closes, then grant expiries, then grants becoming effective; ties
/// go by scheduling order. That makes the order total and runs reproducible.
struct ScheduledEvent: Comparable, Hashable, Codable, Sendable {
    enum Kind: UInt8, Codable, Sendable {
        case holdExpiry = 0, periodClose = 1, grantExpiry = 2, grantEffective = 3, delegationExpiry = 4

        /// The order at one instant. A delegation's expiry releases credits as a hold's does, so it
        /// runs with the hold expiries (by scheduling order), before period closes.
        var rank: UInt8 { self == .delegationExpiry ? 0 : rawValue }
    }
    var atMs: Int64
    var kind: Kind
    var seq: UInt64
    var target: Int32
    var generation: UInt32

    static func < (a: Self, b: Self) -> Bool {
        if a.atMs != b.atMs { return a.atMs < b.atMs }
        if a.kind.rank != b.kind.rank { return a.kind.rank < b.kind.rank }
        return a.seq < b.seq
    }
}

/// A remembered idempotency key. The command is kept as a hash (process-local, never written
/// anywhere) to tell a repeat from a reuse of the key for another command; keeping the whole
/// command would triple the memory of a day of keys.
struct KeyEntry: Hashable {
    var key: String
    /// The sequence number of the command the key was used for.
    var seq: UInt64
    /// ``Ledger/fingerprint(of:)`` of the request the key was first used for.
    var fingerprint: UInt64
    var outcome: Outcome
    var atMs: Int64
}
