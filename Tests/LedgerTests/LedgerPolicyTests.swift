import Testing
@testable import Ledger

@Suite("Exhaustion policies")
struct LedgerPolicyTests {
    @Test func aPoolWithoutPoliciesIsAHardStop() {
        var f = Fixture()
        f.fund(cr(5))
        #expect(f.debit(cr(6)).refusal == .insufficientFunds(availableMicrocredits: cr(5)))
        #expect(f.available == cr(5))
    }

    @Test func policiesAreEvaluatedInOrder() {
        // A hard stop before the overdraft makes the overdraft unreachable for a short draw.
        var stopFirst = Fixture(policies: [.hardStop, .overdraft(limitMicrocredits: cr(10))])
        stopFirst.fund(cr(5))
        #expect(stopFirst.debit(cr(6)).refusal == .insufficientFunds(availableMicrocredits: cr(5)))
        var overdraftFirst = Fixture(policies: [.overdraft(limitMicrocredits: cr(10)), .hardStop])
        overdraftFirst.fund(cr(5))
        #expect(overdraftFirst.debit(cr(6)).acceptance?.overageMicrocredits == cr(1))
    }

    @Test func coverableCreditsFollowThePolicyOrder() {
        // The part of a draw the pool covers, as the admission query sizes it.
        func coverable(_ f: Fixture, _ amount: Int64) -> Int64 {
            f.ledger.admission(atMs: f.t, identity: f.bot, pool: f.pool, tier: 0, amountMicrocredits: amount).coverableMicrocredits
        }
        var overdraftFirst = Fixture(policies: [.overdraft(limitMicrocredits: cr(10)), .hardStop])
        overdraftFirst.fund(cr(5))
        #expect(coverable(overdraftFirst, cr(20)) == cr(15))
        // Behind a hard stop the overdraft is never reached, so it covers nothing.
        var stopFirst = Fixture(policies: [.hardStop, .overdraft(limitMicrocredits: cr(10))])
        stopFirst.fund(cr(5))
        #expect(coverable(stopFirst, cr(20)) == cr(5))
        // What the query says is what a debit gets.
        #expect(overdraftFirst.debit(cr(15)).isAccepted)
        #expect(coverable(overdraftFirst, cr(1)) == 0)
        #expect(stopFirst.debit(cr(6)).refusal == .insufficientFunds(availableMicrocredits: cr(5)))
        #expect(stopFirst.debit(cr(5)).isAccepted)
    }

    @Test func degradeAnswersWithTheCheaperTierBelowTheThreshold() {
        var f = Fixture(policies: [.degrade(toTier: 2, belowMicrocredits: cr(10)), .hardStop])
        f.fund(cr(15))
        #expect(f.debit(cr(4), tier: 0).isAccepted)                   // leaves 11 ≥ 10
        #expect(f.debit(cr(4), tier: 0).refusal == .degrade(toTier: 2)) // would leave 7 < 10
        #expect(f.debit(cr(1), tier: 2).isAccepted)                   // already at the cheap tier
        #expect(f.available == cr(10))
    }

    @Test func degradeWhenShortOnlyWithAZeroThreshold() {
        var f = Fixture(policies: [.degrade(toTier: 1, belowMicrocredits: 0)])
        f.fund(cr(3))
        #expect(f.debit(cr(3), tier: 0).isAccepted)
        #expect(f.debit(cr(1), tier: 0).refusal == .degrade(toTier: 1))
        #expect(f.debit(cr(1), tier: 1).refusal == .insufficientFunds(availableMicrocredits: 0))
    }

