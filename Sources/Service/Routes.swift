/// The ledger's write routes: each maps an HTTP body onto one op of `ledger apply`'s vocabulary
/// (docs/ledger.md), so that an HTTP body is decoded by exactly the rules a JSON line is.
struct WriteRoute: Sendable {
    enum Caller: Sendable {
        /// Admin keys only (pools, identities, entitlements, grants, status changes).
        case admin
        /// An identity key acts as its identity; an admin key names `"identity"` in the body.
        case actingIdentity
        /// As `actingIdentity`, except that an admin key may name no identity: it then acts as
        /// an admin (closing a delegation).
        case identityOrAdmin
    }

    var path: String
    var op: String
    var caller: Caller
    /// Path parameters and the op field each one fills (`/v1/holds/{hold}/capture` → `hold`).
    var pathFields: [(parameter: String, field: String)]
    var created: Bool

    static let all: [WriteRoute] = [
        WriteRoute(path: "/v1/pools", op: "create_pool", caller: .admin, pathFields: [], created: true),
        WriteRoute(path: "/v1/identities", op: "create_identity", caller: .admin, pathFields: [], created: true),
        WriteRoute(path: "/v1/identities/:identity/suspend", op: "suspend", caller: .admin, pathFields: [("identity", "identity")], created: false),
        WriteRoute(path: "/v1/identities/:identity/resume", op: "resume", caller: .admin, pathFields: [("identity", "identity")], created: false),
        WriteRoute(path: "/v1/identities/:identity/revoke", op: "revoke", caller: .admin, pathFields: [("identity", "identity")], created: false),
        WriteRoute(path: "/v1/identities/:identity/entitlements", op: "entitle", caller: .admin, pathFields: [("identity", "identity")], created: false),
        WriteRoute(path: "/v1/pools/:pool/grants", op: "fund", caller: .admin, pathFields: [("pool", "pool")], created: true),
        WriteRoute(path: "/v1/debits", op: "debit", caller: .actingIdentity, pathFields: [], created: true),
        WriteRoute(path: "/v1/holds", op: "authorize", caller: .actingIdentity, pathFields: [], created: true),
        WriteRoute(path: "/v1/holds/:hold/capture", op: "capture", caller: .actingIdentity, pathFields: [("hold", "hold")], created: false),
        WriteRoute(path: "/v1/holds/:hold/release", op: "release", caller: .actingIdentity, pathFields: [("hold", "hold")], created: false),
        WriteRoute(path: "/v1/delegations", op: "delegate", caller: .actingIdentity, pathFields: [], created: true),
        WriteRoute(path: "/v1/delegations/:delegation/close", op: "close_delegation", caller: .identityOrAdmin,
                   pathFields: [("delegation", "delegation")], created: false),
    ]
}
