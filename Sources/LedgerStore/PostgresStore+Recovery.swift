import Foundation
import Ledger
import Logging
import PostgresNIO

// The PostgreSQL store's schema (named migrations), recovery, replay, verification, snapshots,
// the service's API keys and import.

extension PostgresLedgerStore {
    // MARK: Schema

    /// The migrations, by the same names as the SQLite store's, applied in order under an advisory
    /// lock of their own (two processes starting at once do not both apply one), each in one
    /// transaction with its record in `burnrate_migrations`.
    static let migrations: [(identifier: String, sql: [String])] = [
        ("v1-journal", ["""
            CREATE TABLE journal (seq bigint PRIMARY KEY CHECK (seq > 0), at_ms bigint NOT NULL, key text,
                                  record text NOT NULL, checksum text NOT NULL)
            """]),
        ("v2-snapshots", ["CREATE TABLE snapshot (seq bigint PRIMARY KEY, checksum text NOT NULL, state bytea NOT NULL)"]),
        // The service's API keys, beside the journal: one database is the ledger and who may use it.
        ("v3-keys", ["""
            CREATE TABLE api_key (key_id text PRIMARY KEY, secret_sha256 text NOT NULL, identity text, admin boolean NOT NULL,
                                  created_at_ms bigint NOT NULL, expires_at_ms bigint, revoked_at_ms bigint,
                                  CHECK (admin = (identity IS NULL)))
            """]),
    ]

    static func hasSchema(_ connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let rows = try await connection.query("SELECT to_regclass('journal') IS NOT NULL AND to_regclass('snapshot') IS NOT NULL", logger: logger)
        for try await exists in rows.decode(Bool.self) { return exists }
        return false
    }

    static func migrate(_ connection: PostgresConnection, location: String, logger: Logger) async throws {
        try await connection.query("CREATE TABLE IF NOT EXISTS burnrate_migrations (identifier text PRIMARY KEY)", logger: logger)
        for migration in migrations {
            try await connection.query("BEGIN", logger: logger)
            do {
                try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLockKey))", logger: logger)
                let rows = try await connection.query("SELECT count(*) FROM burnrate_migrations WHERE identifier = \(migration.identifier)", logger: logger)
                var applied = false
                for try await n in rows.decode(Int64.self) { applied = n > 0 }
                if !applied {
                    for statement in migration.sql { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                    try await connection.query("INSERT INTO burnrate_migrations (identifier) VALUES (\(migration.identifier))", logger: logger)
                }
                try await connection.query("COMMIT", logger: logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw StoreError.unavailable(path: location, reason: "migration \(migration.identifier): \(describe(error))")
            }
        }
    }

    // MARK: Recovery