    @Test func throttleLimitsDrawsOnlyBelowItsThreshold() {
        var f = Fixture(policies: [.throttle(maxDraws: 2, windowMs: 1_000, belowMicrocredits: cr(50))])
        f.fund(cr(100))
        for i in 0..<5 { #expect(f.debit(cr(1), at: Int64(i)).isAccepted) }  // above 50: no limit
        f.debit(cr(50), at: 1_000)                                             // now 45 left
        #expect(f.debit(cr(1), at: 1_001).isAccepted)                          // second draw in window
        #expect(f.debit(cr(1), at: 1_002).refusal == .throttled(retryAfterMs: 998))
        #expect(f.debit(cr(1), at: 2_000).isAccepted)                          // new window
    }

    @Test func autoTopUpBuysWhenShortAndWhenBelowTheTriggerWithinItsCap() {
        let topUp = Policy.autoTopUp(belowMicrocredits: cr(5), amountMicrocredits: cr(20),
                                     maxPerPeriodMicrocredits: cr(40), priceMicrocreditsPerCredit: 900_000)
        var f = Fixture(policies: [topUp, .hardStop], periodMs: Millis.day)
        f.fund(cr(10))
        // Leaves 4 < 5: one top-up fires after the draw.
        let first = f.debit(cr(6)).acceptance!
        #expect(first.decisions.count == 1)
        #expect(f.available == cr(24))
        // Short by 6: a top-up fires before the draw; the cap (40) is then reached.
        #expect(f.debit(cr(30)).isAccepted)
        #expect(f.available == cr(14))
        #expect(f.ledger.totals(of: f.pool)?.toppedUpMicrocredits == cr(40))
        #expect(f.debit(cr(15)).refusal == .insufficientFunds(availableMicrocredits: cr(14)))
        // A new period resets the cap.
        #expect(f.debit(cr(15), at: Millis.day).isAccepted)
        #expect(f.balance.grants.contains { $0.priceMicrocreditsPerCredit == 900_000 })
    }

    @Test func borrowMovesTheShortfallFromTheParentWithinItsCap() {
        var ledger = Ledger()
        let org = ledger.apply(Request(atMs: 0, .createPool(PoolSpec(name: "org")))).acceptance!.pool!
        let team = ledger.apply(Request(atMs: 0, .createPool(PoolSpec(name: "team", parent: org,
            policies: [.borrow(capPerPeriodMicrocredits: cr(5)), .hardStop])))).acceptance!.pool!
        let bot = ledger.apply(Request(atMs: 0, .createIdentity(IdentitySpec(name: "bot")))).acceptance!.identity!
        ledger.apply(Request(atMs: 0, .entitle(identity: bot, pool: team, Entitlement())))
        ledger.apply(Request(atMs: 0, .fund(pool: org, GrantSpec(amountMicrocredits: cr(100)))))
        ledger.apply(Request(atMs: 0, .fund(pool: team, GrantSpec(amountMicrocredits: cr(2)))))
        let out = ledger.apply(Request(atMs: 1, .debit(identity: bot, pool: team, tier: 0, amountMicrocredits: cr(6))))
        #expect(out.acceptance?.decisions == [.borrowed(pool: team, from: org, amountMicrocredits: cr(4))])
        #expect(ledger.available(in: org) == cr(96))
        // Only 1 more may be borrowed this period.
        let refused = ledger.apply(Request(atMs: 2, .debit(identity: bot, pool: team, tier: 0, amountMicrocredits: cr(2))))
        #expect(refused.refusal == .insufficientFunds(availableMicrocredits: cr(1)))
        #expect(ledger.invariantViolations().isEmpty)
    }

    @Test func alertsFireOncePerCrossingPerPeriod() {
        var f = Fixture(policies: [.alerts(thresholdsMicrocredits: [cr(50), cr(10)])], periodMs: Millis.day)
        f.fund(cr(100))
        #expect(f.debit(cr(40)).acceptance?.decisions == [])
        #expect(f.debit(cr(20)).acceptance?.decisions == [.alert(pool: f.pool, thresholdMicrocredits: cr(50))])
        f.fund(cr(30))  // back above 50
        #expect(f.debit(cr(40)).acceptance?.decisions == [])  // crossed 50 again: not twice per period
        #expect(f.debit(cr(25), at: Millis.day).acceptance?.decisions == [.alert(pool: f.pool, thresholdMicrocredits: cr(10))])
    }

    @Test func aSpendRateAnomalySuspendsTheIdentity() {
        let stop = StopCondition(windowMs: Millis.minute, baselineWindows: 5, factorPercent: 500, minSpendMicrocredits: cr(10))
        var f = Fixture(stop: stop)
        f.fund(cr(10_000))
        // A steady 2 credits per minute for five minutes.
        for m in 0..<5 { f.debit(cr(2), at: Int64(m) * Millis.minute) }
        // Then a loop: 11 credits in one minute > 5 × baseline (2) and ≥ 10.
        var decisions: [Decision] = []
        for s in 0..<11 {
            decisions += f.debit(cr(1), at: 5 * Millis.minute + Int64(s) * Millis.second).acceptance?.decisions ?? []
        }
        #expect(decisions == [.identitySuspended(identity: f.bot, reason: "spend_rate_anomaly")])
        #expect(f.debit(cr(1)).refusal == .identitySuspended)
    }

    @Test func aNewIdentityIsNotJudgedBeforeItHasABaseline() {
        let stop = StopCondition(windowMs: Millis.minute, baselineWindows: 5, factorPercent: 500, minSpendMicrocredits: cr(10))
        var f = Fixture(stop: stop)
        f.fund(cr(10_000))
        // A heavy first minute: nothing to compare with yet, so nothing is suspended.
        for s in 0..<30 { f.debit(cr(1), at: Int64(s) * Millis.second) }
        #expect(f.ledger.status(of: f.bot) == .active)
    }

    @Test func periodRefillAndRollover() {
        // 100 credits a day, 50% of what is left rolls over, at most 30.
        let refill = Refill(amountMicrocredits: cr(100), rolloverPartsPerMillion: 500_000, rolloverCapMicrocredits: cr(30))
        var f = Fixture(periodMs: Millis.day, refill: refill)
        #expect(f.available == cr(100))
        f.debit(cr(60), at: 1)
        f.apply(.advanceTime, at: Millis.day)
        // 40 left → 20 rolls over, 20 expires; a fresh 100 arrives.
        #expect(f.available == cr(120))
        #expect(f.ledger.balance(of: .expiry) == cr(20))
        #expect(f.balance.grants.contains { $0.category == .rollover && $0.remainingMicrocredits == cr(20) })
        // Nothing spent the next day: 100 + 20 left; the refill part rolls at most 30.
        f.apply(.advanceTime, at: 2 * Millis.day)
        #expect(f.available == cr(130))
        #expect(f.ledger.balance(of: .expiry) == cr(20 + 70 + 20))
    }
}
