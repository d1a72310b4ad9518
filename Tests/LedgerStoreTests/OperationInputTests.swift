import Foundation
import Ledger
import Testing
@testable import LedgerStore

/// `ledger apply` lines: retries are idempotent as sent, and input is decoded strictly.
@Suite("apply: idempotent retries and strict input")
struct OperationInputTests {
    func parseError(_ line: String) -> LedgerOperation.OperationError? {
        do { _ = try LedgerOperation.parse(line); return nil } catch { return error }
    }

    @Test func aRetriedAuthorizeWithARelativeExpiryIsTheSameRequest() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        let line = #"{"op":"authorize","key":"h1","identity":"bot","pool":"eng","amount":"2","expires_in":"1h"}"#
        let fundLine = #"{"op":"fund","key":"g1","pool":"eng","amount":"5","expires_in":"30d"}"#
        var first: [Outcome] = [], firstFund: [Outcome] = []
        do {
            let store = try await storeWithFundedPool(path, credits: "100", snapshotEvery: 0)
            first = try await op(store, line, at: 1_000)
            firstFund = try await op(store, fundLine, at: 1_000)
            // 1 ms later, in the same process.
            #expect(try await op(store, line, at: 1_001) == first)
            #expect(try await op(store, fundLine, at: 1_001) == firstFund)
            try await store.close()
        }
        #expect(first.first?.acceptance?.hold != nil)
        do {  // after a restart (the whole journal replayed)
            let store = try await LedgerStore(path: path, snapshotEvery: 0)
            #expect(try await op(store, line, at: 5_000) == first)
            #expect(try await op(store, fundLine, at: 5_000) == firstFund)
            try await store.snapshotNow()
            try await store.close()
        }
        do {  // after a restart from a snapshot
            let store = try await LedgerStore(path: path, snapshotEvery: 0)
            #expect(store.recovery.snapshotSeq != nil)
            #expect(try await op(store, line, at: 9_000) == first)
            #expect(try await op(store, fundLine, at: 9_000) == firstFund)
            // The same key with another request is still a reuse.
            let other = try await op(store, #"{"op":"authorize","key":"h1","identity":"bot","pool":"eng","amount":"2","expires_in":"2h"}"#, at: 9_000)
            #expect(other.first?.refusal == .idempotencyKeyReused("h1"))
            #expect(await store.state.balance(of: store.state.pool(named: "eng")!)!.heldMicrocredits == 2_000_000)
            try await store.close()
        }
    }

