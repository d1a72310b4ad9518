import Foundation
import GRDB
import Ledger
import Testing
@testable import LedgerStore

func temporaryDatabase() -> String {
    NSTemporaryDirectory() + "burnrate-store-\(UUID().uuidString).db"
}

/// The `burnrate` executable of this checkout's build (`swift build --build-tests` builds it).
func burnrateBinary(file: String = #filePath) -> String {
    var url = URL(fileURLWithPath: file)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    // The executable of the configuration the tests were built in (`make test` builds release).
    #if DEBUG
    let configuration = "debug"
    #else
    let configuration = "release"
    #endif
    return url.appendingPathComponent(".build/\(configuration)/burnrate").path
}

func removeDatabase(_ path: String) {
    for suffix in ["", "-wal", "-shm", ".lock"] { try? FileManager.default.removeItem(atPath: path + suffix) }
}

func op(_ store: LedgerStore, _ line: String, at t: Int64 = 1_000) async throws -> [Outcome] {
    switch try await store.apply(try LedgerOperation.parse(line), nowMs: t) {
    case .success(let o): return o
    case .failure(let e): Issue.record("\(line): \(e.message)"); return []
    }
}

/// Opens a store at `path` holding pool "eng", identity "bot" entitled to it, and `credits`
/// funded under key "f": the set-up most store tests start from.
func storeWithFundedPool(_ path: String, credits: String, snapshotEvery: UInt64 = 1_000_000) async throws -> LedgerStore {
    let store = try await LedgerStore(path: path, snapshotEvery: snapshotEvery)
    _ = try await op(store, #"{"op":"create_pool","pool":"eng"}"#)
    _ = try await op(store, #"{"op":"create_identity","identity":"bot","pools":["eng"]}"#)
    _ = try await op(store, #"{"op":"fund","key":"f","pool":"eng","amount":"\#(credits)"}"#)
    return store
}

@Suite("Durable ledger")
struct StoreTests {
    @Test func stateSurvivesReopeningAndKeysStayIdempotent() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        var digest: UInt64 = 0
        do {
            let store = try await storeWithFundedPool(path, credits: "1000")
            _ = try await op(store, #"{"op":"debit","key":"k2","identity":"bot","pool":"eng","amount":"0.25"}"#)
            digest = await store.state.stateDigest
        }
        let reopened = try await LedgerStore(path: path)
        #expect(await reopened.state.stateDigest == digest)
        #expect(await reopened.balance(of: "eng")?.availableMicrocredits == 999_750_000)
        // A retried mutation after the restart changes nothing.
        let again = try await op(reopened, #"{"op":"debit","key":"k2","identity":"bot","pool":"eng","amount":"0.25"}"#, at: 5_000)
        #expect(again.first?.isAccepted == true)
        #expect(await reopened.balance(of: "eng")?.availableMicrocredits == 999_750_000)
        #expect(try await reopened.verify().ok)
    }

    @Test func aDamagedJournalRowIsNamedAtOpen() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        do {
            let store = try await LedgerStore(path: path)
            _ = try await op(store, #"{"op":"create_pool","pool":"eng"}"#)
            _ = try await op(store, #"{"op":"fund","key":"k1","pool":"eng","amount":"10"}"#)
            _ = try await op(store, #"{"op":"fund","key":"k2","pool":"eng","amount":"20"}"#)
        }
        let db = try DatabaseQueue(path: path)
        try await db.write { db in
            try db.execute(sql: "UPDATE journal SET record = replace(record, '20000000', '90000000') WHERE seq = 3")
        }
        try await db.close()
        await #expect(throws: StoreError.self) { _ = try await LedgerStore(path: path) }
        do {
            _ = try await LedgerStore(path: path)
        } catch let error as StoreError {
            #expect(error.description.hasSuffix("journal entry 3: checksum mismatch: the row was altered or damaged"))
        }
    }

    @Test func concurrentHoldsNeverOverdrawASmallPool() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        let store = try await storeWithFundedPool(path, credits: "50")
        // 40 agents × 5 requests each try to hold 1 credit and capture 0.75: at most 50 holds fit.
        let captured = try await withThrowingTaskGroup(of: Int64.self) { group in
            for a in 0..<40 {
                group.addTask {
                    var total: Int64 = 0
                    for r in 0..<5 {
                        let held = try await op(store, #"{"op":"authorize","key":"a\#(a)-\#(r)","identity":"bot","pool":"eng","amount":"1"}"#)
                        guard let hold = held.first?.acceptance?.hold else { continue }
                        let c = try await op(store, #"{"op":"capture","key":"c\#(a)-\#(r)","identity":"bot","hold":"\#(hold.raw)","amount":"0.75"}"#)
                        total += c.first?.acceptance?.chargedMicrocredits ?? 0
                    }
                    return total
                }
            }
            return try await group.reduce(0, +)
        }
        let state = await store.state
        #expect(state.invariantViolations().isEmpty)
        #expect(state.balance(of: .usage) == captured)
        #expect(state.available(in: state.pool(named: "eng")!) >= 0)
        #expect(try await store.verify().ok)
    }

    @Test func malformedOperationsAreRefusedWithAReason() {
        #expect(throws: LedgerOperation.OperationError.self) { try LedgerOperation.parse("not json") }
        #expect(throws: LedgerOperation.OperationError.self) { try LedgerOperation.parse(#"{"op":"fund","pool":"eng","amount":"1"}"#) }
        #expect(throws: LedgerOperation.OperationError.self) { try LedgerOperation.parse(#"{"op":"fund","key":"k","pool":"eng","amount":"-1"}"#) }
        #expect(throws: LedgerOperation.OperationError.self) { try LedgerOperation.parse(#"{"op":"fund","key":"k","pool":"eng","amount":"0.0000001"}"#) }
        #expect(throws: LedgerOperation.OperationError.self) { try LedgerOperation.parse(#"{"op":"teleport"}"#) }
    }
}

@Suite("Durable ledger: entitlements")
struct EntitleOperationTests {
    @Test func anEntitlementCapsAnIdentityDurably() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        let store = try await storeWithFundedPool(path, credits: "100")
        let e = try await op(store, #"{"op":"entitle","key":"e","identity":"bot","pool":"eng","tiers":[1],"cap":"1","cap_period":"1d"}"#)
        #expect(e.first?.isAccepted == true)
        #expect(try await op(store, #"{"op":"debit","key":"d0","identity":"bot","pool":"eng","tier":0,"amount":"0.5"}"#).first?.refusal == .tierNotAllowed(tier: 0))
        #expect(try await op(store, #"{"op":"debit","key":"d1","identity":"bot","pool":"eng","tier":1,"amount":"0.75"}"#).first?.isAccepted == true)
        let capped = try await op(store, #"{"op":"debit","key":"d2","identity":"bot","pool":"eng","tier":1,"amount":"0.5"}"#).first
        #expect(capped?.refusal?.code == "spend_cap_exceeded")
        #expect(throws: LedgerOperation.OperationError.self) { try LedgerOperation.parse(#"{"op":"entitle","identity":"bot","pool":"eng"}"#) }
        #expect(throws: LedgerOperation.OperationError.self) { try LedgerOperation.parse(#"{"op":"entitle","key":"x","identity":"bot","pool":"eng","rate_max":0}"#) }
    }
}
