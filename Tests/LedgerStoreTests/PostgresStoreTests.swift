import Foundation
import Ledger
import PostgresNIO
import PostgresTestSupport
import Testing

@testable import LedgerStore

/// The PostgreSQL store, several stores (each with its own connections, as several processes
/// would have) on one database: the journal and its checksum chain, recovery, snapshots, verify,
/// keys, and the failure modes of the README's "Several instances on one PostgreSQL".
@Suite(.enabled(if: PostgresTestDatabase.available, PostgresTestDatabase.skipReason), .timeLimit(.minutes(1)))
struct PostgresStoreTests {
    static let credit = Money.microcreditsPerCredit

    /// A pool `eng` funded with `credits`, and an identity `bot` entitled to it.
    static func setUp(_ store: some DurableLedger, credits: Int64) async throws {
        for request in [Request(atMs: 0, key: "pool", .createPool(PoolSpec(name: "eng"))),
                        Request(atMs: 0, key: "bot", .createIdentity(IdentitySpec(name: "bot"))),
                        Request(atMs: 0, key: "entitle", .entitle(identity: IdentityID(0), pool: PoolID(0), Entitlement())),
                        Request(atMs: 0, key: "fund", .fund(pool: PoolID(0), GrantSpec(amountMicrocredits: credits * credit)))] {
            #expect(try await store.submitOne(request).isAccepted)
        }
    }

    static func debit(_ key: String, at: Int64 = 1, credits: Int64 = 1) -> Request {
        Request(atMs: at, key: key, .debit(identity: IdentityID(0), pool: PoolID(0), tier: 0, amountMicrocredits: credits * credit))
    }

