import PropertyBased
import Testing
@testable import Ledger

/// The admission query answers what a debit would get, by the debit's own rules, and changes
/// nothing. Each test asks, checks the state digest did not move, then debits.
@Suite("The admission query")
struct AdmissionTests {
    /// Asks the query about a debit of `amount` at the fixture's clock (or `time`), checks that
    /// the ledger is unchanged, then makes that debit and checks it got what the query said.
    @discardableResult
    func askThenDebit(_ f: inout Fixture, _ amount: Int64, tier: Int = 0, pool: PoolID? = nil, at time: Int64? = nil,
                      sourceLocation: SourceLocation = #_sourceLocation) -> (answer: Admission, outcome: Outcome) {
        let t = time ?? f.t
        let digest = f.ledger.stateDigest, clock = f.ledger.nowMs, seq = f.ledger.lastSeq
        let answer = f.ledger.admission(atMs: t, identity: f.bot, pool: pool ?? f.pool, tier: tier, amountMicrocredits: amount)
        #expect(f.ledger.stateDigest == digest, "the query changed the ledger", sourceLocation: sourceLocation)
        #expect(f.ledger.nowMs == clock && f.ledger.lastSeq == seq, "the query moved the clock or the sequence", sourceLocation: sourceLocation)
        if answer.isAccepted {
            #expect(answer.coverableMicrocredits == amount, sourceLocation: sourceLocation)
        } else if answer.coverableMicrocredits > 0 {
            // The coverable part is what a debit would be accepted for, and no more.
            var part = f, more = f
            #expect(part.apply(.debit(identity: f.bot, pool: pool ?? f.pool, tier: tier, amountMicrocredits: answer.coverableMicrocredits),
                               at: t).isAccepted, "coverable part refused", sourceLocation: sourceLocation)
            #expect(!more.apply(.debit(identity: f.bot, pool: pool ?? f.pool, tier: tier, amountMicrocredits: answer.coverableMicrocredits + 1),
                                at: t).isAccepted, "more than the coverable part accepted", sourceLocation: sourceLocation)
        }
        let outcome = f.apply(.debit(identity: f.bot, pool: pool ?? f.pool, tier: tier, amountMicrocredits: amount), at: t)
        #expect(answer.refusal == outcome.refusal, "query \(answer), debit \(outcome)", sourceLocation: sourceLocation)
        return (answer, outcome)
    }

    @Test func aFundedDrawIsAcceptedInFull() {
        var f = Fixture()
        f.fund(cr(10))
        let (answer, outcome) = askThenDebit(&f, cr(4))
        #expect(answer == Admission(verdict: .accepted, coverableMicrocredits: cr(4)))
        #expect(outcome.isAccepted)
    }

    @Test func aSuspendedOrRevokedIdentityIsRefusedFirst() {
        var f = Fixture()
        f.fund(cr(10))
        f.apply(.setIdentityStatus(identity: f.bot, .suspended))
        let suspended = askThenDebit(&f, cr(1)).answer
        #expect(suspended.refusal == .identitySuspended && suspended.coverableMicrocredits == 0)
        f.apply(.setIdentityStatus(identity: f.bot, .revoked))
        #expect(askThenDebit(&f, cr(1)).answer.refusal == .identityRevoked)
    }

    @Test func aPoolWithoutEntitlementIsRefused() {
        var f = Fixture()
        let ops = f.apply(.createPool(PoolSpec(name: "ops"))).acceptance!.pool!
        f.fund(cr(10), pool: ops)
        let answer = askThenDebit(&f, cr(1), pool: ops).answer
        #expect(answer.refusal == .notEntitled && answer.coverableMicrocredits == 0)
    }

    @Test func aTierOutsideTheEntitlementIsRefused() {
        var f = Fixture(entitlement: .tiers([1]))
        f.fund(cr(10))
        #expect(askThenDebit(&f, cr(1), tier: 0).answer.refusal == .tierNotAllowed(tier: 0))
        #expect(askThenDebit(&f, cr(1), tier: 1).answer.isAccepted)
    }

    @Test func theRateCapIsNotSpentByAsking() {
        var f = Fixture(entitlement: Entitlement(rateMaxDraws: 2, rateWindowMs: 1_000))
        f.fund(cr(10))
        // Asking many times counts no draw.
        for _ in 0..<5 {
            #expect(f.ledger.admission(atMs: 0, identity: f.bot, pool: f.pool, tier: 0, amountMicrocredits: cr(1)).isAccepted)
        }
        #expect(askThenDebit(&f, cr(1), at: 100).answer.isAccepted)
        #expect(askThenDebit(&f, cr(1), at: 200).answer.isAccepted)
        #expect(askThenDebit(&f, cr(1), at: 300).answer.refusal == .rateCapExceeded(retryAfterMs: 700))
        #expect(askThenDebit(&f, cr(1), at: 1_000).answer.isAccepted)
    }

    @Test func theSpendCapCoversWhatIsLeftOfIt() {
        var f = Fixture(entitlement: Entitlement(capPerPeriodMicrocredits: cr(5), capPeriodMs: Millis.day))
        f.fund(cr(100))
        askThenDebit(&f, cr(3))
        let answer = askThenDebit(&f, cr(4)).answer
        #expect(answer.refusal == .spendCapExceeded(capMicrocredits: cr(5), usedMicrocredits: cr(3)))
        #expect(answer.coverableMicrocredits == cr(2))
        // Open holds count against the cap.
        f.authorize(cr(2), expiresAt: 1_000)
        let held = askThenDebit(&f, cr(1)).answer
        #expect(held.refusal == .spendCapExceeded(capMicrocredits: cr(5), usedMicrocredits: cr(5)) && held.coverableMicrocredits == 0)
    }

    @Test func anUnderfundedPoolCoversWhatItHolds() {
        var f = Fixture()
        f.fund(cr(5))
        let answer = askThenDebit(&f, cr(8)).answer
        #expect(answer.refusal == .insufficientFunds(availableMicrocredits: cr(5)))
        #expect(answer.coverableMicrocredits == cr(5))
    }

    @Test func theSpendCapAndThePoolBoundTheCoverablePartTogether() {
        var f = Fixture(entitlement: Entitlement(capPerPeriodMicrocredits: cr(6), capPeriodMs: Millis.day))
        f.fund(cr(4))
        let answer = askThenDebit(&f, cr(10)).answer
        #expect(answer.refusal == .spendCapExceeded(capMicrocredits: cr(6), usedMicrocredits: 0))
        #expect(answer.coverableMicrocredits == cr(4))
    }

    @Test func anOverdraftAdmitsDrawsDownToItsLimit() {
        var f = Fixture(policies: [.overdraft(limitMicrocredits: cr(10)), .hardStop])
        f.fund(cr(5))
        let (answer, outcome) = askThenDebit(&f, cr(12))
        #expect(answer.isAccepted)
        #expect(outcome.acceptance?.overageMicrocredits == cr(7))
        let short = askThenDebit(&f, cr(4)).answer
        #expect(short.refusal == .insufficientFunds(availableMicrocredits: 0) && short.coverableMicrocredits == cr(3))
        // Behind a hard stop, the overdraft is never reached.
        var stopFirst = Fixture(policies: [.hardStop, .overdraft(limitMicrocredits: cr(10))])
        stopFirst.fund(cr(5))
        #expect(askThenDebit(&stopFirst, cr(6)).answer.coverableMicrocredits == cr(5))
    }

    @Test func degradeIsAnsweredBeforeTheDraw() {
        var f = Fixture(policies: [.degrade(toTier: 1, belowMicrocredits: cr(10)), .hardStop])
        f.fund(cr(15))
        #expect(askThenDebit(&f, cr(4), tier: 0).answer.isAccepted)  // leaves 11 ≥ 10
        let degraded = askThenDebit(&f, cr(4), tier: 0).answer         // would leave 7 < 10
        #expect(degraded.refusal == .degrade(toTier: 1) && degraded.coverableMicrocredits == 0)
        #expect(askThenDebit(&f, cr(4), tier: 1).answer.isAccepted)  // already at the cheap tier
    }

    @Test func theThrottleIsNotSpentByAsking() {
        var f = Fixture(policies: [.throttle(maxDraws: 2, windowMs: 1_000, belowMicrocredits: cr(50))])
        f.fund(cr(40))
        for _ in 0..<5 {
            #expect(f.ledger.admission(atMs: 0, identity: f.bot, pool: f.pool, tier: 0, amountMicrocredits: cr(1)).isAccepted)
        }
        askThenDebit(&f, cr(1), at: 10)
        askThenDebit(&f, cr(1), at: 20)
        let throttled = askThenDebit(&f, cr(1), at: 30).answer
        #expect(throttled.refusal == .throttled(retryAfterMs: 970) && throttled.coverableMicrocredits == 0)
    }

    @Test func aTopUpThatWouldFireMeansAcceptedAndBuysNothing() {
        let topUp = Policy.autoTopUp(belowMicrocredits: 0, amountMicrocredits: cr(10), maxPerPeriodMicrocredits: cr(20),
                                     priceMicrocreditsPerCredit: 1_000_000)
        var f = Fixture(policies: [topUp, .hardStop], periodMs: Millis.day)
        f.fund(cr(5))
        let (answer, outcome) = askThenDebit(&f, cr(12))  // short by 7: one top-up of 10
        #expect(answer.isAccepted)
        #expect(outcome.acceptance?.decisions.count == 1)
        #expect(f.ledger.totals(of: f.pool)?.toppedUpMicrocredits == cr(10))
        // 3 left and 10 more to buy this period: a draw of 30 is short even after it. The debit
        // buys the 10 all the same (a refusal may act); the query says what it would cover.
        let short = askThenDebit(&f, cr(30)).answer
        #expect(short.refusal == .insufficientFunds(availableMicrocredits: cr(13)))
        #expect(short.coverableMicrocredits == cr(13))
        #expect(f.ledger.totals(of: f.pool)?.toppedUpMicrocredits == cr(20))
    }

    @Test func borrowingThatWouldCoverMeansAcceptedAndMovesNothing() {
        var f = Fixture()
        let org = f.apply(.createPool(PoolSpec(name: "org"))).acceptance!.pool!
        let team = f.apply(.createPool(PoolSpec(name: "team", parent: org, policies: [.borrow(capPerPeriodMicrocredits: cr(5)), .hardStop]))).acceptance!.pool!
        f.apply(.entitle(identity: f.bot, pool: team, Entitlement()))
        f.fund(cr(100), pool: org)
        f.fund(cr(2), pool: team)
        let (answer, outcome) = askThenDebit(&f, cr(6), pool: team)
        #expect(answer.isAccepted)
        #expect(outcome.acceptance?.decisions == [.borrowed(pool: team, from: org, amountMicrocredits: cr(4))])
        // 1 more may be borrowed this period.
        let short = askThenDebit(&f, cr(2), pool: team).answer
        #expect(short.refusal == .insufficientFunds(availableMicrocredits: cr(1)) && short.coverableMicrocredits == cr(1))
    }

    @Test func theAnswerIsAsOfItsTimeWithoutMovingTheClock() {
        var f = Fixture()
        f.fund(cr(10), expiresAt: 1_000)
        f.fund(cr(3), effectiveAt: 1_200)
        f.apply(.advanceTime, at: 500)
        // At 1,500 the first grant has expired and the second is effective: 3 are left.
        let later = askThenDebit(&f, cr(5), at: 1_500).answer
        #expect(later.refusal == .insufficientFunds(availableMicrocredits: cr(3)) && later.coverableMicrocredits == cr(3))
        // Before the ledger's clock, the query is refused as a command would be.
        #expect(f.ledger.admission(atMs: 1_000, identity: f.bot, pool: f.pool, tier: 0, amountMicrocredits: 1).refusal
                == .timeWentBackwards(nowMs: 1_500))
    }

    @Test func badArgumentsAreRefusedAsByADebit() {
        var f = Fixture()
        f.fund(cr(10))
        #expect(askThenDebit(&f, 0).answer.refusal == .invalidArgument("amount must be positive"))
        #expect(f.ledger.admission(atMs: 0, identity: IdentityID(7), pool: f.pool, tier: 0, amountMicrocredits: 1).refusal
                == .unknownIdentity(IdentityID(7)))
    }

    /// Random sequences against a pool with every policy and an entitlement with both caps: before
    /// each debit the query is asked (at the debit's time, before the ledger got there), changes
    /// nothing, and answers what the debit then gets.
    @Test func theQueryAgreesWithTheDebitOverRandomSequences() async {
        await propertyCheck(count: 400, input: LedgerPropertyTests.steps) { steps in
            let unit = LedgerPropertyTests.unit
            var f = Fixture(entitlement: Entitlement(capPerPeriodMicrocredits: 40 * unit, capPeriodMs: 3_000,
                                                     rateMaxDraws: 5, rateWindowMs: 1_000))
            let org = f.apply(.createPool(PoolSpec(name: "org"))).acceptance!.pool!
            let team = f.apply(.createPool(PoolSpec(name: "team", parent: org, policies: [
                .alerts(thresholdsMicrocredits: [10 * unit]),
                .throttle(maxDraws: 3, windowMs: 1_000, belowMicrocredits: 5 * unit),
                .degrade(toTier: 1, belowMicrocredits: 3 * unit),
                .autoTopUp(belowMicrocredits: 2 * unit, amountMicrocredits: 7 * unit, maxPerPeriodMicrocredits: 15 * unit,
                           priceMicrocreditsPerCredit: 1_000_000),
                .borrow(capPerPeriodMicrocredits: 10 * unit),
                .overdraft(limitMicrocredits: 4 * unit),
                .hardStop,
            ], periodMs: 2_000))).acceptance!.pool!
            f.apply(.entitle(identity: f.bot, pool: team, Entitlement(capPerPeriodMicrocredits: 40 * unit, capPeriodMs: 3_000,
                                                                      rateMaxDraws: 5, rateWindowMs: 1_000)))
            f.fund(30 * unit, pool: org)
            var holds: [HoldID] = []
            for s in steps {
                let t = f.t + Int64(s.b % 5) * 100
                let amount = Int64(s.a + 1) * unit
                switch s.op {
                case 0, 1, 2, 3:
                    askThenDebit(&f, amount, tier: s.c % 2, pool: s.c == 3 ? f.pool : team, at: t)
                case 4:
                    f.apply(.fund(pool: s.c % 2 == 0 ? team : org,
                                  GrantSpec(amountMicrocredits: Int64(s.a * 2 + 1) * unit, expiresAtMs: s.c == 0 ? nil : t + 900)), at: t)
                case 5:
                    f.apply(.setIdentityStatus(identity: f.bot, s.c == 0 ? .suspended : .active), at: t)
                case 6:
                    if let h = f.apply(.authorize(identity: f.bot, pool: team, tier: 1, amountMicrocredits: amount, expiresAtMs: t + 700),
                                       at: t).acceptance?.hold { holds.append(h) }
                case 7:
                    if !holds.isEmpty { f.apply(.release(hold: holds.removeLast()), at: t) }
                default:
                    f.apply(.advanceTime, at: t)
                }
            }
        }
    }
}
