import Foundation
import GRDB
import Ledger
import Synchronization

/// A durable ledger: the `Ledger` state machine plus a journal in SQLite (WAL,
/// `synchronous=FULL`). One actor owns the state; callers submit commands concurrently; the
/// writer applies a batch, commits it in one transaction, and only then answers each command
/// (group commit). Opening a store recovers its state by replaying the journal through `Ledger`,
/// checking the checksum chain and every recorded outcome on the way.
public actor LedgerStore {
    public let path: String
    public nonisolated let config: LedgerConfig
    /// Internal, not private: the store's extensions and the API keys (Keys.swift) use it; the
    /// keys live in the same file, under the same lock.
    let db: DatabasePool
    var ledger: Ledger
    var lastChecksum: UInt64
    private var pending: [Entry] = []
    private var flushing = false
    /// Take a snapshot after this many commands (0: never).
    public nonisolated let snapshotEvery: UInt64
    var lastSnapshotSeq: UInt64
    /// How the state was recovered at open.
    public nonisolated let recovery: Recovery
    let lock: WriterLock
    /// The WAL file's inode once it exists: if the file at that path is gone or another one, the
    /// commits since went to a deleted file and are not durable.
    private var walInode: UInt64?
    /// Set when the store found its durability broken: every later command is refused with it.
    private var broken: StoreError?
    /// Told the number of commands of each group commit, once it is durable (the service's metrics).
    public nonisolated let commitObservers = CommitObservers()

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
        // The service's API keys: in the ledger's own file, so that one file (one lock, one backup)
        // is the ledger and who may use it. Only a hash of each secret is stored.
        m.registerMigration("v3-keys") { db in
            try db.create(table: "api_key") { t in
                t.primaryKey("key_id", .text)
                t.column("secret_sha256", .text).notNull()
                t.column("identity", .text)
                t.column("admin", .boolean).notNull()
                t.column("created_at_ms", .integer).notNull()
                t.column("expires_at_ms", .integer)
                t.column("revoked_at_ms", .integer)
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
                commitObservers.notify(commands: batch.count)
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
}

/// Who is told of each group commit: closures called on the store's actor, after the commit and
/// before its commands are answered, with the number of commands in the batch.
public final class CommitObservers: Sendable {
    private let observers = Mutex<[@Sendable (Int) -> Void]>([])
    public func add(_ observer: @escaping @Sendable (Int) -> Void) { observers.withLock { $0.append(observer) } }
    func notify(commands: Int) {
        for observer in observers.withLock({ $0 }) { observer(commands) }
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
