import Foundation
import Ledger
import Testing
@testable import LedgerStore

/// `delegate`, `close_delegation` and the `delegation` field through every durable form: the
/// `apply` vocabulary (strictly parsed), the journal, snapshots and the interchange format.
@Suite("Delegations: apply, journal, snapshots, interchange")
struct DelegationStoreTests {
    func parseError(_ line: String) -> LedgerOperation.OperationError? {
        do { _ = try LedgerOperation.parse(line); return nil } catch { return error }
    }

    /// DESIGN's example, as lines of `ledger apply`.
    static let chain = [
        #"{"op":"delegate","key":"k1","identity":"bot","child":"researcher-7","pool":"eng","amount":"10","expires_in":"1h"}"#,
        #"{"op":"delegate","key":"k2","identity":"researcher-7","child":"search-tool","delegation":0,"amount":"4","expires_in":"30m"}"#,
        #"{"op":"debit","key":"k3","identity":"researcher-7","delegation":0,"amount":"2.5"}"#,
        #"{"op":"authorize","key":"k4","identity":"search-tool","delegation":1,"amount":"1","expires_in":"5m"}"#,
        #"{"op":"debit","key":"k5","identity":"search-tool","delegation":"1","amount":"0.5","tier":2}"#,
    ]

    @Test func theDesignsChainAppliesAndItsAnswersNameTheDelegation() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        let store = try await storeWithFundedPool(path, credits: "100", snapshotEvery: 0)
        var answers: [String] = []
        for line in Self.chain {
            let operation = try LedgerOperation.parse(line)
            guard case .success(let outcomes) = try await store.apply(operation, nowMs: 1_000) else { Issue.record("refused: \(line)"); return }
            answers.append(operation.answer(outcomes))
        }
        #expect(answers[0].contains(#""delegation":0"#) && answers[0].contains(#""status":"accepted""#))
        #expect(answers[1].contains(#""delegation":1"#))
        #expect(answers[2].contains(#""charged_credits":"2.5""#))
        let hold = try #require(await store.state.delegation(DelegationID(slot: 1, generation: 0)))
        #expect(hold.spentMicrocredits == 500_000 && hold.heldMicrocredits == 1_000_000)
        let capture = #"{"op":"capture","key":"k6","identity":"search-tool","delegation":1,"hold":"1","amount":"1.5"}"#
        #expect(try await op(store, capture).first?.acceptance?.chargedMicrocredits == 1_500_000)
        // The planner closes the root: the rest of the whole tree returns to the pool.
        let close = try await op(store, #"{"op":"close_delegation","key":"k7","identity":"bot","delegation":0}"#)
        #expect(close.first?.acceptance?.releasedMicrocredits == 5_500_000)
        #expect(LedgerOperation.answerFields(close).contains(JSONField("released_credits", .string("5.5"))))
        let eng = await store.state.pool(named: "eng")!
        #expect(await store.state.balance(of: eng)!.availableMicrocredits == 95_500_000)
        #expect(try await store.verify().ok)
        // A retry of the close is answered from memory; a debit through the closed one is refused.
        #expect(try await op(store, #"{"op":"close_delegation","key":"k7","identity":"bot","delegation":0}"#) == close)
        #expect(try await op(store, #"{"op":"debit","key":"k8","identity":"researcher-7","delegation":0,"amount":"1"}"#).first?.refusal == .delegationClosed)
    }

    @Test func delegationsSurviveRestartSnapshotsAndTheInterchangeFormat() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        var store: LedgerStore? = try await storeWithFundedPool(path, credits: "100", snapshotEvery: 0)
        for line in Self.chain.prefix(3) { _ = try await op(store!, line) }
        try await store!.snapshotNow()
        for line in Self.chain.dropFirst(3) { _ = try await op(store!, line, at: 2_000) }
        let digest = await store!.state.stateDigest
        let lines = try EnvironmentTests.exportLines(store!)
        try await store!.close()
        store = nil
        #expect(lines.contains { $0.contains(#""op":"delegate""#) && $0.contains(#""child":"search-tool""#) && $0.contains(#""delegation":0"#) })

        let reopened = try await LedgerStore(path: path, snapshotEvery: 0)
        #expect(reopened.recovery.snapshotSeq != nil && reopened.recovery.replayed == 2)
        #expect(await reopened.state.stateDigest == digest)
        #expect(await reopened.state.openDelegations.count == 2)

