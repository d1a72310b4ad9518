import Foundation
import GRDB
import Ledger
import Testing
@testable import LedgerStore

/// Damage to a journal is an error naming a sequence number, never a trap and never a silently
/// shorter history.
@Suite("Damaged journals")
struct JournalDamageTests {
    /// A ledger of `debits` debits with a snapshot at the end, closed.
    func ledger(_ path: String, debits: Int, snapshot: Bool = true) async throws {
        let store = try await storeWithFundedPool(path, credits: "100", snapshotEvery: 0)
        for i in 0..<debits { _ = try await op(store, #"{"op":"debit","key":"d\#(i)","identity":"bot","pool":"eng","amount":"0.5"}"#) }
        if snapshot { try await store.snapshotNow() }
        try await store.close()
    }

    func sql(_ path: String, _ statements: String) throws {
        let db = try DatabaseQueue(path: path)
        try db.writeWithoutTransaction { try $0.execute(sql: statements) }
        try db.close()
    }

    func openError(_ path: String) async -> String? {
        do {
            let store = try await LedgerStore(path: path)
            try await store.close()
            return nil
        } catch { return "\(error)" }
    }

    /// Drops the NOT NULL constraints, as a flipped byte in a record header can.
    static let looseSchema = """
        ALTER TABLE journal RENAME TO journal_old;
        CREATE TABLE journal (seq INTEGER PRIMARY KEY, at_ms, key, record, checksum);
        INSERT INTO journal SELECT * FROM journal_old; DROP TABLE journal_old;
        ALTER TABLE snapshot RENAME TO snapshot_old;
        CREATE TABLE snapshot (seq INTEGER PRIMARY KEY, checksum, state);
        INSERT INTO snapshot SELECT * FROM snapshot_old; DROP TABLE snapshot_old;
        """

    @Test func aNullRecordIsAnErrorNamingItsSequenceNumber() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        try await ledger(path, debits: 5, snapshot: false)
        try sql(path, Self.looseSchema + "UPDATE journal SET record = NULL WHERE seq = 4;")
        let error = await openError(path)
        #expect(error?.contains("journal entry 4") == true, "\(error ?? "opened")")
    }

    @Test func aSnapshotStateThatIsNotABlobFallsBackToTheJournal() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        try await ledger(path, debits: 5)
        try sql(path, Self.looseSchema + "UPDATE snapshot SET state = 42;")
        let store = try await LedgerStore(path: path)
        #expect(store.recovery.snapshotSeq == nil)
        #expect(store.recovery.skipped.count == 1)
        await #expect(throws: StoreError.self) { try await store.verify() }
        try await store.close()
    }

    @Test func aGarbageRowBeforeASnapshotIsAnErrorNotATrap() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        try await ledger(path, debits: 5)
        // An identity index beyond Int32, in a keyed row the snapshot's recovery reads.
        try sql(path, "UPDATE journal SET record = 'A\t1000\tkd1\td\t99999999999\t0\t0\t500000' WHERE seq = 5;")
        let error = await openError(path)
        #expect(error?.contains("journal entry 5") == true, "\(error ?? "opened")")
    }

    @Test func aJournalShorterThanItsNewestSnapshotIsDetected() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        try await ledger(path, debits: 8)
        try sql(path, "DELETE FROM journal WHERE seq > 6;")
        // Without the lock file too: the snapshot alone is evidence.
        try FileManager.default.removeItem(atPath: path + ".lock")
        let error = await openError(path)
        #expect(error?.contains("journal entry 7: missing") == true, "\(error ?? "opened")")
        #expect(error?.contains("snapshot") == true, "\(error ?? "opened")")
    }

    @Test func aJournalShorterThanWhatWasAcknowledgedIsDetected() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        try await ledger(path, debits: 8, snapshot: false)
        try sql(path, "DELETE FROM journal WHERE seq > 6;")
        let error = await openError(path)
        #expect(error?.contains("journal entry 7: missing") == true, "\(error ?? "opened")")
        #expect(error?.contains("acknowledged") == true)
    }

    @Test func aDatabaseTruncatedToNothingIsNotANewLedger() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        try await ledger(path, debits: 3)
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        try Data().write(to: URL(fileURLWithPath: path))
        #expect(await openError(path)?.contains("empty (0 bytes)") == true)
        // Deleted outright, the lock file still remembers what was acknowledged.
        try FileManager.default.removeItem(atPath: path)
        #expect(await openError(path)?.contains("acknowledged") == true)
    }

    @Test func aWALDeletedWhileOpenStopsAcknowledgingAndIsDetectedAtOpen() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        let store = try await storeWithFundedPool(path, credits: "100", snapshotEvery: 0)
        _ = try await op(store, #"{"op":"debit","key":"a","identity":"bot","pool":"eng","amount":"1"}"#)
        try FileManager.default.removeItem(atPath: path + "-wal")
        await #expect(throws: StoreError.self) {
            _ = try await store.apply(try LedgerOperation.parse(#"{"op":"debit","key":"b","identity":"bot","pool":"eng","amount":"1"}"#), nowMs: 2_000)
        }
        try? await store.close()
        // Either the open finds the journal shorter than what was acknowledged, or SQLite, closing
        // its last connection, checkpointed the deleted WAL through the descriptor it still had
        // (which one happens depends on how the pool's connections were closed): then `a` is in
        // the file. What must never happen is an open without `a` that does not say so.
        if let error = await openError(path) {
            #expect(error.contains("missing"), "\(error)")
        } else {
            let reopened = try await LedgerStore(path: path)
            #expect(try reopened.records().contains { $0.request.key == "a" && $0.outcome.isAccepted }, "the acknowledged debit is lost, silently")
            try await reopened.close()
        }
    }

    @Test func verifyCatchesARowDamagedBeforeTheNewestSnapshot() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        try await ledger(path, debits: 5)
        // 0.5 → 0.4 in the second debit's record; the checksum is left as it was.
        try sql(path, "UPDATE journal SET record = replace(record, '500000', '400000') WHERE seq = 5;")
        let store = try await LedgerStore(path: path)  // opens from the snapshot, past the damage
        do {
            _ = try await store.verify()
            Issue.record("verify passed a damaged row")
        } catch {
            #expect("\(error)".contains("journal entry 5"))
        }
        try await store.close()
    }

    @Test func rowsOutsideTheSequenceAndColumnsThatDisagreeAreDamage() async throws {
        for damage in ["INSERT INTO journal VALUES (0, 0, NULL, 'x', 'y');",
                       "INSERT INTO journal VALUES (-5, 0, NULL, 'x', 'y');",
                       "UPDATE journal SET at_ms = at_ms + 1 WHERE seq = 5;",
                       "UPDATE journal SET key = 'zzz' WHERE seq = 5;",
                       "UPDATE journal SET record = CAST(record AS BLOB) WHERE seq = 5;"] {
            let path = temporaryDatabase()
            defer { removeDatabase(path) }
            try await ledger(path, debits: 5, snapshot: false)
            try sql(path, Self.looseSchema + damage)
            let error = await openError(path)
            #expect(error?.contains("journal entry") == true, "\(damage): \(error ?? "opened")")
        }
    }
}
