// The ledger's configuration as values: what governs spending (pools, their policies and
// environments, identities, their entitlements and stop conditions), without balances. The
// governance audit reads it, so a scenario and a live ledger are judged by the same rules.

/// One pool's configuration.
public struct PoolConfiguration: Hashable, Sendable {
    public var pool: PoolID
    public var name: String
    public var parent: PoolID?
    /// Exhaustion policies in evaluation order (empty: an implicit hard stop).
    public var policies: [Policy]
    public var periodMs: Int64
    public var refill: Refill?
    public var environment: String?
}

/// One identity's configuration.
public struct IdentityConfiguration: Hashable, Sendable {
    public var identity: IdentityID
    public var name: String
    public var status: IdentityStatus
    public var stopCondition: StopCondition?
    public var environment: String?
    /// Its entitlements, in the order they were granted (one per pool).
    public var entitlements: [EntitlementConfiguration]
}

/// What an identity may draw from one pool.
public struct EntitlementConfiguration: Hashable, Sendable {
    public var pool: PoolID
    public var entitlement: Entitlement
}

extension Ledger {
    /// Every pool's configuration, in creation order. - Complexity: O(pools + policies).
    public var poolConfigurations: [PoolConfiguration] {
        pools.enumerated().map { i, p in
            PoolConfiguration(pool: PoolID(Int32(i)), name: p.name, parent: p.parent >= 0 ? PoolID(p.parent) : nil,
                              policies: p.policies, periodMs: p.periodMs, refill: p.refill, environment: p.environment)
        }
    }

    /// Every identity's configuration, in creation order. - Complexity: O(identities + entitlements).
    public var identityConfigurations: [IdentityConfiguration] {
        identities.enumerated().map { i, d in
            IdentityConfiguration(identity: IdentityID(Int32(i)), name: d.name, status: d.status, stopCondition: d.stopCondition,
                                  environment: d.environment,
                                  entitlements: d.entitlements.map { EntitlementConfiguration(pool: PoolID($0.pool), entitlement: $0.entitlement) })
        }
    }
}
