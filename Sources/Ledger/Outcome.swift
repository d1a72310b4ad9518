/// The answer to a command: accepted with what it did, or refused with a typed reason.
/// A refusal is an outcome, not an error: it changes nothing but the clock.
public enum Outcome: Hashable, Sendable, Codable {
    case accepted(Acceptance)
    case refused(Refusal)

    public var isAccepted: Bool {
        if case .accepted = self { return true }
        return false
    }

    public var acceptance: Acceptance? {
        if case .accepted(let a) = self { return a }
        return nil
    }

    public var refusal: Refusal? {
        if case .refused(let r) = self { return r }
        return nil
    }
}

/// What an accepted command did.
public struct Acceptance: Hashable, Sendable, Codable {
    /// The journal sequence number of the command.
    public var seq: UInt64
    public var pool: PoolID?
    public var identity: IdentityID?
    public var grant: GrantID?
    public var hold: HoldID?
    /// The delegation made, closed or drawn through.
    public var delegation: DelegationID?
    /// Charged to usage and overage by this command.
    public var chargedMicrocredits: Int64 = 0
    /// The part of the charge drawn beyond funding (on overdraft).
    public var overageMicrocredits: Int64 = 0
    /// Returned to the pool from a hold (capture below the hold, release).
    public var releasedMicrocredits: Int64 = 0
    /// Policy decisions taken on the way (top-ups, borrowing, alerts, suspensions).
    public var decisions: [Decision] = []

    public init(seq: UInt64) { self.seq = seq }
}

/// A policy decision the caller may act on or report.
public enum Decision: Hashable, Sendable, Codable {
    case toppedUp(pool: PoolID, grant: GrantID, amountMicrocredits: Int64)
    case borrowed(pool: PoolID, from: PoolID, amountMicrocredits: Int64)
    case alert(pool: PoolID, thresholdMicrocredits: Int64)
    case identitySuspended(identity: IdentityID, reason: String)
}

/// What ``Ledger/charge(atMs:identity:pool:tier:amountMicrocredits:)`` and
/// ``Ledger/captureCharge(atMs:hold:amountMicrocredits:identity:)`` answer: a debit's or a
/// capture's outcome without the ``Acceptance`` record (the amount charged is the amount asked).
public enum Charge: Hashable, Sendable {
    case accepted(overageMicrocredits: Int64)
    case refused(Refusal)
}

/// What ``Ledger/placeHold(atMs:identity:pool:tier:amountMicrocredits:expiresAtMs:)`` answers: an
/// authorize's outcome without the ``Acceptance`` record (the hold placed, for the amount asked).
public enum Placement: Hashable, Sendable {
    case placed(HoldID)
    case refused(Refusal)
}

/// What a capture's rules decided (`Ledger.captureCore`): captured, with the hold's pool and
/// identity, the overage and what returned to the pool; refused; or a hold placed through a
/// delegation, whose capture `captureDelegated` makes.
enum CaptureStep {
    case captured(pool: Int32, identity: Int32, overageMicrocredits: Int64, releasedMicrocredits: Int64)
    case refused(Refusal)
    case delegated(hold: Int)
}

/// Why a command was refused.
/// (It conforms to `Error` only so that internal helpers can return `Result<_, Refusal>`; the
/// ledger never throws it.)
public enum Refusal: Error, Hashable, Sendable, Codable {
    case unknownPool(PoolID)
    case unknownIdentity(IdentityID)
    case unknownHold(HoldID)
    case duplicateName(String)
    case invalidArgument(String)
    /// A checked arithmetic operation would overflow `Int64`.
    case overflow
    /// The command's time is earlier than the ledger's clock.
    case timeWentBackwards(nowMs: Int64)
    /// The same idempotency key was used for a different command.
    case idempotencyKeyReused(String)
    case identitySuspended
    case identityRevoked
    case notEntitled
    case tierNotAllowed(tier: Int)
    case rateCapExceeded(retryAfterMs: Int64)
    case spendCapExceeded(capMicrocredits: Int64, usedMicrocredits: Int64)
    /// The pool cannot cover the draw under its policies.
    case insufficientFunds(availableMicrocredits: Int64)
    /// A `degrade` policy answers: re-price the request at `toTier` and try again.
    case degrade(toTier: Int)
    /// A `throttle` policy answers: try again after `retryAfterMs`.
    case throttled(retryAfterMs: Int64)
    case holdExpired
    case holdSettled
    /// The hold belongs to another identity than the one named.
    case holdNotOwned
    /// The identity status change is not allowed (a revoked identity stays revoked).
    case statusChangeNotAllowed
    case unknownDelegation(DelegationID)
    /// The delegation was closed (by its delegator, an admin, expiry, or a suspension above it).
    case delegationClosed
    /// The identity named is not the delegation's holder (to draw or delegate through it) or not
    /// a delegator on its chain (to close it).
    case delegationNotOwned
    /// A sub-delegation would be deeper than the ledger's ``LedgerConfig/maxDelegationDepth``.
    case delegationDepthExceeded(maxDepth: Int)

    /// A stable snake_case code for scripts (`insufficient_funds`, …).
    public var code: String {
        switch self {
        case .unknownPool: "unknown_pool"
        case .unknownIdentity: "unknown_identity"
        case .unknownHold: "unknown_hold"
        case .duplicateName: "duplicate_name"
        case .invalidArgument: "invalid_argument"
        case .overflow: "overflow"
        case .timeWentBackwards: "time_went_backwards"
        case .idempotencyKeyReused: "idempotency_key_reused"
        case .identitySuspended: "identity_suspended"
        case .identityRevoked: "identity_revoked"
        case .notEntitled: "not_entitled"
        case .tierNotAllowed: "tier_not_allowed"
        case .rateCapExceeded: "rate_cap_exceeded"
        case .spendCapExceeded: "spend_cap_exceeded"
        case .insufficientFunds: "insufficient_funds"
        case .degrade: "degrade"
        case .throttled: "throttled"
        case .holdExpired: "hold_expired"
        case .holdSettled: "hold_settled"
        case .holdNotOwned: "hold_not_owned"
        case .statusChangeNotAllowed: "status_change_not_allowed"
        case .unknownDelegation: "unknown_delegation"
        case .delegationClosed: "delegation_closed"
        case .delegationNotOwned: "delegation_not_owned"
        case .delegationDepthExceeded: "delegation_depth_exceeded"
        }
    }
}