    @Test func journalRecoveryAndVerifyAsTheSQLiteStore() async throws {
        try await PostgresTestDatabase.withDatabase { url in
            let store = try await PostgresLedgerStore(url: url)
            try await Self.setUp(store, credits: 10)
            for i in 0..<5 { #expect(try await store.submitOne(Self.debit("d\(i)")).isAccepted) }
            let digest = await store.state.stateDigest
            #expect(try await store.verify().ok)
            try await store.close()

            let reopened = try await PostgresLedgerStore(url: url, create: false)
            #expect(await reopened.state.stateDigest == digest)
            #expect(reopened.recovery.snapshotSeq == nil && reopened.recovery.replayed == 9)
            try await reopened.snapshotNow()
            #expect(try await reopened.submitOne(Self.debit("d5")).isAccepted)
            try await reopened.close()

            // From the snapshot at 9 plus one command; the key of a command before the snapshot is still remembered.
            let fromSnapshot = try await PostgresLedgerStore(url: url)
            #expect(fromSnapshot.recovery.snapshotSeq == 9 && fromSnapshot.recovery.replayed == 1)
            let repeatOutcome = try await fromSnapshot.submitOne(Self.debit("d0"))
            #expect(repeatOutcome.acceptance?.seq == 5, "a retry of d0 is answered with its first outcome")
            #expect(await fromSnapshot.state.lastSeq == 10)
            let report = try await fromSnapshot.verify()
            #expect(report.ok && report.commands == 10)
            let migrations = try await Self.strings(url, "SELECT identifier FROM burnrate_migrations ORDER BY identifier")
            #expect(migrations == ["v1-journal", "v2-snapshots", "v3-keys"])
            try await fromSnapshot.close()
        }
    }

    @Test func aMistypedDatabaseIsAnErrorNotANewLedger() async throws {
        try await PostgresTestDatabase.withDatabase { url in
            await #expect(throws: StoreError.self) { _ = try await PostgresLedgerStore(url: url, create: false) }
            await #expect(throws: StoreError.self) { _ = try await PostgresLedgerStore(url: url + "_no_such_database") }
        }
    }

    /// Over-admission: three stores race 150 one-credit debits on a 100-credit pool. Each decides on
    /// the state caught up under the journal's lock, so exactly 100 are accepted, whichever store
    /// a debit reaches; the journal is one contiguous order and every store ends on the same state.
    @Test func threeStoresRacingNeverOverAdmit() async throws {
        try await PostgresTestDatabase.withDatabase { url in
            let stores = [try await PostgresLedgerStore(url: url), try await PostgresLedgerStore(url: url), try await PostgresLedgerStore(url: url)]
            try await Self.setUp(stores[0], credits: 100)
            let accepted = try await withThrowingTaskGroup(of: Int.self) { group in
                for client in 0..<30 {
                    let store = stores[client % 3]
                    group.addTask {
                        var n = 0
                        for i in 0..<5 where try await store.submitOne(Self.debit("c\(client)-\(i)")).isAccepted { n += 1 }
                        return n
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(accepted == 100)
            var digests = Set<UInt64>()
            for store in stores {
                let ledger = try await store.committedState()
                digests.insert(ledger.stateDigest)
                #expect(ledger.balance(of: PoolID(0))?.availableMicrocredits == 0)
                #expect(ledger.lastSeq == 4 + 150)
            }
            #expect(digests.count == 1, "every store ends on the same state")
            #expect(try await stores[1].verify().ok)
            for store in stores { try await store.close() }
        }
    }

    /// A store whose memory is stale (another store committed since) must not admit on it: the
    /// debit is decided after catching up, under the lock.
    @Test func aStaleStoreCatchesUpBeforeItAdmits() async throws {
        try await PostgresTestDatabase.withDatabase { url in
            let a = try await PostgresLedgerStore(url: url)
            try await Self.setUp(a, credits: 10)
            let b = try await PostgresLedgerStore(url: url)
            #expect(try await a.submitOne(Self.debit("a1", credits: 10)).isAccepted)
            #expect(await b.state.balance(of: PoolID(0))?.availableMicrocredits == 10 * Self.credit, "b has not looked since")
            let outcome = try await b.submitOne(Self.debit("b1"))
            #expect(outcome.refusal?.code == "insufficient_funds", "b saw a's debit before deciding")
            // The same key on the other store: the first answer, journaled once.
            let again = try await b.submitOne(Self.debit("a1", credits: 10))
            #expect(again.acceptance?.seq == 5)
            #expect(try await Self.strings(url, "SELECT key FROM journal WHERE key = 'a1'") == ["a1"])
            try await a.close()
            try await b.close()
        }
    }

    /// A write that cannot get the journal's lock in time (another transaction holds it) fails
    /// with an error, never with a refusal, and leaves the store's state where it was; the retry
    /// with the same key, once the lock is free, is applied once.
    @Test func aLockTimeoutIsAnErrorNotAnInsufficientFundsRefusal() async throws {
        try await PostgresTestDatabase.withDatabase { url in
            let store = try await PostgresLedgerStore(url: url, timeouts: PostgresTimeouts(lockMs: 200))
            try await Self.setUp(store, credits: 10)
            let other = try await PostgresTestDatabase.connect(url)
            try await other.query("SELECT pg_advisory_lock(\(PostgresLedgerStore.journalLockKey))", logger: PostgresTestDatabase.logger)
            let before = await store.state.lastSeq
            await #expect(throws: StoreError.self) { _ = try await store.submitOne(Self.debit("k1")) }
            #expect(await store.state.lastSeq == before, "nothing of the failed batch stays in memory")
            try await other.query("SELECT pg_advisory_unlock(\(PostgresLedgerStore.journalLockKey))", logger: PostgresTestDatabase.logger)
            let retry = try await store.submitOne(Self.debit("k1"))
            #expect(retry.isAccepted && retry.acceptance?.seq == before + 1)
            #expect(try await store.committedBalance(of: "eng")?.availableMicrocredits == 9 * Self.credit)
            #expect(try await store.verify().ok)
            try await other.close()
            try await store.close()
        }
    }

    /// A transaction the server aborts (here cancelled while it waits for the lock, as the deadlock
    /// detector or an operator's pg_cancel_backend would) or whose connection is killed
    /// (pg_terminate_backend) drops nothing silently: its commands get an error, the next batch
    /// reconnects, and a retry is applied exactly once.
    @Test func anAbortedOrKilledTransactionDropsNoSpendSilently() async throws {
        try await PostgresTestDatabase.withDatabase { url in
            let store = try await PostgresLedgerStore(url: url, timeouts: PostgresTimeouts(lockMs: 10_000))
            try await Self.setUp(store, credits: 10)
            let other = try await PostgresTestDatabase.connect(url)
            let log = PostgresTestDatabase.logger
            for (n, action) in ["pg_cancel_backend", "pg_terminate_backend"].enumerated() {
                try await other.query("SELECT pg_advisory_lock(\(PostgresLedgerStore.journalLockKey))", logger: log)
                let attempt = Task { try await store.submitOne(Self.debit("x\(n)")) }
                // Wait until the store's transaction waits for the lock, then abort it.
                var aborted = false
                for _ in 0..<200 where !aborted {
                    try await Task.sleep(for: .milliseconds(10))
                    let rows = try await other.query(PostgresQuery(unsafeSQL: """
                        SELECT \(action)(pid) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory' AND pid <> pg_backend_pid()
                        """), logger: log)
                    for try await ok in rows.decode(Bool.self) { aborted = aborted || ok }
                }
                #expect(aborted)
                await #expect(throws: StoreError.self) { _ = try await attempt.value }
                try await other.query("SELECT pg_advisory_unlock(\(PostgresLedgerStore.journalLockKey))", logger: log)
                #expect(try await store.submitOne(Self.debit("x\(n)")).isAccepted)
            }
            #expect(try await store.committedBalance(of: "eng")?.availableMicrocredits == 8 * Self.credit)
            #expect(try await Self.strings(url, "SELECT key FROM journal WHERE key LIKE 'x%' ORDER BY seq") == ["x0", "x1"])
            #expect(try await store.verify().ok)
            try await other.close()
            try await store.close()
        }
    }

    /// A server that stops answering mid-write (its backend processes SIGSTOPped, as a partition
    /// or a hung host would look from here) fails the commands in flight after the query deadline
    /// with a retryable error, instead of stalling the writer until TCP gives up; the store then
    /// reconnects, and the retry is applied exactly once.
    @Test func aServerThatStopsAnsweringFailsTheWriteAtTheDeadline() async throws {
        try await PostgresTestDatabase.withDatabase { url in
            let store = try await PostgresLedgerStore(url: url, timeouts: PostgresTimeouts(queryMs: 500))
            try await Self.setUp(store, credits: 10)
            let other = try await PostgresTestDatabase.connect(url)
            let pids = try await Self.backends(other, of: PostgresSession.applicationName)
            #expect(pids.count == 2, "the store's writer and reader sessions: \(pids)")
            for pid in pids { #expect(kill(pid, SIGSTOP) == 0, "cannot stop backend \(pid): errno \(errno) (the tests run as root)") }
            let clock = ContinuousClock(), start = clock.now
            do {
                _ = try await store.submitOne(Self.debit("stalled"))
                Issue.record("a write to a stopped server succeeded")
            } catch let StoreError.unavailable(_, reason) {
                #expect(reason.contains("no answer from PostgreSQL within 500 ms"), "\(reason)")
            }
            let waited = clock.now - start
            for pid in pids { kill(pid, SIGCONT) }
            #expect(waited < .seconds(5), "the write failed after \(waited)")
            let retry = try await store.submitOne(Self.debit("stalled"))
            #expect(retry.isAccepted)
            #expect(try await store.committedBalance(of: "eng")?.availableMicrocredits == 9 * Self.credit)
            #expect(try await Self.strings(url, "SELECT key FROM journal WHERE key = 'stalled'") == ["stalled"])
            #expect(try await store.verify().ok)
            try await other.close()
            try await store.close()
        }
    }

    /// The backend pids of the sessions named `application` on this database.
    static func backends(_ connection: PostgresConnection, of application: String) async throws -> [pid_t] {
        var pids: [pid_t] = []
        let rows = try await connection.query(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = \(application) ORDER BY pid",
            logger: PostgresTestDatabase.logger)
        for try await pid in rows.decode(Int32.self) { pids.append(pid) }
        return pids
    }

    /// A journal row altered in the database is damage, found by the next catch-up (named by its
    /// sequence number) and by verify; the store then refuses every command.
    @Test func anAlteredRowIsFoundByCatchUpAndVerify() async throws {
        try await PostgresTestDatabase.withDatabase { url in
            let a = try await PostgresLedgerStore(url: url)
            try await Self.setUp(a, credits: 10)
            let b = try await PostgresLedgerStore(url: url)
            #expect(try await a.submitOne(Self.debit("d1")).isAccepted)
            let other = try await PostgresTestDatabase.connect(url)
            try await other.query("UPDATE journal SET record = replace(record, '1000000', '2000000') WHERE seq = 5", logger: PostgresTestDatabase.logger)
            do {
                _ = try await b.committedState()
                Issue.record("the altered row was not found")
            } catch let StoreError.corrupt(_, seq, reason) {
                #expect(seq == 5 && reason.contains("checksum"))
            }
            await #expect(throws: StoreError.self) { _ = try await b.submitOne(Self.debit("d2")) }
            await #expect(throws: StoreError.self) { _ = try await PostgresLedgerStore(url: url) }
            try await other.close()
            try await a.close()
            try await b.close()
        }
    }

    /// Keys live in the database: one store's new key and revocation are seen by another at once.
    @Test func keysAreSharedBetweenStores() async throws {
        try await PostgresTestDatabase.withDatabase { url in
            let a = try await PostgresLedgerStore(url: url), b = try await PostgresLedgerStore(url: url)
            let record = APIKeyRecord(keyID: "key_0123456789abcdef", secretSHA256: String(repeating: "a", count: 64), identity: nil, admin: true,
                                      createdAtMs: 1_000, expiresAtMs: 9_000)
            try await a.insertKey(record)
            #expect(try await b.apiKey(id: record.keyID) == record)
            #expect(try await b.revokeKey(id: record.keyID, atMs: 2_000))
            #expect(try await b.revokeKey(id: record.keyID, atMs: 3_000), "revoking twice keeps the first time")
            #expect(try await a.apiKey(id: record.keyID)?.revokedAtMs == 2_000)
            #expect(try await a.apiKeys().map(\.keyID) == [record.keyID])
            #expect(try await a.revokeKey(id: "key_none", atMs: 1) == false)
            await #expect(throws: StoreError.self) { try await b.insertKey(record) }
            try await a.close()
            try await b.close()
        }
    }

    static func strings(_ url: String, _ sql: String) async throws -> [String] {
        let connection = try await PostgresTestDatabase.connect(url)
        var out: [String] = []
        for try await s in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: PostgresTestDatabase.logger).decode(String.self) {
            out.append(s)
        }
        try await connection.close()
        return out
    }
}
