import Foundation
import Testing
@testable import Ledger

@Suite("Journal, replay and statements")
struct JournalTests {
    /// A month of activity on two pools with every kind of command.
    func busyFixture() -> Fixture {
        let refill = Refill(amountMicrocredits: cr(100), rolloverPartsPerMillion: 250_000)
        var f = Fixture(policies: [.overdraft(limitMicrocredits: cr(20)), .alerts(thresholdsMicrocredits: [cr(30)])],
                        periodMs: Millis.day, refill: refill)
        let sales = f.apply(.createPool(PoolSpec(name: "sales"))).acceptance!.pool!
        f.fund(cr(50), expiresAt: 3 * Millis.day, key: "f1")
        for day in 0..<5 {
            let t = Int64(day) * Millis.day
            f.debit(cr(20), key: "d\(day)", at: t + 10)
            let hold = f.authorize(cr(15), expiresAt: t + 2_000).acceptance?.hold
            if let hold, day % 2 == 0 { f.apply(.capture(hold: hold, amountMicrocredits: cr(9)), at: t + 1_000) }
            f.apply(.transfer(from: f.pool, to: sales, amountMicrocredits: cr(5)), at: t + 3_000)
            f.debit(cr(500), at: t + 4_000)  // refused: recorded all the same
        }
        f.apply(.adjust(pool: f.pool, amountMicrocredits: cr(3), against: .usage, memo: "refund"), at: 5 * Millis.day)
        return f
    }

    @Test func replayingTheJournalRebuildsTheSameState() {
        let f = busyFixture()
        let (replayed, mismatches) = Ledger.replay(f.sink.records)
        #expect(mismatches.isEmpty)
        #expect(replayed.stateDigest == f.ledger.stateDigest)
        #expect(replayed.balance(of: f.pool) == f.ledger.balance(of: f.pool))
    }

    @Test func aTamperedJournalDoesNotReplayToTheSameState() {
        let f = busyFixture()
        var records = f.sink.records
        let i = records.firstIndex { if case .debit = $0.request.command { true } else { false } }!
        if case .debit(let who, let pool, let tier, _) = records[i].request.command {
            records[i].request.command = .debit(identity: who, pool: pool, tier: tier, amountMicrocredits: cr(21))
        }
        let (replayed, _) = Ledger.replay(records)
        #expect(replayed.stateDigest != f.ledger.stateDigest)
    }

    @Test func sequenceNumbersAreConsecutiveAndRepeatsAreNotJournaled() {
        var f = busyFixture()
        let before = f.sink.records.count
        f.debit(cr(20), key: "d4", at: 5 * Millis.day + 1)  // a repeat: answered from memory
        #expect(f.sink.records.count == before)
        #expect(f.sink.records.map(\.seq) == Array(1...UInt64(before)))
    }

    @Test func everyRecordBalancesAndTheStatementReconciles() {
        let f = busyFixture()
        var total: Int64 = 0
        for r in f.sink.records {
            for t in r.transfers { #expect(t.amountMicrocredits > 0) }
            total += r.transfers.reduce(0) { $0 + $1.amountMicrocredits }
        }
        #expect(total > 0)
        let all = Statement(records: f.sink.records, pool: f.pool, fromMs: .min, toMs: .max)
        #expect(all.openingMicrocredits == 0)
        #expect(all.closingMicrocredits == f.ledger.balance(of: .pool(f.pool)))
        let day2 = Statement(records: f.sink.records, pool: f.pool, fromMs: 2 * Millis.day, toMs: 3 * Millis.day)
        let moved = day2.lines.reduce(0) { $0 + $1.amountMicrocredits }
        #expect(day2.openingMicrocredits + moved == day2.closingMicrocredits)
        #expect(day2.lines.allSatisfy { $0.atMs >= 2 * Millis.day && $0.atMs < 3 * Millis.day })
        #expect(day2.lines.contains { $0.counterparty == .usage })
        #expect(day2.lines.contains { $0.counterparty == .expiry })
    }

    @Test func theDiscardingSinkLeavesTheStateUnchanged() {
        // The same commands, side by side, into a ledger that journals to a recording sink and one
        // that journals to the discarding sink: the sink decides only whether transfers are
        // collected (none for the discarding one), never what a command does.
        let f = busyFixture()
        var recorded = Ledger(), quiet = Ledger()
        var sink = RecordingSink(), discard = DiscardingSink()
        for r in f.sink.records {
            let loud = recorded.apply(r.request, sink: &sink)
            #expect(quiet.apply(r.request, sink: &discard) == loud, "seq \(r.seq)")
            #expect(quiet.scratch.isEmpty, "seq \(r.seq): transfers collected for a sink that wants none")
            #expect(quiet.stateDigest == recorded.stateDigest, "seq \(r.seq)")
        }
        #expect(sink.records.contains { !$0.transfers.isEmpty })
    }

    @Test func journalRecordsRoundTripThroughCodable() throws {
        // The durable store writes records as JSON; what it reads back must be what was written.
        let f = busyFixture()
        for r in f.sink.records.prefix(40) {
            let data = try JSONEncoder().encode(r)
            #expect(try JSONDecoder().decode(JournalRecord.self, from: data) == r)
        }
    }
}

@Suite("The simulator's debit path")
struct FastDebitTests {
    @Test func theDirectDebitIsTheSameAsApplyingADebitCommand() {
        var a = Fixture(policies: [.alerts(thresholdsMicrocredits: [cr(50)]), .overdraft(limitMicrocredits: cr(5))])
        var b = a
        a.fund(cr(60)); b.fund(cr(60))
        for i in 0..<20 {
            let t = Int64(i) * 1_000
            let viaApply = a.ledger.apply(Request(atMs: t, .debit(identity: a.bot, pool: a.pool, tier: 0, amountMicrocredits: cr(4))))
            let direct = b.ledger.debit(atMs: t, identity: b.bot, pool: b.pool, tier: 0, amountMicrocredits: cr(4))
            #expect(viaApply == direct)
        }
        #expect(a.ledger.stateDigest == b.ledger.stateDigest)
        #expect(b.ledger.invariantViolations().isEmpty)
    }
}
