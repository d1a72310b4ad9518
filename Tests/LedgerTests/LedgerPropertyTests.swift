import PropertyBased
import Testing
@testable import Ledger

/// Random command sequences against the ledger and the reference model. After every step: the
/// ledger's invariants hold, and its outcome and balances equal the model's. At the end (and
/// every 16 steps) a replay of the journal reproduces the state digest. A failing sequence is
/// shrunk by PropertyBased and printed with its seed.
@Suite("Ledger properties")
struct LedgerPropertyTests {
    /// One step: (operation, amount, time/selector, variant).
    typealias Step = (op: Int, a: Int, b: Int, c: Int)

    static let unit: Int64 = 100_000  // 0.1 credit: small numbers make collisions likely

    static let steps = zip(Gen.int(in: 0...8), Gen.int(in: 0...30), Gen.int(in: 0...40), Gen.int(in: 0...3))
        .map { Step($0, $1, $2, $3) }
        .array(of: 1...60)

    @Test func ledgerMatchesTheReferenceModelAndKeepsItsInvariants() async {
        await propertyCheck(count: 2_000, input: Gen.int(in: 0...6), Self.steps) { limitUnits, steps in
            run(limit: Int64(limitUnits) * Self.unit, steps: steps)
        }
    }

    func run(limit: Int64, steps: [Step]) {
        var ledger = Ledger()
        var sink = RecordingSink()
        let policies: [Policy] = limit > 0 ? [.overdraft(limitMicrocredits: limit)] : []
        var now: Int64 = 0
        func apply(_ c: Command) -> Outcome { ledger.apply(Request(atMs: now, c), sink: &sink) }
        let pool = apply(.createPool(PoolSpec(name: "p", policies: policies))).acceptance!.pool!
        let bot = apply(.createIdentity(IdentitySpec(name: "bot"))).acceptance!.identity!
        _ = apply(.entitle(identity: bot, pool: pool, Entitlement()))
        // Entitled to the same pool, but never the owner of a hold: its captures and releases of
        // bot's holds are always refused.
        let eve = apply(.createIdentity(IdentitySpec(name: "eve"))).acceptance!.identity!
        _ = apply(.entitle(identity: eve, pool: pool, Entitlement()))
        var model = ReferenceModel(limit: limit)

        for (n, s) in steps.enumerated() {
            now += Int64(s.b % 5) * 100
            model.advance(to: now)
            let amount = Int64(s.a + 1) * Self.unit
            let expected: Refusal?
            let outcome: Outcome
            switch s.op {
            case 0, 1:
                outcome = apply(.debit(identity: bot, pool: pool, tier: 0, amountMicrocredits: amount))
                expected = model.debit(amount)
            case 2:
                let expires = now + Int64(s.c + 1) * 300
                outcome = apply(.authorize(identity: bot, pool: pool, tier: 0, amountMicrocredits: amount, expiresAtMs: expires))
                expected = model.authorize(amount, expiresAt: expires) { outcome.acceptance?.hold }
            case 3, 4:
                guard !model.holds.isEmpty else { continue }
                let h = s.b % model.holds.count
                let id = model.holds[h].id
                let who = s.c % 4 == 3 ? eve : bot
                if who == eve {
                    outcome = s.op == 3 ? apply(.capture(hold: id, amountMicrocredits: Int64(s.a) * Self.unit, identity: eve))
                                        : apply(.release(hold: id, identity: eve))
                    expected = model.stranger(h)
                } else if s.op == 3 {
                    let charge = Int64(s.a) * Self.unit
                    outcome = apply(.capture(hold: id, amountMicrocredits: charge, identity: s.c % 2 == 0 ? bot : nil))
                    expected = model.capture(h, charge)
                } else {
                    outcome = apply(.release(hold: id, identity: s.c % 2 == 0 ? bot : nil))
                    expected = model.release(h)
                }
            case 5, 6:
                let expires: Int64? = s.c == 0 ? nil : now + Int64(s.c) * 700 + Int64(s.b)
                let effective: Int64? = s.b % 3 == 0 ? now + 200 : nil
                let spec = GrantSpec(amountMicrocredits: Int64(s.a * 3 + 1) * Self.unit, effectiveAtMs: effective,
                                     expiresAtMs: expires, priority: Int32(s.c % 2))
                outcome = apply(.fund(pool: pool, spec))
                model.fund(spec.amountMicrocredits, expiresAt: expires, priority: spec.priority, effectiveAt: effective)
                expected = nil
            case 7:
                let suspend = s.c % 2 == 0
                outcome = apply(.setIdentityStatus(identity: bot, suspend ? .suspended : .active))
                model.suspended = suspend
                expected = nil
            default:
                outcome = apply(.advanceTime)
                expected = nil
            }

            let label = "step \(n) \(s)"
            #expect(sameAnswer(outcome.refusal, expected), "\(label): ledger \(outcome), model \(String(describing: expected))")
            let problems = ledger.invariantViolations()
            #expect(problems.isEmpty, "\(label): \(problems)")
            let b = ledger.balance(of: pool)!
            #expect(b.availableMicrocredits == model.available, "\(label): available")
            #expect(b.heldMicrocredits == model.held, "\(label): held")
            #expect(b.totalMicrocredits == model.total, "\(label): total")
            #expect(ledger.balance(of: .usage) == model.usage, "\(label): usage")
            #expect(ledger.balance(of: .overage) == model.overage, "\(label): overage")
            #expect(ledger.balance(of: .expiry) == model.expiry, "\(label): expiry")
            #expect(b.grants.allSatisfy { $0.remainingMicrocredits >= 0 && $0.remainingMicrocredits <= $0.amountMicrocredits })
            if !problems.isEmpty { return }
            if n % 16 == 15 { expectReplay(sink.records, reproduces: ledger, label) }
        }
        expectReplay(sink.records, reproduces: ledger, "end")
    }

    /// The hold refusals differ only in how much the ledger remembers of a reused hold slot.
    func sameAnswer(_ a: Refusal?, _ b: Refusal?) -> Bool {
        switch (a, b) {
        case (.holdExpired?, .holdSettled?), (.holdSettled?, .holdExpired?): true
        default: a == b
        }
    }

    func expectReplay(_ records: [JournalRecord], reproduces ledger: Ledger, _ label: String) {
        let (replayed, mismatches) = Ledger.replay(records)
        #expect(mismatches.isEmpty, "\(label): replay outcomes differ at \(mismatches)")
        #expect(replayed.stateDigest == ledger.stateDigest, "\(label): replay digest differs")
    }
}
