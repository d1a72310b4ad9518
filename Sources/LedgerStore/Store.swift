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
    private let lock: WriterLock
    /// The WAL file's inode once it exists: if the file at that path is gone or another one, the
    /// commits since went to a deleted file and are not durable.
    private var walInode: UInt64?
    /// Set when the store found its durability broken: every later command is refused with it.
    private var broken: StoreError?

    /// A unit of work: builds its requests from the ledger as it is when the batch is applied
    /// (so names created earlier in the same batch resolve), and receives their outcomes.
    private struct Entry {
        let make: @Sendable (Ledger) -> [Request]
        let continuation: CheckedContinuation<[Outcome], any Error>
    }

    /// Opens (creating if needed) the store at `path` and recovers its state: from the latest
    /// valid snapshot and the journal after it, or by replaying the whole journal.
    /// `snapshotEvery`: commands between snapshots (0: none).
    /// `readOnly`: a reader beside a running writer (`ledger balance`, `statement`): it takes no
    /// lock, never writes, and refuses commands; it sees the state committed when it opened.
    /// `create: false`: the ledger must exist (`verify`, `export`: a mistyped path is an error,
    /// not a new empty ledger that verifies).
    public init(path: String, config: LedgerConfig = LedgerConfig(), snapshotEvery: UInt64 = 1_000_000,
                readOnly: Bool = false, create: Bool = true) async throws {
        self.path = path
        self.config = config
        self.snapshotEvery = readOnly ? 0 : snapshotEvery
        let lock: WriterLock
        do { lock = try WriterLock(databasePath: path, exclusive: !readOnly, create: create && !readOnly) } catch {
            switch error {
            case .inUse(let pid): throw StoreError.inUse(path: path, pid: pid)
            case .io(let message): throw StoreError.unavailable(path: path, reason: message)
            }
        }
        // A database file that existed but is empty is a truncated ledger, never a new one (the
        // lock is taken first, so a file another process is creating this instant is "in use").
        if lock.existed, let attributes = try? FileManager.default.attributesOfItem(atPath: path),
           (attributes[.size] as? NSNumber)?.intValue == 0 {
            lock.release()
            throw StoreError.corrupt(path: path, seq: 0, reason: "the file is empty (0 bytes): a truncated ledger? A new ledger is created only where no file exists")
        }
        var configuration = Configuration()
        configuration.readonly = readOnly
        // Another connection (a snapshot being written, another process) may hold the write lock
        // for a moment: wait for it rather than fail.
        configuration.busyMode = .timeout(10)
        // Durability chosen deliberately: FULL syncs the WAL on every commit, so an acknowledged
        // command survives a power loss, not only a process crash.
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        let db: DatabasePool
        let opened: (Ledger, UInt64, Recovery)
        do {
            db = try DatabasePool(path: path, configuration: configuration)
            if readOnly {
                guard try await db.read({ try $0.tableExists("journal") && $0.tableExists("snapshot") }) else {
                    throw StoreError.unavailable(path: path, reason: "not a ledger database (no journal)")
                }
            } else {
                try Self.migrator.migrate(db)
            }
            opened = try await Self.open(db, config: config, path: path)
            try await Self.checkLength(db, path: path, journalEnd: opened.0.lastSeq, acknowledged: lock.previous)
        } catch {
            lock.release()
            if !lock.existed { try? FileManager.default.removeItem(atPath: path) }
            throw error
        }
        self.db = db
        self.lock = lock
        let (ledger, checksum, recovery) = opened
        self.ledger = ledger
        self.lastChecksum = checksum
        self.recovery = recovery
        self.lastSnapshotSeq = recovery.snapshotSeq ?? 0
        if readOnly { broken = .unavailable(path: path, reason: "opened read-only") }
        if ledger.lastSeq > 0 { lock.record(seq: ledger.lastSeq, checksum: Self.hex(checksum)) }
    }

    deinit { lock.release() }

    /// Closes the database and releases the writer lock; the store must not be used after.
    public func close() throws {
        let writable = broken == nil
        broken = broken ?? .unavailable(path: path, reason: "the store was closed")
        // Everything into the database file itself, so that the file alone is the ledger.
        if writable { try db.writeWithoutTransaction { try $0.checkpoint(.truncate) } }
        try db.close()
        lock.release()
    }

    /// Removes a database file and its companions (WAL, shared memory, lock).
    public static func remove(path: String) {
        for suffix in ["", "-wal", "-shm", ".lock"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// Moves a closed database (and its lock file, which carries its high-water mark) to `target`.
    public static func move(from source: String, to target: String) throws {
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: target + suffix) }
        for suffix in ["-wal", "-shm", ".lock", ""] where FileManager.default.fileExists(atPath: source + suffix) {
            guard rename(source + suffix, target + suffix) == 0 else {
                throw StoreError.unavailable(path: target, reason: "cannot move \(source + suffix) into place: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Where the store holds evidence of a longer journal, a shorter one is damage: a snapshot
    /// beyond the journal's end, or a writer that acknowledged more (its lock file's high-water
    /// mark) than the journal holds, or another command at that sequence number.
    static func checkLength(_ db: DatabasePool, path: String, journalEnd: UInt64, acknowledged: (seq: UInt64, checksum: String)?) async throws {
        let (newestSnapshot, checksumAtMark) = try await db.read { db -> (Int64?, String?) in
            // `seq` is the rowid (always an integer): a range on it is a lookup, not a scan.
            if let bad = try Int64.fetchOne(db, sql: "SELECT MIN(seq) FROM journal WHERE seq < 1") {
                throw StoreError.corrupt(path: path, seq: 0, reason: "a row with the invalid sequence number \(bad) (journal entries start at 1)")
            }
            let snapshot = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM snapshot")
            let mark = try acknowledged.flatMap { a in
                try DatabaseValue.fetchOne(db, sql: "SELECT checksum FROM journal WHERE seq = ?", arguments: [Int64(clamping: a.seq)])
                    .flatMap { String.fromDatabaseValue($0) }
            }
            return (snapshot, mark)
        }
        if let s = newestSnapshot, s > 0, UInt64(s) > journalEnd {
            throw StoreError.corrupt(path: path, seq: journalEnd + 1,
                                     reason: "missing: a snapshot at \(s) proves the journal held \(s) commands, but it ends at \(journalEnd) (its tail was lost)")
        }
        if let a = acknowledged, a.seq > 0 {
            guard a.seq <= journalEnd else {
                throw StoreError.corrupt(path: path, seq: journalEnd + 1,
                                         reason: "missing: \(path).lock records command \(a.seq) as acknowledged, but the journal ends at \(journalEnd) (its tail, the file or its WAL was lost). If you replaced the database on purpose, remove \(path).lock")
            }
            guard checksumAtMark == a.checksum else {
                throw StoreError.corrupt(path: path, seq: a.seq,
                                         reason: "not the command \(path).lock records as acknowledged (another history, or an older copy of the database)")
            }
        }
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
            if let broken {
                for entry in batch { entry.continuation.resume(throwing: broken) }
                continue
            }
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
                try checkWAL()
                lastChecksum = checksum
                lock.record(seq: ledger.lastSeq, checksum: Self.hex(checksum))
                for (entry, outcomes) in zip(batch, results) { entry.continuation.resume(returning: outcomes) }
                if snapshotEvery > 0, ledger.lastSeq >= lastSnapshotSeq + snapshotEvery { takeSnapshot() }
            } catch {
                if broken == nil, let (committed, last, _) = try? await Self.open(db, config: ledger.config, path: path) {
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

    /// The commit went to the WAL file opened at the start; if that file was deleted (or
    /// replaced) since, the commit is in a file no one will read again: not durable. The store
    /// then refuses everything (the batch gets the error, so nothing is acknowledged).
    private func checkWAL() throws {
        var st = stat()
        let exists = stat(path + "-wal", &st) == 0
        if let known = walInode {
            if !exists || UInt64(st.st_ino) != known {
                let error = StoreError.unavailable(path: path, reason: "its WAL file was deleted or replaced while it was open: the commands up to \(ledger.lastSeq) are not durable and were not acknowledged")
                broken = error
                throw error
            }
        } else if exists {
            walInode = UInt64(st.st_ino)
        }
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
        let rows = try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT seq, checksum, state FROM snapshot ORDER BY seq DESC")
                .map { ($0.int64("seq"), $0.text("checksum"), $0.blob("state")) }
        }
        var skipped: [String] = []
        var candidates: [(UInt64, String, Data)] = []
        for (s, c, d) in rows {
            // A damaged snapshot row is skipped (recovery falls back past it), never a trap.
            guard let s, s > 0, let c, let d else {
                skipped.append("snapshot at \(rows.count > 0 ? s.map(String.init) ?? "?" : "?"): the row is damaged (wrong types or NULL)")
                continue
            }
            candidates.append((UInt64(s), c, d))
        }
        for (seq, checksum, data) in candidates {
            do {
                let journalChecksum = try await db.read { db in
                    try DatabaseValue.fetchOne(db, sql: "SELECT checksum FROM journal WHERE seq = ?", arguments: [Int64(seq)])
                        .flatMap { String.fromDatabaseValue($0) }
                }
                guard journalChecksum == checksum, let chain = UInt64(checksum, radix: 16) else {
                    throw SnapshotProblem("its checksum is not the journal's at that sequence number")
                }
                let snapshot = try JSONDecoder().decode(LedgerSnapshot.self, from: data)
                guard snapshot.lastSeq == seq else { throw SnapshotProblem("it is labelled \(seq) but holds \(snapshot.lastSeq)") }
                let keySeqs = snapshot.rememberedKeys.map(\.seq)
                var requests: [IdempotencyKey: Request] = [:]
                if let first = keySeqs.min() {
                    let rows = try await db.read { db in
                        try Row.fetchAll(db, sql: "SELECT key, record FROM journal WHERE seq BETWEEN ? AND ? AND key IS NOT NULL",
                                         arguments: [Int64(first), Int64(seq)]).compactMap { row -> (String, String)? in
                            guard let key = row.text("key"), let record = row.text("record") else { return nil }
                            return (key, record)
                        }
                    }
                    let wanted = Set(snapshot.rememberedKeys.map { IdempotencyKey($0.key) })
                    for (key, text) in rows where wanted.contains(IdempotencyKey(key)) {
                        if let row = JournalCodec.decode(text), row.answer.hasPrefix("A") { requests[IdempotencyKey(key)] = row.request }
                    }
                }
                let ledger = try Ledger(snapshot: snapshot, config: config) { requests[IdempotencyKey($0)] }
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
        let rows = try db.read { db in try Row.fetchAll(db, sql: "SELECT seq, record FROM journal ORDER BY seq").map { $0.text("record") } }
        var ledger = Ledger(config: config)
        var sink = RecordingSink()
        for (n, text) in rows.enumerated() {
            guard let text, let row = JournalCodec.decode(text) else {
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
            let cursor = try Row.fetchCursor(db, sql: "SELECT seq, at_ms, key, record, checksum FROM journal WHERE seq >= ? ORDER BY seq",
                                             arguments: [Int64(expected)])
            // Columns by position: 0 seq, 1 at_ms, 2 key, 3 record, 4 checksum.
            while let row = try cursor.next() {
                guard let s = row.int64(at: 0), s > 0 else {
                    throw StoreError.corrupt(path: path, seq: expected, reason: "a row after \(expected - 1) has no valid sequence number")
                }
                let seq = UInt64(s)
                guard seq == expected else { throw StoreError.corrupt(path: path, seq: expected, reason: "missing from the journal (next is \(seq))") }
                guard let text = row.text(at: 3) else {
                    throw StoreError.corrupt(path: path, seq: seq, reason: "the record is missing (NULL or not text)")
                }
                checksum = chain(checksum, text)
                guard hex(checksum) == row.text(at: 4) else {
                    throw StoreError.corrupt(path: path, seq: seq, reason: "checksum mismatch: the row was altered or damaged")
                }
                guard let decoded = JournalCodec.decode(text) else {
                    throw StoreError.corrupt(path: path, seq: seq, reason: "unreadable record")
                }
                // The indexed columns repeat the record: they must agree with it.
                let keyColumn: DatabaseValue = row[2]
                let keyAgrees: Bool
                if let key = decoded.request.key {
                    keyAgrees = Row.text(keyColumn).map { $0.utf8.elementsEqual(key.utf8) } ?? false
                } else {
                    keyAgrees = keyColumn.isNull
                }
                guard row.int64(at: 1) == decoded.request.atMs, keyAgrees else {
                    throw StoreError.corrupt(path: path, seq: seq, reason: "its at_ms or key column differs from its record")
                }
                let outcome = ledger.apply(decoded.request)
                guard JournalCodec.answer(outcome) == decoded.answer, ledger.lastSeq == seq else {
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
            try Row.fetchAll(db, sql: "SELECT seq, state FROM snapshot").map { ($0.int64("seq"), $0.blob("state")) }
        }
        var states: [UInt64: Data] = [:]
        for (s, data) in snapshots {
            let seq = UInt64(max(0, s ?? 0))
            guard let data, let snap = try? JSONDecoder().decode(LedgerSnapshot.self, from: data), let normal = try? Self.normalised(snap) else {
                throw StoreError.corrupt(path: path, seq: seq, reason: "the snapshot at this sequence number is unreadable")
            }
            states[seq] = normal
        }
        let (rebuilt, _) = try await Self.recover(db, config: config, path: path, snapshotStates: states)
        try await Self.checkLength(db, path: path, journalEnd: rebuilt.lastSeq, acknowledged: (ledger.lastSeq, Self.hex(lastChecksum)))
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
    /// Damage, located at a sequence number.
    case corrupt(path: String, seq: UInt64, reason: String)
    /// Another process holds the ledger (its pid, when its lock file names it).
    case inUse(path: String, pid: String?)
    /// The store cannot be used (the lock file cannot be opened, the WAL was lost, it was closed).
    case unavailable(path: String, reason: String)

    public var description: String {
        switch self {
        case .corrupt(let path, let seq, let reason): "\(path): journal entry \(seq): \(reason)"
        case .inUse(let path, let pid):
            "\(path) is in use by another process\(pid.map { " (pid \($0))" } ?? ""): one process writes a ledger at a time; wait for it to finish or stop it"
        case .unavailable(let path, let reason): "\(path): \(reason)"
        }
    }
}

/// Reading columns of rows that may be damaged: a wrong type or a NULL is nil, never a trap.
extension Row {
    // Exact storage classes: SQLite converts freely (a REAL 1.5, a BLOB of text), a journal must not.
    func int64(_ column: String) -> Int64? { Self.int64(self[column] as DatabaseValue) }
    func text(_ column: String) -> String? { Self.text(self[column] as DatabaseValue) }
    // By position, for the replay loop: a lookup by name searches the columns on every access.
    func int64(at index: Int) -> Int64? { Self.int64(self[index] as DatabaseValue) }
    func text(at index: Int) -> String? { Self.text(self[index] as DatabaseValue) }

    static func int64(_ v: DatabaseValue) -> Int64? {
        guard case .int64(let n) = v.storage else { return nil }
        return n
    }
    static func text(_ v: DatabaseValue) -> String? {
        guard case .string(let s) = v.storage else { return nil }
        return s
    }
    func blob(_ column: String) -> Data? {
        let v: DatabaseValue = self[column]
        guard case .blob(let data) = v.storage else { return nil }
        return data
    }
}
