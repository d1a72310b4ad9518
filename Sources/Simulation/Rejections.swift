import Ledger

/// Why a request was finally rejected: the ledger's refusal that ended it (after any retries,
/// throttle waits and degrade steps). `burnrate size` reads these to name what holds a target
/// out of reach when no funding reaches it (an identity's cap refuses whatever the pool holds).
public enum RejectionReason: Int, CaseIterable, Sendable, Hashable {
    case insufficientFunds, spendCapExceeded, rateCapExceeded, throttled, tierNotAllowed, notEntitled,
         identitySuspended, identityRevoked, degrade, noDegradeTier, other,
         /// A sub-agent's draw or sub-delegation found its delegation short (Agents.swift).
         delegationExhausted

    /// The ledger's refusal code (`Refusal.code`; `degrade` only ends a runaway loop, which stops
    /// at its first refusal), or `no_degrade_tier` when a `degrade` answer had no tier to go to
    /// (or four steps did not settle).
    public var code: String {
        switch self {
        case .insufficientFunds: "insufficient_funds"
        case .spendCapExceeded: "spend_cap_exceeded"
        case .rateCapExceeded: "rate_cap_exceeded"
        case .throttled: "throttled"
        case .tierNotAllowed: "tier_not_allowed"
        case .notEntitled: "not_entitled"
        case .identitySuspended: "identity_suspended"
        case .identityRevoked: "identity_revoked"
        case .degrade: "degrade"
        case .noDegradeTier: "no_degrade_tier"
        case .other: "other"
        case .delegationExhausted: "delegation_exhausted"
        }
    }

    init(_ refusal: Refusal) {
        switch refusal {
        case .insufficientFunds: self = .insufficientFunds
        case .spendCapExceeded: self = .spendCapExceeded
        case .rateCapExceeded: self = .rateCapExceeded
        case .throttled: self = .throttled
        case .tierNotAllowed: self = .tierNotAllowed
        case .notEntitled: self = .notEntitled
        case .identitySuspended: self = .identitySuspended
        case .identityRevoked: self = .identityRevoked
        case .degrade: self = .degrade
        default: self = .other
        }
    }
}

/// Rejected requests of one replication by ``RejectionReason``, per pool and per identity
/// (indexes as in the model). The counts add up to `requests_rejected` of each scope.
public struct RejectionTally: Sendable, Hashable {
    /// `pools[p][reason.rawValue]`.
    public var pools: [[Int64]]
    /// `identities[i][reason.rawValue]`.
    public var identities: [[Int64]]

    public init(pools: Int, identities: Int) {
        self.pools = Array(repeating: Array(repeating: 0, count: RejectionReason.allCases.count), count: pools)
        self.identities = Array(repeating: Array(repeating: 0, count: RejectionReason.allCases.count), count: identities)
    }

    mutating func add(_ reason: RejectionReason, pool: Int, identity: Int) {
        pools[pool][reason.rawValue] += 1
        identities[identity][reason.rawValue] += 1
    }

    /// Pool `p`'s rejections by reason code (reasons with none left out).
    public func pool(_ p: Int) -> [String: Int64] { Self.named(pools[p]) }
    public func identity(_ i: Int) -> [String: Int64] { Self.named(identities[i]) }

    static func named(_ counts: [Int64]) -> [String: Int64] {
        var out: [String: Int64] = [:]
        for r in RejectionReason.allCases where counts[r.rawValue] > 0 { out[r.code] = counts[r.rawValue] }
        return out
    }
}