        // The export imports to the same state, answers checked.
        let copy = temporaryDatabase()
        defer { removeDatabase(copy) }
        let imported = try await LedgerStore(path: copy, snapshotEvery: 0)
        for line in lines.dropFirst() {
            let operation = try LedgerOperation.parse(line, mode: .history)
            guard case .success(let outcomes) = try await imported.apply(operation, nowMs: 0) else { Issue.record("refused: \(line)"); return }
            #expect(operation.expectedAnswer?.sorted { $0.key < $1.key } == LedgerOperation.answerFields(outcomes), "\(line)")
        }
        #expect(await imported.state.stateDigest == digest)
    }

    @Test func delegationLinesAreParsedStrictly() {
        let base = #""op":"delegate","key":"k","identity":"bot","child":"r""#
        #expect(parseError(#"{\#(base),"pool":"eng","amount":"1"}"#) == nil)
        // Exactly one source.
        #expect(parseError(#"{\#(base),"amount":"1"}"#)?.field == "pool")
        #expect(parseError(#"{\#(base),"pool":"eng","delegation":0,"amount":"1"}"#)?.field == "delegation")
        // Amounts: positive, exact.
        #expect(parseError(#"{\#(base),"pool":"eng","amount":"-1"}"#)?.field == "amount")
        #expect(parseError(#"{\#(base),"pool":"eng","amount":"0"}"#)?.field == "amount")
        #expect(parseError(#"{\#(base),"pool":"eng","amount":"0.0000001"}"#)?.field == "amount")
        // Types and unknown fields.
        #expect(parseError(#"{\#(base),"delegation":-1,"amount":"1"}"#)?.field == "delegation")
        #expect(parseError(#"{\#(base),"delegation":1.5,"amount":"1"}"#)?.field == "delegation")
        #expect(parseError(#"{\#(base),"delegation":true,"amount":"1"}"#)?.field == "delegation")
        #expect(parseError(#"{\#(base),"pool":"eng","amount":"1","expires_in":3600}"#)?.field == "expires_in")
        #expect(parseError(#"{\#(base),"pool":"eng","amount":"1","expires":"1h"}"#)?.field == "expires")
        #expect(parseError(#"{"op":"delegate","key":"k","identity":"bot","child":"not a name","pool":"eng","amount":"1"}"#)?.field == "child")
        #expect(parseError(#"{"op":"delegate","identity":"bot","child":"r","pool":"eng","amount":"1"}"#)?.field == "key")
        // close_delegation needs a key and a delegation; debit takes pool or delegation, not both.
        #expect(parseError(#"{"op":"close_delegation","key":"k"}"#)?.field == "delegation")
        #expect(parseError(#"{"op":"close_delegation","delegation":0}"#)?.field == "key")
        #expect(parseError(#"{"op":"close_delegation","key":"k","delegation":0,"pool":"eng"}"#)?.field == "pool")
        #expect(parseError(#"{"op":"debit","key":"k","identity":"r","pool":"eng","delegation":0,"amount":"1"}"#)?.field == "pool")
        #expect(parseError(#"{"op":"debit","key":"k","identity":"r","delegation":0,"amount":"-1"}"#)?.field == "amount")
        #expect(parseError(#"{"op":"capture","key":"k","identity":"r","hold":"0","delegation":"x","amount":"1"}"#)?.field == "delegation")
    }

    @Test func journalRowsOfDelegationCommandsDecodeToTheSameRequests() throws {
        let d = DelegationID(slot: 3, generation: 2)
        let requests = [
            Request(atMs: 5, key: "k", fingerprint: 7, .delegatedDebit(delegation: d, identity: IdentityID(1), tier: 2, amountMicrocredits: 1_250)),
            Request(atMs: 6, .delegate(identity: IdentityID(0), child: "c", from: .delegation(d), amountMicrocredits: 9, expiresAtMs: nil)),
            Request(atMs: 7, key: "x", .closeDelegation(d, identity: nil)),
            Request(atMs: 8, .delegatedCapture(delegation: d, hold: HoldID(slot: 1, generation: 0), amountMicrocredits: 3, identity: IdentityID(1))),
        ]
        for r in requests {
            let row = try JournalCodec.encode(r, .refused(.delegationClosed))
            let decoded = try #require(JournalCodec.decode(row), "\(row)")
            #expect(decoded.request == r && decoded.answer == "R:delegation_closed")
        }
        #expect(try JournalCodec.encode(requests[0], .refused(.delegationClosed)).contains("\tD\t"))
        // A damaged compact row is unreadable, never a trap.
        #expect(JournalCodec.decode("A\t5\t-\tD\t-1\t1\t0\t5") == nil)
    }

    @Test func aDelegationIdSpelledAsANumberOrAStringIsTheSameRequest() throws {
        let a = try LedgerOperation.parse(#"{"op":"debit","key":"k","identity":"r","delegation":3,"amount":"1"}"#)
        let b = try LedgerOperation.parse(#"{"op":"debit","key":"k","identity":"r","delegation":"03","amount":"1.0"}"#)
        let c = try LedgerOperation.parse(#"{"op":"debit","key":"k","identity":"r","pool":"3","amount":"1"}"#)
        #expect(a.fingerprint == b.fingerprint && a.fingerprint != c.fingerprint)
    }
}
