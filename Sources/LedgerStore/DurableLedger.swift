import Foundation
import GRDB
import Ledger

/// A durable ledger, whatever keeps it: the `Ledger` state machine plus its journal, snapshots and
/// the service's API keys. Two backends: ``LedgerStore`` (one SQLite file, one writer process: the
/// embedded default) and ``PostgresLedgerStore`` (one PostgreSQL database that several processes
/// write at once; DESIGN.md, "Several instances (PostgreSQL)"). The service and the `ledger`
/// commands use this interface only, so both backends answer alike.
public protocol DurableLedger: Actor {
    /// Where the ledger is: a file path, or a `postgresql://` URL without its password.
    nonisolated var location: String { get }
    nonisolated var config: LedgerConfig { get }
    /// How the state was rebuilt when the store was opened.
    nonisolated var recovery: LedgerStore.Recovery { get }
    /// Told the number of commands of each group commit, once it is durable.
    nonisolated var commitObservers: CommitObservers { get }
    /// True when other processes write the same ledger meanwhile (several `serve` instances on one
    /// PostgreSQL database): what was read once (a key record, the state) may be stale a moment
    /// later, so nothing may be cached as still true.
    nonisolated var isShared: Bool { get }

    /// Applies the requests built by `make`, against the ledger's committed state at that moment
    /// (for a shared ledger: after catching up with every other writer's commands), in one
    /// transaction; returns their outcomes once they are durable. A thrown error means the
    /// requests were not acknowledged: a retry with the same idempotency keys is safe.
    func submit(_ make: @escaping @Sendable (Ledger) -> [Request]) async throws -> [Outcome]
    /// The state as this process last saw it committed (no round trip; for a shared ledger it may
    /// lag other writers: ``committedState()`` catches up first).
    var state: Ledger { get }
    /// The committed state, caught up with every command committed before the call.
    func committedState() async throws -> Ledger
    /// The journal records with `fromSeq ≤ seq`, transfers included (replayed from the journal).
    func journalRecords(fromSeq: UInt64) async throws -> [JournalRecord]
    /// Stores a new API key durably.
    func insertKey(_ key: APIKeyRecord) async throws
    /// Revokes a key at `atMs`; false when no such key exists. Revoking twice keeps the first time.
    func revokeKey(id: String, atMs: Int64) async throws -> Bool
    /// The key with this id, or nil.
    func apiKey(id: String) async throws -> APIKeyRecord?
    /// Every key, oldest first.
    func apiKeys() async throws -> [APIKeyRecord]
    /// Recomputes every checksum and outcome from the journal and checks the ledger's invariants.
    func verify() async throws -> VerifyReport
    /// Writes a snapshot of the committed state now.
    func snapshotNow() async throws
    /// Closes the store; it must not be used after.
    func close() async throws
}

extension DurableLedger {
    /// Applies one command durably and returns its outcome once it is committed.
    public func submitOne(_ request: Request) async throws -> Outcome {
        try await submit { _ in [request] }[0]
    }

    /// Every journal record, transfers included.
    public func journalRecords() async throws -> [JournalRecord] { try await journalRecords(fromSeq: 1) }

    /// A pool's balance in the committed state (caught up), or nil when there is no such pool.
    public func committedBalance(of pool: String) async throws -> PoolBalance? {
        let ledger = try await committedState()
        return ledger.pool(named: pool).flatMap { ledger.balance(of: $0) }
    }
}

extension LedgerStore: DurableLedger {
    public nonisolated var location: String { path }
    public nonisolated var isShared: Bool { false }
    /// The writer holds the file's lock: its memory is the committed state.
    public func committedState() -> Ledger { ledger }
    public func journalRecords(fromSeq: UInt64) throws -> [JournalRecord] { try records(fromSeq: fromSeq) }
    public func apiKey(id: String) throws -> APIKeyRecord? { try key(id: id) }
    public func apiKeys() throws -> [APIKeyRecord] { try keys() }

    /// Every journal row as stored, in order (for copying a journal into another store).
    func journalRows() throws -> [StoredJournalRow] {
        try db.read { db in
            try Row.fetchAll(db, sql: "SELECT seq, at_ms, key, record, checksum FROM journal ORDER BY seq").map { row in
                guard let seq = row.int64(at: 0), let at = row.int64(at: 1), let record = row.text(at: 3), let checksum = row.text(at: 4) else {
                    throw StoreError.corrupt(path: path, seq: UInt64(max(0, row.int64(at: 0) ?? 0)), reason: "a damaged row (wrong types or NULL)")
                }
                return StoredJournalRow(seq: seq, atMs: at, key: row.text(at: 2), record: record, checksum: checksum)
            }
        }
    }
}

/// Opening a ledger by where it is.
public enum LedgerStores {
    /// Whether `location` names a PostgreSQL database (`postgresql://` or `postgres://`).
    public static func isPostgres(_ location: String) -> Bool {
        location.hasPrefix("postgresql://") || location.hasPrefix("postgres://")
    }

    /// How messages name the ledger at `location`: a PostgreSQL URL without its password, a file by its path.
    public static func displayName(_ location: String) -> String {
        isPostgres(location) ? ((try? PostgresEndpoint(url: location))?.displayURL ?? "--store") : location
    }

    /// Opens the ledger at `location`: a `postgresql://USER[:PASSWORD]@HOST[:PORT]/DB` URL, or else a
    /// SQLite file path. `readOnly` and `create` as for ``LedgerStore/init(path:config:snapshotEvery:readOnly:create:)``;
    /// a PostgreSQL ledger is never locked against other processes, so `readOnly` only refuses commands there.
    /// `timeouts`: for PostgreSQL, how long it waits for the journal's lock, for each round trip
    /// and for a writer stopped inside a transaction (``PostgresTimeouts``).
    public static func open(_ location: String, config: LedgerConfig = LedgerConfig(), snapshotEvery: UInt64 = 1_000_000,
                            readOnly: Bool = false, create: Bool = true, timeouts: PostgresTimeouts = PostgresTimeouts()) async throws -> any DurableLedger {
        if isPostgres(location) {
            return try await PostgresLedgerStore(url: location, config: config, snapshotEvery: snapshotEvery, readOnly: readOnly, create: create,
                                                 timeouts: timeouts)
        }
        return try await LedgerStore(path: location, config: config, snapshotEvery: snapshotEvery, readOnly: readOnly, create: create)
    }
}
