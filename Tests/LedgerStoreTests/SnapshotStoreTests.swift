import Foundation
import GRDB
import Ledger
import Testing
@testable import LedgerStore

@Suite("Durable snapshots")
struct SnapshotStoreTests {
    /// A store with a pool, an identity and `n` keyed debits, snapshotting every `every` commands.
    func filled(_ path: String, debits n: Int, every: UInt64) async throws -> (digest: UInt64, seq: UInt64) {
        let store = try await storeWithFundedPool(path, credits: "1000", snapshotEvery: every)
        for i in 0..<n {
            _ = try await op(store, #"{"op":"debit","key":"d\#(i)","identity":"bot","pool":"eng","amount":"0.5"}"#, at: 1_000 + Int64(i))
        }
        try await store.snapshotNow()
        _ = try await op(store, #"{"op":"debit","key":"tail","identity":"bot","pool":"eng","amount":"0.5"}"#, at: 5_000)
        return (await store.state.stateDigest, await store.state.lastSeq)
    }

    @Test func reopeningStartsFromTheSnapshotAndReplaysTheTail() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        let (digest, seq) = try await filled(path, debits: 120, every: 50)
        let reopened = try await LedgerStore(path: path)
        #expect(reopened.recovery.snapshotSeq == seq - 1 && reopened.recovery.replayed == 1 && reopened.recovery.skipped.isEmpty)
        #expect(await reopened.state.stateDigest == digest)
        // Keys remembered in the snapshot still make retries idempotent and catch reuse.
        let retry = try await op(reopened, #"{"op":"debit","key":"d7","identity":"bot","pool":"eng","amount":"0.5"}"#, at: 6_000)
        #expect(retry.first?.isAccepted == true)
        #expect(await reopened.state.stateDigest == digest)
        let reuse = try await op(reopened, #"{"op":"debit","key":"d7","identity":"bot","pool":"eng","amount":"0.75"}"#, at: 6_000)
        #expect(reuse.first == .refused(.idempotencyKeyReused("d7")))
        let report = try await reopened.verify()
        #expect(report.ok)
    }

    @Test func aDamagedSnapshotIsSkippedAtOpenAndNamedByVerify() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        let (digest, _) = try await filled(path, debits: 30, every: 0)
        let db = try DatabaseQueue(path: path)
        let seq = try await db.write { db -> Int64 in
            let seq = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM snapshot")!
            // A flipped balance inside the state: it decodes, but its digest no longer matches.
            try db.execute(sql: "UPDATE snapshot SET state = CAST(replace(CAST(state AS TEXT), '\"poolBalances\":[', '\"poolBalances\":[1') AS BLOB) WHERE seq = ?",
                           arguments: [seq])
            return seq
        }
        try await db.close()
        let reopened = try await LedgerStore(path: path)
        #expect(reopened.recovery.snapshotSeq == nil)
        #expect(reopened.recovery.skipped.count == 1 && reopened.recovery.skipped[0].contains("snapshot at \(seq)"))
        #expect(await reopened.state.stateDigest == digest)
        await #expect(throws: StoreError.self) { _ = try await reopened.verify() }
    }
}
