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

    static func hasSchema(_ connection: PostgresSession, logger: Logger) async throws -> Bool {
        try await connection.rows("SELECT to_regclass('journal') IS NOT NULL AND to_regclass('snapshot') IS NOT NULL") { try $0.decode(Bool.self) }.first ?? false
    }

    static func migrate(_ connection: PostgresSession, location: String, logger: Logger) async throws {
        try await connection.execute("CREATE TABLE IF NOT EXISTS burnrate_migrations (identifier text PRIMARY KEY)")
        for migration in migrations {
            try await connection.execute("BEGIN")
            do {
                try await connection.execute("SELECT pg_advisory_xact_lock(\(migrationLockKey))", extraMs: connection.timeouts.lockMs)
                let applied = try await connection.rows("SELECT count(*) FROM burnrate_migrations WHERE identifier = \(migration.identifier)") {
                    try $0.decode(Int64.self)
                }.first ?? 0 > 0
                if !applied {
                    for statement in migration.sql { try await connection.execute(PostgresQuery(unsafeSQL: statement)) }
                    try await connection.execute("INSERT INTO burnrate_migrations (identifier) VALUES (\(migration.identifier))")
                }
                try await connection.execute("COMMIT")
            } catch {
                _ = try? await connection.execute("ROLLBACK")
                throw StoreError.unavailable(path: location, reason: "migration \(migration.identifier): \(describe(error))")
            }
        }
    }

    // MARK: Recovery

    /// Recovery at open, as the SQLite store's: the newest snapshot that checks out (its checksum
    /// is the journal's at its sequence number, it decodes, its keys' commands are in the journal),
    /// then the journal after it; without one, the whole journal.
    static func open(_ connection: PostgresSession, config: LedgerConfig, location: String, logger: Logger) async throws -> (Ledger, UInt64, LedgerStore.Recovery) {
        // At most the two newest are kept (snapshotNow); a damaged table may hold more.
        let candidates = try await connection.rows("SELECT seq, checksum, state FROM snapshot ORDER BY seq DESC LIMIT 8") {
            try $0.decode((Int64, String, Data).self)
        }.filter { $0.0 > 0 }.map { (UInt64($0.0), $0.1, $0.2) }
        var skipped: [String] = []
        for (seq, checksum, data) in candidates {
            do {
                let journalChecksum = try await connection.rows("SELECT checksum FROM journal WHERE seq = \(Int64(seq))") { try $0.decode(String.self) }.first
                guard journalChecksum == checksum, let chain = UInt64(checksum, radix: 16) else {
                    throw LedgerStore.SnapshotProblem("its checksum is not the journal's at that sequence number")
                }
                let snapshot = try JSONDecoder().decode(LedgerSnapshot.self, from: data)
                guard snapshot.lastSeq == seq else { throw LedgerStore.SnapshotProblem("it is labelled \(seq) but holds \(snapshot.lastSeq)") }
                var requests: [IdempotencyKey: Request] = [:]
                if let first = snapshot.rememberedKeys.map(\.seq).min() {
                    let wanted = Set(snapshot.rememberedKeys.map { IdempotencyKey($0.key) })
                    var after = Int64(first) - 1
                    while true {
                        let keyed = try await connection.rows(
                            "SELECT seq, key, record FROM journal WHERE seq > \(after) AND seq <= \(Int64(seq)) AND key IS NOT NULL ORDER BY seq LIMIT \(readChunk)") {
                            try $0.decode((Int64, String, String).self)
                        }
                        for (s, key, text) in keyed {
                            after = s
                            guard wanted.contains(IdempotencyKey(key)) else { continue }
                            if let row = JournalCodec.decode(text), row.answer.hasPrefix("A") { requests[IdempotencyKey(key)] = row.request }
                        }
                        if keyed.count < readChunk { break }
                    }
                }
                let ledger = try Ledger(snapshot: snapshot, config: config) { requests[IdempotencyKey($0)] }
                let (rebuilt, last) = try await replay(connection, from: ledger, checksum: chain, location: location)
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
        let (ledger, last) = try await replay(connection, from: Ledger(config: config), checksum: LedgerStore.chainSeed, location: location)
        return (ledger, last, LedgerStore.Recovery(snapshotSeq: nil, replayed: ledger.lastSeq, skipped: skipped))
    }

    /// Replays the journal rows after `start.lastSeq` (up to `upTo`, when given) onto `start`,
    /// continuing the checksum chain from `checksum`: the same checks as the SQLite store's
    /// replay (sequence, chain, columns against the record, every outcome). With `snapshotStates`
    /// (canonical snapshot bytes by sequence number), the state at each must equal the snapshot.
    /// The rows are read `readChunk` at a time, each read a round trip under the deadline.
    static func replay(_ connection: PostgresSession, from start: Ledger, checksum start0: UInt64, location: String,
                       upTo: UInt64? = nil, snapshotStates: [UInt64: Data] = [:]) async throws -> (Ledger, UInt64) {
        var ledger = start
        var checksum = start0
        let end = Int64(clamping: upTo ?? UInt64(Int64.max))
        while true {
            let after = Int64(ledger.lastSeq)
            let rows = try await connection.rows(
                "SELECT seq, at_ms, key, record, checksum FROM journal WHERE seq > \(after) AND seq <= \(end) ORDER BY seq LIMIT \(readChunk)") {
                try $0.decode((Int64, Int64, String?, String, String).self)
            }
            try replay(rows, onto: &ledger, checksum: &checksum, location: location, snapshotStates: snapshotStates)
            if rows.count < readChunk { break }
        }
        return (ledger, checksum)
    }

    private static func replay(_ rows: [(Int64, Int64, String?, String, String)], onto ledger: inout Ledger, checksum: inout UInt64, location: String,
                               snapshotStates: [UInt64: Data]) throws {
        for (s, atMs, key, text, rowChecksum) in rows {
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
            for (s, data) in try await connection.rows("SELECT seq, state FROM snapshot", { try $0.decode((Int64, Data).self) }) {
                newestSnapshot = max(newestSnapshot, s)
                let seq = UInt64(max(0, s))
                guard let snap = try? JSONDecoder().decode(LedgerSnapshot.self, from: data), let normal = try? LedgerStore.normalised(snap) else {
                    throw StoreError.corrupt(path: location, seq: seq, reason: "the snapshot at this sequence number is unreadable")
                }
                states[seq] = normal
            }
            let journalEnd = try await connection.rows("SELECT COALESCE(MAX(seq), 0) FROM journal") { try $0.decode(Int64.self) }.first ?? 0
            if newestSnapshot > journalEnd {
                throw StoreError.corrupt(path: location, seq: UInt64(journalEnd) + 1,
                                         reason: "missing: a snapshot at \(newestSnapshot) proves the journal held \(newestSnapshot) commands, but it ends at \(journalEnd) (its tail was lost)")
            }
            if UInt64(journalEnd) < current.lastSeq {
                throw StoreError.corrupt(path: location, seq: UInt64(journalEnd) + 1,
                                         reason: "missing: this process saw command \(current.lastSeq) committed, but the journal ends at \(journalEnd)")
            }
            let (rebuilt, _) = try await Self.replay(connection, from: Ledger(config: config), checksum: LedgerStore.chainSeed, location: location,
                                                     upTo: current.lastSeq, snapshotStates: states)
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
            try await connection.execute(
                "INSERT INTO snapshot (seq, checksum, state) VALUES (\(Int64(snapshot.lastSeq)), \(checksum), \(data)) ON CONFLICT (seq) DO NOTHING")
            try await connection.execute("DELETE FROM snapshot WHERE seq NOT IN (SELECT seq FROM snapshot ORDER BY seq DESC LIMIT 2)")
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
            try await connection.execute("""
                INSERT INTO api_key (key_id, secret_sha256, identity, admin, created_at_ms, expires_at_ms, revoked_at_ms)
                VALUES (\(key.keyID), \(key.secretSHA256), \(key.identity), \(key.admin), \(key.createdAtMs), \(key.expiresAtMs), \(key.revokedAtMs))
                """)
        } catch {
            readerFailed(connection, error)
            throw Self.storeError(error, location: location, doing: "storing key \(key.keyID)")
        }
    }

    public func revokeKey(id: String, atMs: Int64) async throws -> Bool {
        let connection = try await readerConnection()
        do {
            return try await !connection.rows(
                "UPDATE api_key SET revoked_at_ms = COALESCE(revoked_at_ms, \(atMs)) WHERE key_id = \(id) RETURNING key_id") { try $0.decode(String.self) }.isEmpty
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
            for (id, hash, identity, admin, created, expires, revoked) in try await connection.rows(query, {
                try $0.decode((String, String, String?, Bool, Int64, Int64?, Int64?).self)
            }) where admin == (identity == nil) {
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
            try await connection.execute("BEGIN")
            try await connection.execute("SELECT pg_advisory_xact_lock(\(Self.journalLockKey))", extraMs: timeouts.lockMs)
            let existing = try await connection.rows("SELECT count(*) FROM journal") { try $0.decode(Int64.self) }.first ?? 0
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
                try await connection.execute(PostgresQuery(unsafeSQL: sql, binds: binds))
                start += chunk.count
            }
            try await connection.execute("COMMIT")
        } catch {
            writer = nil
            PostgresSession.drop(connection.connection)
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
