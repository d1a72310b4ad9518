/// One command for the ledger, with the time it happens and its idempotency key.
///
/// Commands from outside (a CLI, `ledger apply`, a service) carry a key; a repeat of an accepted
/// command with the same key returns the first outcome and changes nothing. Commands the
/// simulator generates are unique by construction and go without a key.
public struct Request: Hashable, Sendable, Codable {
    /// When the command happens, in milliseconds since the caller's epoch. Must not be earlier
    /// than the ledger's clock.
    public var atMs: Int64
    public var key: String?
    public var command: Command
    /// What a repeat of a keyed command is compared by: a stable hash of the request *as the
    /// caller sent it* (``RequestFingerprint``), set by the edge that translated it. A caller's
    /// request may hold relative times (`expires_in`) that the edge turns into absolute ones, so
    /// two sends of the same request give two different commands; their fingerprints are equal.
    /// Nil: the command itself is the request (its hash is used).
    public var fingerprint: UInt64?

    public init(atMs: Int64, key: String? = nil, fingerprint: UInt64? = nil, _ command: Command) {
        self.atMs = atMs
        self.key = key
        self.fingerprint = fingerprint
        self.command = command
    }
}

/// A stable 64-bit fingerprint of a request as its caller sent it (FNV-1a over length-prefixed
/// fields), the same in every process and across restarts, so that it can be journaled.
public struct RequestFingerprint: Sendable {
    private var hash: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    /// Adds one field; each field is length-prefixed, so `("ab","c")` and `("a","bc")` differ.
    public mutating func add(_ field: String) {
        add(UInt64(field.utf8.count))
        for b in field.utf8 { hash = (hash ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
    }

    public mutating func add(_ value: Int64) { add(UInt64(bitPattern: value)) }

    public mutating func add(_ value: UInt64) {
        var v = value
        for _ in 0..<8 {
            hash = (hash ^ (v & 0xff)) &* 0x0000_0100_0000_01b3
            v >>= 8
        }
    }

    public var value: UInt64 { hash }
}

/// An idempotency key compared and hashed by its UTF-8 bytes. Swift's `String` equality is
/// canonical equivalence, under which NFC `café` and NFD `café` are one key; for a key they are two
/// (a client that sends different bytes sent a different key).
public struct IdempotencyKey: Hashable, Sendable {
    public let text: String

    public init(_ text: String) { self.text = text }

    public static func == (a: IdempotencyKey, b: IdempotencyKey) -> Bool {
        let x = a.text.utf8, y = b.text.utf8
        guard x.count == y.count else { return false }
        let same = x.withContiguousStorageIfAvailable { p in
            y.withContiguousStorageIfAvailable { q in p.elementsEqual(q) }
        }
        return (same ?? nil) ?? x.elementsEqual(y)
    }

    public func hash(into hasher: inout Hasher) {
        // One `combine(bytes:)` of the UTF-8 bytes, whichever way they are stored.
        if text.utf8.withContiguousStorageIfAvailable({ hasher.combine(bytes: UnsafeRawBufferPointer($0)) }) == nil {
            Array(text.utf8).withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }
}

/// Every way to change the ledger.
public enum Command: Hashable, Sendable, Codable {
    /// Creates a pool (optionally under a parent) with its exhaustion policies.
    case createPool(PoolSpec)
    /// Creates an identity (agent, service account, API key).
    case createIdentity(IdentitySpec)
    /// Lets `identity` draw from `pool` under the entitlement's limits (replaces an earlier one).
    case entitle(identity: IdentityID, pool: PoolID, Entitlement)
    /// Suspends (kill switch), resumes or revokes an identity, from the next command on.
    case setIdentityStatus(identity: IdentityID, IdentityStatus)
    /// Adds a grant of credits to a pool, from the funding source.
    case fund(pool: PoolID, GrantSpec)
    /// Places a hold: reserves `amountMicrocredits` for `identity` until `expiresAtMs`.
    case authorize(identity: IdentityID, pool: PoolID, tier: Int, amountMicrocredits: Int64, expiresAtMs: Int64)
    /// Settles a hold at the actual amount; the rest of the hold is released. Above the hold, the
    /// difference is new spend: it passes the checks of a debit (identity, tier, rate and spend
    /// caps, then the pool's policies). `identity` must be the hold's: every command from outside
    /// names it (another identity is refused with ``Refusal/holdNotOwned``); nil is for callers
    /// that settle their own holds in process (the simulator).
    case capture(hold: HoldID, amountMicrocredits: Int64, identity: IdentityID? = nil)
    /// Releases a hold without charging; `identity` as for ``capture(hold:amountMicrocredits:identity:)``.
    case release(hold: HoldID, identity: IdentityID? = nil)
    /// Draws `amountMicrocredits` for `identity` in one step.
    case debit(identity: IdentityID, pool: PoolID, tier: Int, amountMicrocredits: Int64)
    /// Moves credits between pools; the moved credits keep their expiry, priority, category and
    /// price.
    case transfer(from: PoolID, to: PoolID, amountMicrocredits: Int64)
    /// Only advances the clock: expires grants and holds, closes periods, fires top-ups.
    case advanceTime
    /// A correcting entry, never an edit: a positive amount credits the pool (as a new grant, from
    /// `against`), a negative amount takes credits from it (to `against`).
    case adjust(pool: PoolID, amountMicrocredits: Int64, against: AdjustmentAccount, memo: String)
    /// Hands `amountMicrocredits` of `identity`'s budget to the identity named `child` (created if
    /// it does not exist), until `expiresAtMs` (nil: no expiry of its own) or until closed. From a
    /// pool, the amount is held on it as an authorize of `identity` would be (entitlement, caps,
    /// the pool's policies); from a delegation that `identity` holds, it is reserved from it, at
    /// most ``LedgerConfig/maxDelegationDepth`` levels deep. See `Ledger+Delegations.swift`.
    case delegate(identity: IdentityID, child: String, from: DelegationSource, amountMicrocredits: Int64, expiresAtMs: Int64?)
    /// Closes a delegation and everything below it; the unspent rest returns to the pool.
    /// `identity` must have delegated on the chain (the delegation's delegator, or one above);
    /// nil is an admin's close.
    case closeDelegation(DelegationID, identity: IdentityID?)
    /// A debit by the delegation's holder against the delegation instead of a pool.
    case delegatedDebit(delegation: DelegationID, identity: IdentityID, tier: Int, amountMicrocredits: Int64)
    /// A hold placed by the delegation's holder against the delegation instead of a pool.
    case delegatedAuthorize(delegation: DelegationID, identity: IdentityID, tier: Int, amountMicrocredits: Int64, expiresAtMs: Int64)
    /// ``capture(hold:amountMicrocredits:identity:)`` of a hold that must have been placed
    /// through `delegation` (the edge's `"delegation"` field on a capture, checked).
    case delegatedCapture(delegation: DelegationID, hold: HoldID, amountMicrocredits: Int64, identity: IdentityID?)
}

/// Where a delegation's credits come from: a pool (a root delegation, held on the pool) or a
/// delegation the delegating identity holds (a sub-delegation, reserved from it).
public enum DelegationSource: Hashable, Sendable, Codable {
    case pool(PoolID)
    case delegation(DelegationID)
}

/// The account on the other side of an adjustment.
public enum AdjustmentAccount: String, Hashable, Sendable, Codable {
    /// Correct a funding mistake.
    case funding
    /// Correct a charge (a refund when positive).
    case usage
}

/// A pool's definition.
public struct PoolSpec: Hashable, Sendable, Codable {
    public var name: String
    public var parent: PoolID?
    /// Exhaustion policies, evaluated in order on every draw. An empty list means `hard_stop`.
    public var policies: [Policy]
    /// The accounting period of the pool (top-up caps, borrow caps and alerts reset each period;
    /// refills and rollover happen at its end). Default 30 days.
    public var periodMs: Int64
    /// An optional refill at each period start, with rollover of what is left at its end.
    public var refill: Refill?
    /// The environment the pool serves (`production`, `sandbox`, …; a ``LedgerName``), nil when
    /// unsaid. The ledger only carries it; the governance audit reads it (a sandbox must not reach
    /// production credits). Optional, so that journals and snapshots written before it decode
    /// unchanged.
    public var environment: String?

    public init(name: String, parent: PoolID? = nil, policies: [Policy] = [], periodMs: Int64 = 30 * Millis.day,
                refill: Refill? = nil, environment: String? = nil) {
        self.name = name
        self.parent = parent
        self.policies = policies
        self.periodMs = periodMs
        self.refill = refill
        self.environment = environment
    }
}

/// A refill at every period start. Refill grants expire at the period end; at that moment up to
/// `rolloverPartsPerMillion` of what is left of them (at most `rolloverCapMicrocredits`) becomes a
/// new `rollover` grant that expires one period later.
public struct Refill: Hashable, Sendable, Codable {
    public var amountMicrocredits: Int64
    public var rolloverPartsPerMillion: Int64
    public var rolloverCapMicrocredits: Int64?
    public var priority: Int32
    public var priceMicrocreditsPerCredit: Int64

    public init(amountMicrocredits: Int64, rolloverPartsPerMillion: Int64 = 0, rolloverCapMicrocredits: Int64? = nil,
                priority: Int32 = 0, priceMicrocreditsPerCredit: Int64 = Money.microcreditsPerCredit) {
        self.amountMicrocredits = amountMicrocredits
        self.rolloverPartsPerMillion = rolloverPartsPerMillion
        self.rolloverCapMicrocredits = rolloverCapMicrocredits
        self.priority = priority
        self.priceMicrocreditsPerCredit = priceMicrocreditsPerCredit
    }
}

/// An exhaustion policy. A pool evaluates its list in order on every draw (debit, authorize, the
/// part of a capture above its hold); see `Ledger+Policies.swift` for the exact semantics.
public enum Policy: Hashable, Sendable, Codable {
    /// Refuse a draw the pool cannot cover. Policies after it are never reached for such a draw.
    case hardStop
    /// Allow the pool to go below zero by up to `limitMicrocredits`; what is drawn beyond funding
    /// is overage.
    case overdraft(limitMicrocredits: Int64)
    /// Answer "degrade to `toTier`" when the draw would leave less than `belowMicrocredits`
    /// available, or when the pool is short. A request already at `toTier` is not degraded.
    case degrade(toTier: Int, belowMicrocredits: Int64)
    /// Below `belowMicrocredits` available, allow at most `maxDraws` draws per `windowMs`.
    case throttle(maxDraws: Int, windowMs: Int64, belowMicrocredits: Int64)
    /// When available falls below `belowMicrocredits` (or the pool is short), buy
    /// `amountMicrocredits` more, at most `maxPerPeriodMicrocredits` per period.
    case autoTopUp(belowMicrocredits: Int64, amountMicrocredits: Int64, maxPerPeriodMicrocredits: Int64,
                   priceMicrocreditsPerCredit: Int64)
    /// When short, move credits from the parent pool, at most `capPerPeriodMicrocredits` per period.
    case borrow(capPerPeriodMicrocredits: Int64)
    /// Raise an alert when available crosses below each threshold, once per crossing per period.
    case alerts(thresholdsMicrocredits: [Int64])
}

/// The credit block a `fund` creates.
public struct GrantSpec: Hashable, Sendable, Codable {
    public var amountMicrocredits: Int64
    /// When the grant becomes usable; nil means at the command's time.
    public var effectiveAtMs: Int64?
    /// When it stops being usable (a draw at exactly this time does not see it); nil = never.
    public var expiresAtMs: Int64?
    /// Lower values burn first.
    public var priority: Int32
    public var category: GrantCategory
    /// What was paid for one credit of this grant, in micro-credits of the buyer's currency unit
    /// (for procurement maths; the ledger only carries it).
    public var priceMicrocreditsPerCredit: Int64

    public init(amountMicrocredits: Int64, effectiveAtMs: Int64? = nil, expiresAtMs: Int64? = nil,
                priority: Int32 = 0, category: GrantCategory = .paid,
                priceMicrocreditsPerCredit: Int64 = Money.microcreditsPerCredit) {
        self.amountMicrocredits = amountMicrocredits
        self.effectiveAtMs = effectiveAtMs
        self.expiresAtMs = expiresAtMs
        self.priority = priority
        self.category = category
        self.priceMicrocreditsPerCredit = priceMicrocreditsPerCredit
    }
}

public enum GrantCategory: String, Hashable, Sendable, Codable, CaseIterable {
    case paid, promotional, rollover
}

public struct IdentitySpec: Hashable, Sendable, Codable {
    public var name: String
    public var stopCondition: StopCondition?
    /// The environment the identity works in (as ``PoolSpec/environment``), nil when unsaid.
    public var environment: String?

    public init(name: String, stopCondition: StopCondition? = nil, environment: String? = nil) {
        self.name = name
        self.stopCondition = stopCondition
        self.environment = environment
    }
}

public enum IdentityStatus: String, Hashable, Sendable, Codable {
    case active, suspended, revoked
}

/// What an identity may draw from one pool.
public struct Entitlement: Hashable, Sendable, Codable {
    /// Bit `t` set: tier (or tool) `t` is allowed. All bits set: any tier.
    public var allowedTiers: UInt64
    /// Spend cap per `capPeriodMs` (spent plus open holds), nil = none.
    public var capPerPeriodMicrocredits: Int64?
    public var capPeriodMs: Int64
    /// At most `rateMaxDraws` draws per `rateWindowMs`, nil = none.
    public var rateMaxDraws: Int?
    public var rateWindowMs: Int64

    public init(allowedTiers: UInt64 = .max, capPerPeriodMicrocredits: Int64? = nil, capPeriodMs: Int64 = Millis.day,
                rateMaxDraws: Int? = nil, rateWindowMs: Int64 = Millis.minute) {
        self.allowedTiers = allowedTiers
        self.capPerPeriodMicrocredits = capPerPeriodMicrocredits
        self.capPeriodMs = capPeriodMs
        self.rateMaxDraws = rateMaxDraws
        self.rateWindowMs = rateWindowMs
    }

    /// An entitlement limited to the listed tiers.
    public static func tiers(_ tiers: [Int]) -> Entitlement {
        var mask: UInt64 = 0
        for t in tiers where t >= 0 && t < 64 { mask |= 1 << UInt64(t) }
        return Entitlement(allowedTiers: mask)
    }
}

/// A spend-rate anomaly detector: when an identity's spend in the current window exceeds
/// `factorPercent`/100 times its average over the previous `baselineWindows` windows, and at least
/// `minSpendMicrocredits`, the identity is suspended and an alert is raised.
public struct StopCondition: Hashable, Sendable, Codable {
    public var windowMs: Int64
    public var baselineWindows: Int
    public var factorPercent: Int64
    public var minSpendMicrocredits: Int64

    public init(windowMs: Int64, baselineWindows: Int, factorPercent: Int64, minSpendMicrocredits: Int64) {
        self.windowMs = windowMs
        self.baselineWindows = baselineWindows
        self.factorPercent = factorPercent
        self.minSpendMicrocredits = minSpendMicrocredits
    }
}
