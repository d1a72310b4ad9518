import Foundation
import GRDB
import Ledger

/// A durable ledger: the `Ledger` state machine plus a journal in SQLite (WAL,
/// `synchronous=FULL`). One actor owns the state; callers submit commands concurrently; the
/// writer applies a batch, commits it in one transaction, and only then answers each command
/// (group commit). Opening a store recovers its state by replaying the journal through `Ledger`,
/// checking the checksum chain and every recorded outcome on the way.
public actor LedgerStore {
    public let path: String
    public nonisolated let config: LedgerConfig
    private let db: DatabasePool
    private var ledger: Ledger
    private var lastChecksum: UInt64
    private var pending: [Entry] = []
    private var flushing = false
    /// Take a snapshot after this many commands (0: never).
    public nonisolated let snapshotEvery: UInt64
    private var lastSnapshotSeq: UInt64
    /// How the state was recovered at open.
    public nonisolated let recovery: Recovery

    /// A unit of work: builds its requests from the ledger as it is when the batch is applied
    /// (so names created earlier in the same batch resolve), and receives their outcomes.
    private struct Entry {
        let make: @Sendable (Ledger) -> [Request]
        let continuation: CheckedContinuation<[Outcome], any Error>
    }

    /// Opens (creating if needed) the store at `path` and recovers its state: from the latest
    /// valid snapshot and the journal after it, or by replaying the whole journal.
    /// `snapshotEvery`: commands between snapshots (0: none).
    public init(path: String, config: LedgerConfig = LedgerConfig(), snapshotEvery: UInt64 = 1_000_000) async throws {
        self.path = path
        self.config = config
        self.snapshotEvery = snapshotEvery
        var configuration = Configuration()
        // Another connection (a snapshot being written, another process) may hold the write lock
        // for a moment: wait for it rather than fail.
        configuration.busyMode = .timeout(10)
        // Durability chosen deliberately: FULL syncs the WAL on every commit, so an acknowledged
        // command survives a power loss, not only a process crash.
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        let db = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(db)
        self.db = db
        let (ledger, checksum, recovery) = try await Self.open(db, config: config, path: path)
        self.ledger = ledger
        self.lastChecksum = checksum
        self.recovery = recovery
        self.lastSnapshotSeq = recovery.snapshotSeq ?? 0
    }

    /// How a store's state was rebuilt when it was opened.
    public struct Recovery: Sendable {
        /// The snapshot it started from (nil: the whole journal was replayed).
        public var snapshotSeq: UInt64?
        /// Journal commands replayed after the snapshot.
        public var replayed: UInt64
        /// Snapshots found unusable (newest first), with why; recovery fell back past them.
        public var skipped: [String]
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-journal") { db in
            try db.create(table: "journal") { t in
                t.primaryKey("seq", .integer)
                t.column("at_ms", .integer).notNull()
                t.column("key", .text)
                t.column("record", .text).notNull()
                t.column("checksum", .text).notNull()
            }
        }
        m.registerMigration("v2-snapshots") { db in
            try db.create(table: "snapshot") { t in
                t.primaryKey("seq", .integer)
                t.column("checksum", .text).notNull()
                t.column("state", .blob).notNull()
            }
        }
        return m
    }

    // MARK: Submitting

    /// Applies one command durably and returns its outcome once it is committed.
    public func submit(_ request: Request) async throws -> Outcome {
        try await submit { _ in [request] }[0]
    }

    /// Applies the requests built by `make` (against the state at that moment) in one
    /// transaction; returns their outcomes once committed.
    public func submit(_ make: @escaping @Sendable (Ledger) -> [Request]) async throws -> [Outcome] {
        try await withCheckedThrowingContinuation { continuation in
            pending.append(Entry(make: make, continuation: continuation))
            if !flushing {
                flushing = true
                Task { await self.flush() }
            }
        }
    }

    /// Group commit. The batch is applied to the ledger in place and committed in the same actor
    /// turn, so readers only ever see committed state; commands submitted meanwhile queue up and
    /// form the next batch. If the commit fails, the state is rebuilt from the journal (what was
    /// committed) and every command of the batch gets the error.
    private func flush() async {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            var sink = CommandSink()
            var results: [[Outcome]] = []
            for entry in batch {
                var outcomes: [Outcome] = []
                for request in entry.make(ledger) { outcomes.append(ledger.apply(request, sink: &sink)) }
                results.append(outcomes)
            }
            var checksum = lastChecksum
            do {
                var rows: [(UInt64, Int64, String?, String, String)] = []
                rows.reserveCapacity(sink.records.count)
                for record in sink.records {
                    let text = try JournalCodec.encode(record.request, record.outcome)
                    checksum = Self.chain(checksum, text)
                    rows.append((record.seq, record.request.atMs, record.request.key, text, Self.hex(checksum)))
                }
                try Self.commit(rows, to: db)
                lastChecksum = checksum
                for (entry, outcomes) in zip(batch, results) { entry.continuation.resume(returning: outcomes) }
                if snapshotEvery > 0, ledger.lastSeq >= lastSnapshotSeq + snapshotEvery { takeSnapshot() }
            } catch {
                if let (committed, last, _) = try? await Self.open(db, config: ledger.config, path: path) {
                    ledger = committed
                    lastChecksum = last
                }
                for entry in batch { entry.continuation.resume(throwing: error) }
            }
            // Let the commands submitted during this commit join the next batch.
            await Task.yield()
        }
        flushing = false
    }

    /// One transaction, synchronously (the caller's actor turn holds until it is durable).
    private static func commit(_ rows: [(UInt64, Int64, String?, String, String)], to pool: DatabasePool) throws {
        try pool.write { db in
            let statement = try db.makeStatement(sql: "INSERT INTO journal (seq, at_ms, key, record, checksum) VALUES (?, ?, ?, ?, ?)")
            for r in rows {
                try statement.execute(arguments: [Int64(r.0), r.1, r.2, r.3, r.4])
            }
        }
    }

    // MARK: Snapshots

    /// Snapshots the committed state (a copy, taken in this actor turn) and writes it from a
    /// detached task, so that the writer goes on; the two newest snapshots are kept.
    private func takeSnapshot() {
        let snapshot = ledger.snapshot()
        let checksum = Self.hex(lastChecksum)
        lastSnapshotSeq = snapshot.lastSeq
        let db = self.db
        Task.detached(priority: .utility) {
            try? Self.write(snapshot, checksum: checksum, to: db)
        }
    }

    /// Writes a snapshot now (tests and `burnrate ledger snapshot`).
    public func snapshotNow() throws {
        let snapshot = ledger.snapshot()
        lastSnapshotSeq = snapshot.lastSeq
        try Self.write(snapshot, checksum: Self.hex(lastChecksum), to: db)
    }

    static func write(_ snapshot: LedgerSnapshot, checksum: String, to db: DatabasePool) throws {
        let data = try JSONEncoder().encode(snapshot)
        try db.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO snapshot (seq, checksum, state) VALUES (?, ?, ?)",
                           arguments: [Int64(snapshot.lastSeq), checksum, data])
            try db.execute(sql: "DELETE FROM snapshot WHERE seq NOT IN (SELECT seq FROM snapshot ORDER BY seq DESC LIMIT 2)")
        }
    }

    /// Recovery at open: the newest snapshot that checks out (its checksum is the journal's at its
    /// sequence number, it decodes, its keys' commands are in the journal, its digest matches),
    /// then the journal after it; without one, the whole journal.
    static func open(_ db: DatabasePool, config: LedgerConfig, path: String) async throws -> (Ledger, UInt64, Recovery) {
        let candidates = try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT seq, checksum, state FROM snapshot ORDER BY seq DESC")
                .map { (UInt64($0["seq"] as Int64), $0["checksum"] as String, $0["state"] as Data) }
        }
        var skipped: [String] = []
        for (seq, checksum, data) in candidates {
            do {
                let journalChecksum = try await db.read { db in
                    try String.fetchOne(db, sql: "SELECT checksum FROM journal WHERE seq = ?", arguments: [Int64(seq)])
                }
                guard journalChecksum == checksum, let chain = UInt64(checksum, radix: 16) else {
                    throw SnapshotProblem("its checksum is not the journal's at that sequence number")
                }
                let snapshot = try JSONDecoder().decode(LedgerSnapshot.self, from: data)
                guard snapshot.lastSeq == seq else { throw SnapshotProblem("it is labelled \(seq) but holds \(snapshot.lastSeq)") }
                let keySeqs = snapshot.rememberedKeys.map(\.seq)
                var commands: [String: Command] = [:]
                if let first = keySeqs.min() {
                    let rows = try await db.read { db in
                        try Row.fetchAll(db, sql: "SELECT key, record FROM journal WHERE seq BETWEEN ? AND ? AND key IS NOT NULL",
                                         arguments: [Int64(first), Int64(seq)]).map { ($0["key"] as String, $0["record"] as String) }
                    }
                    let wanted = Set(snapshot.rememberedKeys.map(\.key))
                    for (key, text) in rows where wanted.contains(key) {
                        if let row = JournalCodec.decode(text), row.answer.hasPrefix("A") { commands[key] = row.request.command }
                    }
                }
                let ledger = try Ledger(snapshot: snapshot, config: config) { commands[$0] }
                let (rebuilt, last) = try await replay(db, from: ledger, checksum: chain, path: path)
                return (rebuilt, last, Recovery(snapshotSeq: seq, replayed: rebuilt.lastSeq - seq, skipped: skipped))
            } catch let error as StoreError {
                throw error
            } catch {
                skipped.append("snapshot at \(seq): \(error)")
            }
        }
        let (ledger, last) = try await replay(db, from: Ledger(config: config), checksum: chainSeed, path: path)
        return (ledger, last, Recovery(snapshotSeq: nil, replayed: ledger.lastSeq, skipped: skipped))
    }

    struct SnapshotProblem: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    // MARK: Reading

    /// The committed state (a copy: reading never blocks the writer for long).
    public var state: Ledger { ledger }

    public func balance(of pool: String) -> PoolBalance? {
        ledger.pool(named: pool).flatMap { ledger.balance(of: $0) }
    }

    /// The journal records with `fromSeq ≤ seq`, transfers included: the commands are read from
    /// the database (WAL readers do not block the writer) and replayed, which rebuilds every
    /// transfer exactly.
    public nonisolated func records(fromSeq: UInt64 = 1) throws -> [JournalRecord] {
        let rows = try db.read { db in try String.fetchAll(db, sql: "SELECT record FROM journal ORDER BY seq") }
        var ledger = Ledger(config: config)
        var sink = RecordingSink()
        for (n, text) in rows.enumerated() {
            guard let row = JournalCodec.decode(text) else {
                throw StoreError.corrupt(path: path, seq: UInt64(n + 1), reason: "unreadable record")
            }
            _ = ledger.apply(row.request, sink: &sink)
        }
        return sink.records.filter { $0.seq >= fromSeq }
    }

    // MARK: Recovery and verification

    /// Replays the journal: checks the sequence, the checksum chain and each outcome, and returns
    /// the rebuilt ledger with the last checksum. A broken row stops recovery with a
    /// ``StoreError/corrupt(path:seq:reason:)`` naming its sequence number.
    static func recover(_ db: DatabasePool, config: LedgerConfig, path: String,
                        snapshotStates: [UInt64: Data] = [:]) async throws -> (Ledger, UInt64) {
        try await replay(db, from: Ledger(config: config), checksum: chainSeed, path: path, snapshotStates: snapshotStates)
    }

    /// A snapshot's canonical bytes (sorted keys), to compare states field by field.
    static func normalised(_ s: LedgerSnapshot) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(s)
    }

    /// Replays the journal rows after `start.lastSeq` onto `start`, continuing the checksum chain
    /// from `checksum`. With `snapshotStates` (canonical snapshot bytes by sequence number), the
    /// state at each snapshot's sequence number must equal the snapshot, field by field.
    static func replay(_ db: DatabasePool, from start: Ledger, checksum start0: UInt64, path: String,
                       snapshotStates: [UInt64: Data] = [:]) async throws -> (Ledger, UInt64) {
        try await db.read { db in
            var ledger = start
            var checksum = start0
            var expected: UInt64 = start.lastSeq + 1
            let cursor = try Row.fetchCursor(db, sql: "SELECT seq, record, checksum FROM journal WHERE seq >= ? ORDER BY seq",
                                             arguments: [Int64(expected)])
            while let row = try cursor.next() {
                let seq = UInt64(row["seq"] as Int64)
                guard seq == expected else { throw StoreError.corrupt(path: path, seq: expected, reason: "missing from the journal (next is \(seq))") }
                let text: String = row["record"]
                checksum = chain(checksum, text)
                guard hex(checksum) == (row["checksum"] as String) else {
                    throw StoreError.corrupt(path: path, seq: seq, reason: "checksum mismatch: the row was altered or damaged")
                }
                guard let row = JournalCodec.decode(text) else {
                    throw StoreError.corrupt(path: path, seq: seq, reason: "unreadable record")
                }
                let outcome = ledger.apply(row.request)
                guard JournalCodec.answer(outcome) == row.answer, ledger.lastSeq == seq else {
                    throw StoreError.corrupt(path: path, seq: seq, reason: "replay gives a different outcome than the one recorded")
                }
                if let state = snapshotStates[seq], (try? normalised(ledger.snapshot())) != state {
                    throw StoreError.corrupt(path: path, seq: seq, reason: "the snapshot at this sequence number differs from the journal's state")
                }
                expected += 1
            }
            return (ledger, checksum)
        }
    }

    /// Recomputes every checksum and outcome from the journal and checks the ledger's invariants.
    public func verify() async throws -> VerifyReport {
        // Every snapshot must match the state the journal gives at its sequence number.
        let snapshots = try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT seq, state FROM snapshot").map { (UInt64($0["seq"] as Int64), $0["state"] as Data) }
        }
        var states: [UInt64: Data] = [:]
        for (seq, data) in snapshots {
            guard let snap = try? JSONDecoder().decode(LedgerSnapshot.self, from: data), let normal = try? Self.normalised(snap) else {
                throw StoreError.corrupt(path: path, seq: seq, reason: "the snapshot at this sequence number is unreadable")
            }
            states[seq] = normal
        }
        let (rebuilt, _) = try await Self.recover(db, config: config, path: path, snapshotStates: states)
        return VerifyReport(commands: rebuilt.lastSeq, digest: rebuilt.stateDigest,
                            matchesMemory: rebuilt.stateDigest == ledger.stateDigest,
                            invariantViolations: rebuilt.invariantViolations())
    }

    // MARK: Encoding

    static let chainSeed: UInt64 = 0xcbf2_9ce4_8422_2325

    /// FNV-1a 64 over the previous checksum's hex and the record's text: any altered, missing or
    /// reordered row breaks the chain from there on.
    static func chain(_ previous: UInt64, _ text: String) -> UInt64 {
        var h = chainSeed
        for b in hex(previous).utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h
    }

    static func hex(_ x: UInt64) -> String {
        let s = String(x, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}

/// Keeps what the journal stores (the request and its outcome), not the transfers: those are
/// rebuilt by replay, so the writer need not collect them.
struct CommandSink: JournalSink {
    var records: [JournalRecord] = []
    var wantsTransfers: Bool { false }
    mutating func record(seq: UInt64, request: Request, outcome: Outcome, transfers: [Transfer]) {
        records.append(JournalRecord(seq: seq, request: request, outcome: outcome, transfers: []))
    }
}

public struct VerifyReport: Sendable {
    public var commands: UInt64
    public var digest: UInt64
    public var matchesMemory: Bool
    public var invariantViolations: [String]
    public var ok: Bool { matchesMemory && invariantViolations.isEmpty }
}

public enum StoreError: Error, CustomStringConvertible, Sendable {
    case corrupt(path: String, seq: UInt64, reason: String)

    public var description: String {
        switch self {
        case .corrupt(let path, let seq, let reason): "\(path): journal entry \(seq): \(reason)"
        }
    }
}
