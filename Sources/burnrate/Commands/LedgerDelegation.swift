import ArgumentParser
import Ledger

/// Where a debit or a hold draws from: a pool, or a delegation made to the identity.
struct DrawSourceOption: ParsableArguments {
    @Option(name: .long, help: "The pool (or give --delegation).") var pool: String?
    @Option(name: .long, help: "A delegation made to the identity, instead of a pool (its id from the delegate answer).")
    var delegation: String?

    func validate() throws {
        guard (pool == nil) != (delegation == nil) else { throw ValidationError("give either --pool or --delegation") }
    }

    /// `fields` with the source added.
    func fields(_ fields: [String: Any]) -> [String: Any] {
        var f = fields
        if let pool { f["pool"] = pool }
        if let delegation { f["delegation"] = delegation }
        return f
    }
}

struct LedgerDelegate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delegate", abstract: "Hand part of an identity's budget to a child identity; prints the delegation's id.",
        discussion: """
            From a pool (--pool), the amount is held on it as an authorize of the identity would be \
            (entitlement, caps, the pool's policies); from a delegation the identity holds \
            (--delegation), it is reserved from that one, at most 4 levels deep (else: \
            delegation_depth_exceeded). The child is created if it does not exist and draws only \
            through delegations made to it (debit, authorize with --delegation). Closing, expiry, or \
            suspension or revocation of an identity above closes the delegation and everything below \
            it; the unspent rest returns to the pool.
            """)
    @OptionGroup var database: DatabaseOption
    @OptionGroup var keyed: KeyOption
    @Option(name: .long, help: "The delegating identity.") var identity: String
    @Option(name: .long, help: "The child identity (created if it does not exist).") var child: String
    @OptionGroup var source: DrawSourceOption
    @Option(name: .long, help: "Credits to hand down.") var amount: String
    @Option(name: .long, help: "The delegation closes after this duration (default: with its parent; a root: when closed).")
    var expiresIn: String?
    func run() async throws {
        var f = source.fields(["op": "delegate", "key": keyed.key, "identity": identity, "child": child, "amount": amount])
        if let expiresIn { f["expires_in"] = expiresIn }
        try await runOperation(f, database: database, json: keyed.json)
    }
}

struct LedgerCloseDelegation: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "close-delegation", abstract: "Close a delegation and everything below it; the unspent rest returns to the pool.",
        discussion: """
            With --identity, that identity must have delegated on the chain (the delegation's \
            delegator or one above it; else: delegation_not_owned); without, the operator closes it \
            as an admin.
            """)
    @OptionGroup var database: DatabaseOption
    @OptionGroup var keyed: KeyOption
    @Argument(help: "The delegation id.") var delegation: String
    @Option(name: .long, help: "The delegator closing it.") var identity: String?
    func run() async throws {
        var f: [String: Any] = ["op": "close_delegation", "key": keyed.key, "delegation": delegation]
        if let identity { f["identity"] = identity }
        try await runOperation(f, database: database, json: keyed.json)
    }
}