    /// Recovery at open, as the SQLite store's: the newest snapshot that checks out (its checksum
    /// is the journal's at its sequence number, it decodes, its keys' commands are in the journal),
    /// then the journal after it; without one, the whole journal.
    static func open(_ connection: PostgresConnection, config: LedgerConfig, location: String, logger: Logger) async throws -> (Ledger, UInt64, LedgerStore.Recovery) {
        var candidates: [(UInt64, String, Data)] = []
        let rows = try await connection.query("SELECT seq, checksum, state FROM snapshot ORDER BY seq DESC", logger: logger)
        for try await (seq, checksum, state) in rows.decode((Int64, String, Data).self) where seq > 0 {
            candidates.append((UInt64(seq), checksum, state))
        }
        var skipped: [String] = []
        for (seq, checksum, data) in candidates {
            do {
                var journalChecksum: String?
                for try await c in try await connection.query("SELECT checksum FROM journal WHERE seq = \(Int64(seq))", logger: logger).decode(String.self) {
                    journalChecksum = c
                }
                guard journalChecksum == checksum, let chain = UInt64(checksum, radix: 16) else {
                    throw LedgerStore.SnapshotProblem("its checksum is not the journal's at that sequence number")
                }
                let snapshot = try JSONDecoder().decode(LedgerSnapshot.self, from: data)
                guard snapshot.lastSeq == seq else { throw LedgerStore.SnapshotProblem("it is labelled \(seq) but holds \(snapshot.lastSeq)") }
                var requests: [IdempotencyKey: Request] = [:]
                if let first = snapshot.rememberedKeys.map(\.seq).min() {
                    let wanted = Set(snapshot.rememberedKeys.map { IdempotencyKey($0.key) })
                    let keyed = try await connection.query(
                        "SELECT key, record FROM journal WHERE seq BETWEEN \(Int64(first)) AND \(Int64(seq)) AND key IS NOT NULL", logger: logger)
                    for try await (key, text) in keyed.decode((String, String).self) where wanted.contains(IdempotencyKey(key)) {
                        if let row = JournalCodec.decode(text), row.answer.hasPrefix("A") { requests[IdempotencyKey(key)] = row.request }
                    }
                }
                let ledger = try Ledger(snapshot: snapshot, config: config) { requests[IdempotencyKey($0)] }
                let (rebuilt, last) = try await replay(connection, from: ledger, checksum: chain, location: location, logger: logger)
                return (rebuilt, last, LedgerStore.Recovery(snapshotSeq: seq, replayed: rebuilt.lastSeq - seq, skipped: skipped))
            } catch let error as StoreError {
                throw error
            } catch let error as LedgerStore.SnapshotProblem {
                skipped.append("snapshot at \(seq): \(error)")
            } catch let error as DecodingError {
                skipped.append("snapshot at \(seq): \(error)")
            } catch let error as PSQLError {
                throw storeError(error, location: location, doing: "reading the snapshot at \(seq)")
            } catch {
                skipped.append("snapshot at \(seq): \(error)")
            }
        }
        let (ledger, last) = try await replay(connection, from: Ledger(config: config), checksum: LedgerStore.chainSeed, location: location, logger: logger)
        return (ledger, last, LedgerStore.Recovery(snapshotSeq: nil, replayed: ledger.lastSeq, skipped: skipped))
    }

    /// Replays the journal rows after `start.lastSeq` (up to `upTo`, when given) onto `start`,
    /// continuing the checksum chain from `checksum`: the same checks as the SQLite store's
    /// replay (sequence, chain, columns against the record, every outcome). With `snapshotStates`
    /// (canonical snapshot bytes by sequence number), the state at each must equal the snapshot.
    static func replay(_ connection: PostgresConnection, from start: Ledger, checksum start0: UInt64, location: String, logger: Logger,
                       upTo: UInt64? = nil, snapshotStates: [UInt64: Data] = [:]) async throws -> (Ledger, UInt64) {
        var ledger = start
        var checksum = start0
        let after = Int64(start.lastSeq), end = Int64(clamping: upTo ?? UInt64(Int64.max))
        let rows = try await connection.query(
            "SELECT seq, at_ms, key, record, checksum FROM journal WHERE seq > \(after) AND seq <= \(end) ORDER BY seq", logger: logger)
        for try await (s, atMs, key, text, rowChecksum) in rows.decode((Int64, Int64, String?, String, String).self) {
            let expected = ledger.lastSeq + 1
            guard s > 0, UInt64(s) == expected else {
                throw StoreError.corrupt(path: location, seq: expected, reason: "missing from the journal (next is \(s))")
            }
            let seq = UInt64(s)
            checksum = LedgerStore.chain(checksum, text)
            guard LedgerStore.hex(checksum) == rowChecksum else {
                throw StoreError.corrupt(path: location, seq: seq, reason: "checksum mismatch: the row was altered or damaged")
            }
            guard let decoded = JournalCodec.decode(text) else {
                throw StoreError.corrupt(path: location, seq: seq, reason: "unreadable record")
            }
            let keyAgrees = switch (decoded.request.key, key) {
            case (nil, nil): true
            case (let a?, let b?): a.utf8.elementsEqual(b.utf8)
            default: false
            }
            guard atMs == decoded.request.atMs, keyAgrees else {
                throw StoreError.corrupt(path: location, seq: seq, reason: "its at_ms or key column differs from its record")
            }
            let outcome = ledger.apply(decoded.request)
            guard JournalCodec.answer(outcome) == decoded.answer, ledger.lastSeq == seq else {
                throw StoreError.corrupt(path: location, seq: seq, reason: "replay gives a different outcome than the one recorded")
            }
            if let state = snapshotStates[seq], (try? LedgerStore.normalised(ledger.snapshot())) != state {
                throw StoreError.corrupt(path: location, seq: seq, reason: "the snapshot at this sequence number differs from the journal's state")
            }
        }
        return (ledger, checksum)
    }