    @Test func aRetriedCreateIdentityWithPoolsAnswersAsTheFirstAndLeavesItsEntitlementsAlone() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        let store = try await storeWithFundedPool(path, credits: "100", snapshotEvery: 0)
        let line = #"{"op":"create_identity","key":"id-1","identity":"carol","pools":["eng"]}"#
        let first = try await op(store, line)
        let allAccepted = first.allSatisfy(\.isAccepted)
        #expect(first.count == 2 && allAccepted, "the identity and its entitlement: \(first)")
        _ = try await op(store, #"{"op":"entitle","key":"e-1","identity":"carol","pool":"eng","cap":"5"}"#)
        let retry = try await op(store, line, at: 2_000)
        #expect(retry.count == 1 && retry.first == first.first, "the retry answers the first acceptance: \(retry)")
        // The cap set after the first is still there.
        let overCap = try await op(store, #"{"op":"debit","key":"d-1","identity":"carol","pool":"eng","amount":"6"}"#, at: 2_000)
        #expect(overCap.first?.refusal?.code == "spend_cap_exceeded")
        let duplicate = try await op(store, #"{"op":"create_identity","key":"id-2","identity":"carol","pools":["eng"]}"#, at: 2_000)
        #expect(duplicate.first?.refusal == .duplicateName("carol"))
        try await store.close()
    }

    @Test func aRequestSpelledDifferentlyIsStillTheSameRequest() throws {
        let a = try LedgerOperation.parse(#"{"op":"debit","key":"k","identity":"bot","pool":"eng","amount":"1.50"}"#)
        let b = try LedgerOperation.parse(#"{"pool":"eng","amount":1.5,"tier":0,"identity":"bot","key":"k","op":"debit"}"#)
        let c = try LedgerOperation.parse(#"{"op":"debit","key":"k","identity":"bot","pool":"eng","amount":"1.5","tier":1}"#)
        #expect(a.fingerprint == b.fingerprint)
        #expect(a.fingerprint != c.fingerprint)
        let h1 = try LedgerOperation.parse(#"{"op":"authorize","key":"k","identity":"bot","pool":"eng","amount":"1","expires_in":"60m"}"#)
        let h2 = try LedgerOperation.parse(#"{"op":"authorize","key":"k","identity":"bot","pool":"eng","amount":"1","expires_in":"1h"}"#)
        #expect(h1.fingerprint == h2.fingerprint)
        let r1 = try LedgerOperation.parse(#"{"op":"release","key":"k","identity":"bot","hold":"0"}"#)
        let r2 = try LedgerOperation.parse(#"{"op":"release","key":"k","identity":"bot","hold":"00"}"#)
        #expect(r1.fingerprint == r2.fingerprint)
        let f1 = try LedgerOperation.parse(#"{"op":"fund","key":"k","pool":"eng","amount":"1"}"#)
        let f2 = try LedgerOperation.parse(#"{"op":"fund","key":"k","pool":"eng","amount":"1","effective_in":"0s"}"#)
        #expect(f1.fingerprint == f2.fingerprint)
    }

    @Test func linesThatWouldChangeMeaningAreRefusedNamingTheField() {
        let cases: [(String, String?)] = [
            (#"{"op":"fund","key":"k","pool":"eng","amount":"1",}"#, nil),                       // trailing comma
            (#"{"op":"debit","key":"k","identity":"bot","pool":"eng","amount":"1","amount":"99"}"#, nil),  // duplicate
            (#"{"op":"fund","key":"k","pool":"eng","amount":"1","expires":"1d"}"#, "expires"),   // typo: unknown field
            (#"{"op":"debit","key":"k","identity":"bot","pool":"eng","amount":true}"#, "amount"),
            (#"{"op":"authorize","key":"k","identity":"bot","pool":"eng","amount":"1","expires_in":3600}"#, "expires_in"),
            (#"{"op":"debit","key":"k","identity":"bot","pool":"eng","amount":"1","tier":"1"}"#, "tier"),
            (#"{"op":"debit","key":"k","identity":"bot","pool":"eng","amount":"1","tier":1.5}"#, "tier"),
            (#"{"op":"fund","key":"k","pool":"eng","amount":"9223372036854.775808"}"#, "amount"),
            (#"{"op":"fund","key":"k","pool":"eng","amount":1e3}"#, "amount"),
            (#"{"op":"fund","key":"k","pool":"eng","amount":"0.0000001"}"#, "amount"),
            (#"{"op":"create_pool","pool":"a\u0000b"}"#, "pool"),
            (#"{"op":"create_pool","pool":"red\u001b[31m"}"#, "pool"),
            (#"{"op":"create_pool","pool":"\u202Eevil"}"#, "pool"),
            (#"{"op":"capture","key":"k","hold":"1","amount":"1"}"#, "identity"),
            (#"{"op":"release","key":"k","hold":"1"}"#, "identity"),
            (#"{"op":"debit","key":"k","identity":"bot","pool":"eng","amount":"1"} x"#, nil),
            (#"{"op":"suspend","identity":"bot"}"#, "key"),
            (#"{"op":"suspend","key":"x\u009b31m","identity":"bot"}"#, "key"),       // C1 CSI
            (#"{"op":"suspend","key":"po-\u202egnp.exe","identity":"bot"}"#, "key"),  // bidi override
            (#"{"op":"release","key":"k","identity":"bot","hold":"+1"}"#, "hold"),
        ]
        for (line, field) in cases {
            let e = parseError(line)
            #expect(e != nil, "accepted: \(line)")
            if let field { #expect(e?.field == field, "\(line): \(e?.message ?? "")") }
        }
    }

    @Test func anExactJSONNumberIsFundedExactly() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        let store = try await storeWithFundedPool(path, credits: "0.000001")
        _ = try await op(store, #"{"op":"fund","key":"big","pool":"eng","amount":123456789012.345678}"#)
        let b = await store.state.balance(of: store.state.pool(named: "eng")!)!
        #expect(b.totalMicrocredits == 123_456_789_012_345_678 + 1)
    }

    @Test func suspendResumeAndRevokeAreOps() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        let store = try await storeWithFundedPool(path, credits: "100")
        let debit = { (k: String) in #"{"op":"debit","key":"\#(k)","identity":"bot","pool":"eng","amount":"1"}"# }
        #expect(try await op(store, #"{"op":"suspend","key":"s1","identity":"bot"}"#).first?.isAccepted == true)
        #expect(try await op(store, debit("d1")).first?.refusal == .identitySuspended)
        #expect(try await op(store, #"{"op":"resume","key":"s2","identity":"bot"}"#).first?.isAccepted == true)
        #expect(try await op(store, debit("d2")).first?.isAccepted == true)
        #expect(try await op(store, #"{"op":"revoke","key":"s3","identity":"bot"}"#).first?.isAccepted == true)
        #expect(try await op(store, debit("d3")).first?.refusal == .identityRevoked)
        #expect(try await op(store, #"{"op":"resume","key":"s4","identity":"bot"}"#).first?.refusal == .statusChangeNotAllowed)
    }

    @Test func holdsAreCapturedAndReleasedOnlyByTheirIdentity() async throws {
        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        let store = try await storeWithFundedPool(path, credits: "100")
        _ = try await op(store, #"{"op":"create_identity","identity":"eve","pools":["eng"]}"#)
        let hold = try await op(store, #"{"op":"authorize","key":"a","identity":"bot","pool":"eng","amount":"5"}"#).first!.acceptance!.hold!
        #expect(try await op(store, #"{"op":"capture","key":"c1","identity":"eve","hold":"\#(hold.raw)","amount":"5"}"#).first?.refusal == .holdNotOwned)
        #expect(try await op(store, #"{"op":"release","key":"r1","identity":"eve","hold":"\#(hold.raw)"}"#).first?.refusal == .holdNotOwned)
        #expect(try await op(store, #"{"op":"capture","key":"c2","identity":"bot","hold":"\#(hold.raw)","amount":"5"}"#).first?.isAccepted == true)
    }

    @Test func strictJSONKeepsWhatWasWritten() throws {
        #expect(try StrictJSON.parse(#"{"a":[1,2.50,-0.1e3],"b":"\u00e9\ud83d\ude00"}"#)
                == .object([JSONField("a", .array([.number("1"), .number("2.50"), .number("-0.1e3")])), JSONField("b", .string("é😀"))]))
        for bad in [#"{"a":1,}"#, "[1,]", #"{"a":1,"a":2}"#, "01", #""\ud800""#, "\"a\u{1}\"", "{", "[" + String(repeating: "[", count: 40) + "]"] {
            #expect(throws: JSONSyntaxError.self, "\(bad)") { try StrictJSON.parse(bad) }
        }
    }
}
