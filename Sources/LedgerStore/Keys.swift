import Foundation
import GRDB

/// An API key of the ledger service, as stored: never the secret, only its SHA-256 (hex).
/// Generating and checking secrets is the service's job (it has the hash function); the store
/// keeps the records durable beside the journal.
public struct APIKeyRecord: Sendable, Hashable {
    public var keyID: String
    /// Lowercase hex of SHA-256 over the secret's UTF-8 bytes.
    public var secretSHA256: String
    /// The identity the key acts as; nil for an admin key.
    public var identity: String?
    public var admin: Bool
    public var createdAtMs: Int64
    public var expiresAtMs: Int64?
    public var revokedAtMs: Int64?

    public init(keyID: String, secretSHA256: String, identity: String?, admin: Bool, createdAtMs: Int64,
                expiresAtMs: Int64?, revokedAtMs: Int64? = nil) {
        precondition(admin == (identity == nil), "a key is either an admin key or an identity's")
        self.keyID = keyID
        self.secretSHA256 = secretSHA256
        self.identity = identity
        self.admin = admin
        self.createdAtMs = createdAtMs
        self.expiresAtMs = expiresAtMs
        self.revokedAtMs = revokedAtMs
    }

    /// Usable at wall-clock time `nowMs`: not revoked and not expired.
    public func isUsable(atMs nowMs: Int64) -> Bool {
        revokedAtMs == nil && (expiresAtMs.map { nowMs < $0 } ?? true)
    }
}

extension LedgerStore {
    /// Stores a new key durably (the write is a transaction with `synchronous=FULL`, as the journal).
    public func insertKey(_ key: APIKeyRecord) throws {
        try db.write { db in
            try db.execute(sql: """
                INSERT INTO api_key (key_id, secret_sha256, identity, admin, created_at_ms, expires_at_ms, revoked_at_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [key.keyID, key.secretSHA256, key.identity, key.admin, key.createdAtMs, key.expiresAtMs, key.revokedAtMs])
        }
    }

    /// Revokes a key at `atMs`; false when no such key exists. Revoking twice keeps the first time.
    public func revokeKey(id: String, atMs: Int64) throws -> Bool {
        try db.write { db in
            guard try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM api_key WHERE key_id = ?", arguments: [id]) == 1 else { return false }
            try db.execute(sql: "UPDATE api_key SET revoked_at_ms = COALESCE(revoked_at_ms, ?) WHERE key_id = ?", arguments: [atMs, id])
            return true
        }
    }

    /// The key with this id, or nil. A reader opened beside a writer of an older schema sees no keys.
    public nonisolated func key(id: String) throws -> APIKeyRecord? {
        try db.read { db in
            guard try db.tableExists("api_key") else { return nil }
            return try Row.fetchOne(db, sql: "SELECT * FROM api_key WHERE key_id = ?", arguments: [id]).flatMap(Self.keyRecord)
        }
    }

    /// Every key, oldest first.
    public nonisolated func keys() throws -> [APIKeyRecord] {
        try db.read { db in
            guard try db.tableExists("api_key") else { return [] }
            return try Row.fetchAll(db, sql: "SELECT * FROM api_key ORDER BY created_at_ms, key_id").compactMap(Self.keyRecord)
        }
    }

    /// A damaged row (wrong types) is no key: it can authenticate nothing.
    static func keyRecord(_ row: Row) -> APIKeyRecord? {
        guard let id = row.text("key_id"), let hash = row.text("secret_sha256"), let created = row.int64("created_at_ms") else { return nil }
        let adminValue = row.int64("admin")
        let identity = row.text("identity")
        guard let adminValue, (adminValue == 1) == (identity == nil) else { return nil }
        let expires: DatabaseValue = row["expires_at_ms"], revoked: DatabaseValue = row["revoked_at_ms"]
        guard expires.isNull || row.int64("expires_at_ms") != nil, revoked.isNull || row.int64("revoked_at_ms") != nil else { return nil }
        return APIKeyRecord(keyID: id, secretSHA256: hash, identity: identity, admin: adminValue == 1, createdAtMs: created,
                            expiresAtMs: row.int64("expires_at_ms"), revokedAtMs: row.int64("revoked_at_ms"))
    }
}