    /// Catches up, then replays the whole journal up to that point from nothing: every checksum,
    /// outcome and snapshot, and the ledger's invariants. Other processes may write meanwhile;
    /// what is verified is the journal up to the state this process had caught up to.
    public func verify() async throws -> VerifyReport {
        let current = try await committedState()
        let connection = try await readerConnection()
        do {
            var states: [UInt64: Data] = [:]
            var newestSnapshot: Int64 = 0
            for try await (s, data) in try await connection.query("SELECT seq, state FROM snapshot", logger: logger).decode((Int64, Data).self) {
                newestSnapshot = max(newestSnapshot, s)
                let seq = UInt64(max(0, s))
                guard let snap = try? JSONDecoder().decode(LedgerSnapshot.self, from: data), let normal = try? LedgerStore.normalised(snap) else {
                    throw StoreError.corrupt(path: location, seq: seq, reason: "the snapshot at this sequence number is unreadable")
                }
                states[seq] = normal
            }
            var journalEnd: Int64 = 0
            for try await end in try await connection.query("SELECT COALESCE(MAX(seq), 0) FROM journal", logger: logger).decode(Int64.self) { journalEnd = end }
            if newestSnapshot > journalEnd {
                throw StoreError.corrupt(path: location, seq: UInt64(journalEnd) + 1,
                                         reason: "missing: a snapshot at \(newestSnapshot) proves the journal held \(newestSnapshot) commands, but it ends at \(journalEnd) (its tail was lost)")
            }
            if UInt64(journalEnd) < current.lastSeq {
                throw StoreError.corrupt(path: location, seq: UInt64(journalEnd) + 1,
                                         reason: "missing: this process saw command \(current.lastSeq) committed, but the journal ends at \(journalEnd)")
            }
            let (rebuilt, _) = try await Self.replay(connection, from: Ledger(config: config), checksum: LedgerStore.chainSeed, location: location,
                                                     logger: logger, upTo: current.lastSeq, snapshotStates: states)
            guard rebuilt.lastSeq == current.lastSeq else {
                throw StoreError.corrupt(path: location, seq: rebuilt.lastSeq + 1, reason: "missing from the journal (it ends at \(rebuilt.lastSeq))")
            }
            return VerifyReport(commands: rebuilt.lastSeq, digest: rebuilt.stateDigest, matchesMemory: rebuilt.stateDigest == current.stateDigest,
                                invariantViolations: rebuilt.invariantViolations())
        } catch {
            readerFailed(connection, error)
            throw Self.storeError(error, location: location, doing: "verifying")
        }
    }

    // MARK: Snapshots

    /// Writes a snapshot of the state this process has (committed), keeping the two newest. Two
    /// processes may snapshot the same sequence number: the states are equal, the first stays.
    public func snapshotNow() async throws {
        let snapshot = ledger.snapshot()
        let checksum = LedgerStore.hex(lastChecksum)
        lastSnapshotSeq = snapshot.lastSeq
        guard snapshot.lastSeq > 0 else { return }
        let data = try JSONEncoder().encode(snapshot)
        let connection = try await readerConnection()
        do {
            try await connection.query(
                "INSERT INTO snapshot (seq, checksum, state) VALUES (\(Int64(snapshot.lastSeq)), \(checksum), \(data)) ON CONFLICT (seq) DO NOTHING",
                logger: logger)
            try await connection.query("DELETE FROM snapshot WHERE seq NOT IN (SELECT seq FROM snapshot ORDER BY seq DESC LIMIT 2)", logger: logger)
        } catch {
            readerFailed(connection, error)
            throw Self.storeError(error, location: location, doing: "writing a snapshot")
        }
    }

    // MARK: API keys

