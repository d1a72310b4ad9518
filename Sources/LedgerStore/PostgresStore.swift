import Foundation
import Ledger
import Logging
import PostgresNIO
import Synchronization

/// A durable ledger in a PostgreSQL database that several processes write at once (DESIGN.md,
/// "Several instances (PostgreSQL)"; the README's "Several instances on one PostgreSQL" tells
/// the design and its failure modes).
///
/// Every process keeps the whole `Ledger` in memory, as the SQLite store does. A group of
/// commands is committed in one transaction that first takes the journal's lock
/// (`pg_advisory_xact_lock`, held to the end of the transaction, so writers of every process go
/// one at a time), then reads the journal rows other processes committed since this one last
/// looked and replays them (catch-up: the checksum chain and every recorded outcome are checked,
/// as at recovery), then applies its own commands to that caught-up state, inserts them with the
/// next sequence numbers (the primary key on `seq` is the backstop) and commits. Only then are
/// the commands answered. The admission decision is thus taken on the state that includes every
/// committed command, under a lock no other writer holds: no aggregate read can be stale.
///
/// The batch is applied to a copy of the state; the copy replaces the state only once the commit
/// succeeded, so a failed or unknown commit leaves this process at the last state it knows to be
/// committed, and its commands get a thrown error (the service answers 503: retry with the same key).
public actor PostgresLedgerStore: DurableLedger {
    public nonisolated let location: String
    public nonisolated let endpoint: PostgresEndpoint
    public nonisolated let config: LedgerConfig
    /// Take a snapshot after this many commands (0: never).
    public nonisolated let snapshotEvery: UInt64
    public nonisolated let recovery: LedgerStore.Recovery
    public nonisolated let commitObservers = CommitObservers()
    public nonisolated var isShared: Bool { true }
    /// How long it waits for the journal's lock, for each round trip, and for a stopped writer.
    public nonisolated let timeouts: PostgresTimeouts

    var ledger: Ledger
    var lastChecksum: UInt64
    var lastSnapshotSeq: UInt64
    /// Runs the write transactions, one at a time (only the flush loop uses it).
    var writer: PostgresSession?
    /// Single statements outside any transaction: keys, snapshots, journal reads.
    private var reader: PostgresSession?
    private var pending: [Entry] = []
    private var flushing = false
    private let readOnly: Bool
    /// Set when the store found damage or was closed: every later command is refused with it.
    private var broken: StoreError?
    let logger = Logger(label: "burnrate.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    /// The advisory lock that orders writers (ASCII "burnrate"); a session that holds it stops
    /// every instance's writes (they answer 503 after their lock timeout).
    public static let journalLockKey: Int64 = 0x6275_726e_7261_7465
    /// The advisory lock migrations take.
    static let migrationLockKey: Int64 = 0x6275_726e_7261_7466
    /// Rows per INSERT statement (5 parameters each, well under PostgreSQL's 65,535).
    static let insertChunk = 1_000
    /// Journal rows per read while replaying (each read is one round trip under the deadline).
    static let readChunk: Int64 = 5_000

    /// A unit of work: `make` builds its requests from the caught-up state; nil is a read that
    /// only waits for a catch-up.
    private struct Entry {
        let make: (@Sendable (Ledger) -> [Request])?
        let continuation: CheckedContinuation<[Outcome], any Error>
    }

    /// Connects to the database at `url`, creates or upgrades its schema (named migrations, as the
    /// SQLite store's), and recovers the state: from the newest valid snapshot and the journal
    /// after it, or by replaying the whole journal. `create: false` or `readOnly`: the schema must
    /// exist already (a mistyped database name is an error, not a new empty ledger). `readOnly`
    /// refuses commands; reads still catch up. `timeouts`: see ``PostgresTimeouts``.
    public init(url: String, config: LedgerConfig = LedgerConfig(), snapshotEvery: UInt64 = 1_000_000,
                readOnly: Bool = false, create: Bool = true, timeouts: PostgresTimeouts = PostgresTimeouts()) async throws {
        let endpoint: PostgresEndpoint
        do { endpoint = try PostgresEndpoint(url: url) } catch {
            throw StoreError.unavailable(path: "--store", reason: error.description)
        }
        let location = endpoint.displayURL
        self.endpoint = endpoint
        self.location = location
        self.config = config
        self.snapshotEvery = readOnly ? 0 : snapshotEvery
        self.readOnly = readOnly
        self.timeouts = timeouts
        let logger = Logger(label: "burnrate.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
        let connection = try await PostgresSession.connect(endpoint, timeouts: timeouts, id: Self.nextConnectionID(), logger: logger)
        let opened: (Ledger, UInt64, LedgerStore.Recovery)
        do {
            if readOnly || !create {
                guard try await Self.hasSchema(connection, logger: logger) else {
                    throw StoreError.unavailable(path: location, reason: "not a ledger database (no journal): create it with `burnrate ledger init --store URL`")
                }
            }
            if !readOnly { try await Self.migrate(connection, location: location, logger: logger) }
            opened = try await Self.open(connection, config: config, location: location, logger: logger)
        } catch {
            PostgresSession.drop(connection.connection)
            throw Self.storeError(error, location: location, doing: "opening the ledger")
        }
        reader = connection
        ledger = opened.0
        lastChecksum = opened.1
        recovery = opened.2
        lastSnapshotSeq = opened.2.snapshotSeq ?? 0
    }

    /// A store dropped without `close()` (a command that exits early) still closes its
    /// connections: each is kept alive by its own close future until the server has let it go.
    deinit {
        for session in [writer, reader].compactMap({ $0 }) { PostgresSession.drop(session.connection) }
    }

    /// Closes the connections; the store must not be used after.
    public func close() async throws {
        broken = broken ?? .unavailable(path: location, reason: "the store was closed")
        for session in [writer, reader].compactMap({ $0 }) { await session.close() }
        writer = nil
        reader = nil
    }

    // MARK: Connections

    // Every connection has the same session settings (PostgresSession.connect): commits wait for
    // the WAL flush (`synchronous_commit = on`, whatever the server's default: an acknowledged
    // command survives a server crash), a lock wait ends after `timeouts.lockMs`, and a
    // transaction left idle (a process stopped in the middle of one) is ended by the server after
    // `timeouts.idleTransactionMs`, which releases the journal's lock.

    private static let connectionIDs = Mutex(0)
    static func nextConnectionID() -> Int { connectionIDs.withLock { $0 += 1; return $0 } }

    func writerConnection() async throws -> PostgresSession {
        if let writer, !writer.isClosed { return writer }
        let session = try await PostgresSession.connect(endpoint, timeouts: timeouts, id: Self.nextConnectionID(), logger: logger)
        writer = session
        return session
    }

    func readerConnection() async throws -> PostgresSession {
        if let broken, case .unavailable = broken, reader == nil { throw broken }
        if let reader, !reader.isClosed { return reader }
        let session = try await PostgresSession.connect(endpoint, timeouts: timeouts, id: Self.nextConnectionID(), logger: logger)
        reader = session
        return session
    }

    // MARK: Submitting

    public func submit(_ make: @escaping @Sendable (Ledger) -> [Request]) async throws -> [Outcome] {
        try await withCheckedThrowingContinuation { continuation in
            enqueue(Entry(make: make, continuation: continuation))
        }
    }

    /// The committed state after catching up with every command committed before the call.
    public func committedState() async throws -> Ledger {
        _ = try await withCheckedThrowingContinuation { continuation in
            enqueue(Entry(make: nil, continuation: continuation))
        }
        return ledger
    }

    /// The state as this process last saw it committed.
    public var state: Ledger { ledger }

    private func enqueue(_ entry: Entry) {
        pending.append(entry)
        if !flushing {
            flushing = true
            Task { await self.flush() }
        }
    }

    /// Group commit: what queued while the last transaction ran forms the next one. Reads queued
    /// with writes are served by the writes' catch-up; reads alone catch up without the lock (the
    /// rows a reader sees are always a prefix of the journal: a writer commits under the lock
    /// before the next one can read its sequence numbers).
    private func flush() async {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            let writes = batch.filter { $0.make != nil }, reads = batch.filter { $0.make == nil }
            if let broken {
                for entry in batch { entry.continuation.resume(throwing: broken) }
                continue
            }
            var caughtUp = false
            if !writes.isEmpty {
                if readOnly {
                    let error = StoreError.unavailable(path: location, reason: "opened read-only")
                    for entry in writes { entry.continuation.resume(throwing: error) }
                } else {
                    do {
                        let results = try await commit(writes)
                        caughtUp = true
                        commitObservers.notify(commands: writes.count)
                        for (entry, outcomes) in zip(writes, results) { entry.continuation.resume(returning: outcomes) }
                    } catch {
                        for entry in writes { entry.continuation.resume(throwing: error) }
                    }
                }
            }
            if !reads.isEmpty {
                var failure: (any Error)?
                if !caughtUp {
                    do { try await catchUp() } catch { failure = error }
                }
                for entry in reads {
                    if let failure { entry.continuation.resume(throwing: failure) } else { entry.continuation.resume(returning: []) }
                }
            }
            if snapshotEvery > 0, ledger.lastSeq >= lastSnapshotSeq + snapshotEvery { try? await snapshotNow() }
            await Task.yield()
        }
        flushing = false
    }

    /// One write transaction: lock, catch up, apply, insert, commit (see the type's comment).
    private func commit(_ writes: [Entry]) async throws -> [[Outcome]] {
        let connection = try await writerConnection()
        do {
            try await connection.execute("BEGIN")
            try await connection.execute("SELECT pg_advisory_xact_lock(\(Self.journalLockKey))", extraMs: timeouts.lockMs)
            // Read in a statement after the lock was granted: under READ COMMITTED each statement
            // sees every transaction committed before it began, so every command before ours.
            var (working, checksum) = try await Self.replay(connection, from: ledger, checksum: lastChecksum, location: location)
            var sink = CommandSink()
            var results: [[Outcome]] = []
            results.reserveCapacity(writes.count)
            for entry in writes {
                var outcomes: [Outcome] = []
                for request in entry.make?(working) ?? [] { outcomes.append(working.apply(request, sink: &sink)) }
                results.append(outcomes)
            }
            var start = 0
            while start < sink.records.count {
                let chunk = sink.records[start..<min(start + Self.insertChunk, sink.records.count)]
                var sql = "INSERT INTO journal (seq, at_ms, key, record, checksum) VALUES "
                var binds = PostgresBindings(capacity: chunk.count * 5)
                for (i, record) in chunk.enumerated() {
                    let text = try JournalCodec.encode(record.request, record.outcome)
                    checksum = LedgerStore.chain(checksum, text)
                    binds.append(Int64(record.seq))
                    binds.append(record.request.atMs)
                    binds.append(record.request.key)
                    binds.append(text)
                    binds.append(LedgerStore.hex(checksum))
                    let b = i * 5
                    sql += (i == 0 ? "" : ",") + "($\(b + 1),$\(b + 2),$\(b + 3),$\(b + 4),$\(b + 5))"
                }
                try await connection.execute(PostgresQuery(unsafeSQL: sql, binds: binds))
                start += chunk.count
            }
            try await connection.execute("COMMIT")
            ledger = working
            lastChecksum = checksum
            return results
        } catch {
            // The connection is dropped, not rolled back: closing it makes the server abort the
            // transaction, and a ROLLBACK sent on a connection the server is ending (a FATAL
            // error such as pg_terminate_backend's) was seen never to be answered by the driver.
            // The next batch opens another connection.
            writer = nil
            PostgresSession.drop(connection.connection)
            let failure = Self.storeError(error, location: location, doing: "committing \(writes.count) command(s); they were not acknowledged")
            if case .corrupt = failure { broken = failure }
            throw failure
        }
    }

    /// Replays the rows committed since this process last looked (no lock: see `flush`).
    private func catchUp() async throws {
        let connection = try await readerConnection()
        do {
            (ledger, lastChecksum) = try await Self.replay(connection, from: ledger, checksum: lastChecksum, location: location)
        } catch {
            readerFailed(connection, error)
            let failure = Self.storeError(error, location: location, doing: "reading the journal")
            if case .corrupt = failure { broken = failure }
            throw failure
        }
    }

    // MARK: Reading

    public func journalRecords(fromSeq: UInt64) async throws -> [JournalRecord] {
        let connection = try await readerConnection()
        var ledger = Ledger(config: config)
        var sink = RecordingSink()
        do {
            var after: Int64 = 0
            while true {
                let rows = try await connection.rows("SELECT seq, record FROM journal WHERE seq > \(after) ORDER BY seq LIMIT \(Self.readChunk)") {
                    try $0.decode((Int64, String).self)
                }
                for (seq, text) in rows {
                    guard let row = JournalCodec.decode(text) else {
                        throw StoreError.corrupt(path: location, seq: UInt64(max(0, seq)), reason: "unreadable record")
                    }
                    _ = ledger.apply(row.request, sink: &sink)
                    after = seq
                }
                if rows.count < Self.readChunk { break }
            }
        } catch {
            readerFailed(connection, error)
            throw Self.storeError(error, location: location, doing: "reading the journal")
        }
        return sink.records.filter { $0.seq >= fromSeq }
    }

    // MARK: Errors

    /// A `StoreError` as it is, anything else (the driver's errors) as `unavailable` with what
    /// the server said: the caller's commands were not acknowledged, and a retry is safe.
    static func storeError(_ error: any Error, location: String, doing: String) -> StoreError {
        if let e = error as? StoreError { return e }
        return .unavailable(path: location, reason: "\(doing): \(describe(error))")
    }

    /// Whether the error leaves the connection usable: the server answered ERROR (not FATAL or
    /// PANIC, after which it closes the connection) to a statement outside a transaction.
    static func connectionSurvives(_ error: any Error) -> Bool {
        guard let e = error as? PSQLError else { return !(error is CancellationError) }
        return e.code == .server && e.serverInfo?[.severity] == "ERROR"
    }

    /// After a failed read: a connection that may be broken is dropped (the next use reconnects).
    func readerFailed(_ session: PostgresSession, _ error: any Error) {
        if session.isClosed || !Self.connectionSurvives(error) {
            if reader?.connection === session.connection { reader = nil }
            PostgresSession.drop(session.connection)
        }
    }

    /// What went wrong, from PostgreSQL's own message and SQLSTATE where there is one (the
    /// driver's `PSQLError` prints nothing of it by design).
    static func describe(_ error: any Error) -> String {
        if let e = error as? PSQLError {
            if let info = e.serverInfo {
                return "PostgreSQL: \(info[.message] ?? "error") (SQLSTATE \(info[.sqlState] ?? "?"))"
            }
            return "PostgreSQL connection: \(e.code)" + (e.underlying.map { " (\($0))" } ?? "")
        }
        if let e = error as? StoreError { return e.description }
        return "\(error)"
    }
}
