import ArgumentParser
import Foundation
import Ledger
import LedgerStore
import Service

/// `burnrate ledger key`: the service's API keys, kept in the ledger's own database.
struct LedgerKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Create, list and revoke the API keys of `burnrate serve`.",
        discussion: """
            An identity key acts only as its identity; an admin key manages pools, identities and \
            grants, and may act for any identity by naming it. The secret is printed once; only its \
            SHA-256 is stored. `create` and `revoke` write the ledger, so on a SQLite file they run \
            while no server holds it; `list` reads beside a running server. On a PostgreSQL ledger \
            (--store) all three run at any time, and the running instances see the change at their \
            next request.
            """,
        subcommands: [LedgerKeyCreate.self, LedgerKeyList.self, LedgerKeyRevoke.self]
    )
}

struct LedgerKeyCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a key and print its secret (once).")
    @OptionGroup var database: DatabaseOption
    @Option(help: "The identity the key acts as.") var identity: String?
    @Flag(help: "An admin key instead of an identity's.") var admin = false
    @Option(help: "Expire the key after this long (e.g. 90d, 12h); default: never.") var expiresIn: String?
    @Flag(help: "Print {\"key_id\":…,\"secret\":…} as JSON.") var json = false

    func validate() throws {
        guard (identity != nil) != admin else { throw ValidationError("give exactly one of --identity NAME and --admin") }
        if let expiresIn { guard let ms = Millis.parse(expiresIn), ms > 0 else { throw ValidationError("--expires-in: '\(expiresIn)' is not a positive duration such as 90d") } }
    }

    func run() async throws {
        let store = try await database.open()
        if let identity, try await store.committedState().identity(named: identity) == nil {
            writeStandardError("error: no identity '\(identity)' in \(database.location)\n")
            throw ExitCode(2)
        }
        let issued = APIKeys.issue(identity: identity, admin: admin, nowMs: wallClockMs(), expiresInMs: expiresIn.flatMap(Millis.parse))
        try await store.insertKey(issued.record)
        try await store.close()
        if json {
            print(LedgerOperation.json(["key_id": issued.record.keyID, "secret": issued.secret]))
        } else {
            print("key_id: \(issued.record.keyID)\nsecret: \(issued.secret)\n(the secret is shown only now; store it)")
        }
        try finishOutput()
    }
}

struct LedgerKeyList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the keys (never their secrets).")
    @OptionGroup var database: DatabaseOption
    @Flag(help: "One JSON object per key.") var json = false

    func run() async throws {
        let store = try await database.open(readOnly: true, create: false)
        let now = wallClockMs()
        for k in try await store.apiKeys() {
            let status = k.revokedAtMs != nil ? "revoked" : k.isUsable(atMs: now) ? "active" : "expired"
            if json {
                var o: [String: Any] = ["key_id": k.keyID, "created_at": Timestamp.format(k.createdAtMs), "status": status]
                if let i = k.identity { o["identity"] = i } else { o["admin"] = true }
                if let e = k.expiresAtMs { o["expires_at"] = Timestamp.format(e) }
                if let r = k.revokedAtMs { o["revoked_at"] = Timestamp.format(r) }
                print(LedgerOperation.json(o))
            } else {
                let who = k.identity.map { "identity \($0)" } ?? "admin"
                let expires = k.expiresAtMs.map { " expires \(Timestamp.format($0))" } ?? ""
                print("\(k.keyID)  \(status)  \(who)  created \(Timestamp.format(k.createdAtMs))\(expires)")
            }
        }
        try finishOutput()
    }
}

struct LedgerKeyRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a key: it authenticates nothing from now on.")
    @OptionGroup var database: DatabaseOption
    @Argument(help: "The key id (key_…), as `create` and `list` print it.") var keyID: String

    func run() async throws {
        let store = try await database.open()
        guard try await store.revokeKey(id: keyID, atMs: wallClockMs()) else {
            writeStandardError("error: no key '\(keyID)' in \(database.location)\n")
            throw ExitCode(2)
        }
        try await store.close()
        print("revoked \(keyID)")
        try finishOutput()
    }
}