    /// Stores a new key durably (a single-statement transaction, committed with `synchronous_commit = on`).
    public func insertKey(_ key: APIKeyRecord) async throws {
        let connection = try await readerConnection()
        do {
            try await connection.query("""
                INSERT INTO api_key (key_id, secret_sha256, identity, admin, created_at_ms, expires_at_ms, revoked_at_ms)
                VALUES (\(key.keyID), \(key.secretSHA256), \(key.identity), \(key.admin), \(key.createdAtMs), \(key.expiresAtMs), \(key.revokedAtMs))
                """, logger: logger)
        } catch {
            readerFailed(connection, error)
            throw Self.storeError(error, location: location, doing: "storing key \(key.keyID)")
        }
    }

    public func revokeKey(id: String, atMs: Int64) async throws -> Bool {
        let connection = try await readerConnection()
        do {
            let rows = try await connection.query(
                "UPDATE api_key SET revoked_at_ms = COALESCE(revoked_at_ms, \(atMs)) WHERE key_id = \(id) RETURNING key_id", logger: logger)
            var found = false
            for try await _ in rows { found = true }
            return found
        } catch {
            readerFailed(connection, error)
            throw Self.storeError(error, location: location, doing: "revoking key \(id)")
        }
    }

    public func apiKey(id: String) async throws -> APIKeyRecord? {
        try await keyRecords("SELECT key_id, secret_sha256, identity, admin, created_at_ms, expires_at_ms, revoked_at_ms FROM api_key WHERE key_id = \(id)").first
    }

    public func apiKeys() async throws -> [APIKeyRecord] {
        try await keyRecords("SELECT key_id, secret_sha256, identity, admin, created_at_ms, expires_at_ms, revoked_at_ms FROM api_key ORDER BY created_at_ms, key_id")
    }

    private func keyRecords(_ query: PostgresQuery) async throws -> [APIKeyRecord] {
        let connection = try await readerConnection()
        do {
            var records: [APIKeyRecord] = []
            for try await (id, hash, identity, admin, created, expires, revoked) in try await connection.query(query, logger: logger)
                .decode((String, String, String?, Bool, Int64, Int64?, Int64?).self)
            where admin == (identity == nil) {
                records.append(APIKeyRecord(keyID: id, secretSHA256: hash, identity: identity, admin: admin, createdAtMs: created,
                                            expiresAtMs: expires, revokedAtMs: revoked))
            }
            return records
        } catch {
            readerFailed(connection, error)
            throw Self.storeError(error, location: location, doing: "reading API keys")
        }
    }

    // MARK: Import

    /// Copies a whole journal (built and checked in a scratch SQLite ledger by `ledger import`)
    /// into this ledger, whose journal must be empty, in one transaction under the journal's lock:
    /// all of it or nothing. The rows keep their text and checksums; the state is caught up after.
    public func importJournal(from source: LedgerStore) async throws {
        let rows = try await source.journalRows()
        let connection = try await writerConnection()
        do {
            try await connection.query("BEGIN", logger: logger)
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.journalLockKey))", logger: logger)
            var existing: Int64 = 0
            for try await n in try await connection.query("SELECT count(*) FROM journal", logger: logger).decode(Int64.self) { existing = n }
            guard existing == 0 else { throw StoreError.unavailable(path: location, reason: "the ledger is not empty (\(existing) journaled commands): import into a new database") }
            var start = 0
            while start < rows.count {
                let chunk = rows[start..<min(start + Self.insertChunk, rows.count)]
                var sql = "INSERT INTO journal (seq, at_ms, key, record, checksum) VALUES "
                var binds = PostgresBindings(capacity: chunk.count * 5)
                for (i, row) in chunk.enumerated() {
                    binds.append(row.seq)
                    binds.append(row.atMs)
                    binds.append(row.key)
                    binds.append(row.record)
                    binds.append(row.checksum)
                    let b = i * 5
                    sql += (i == 0 ? "" : ",") + "($\(b + 1),$\(b + 2),$\(b + 3),$\(b + 4),$\(b + 5))"
                }
                try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
                start += chunk.count
            }
            try await connection.query("COMMIT", logger: logger)
        } catch {
            writer = nil
            Self.drop(connection)
            throw Self.storeError(error, location: location, doing: "importing")
        }
        _ = try await committedState()
    }
}

/// A journal row as stored.
struct StoredJournalRow: Sendable {
    var seq: Int64
    var atMs: Int64
    var key: String?
    var record: String
    var checksum: String
}
