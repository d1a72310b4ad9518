import Testing
@testable import Ledger

@Suite("Ledger operations")
struct LedgerOperationTests {
    @Test func fundThenDebitMovesCreditsFromFundingThroughThePoolToUsage() {
        var f = Fixture()
        f.fund(cr(100))
        let out = f.debit(cr(30))
        #expect(out.acceptance?.chargedMicrocredits == cr(30))
        #expect(f.available == cr(70))
        #expect(f.ledger.balance(of: .funding) == -cr(100))
        #expect(f.ledger.balance(of: .usage) == cr(30))
        #expect(f.ledger.balance(of: .pool(f.pool)) == cr(70))
    }

    @Test func aDuplicateTopUpWithTheSameKeyCreditsOnce() {
        var f = Fixture()
        let first = f.fund(cr(50), key: "topup-2026-11")
        let again = f.fund(cr(50), key: "topup-2026-11")
        #expect(first == again)
        #expect(f.balance.totalMicrocredits == cr(50))
        #expect(f.sink.records.count == 4)  // create pool, identity, entitle, one fund
    }

    @Test func reusingAKeyForADifferentCommandIsRefused() {
        var f = Fixture()
        f.fund(cr(50), key: "k")
        #expect(f.fund(cr(60), key: "k") == .refused(.idempotencyKeyReused("k")))
        #expect(f.balance.totalMicrocredits == cr(50))
    }

    @Test func aRefusedCommandRetriedWithTheSameKeyAfterATopUpIsEvaluatedAfresh() {
        var f = Fixture()
        f.fund(cr(5))
        #expect(f.debit(cr(10), key: "req-1").refusal == .insufficientFunds(availableMicrocredits: cr(5)))
        f.fund(cr(20))
        #expect(f.debit(cr(10), key: "req-1").isAccepted)
        // …and from then on the key answers with that acceptance, without charging again.
        #expect(f.debit(cr(10), key: "req-1").isAccepted)
        #expect(f.available == cr(15))
    }

    @Test func keysAreForgottenAfterTheRetentionWindow() {
        var f = Fixture()
        f.fund(cr(100))
        f.debit(cr(1), key: "once", at: 0)
        f.debit(cr(1), key: "once", at: Millis.day - 1)
        #expect(f.available == cr(99))
        f.apply(.advanceTime, at: Millis.day, key: "tick")
        f.debit(cr(1), key: "once", at: Millis.day + 1)
        #expect(f.available == cr(98))
    }

    @Test func expiryIsExactAtTheDrawTime() {
        var f = Fixture()
        f.fund(cr(10), expiresAt: 1_000)
        #expect(f.debit(cr(1), at: 999).isAccepted)
        // At exactly 1000 ms the grant is gone, although nobody looked in between.
        #expect(f.debit(cr(1), at: 1_000).refusal == .insufficientFunds(availableMicrocredits: 0))
        #expect(f.ledger.balance(of: .expiry) == cr(9))
        #expect(f.ledger.totals(of: f.pool)?.expiredMicrocredits == cr(9))
    }

    @Test func aDrawSpansGrantsInPriorityThenExpiryThenAgeOrder() {
        var f = Fixture()
        let late = f.fund(cr(10), expiresAt: 9_000, priority: 1).acceptance!.grant!
        let never = f.fund(cr(10), priority: 0).acceptance!.grant!
        let soon = f.fund(cr(10), expiresAt: 5_000, priority: 0).acceptance!.grant!
        let soonPromo = f.fund(cr(10), expiresAt: 5_000, priority: 0, category: .promotional).acceptance!.grant!
        f.debit(cr(25))
        let grants = Dictionary(uniqueKeysWithValues: f.balance.grants.map { ($0.grant, $0.remainingMicrocredits) })
        // priority 0 first: soonest expiry (soon, then the younger soonPromo), then never; late last.
        #expect(grants[soon] == nil)           // fully used
        #expect(grants[soonPromo] == nil)      // fully used
        #expect(grants[never] == cr(5))
        #expect(grants[late] == cr(10))
        let usage = f.sink.records.last!.transfers.filter { $0.to == .usage }.map(\.grant)
        #expect(usage == [soon, soonPromo, never])
    }

    @Test func aHoldThatExpiresBeforeCaptureReturnsItsCredits() {
        var f = Fixture()
        f.fund(cr(10))
        let hold = f.authorize(cr(4), expiresAt: 500).acceptance!.hold!
        #expect(f.available == cr(6))
        f.apply(.advanceTime, at: 500)
        #expect(f.available == cr(10))
        #expect(f.apply(.capture(hold: hold, amountMicrocredits: cr(2))) == .refused(.holdExpired))
    }

    @Test func captureBelowTheHoldReleasesTheRest() {
        var f = Fixture()
        f.fund(cr(10))
        let hold = f.authorize(cr(4), expiresAt: 10_000).acceptance!.hold!
        let out = f.apply(.capture(hold: hold, amountMicrocredits: cr(1))).acceptance!
        #expect(out.chargedMicrocredits == cr(1))
        #expect(out.releasedMicrocredits == cr(3))
        #expect(f.available == cr(9))
        #expect(f.apply(.capture(hold: hold, amountMicrocredits: cr(1))) == .refused(.holdSettled))
    }

    @Test func captureAboveTheHoldDrawsTheDifferenceUnderThePoolPolicies() {
        var f = Fixture()
        f.fund(cr(10))
        let hold = f.authorize(cr(4), expiresAt: 10_000).acceptance!.hold!
        #expect(f.apply(.capture(hold: hold, amountMicrocredits: cr(7))).acceptance?.chargedMicrocredits == cr(7))
        #expect(f.available == cr(3))
        // Above what the pool can cover, the capture is refused and the hold stays open.
        let second = f.authorize(cr(2), expiresAt: 10_000).acceptance!.hold!
        #expect(f.apply(.capture(hold: second, amountMicrocredits: cr(6))).refusal == .insufficientFunds(availableMicrocredits: cr(1)))
        #expect(f.ledger.heldAmount(second) == cr(2))
    }

    @Test func captureAboveTheHoldMayUseTheOverdraft() {
        var f = Fixture(policies: [.overdraft(limitMicrocredits: cr(5))])
        f.fund(cr(3))
        let hold = f.authorize(cr(3), expiresAt: 10_000).acceptance!.hold!
        let out = f.apply(.capture(hold: hold, amountMicrocredits: cr(5))).acceptance!
        #expect(out.overageMicrocredits == cr(2))
        #expect(f.balance.totalMicrocredits == -cr(2))
        #expect(f.ledger.balance(of: .overage) == cr(2))
    }

    @Test func tinyPricesRoundUpOncePerCall() {
        // $0.15 per million input tokens = 150,000 micro-credits per Mtok = 0.15 µcr per token.
        let p = ModelPrice(model: "mini", tier: 1, inputMicrocreditsPerMillionTokens: 150_000,
                           outputMicrocreditsPerMillionTokens: 600_000)
        #expect(PriceTable.cost(p, inputTokens: 1, outputTokens: 0) == 1)  // 0.15 → 1, never 0
        #expect(PriceTable.cost(p, inputTokens: 20, outputTokens: 0) == 3)  // exactly 3
        #expect(PriceTable.cost(p, inputTokens: 7, outputTokens: 3) == 3)   // 1.05 + 1.8 = 2.85 → 3
        #expect(PriceTable.cost(p, inputTokens: 0, outputTokens: 0) == 0)
        let fixed = ModelPrice(model: "search", tier: 2, inputMicrocreditsPerMillionTokens: 0,
                               outputMicrocreditsPerMillionTokens: 0, fixedMicrocredits: 5_000)
        #expect(PriceTable.cost(fixed, inputTokens: 10, outputTokens: 10) == 5_000)
        #expect(PriceTable.cost(p, inputTokens: .max, outputTokens: 1) == nil)
        #expect(PriceTable.cost(p, inputTokens: -1, outputTokens: 1) == nil)
        let table = PriceTable([p, fixed])
        #expect(table.cost(model: "mini", inputTokens: 1_000_000, outputTokens: 1_000_000) == 750_000)
        #expect(table.cost(model: "unknown", inputTokens: 1, outputTokens: 1) == nil)
    }

    @Test func overdraftExactlyAtItsLimit() {
        var f = Fixture(policies: [.overdraft(limitMicrocredits: cr(5))])
        f.fund(cr(10))
        #expect(f.debit(cr(15)).acceptance?.overageMicrocredits == cr(5))
        #expect(f.balance.totalMicrocredits == -cr(5))
        #expect(f.debit(1).refusal == .insufficientFunds(availableMicrocredits: 0))
        // New funding settles the overdraft first.
        f.fund(cr(8))
        #expect(f.available == cr(3))
        #expect(f.balance.overdrawnMicrocredits == 0)
    }

    @Test func concurrentHoldsExhaustAPool() {
        var f = Fixture()
        f.fund(cr(10))
        var holds: [HoldID] = []
        for _ in 0..<3 { holds.append(f.authorize(cr(3), expiresAt: 60_000).acceptance!.hold!) }
        #expect(f.authorize(cr(3), expiresAt: 60_000).refusal == .insufficientFunds(availableMicrocredits: cr(1)))
        #expect(f.balance.heldMicrocredits == cr(9))
        #expect(f.debit(cr(2)).refusal == .insufficientFunds(availableMicrocredits: cr(1)))
        f.apply(.release(hold: holds[0]))
        #expect(f.debit(cr(2)).isAccepted)
    }

    @Test func aSuspendedIdentityIsRefusedAlthoughThePoolIsFunded() {
        var f = Fixture()
        f.fund(cr(100))
        f.apply(.setIdentityStatus(identity: f.bot, .suspended))
        #expect(f.debit(cr(1)).refusal == .identitySuspended)
        f.apply(.setIdentityStatus(identity: f.bot, .active))
        #expect(f.debit(cr(1)).isAccepted)
        f.apply(.setIdentityStatus(identity: f.bot, .revoked))
        #expect(f.debit(cr(1)).refusal == .identityRevoked)
        #expect(f.apply(.setIdentityStatus(identity: f.bot, .active)).refusal == .statusChangeNotAllowed)
    }

    @Test func theEntitlementCheckComesBeforeTheBalanceCheck() {
        var f = Fixture()
        let other = f.apply(.createPool(PoolSpec(name: "sales"))).acceptance!.pool!
        // The pool is empty, but the answer is about entitlement, not funds.
        #expect(f.apply(.debit(identity: f.bot, pool: other, tier: 0, amountMicrocredits: cr(1))).refusal == .notEntitled)
    }

    @Test func entitlementsLimitTiersSpendAndRate() {
        var e = Entitlement.tiers([1, 2])
        e.capPerPeriodMicrocredits = cr(10)
        e.capPeriodMs = Millis.day
        e.rateMaxDraws = 2
        e.rateWindowMs = Millis.minute
        var f = Fixture(entitlement: e)
        f.fund(cr(100))
        #expect(f.debit(cr(1), tier: 0).refusal == .tierNotAllowed(tier: 0))
        #expect(f.debit(cr(4), tier: 1, at: 0).isAccepted)
        #expect(f.debit(cr(4), tier: 1, at: 1).isAccepted)
        #expect(f.debit(cr(1), tier: 1, at: 2).refusal == .rateCapExceeded(retryAfterMs: Millis.minute - 2))
        #expect(f.debit(cr(3), tier: 1, at: Millis.minute).refusal == .spendCapExceeded(capMicrocredits: cr(10), usedMicrocredits: cr(8)))
        #expect(f.debit(cr(2), tier: 2, at: Millis.minute).isAccepted)
        // A new day resets the cap.
        #expect(f.debit(cr(9), tier: 1, at: Millis.day).isAccepted)
        #expect(f.ledger.usage(of: f.bot, fromMs: 0, toMs: Millis.day) == cr(10))
        #expect(f.ledger.usage(of: f.bot) == cr(19))
    }

    @Test func transferMovesCreditsWithTheirTerms() {
        var f = Fixture()
        let sales = f.apply(.createPool(PoolSpec(name: "sales"))).acceptance!.pool!
        f.fund(cr(10), expiresAt: 5_000, priority: 2, category: .promotional)
        #expect(f.apply(.transfer(from: f.pool, to: sales, amountMicrocredits: cr(4))).isAccepted)
        let moved = f.ledger.balance(of: sales)!.grants
        #expect(moved.count == 1)
        #expect(moved[0].expiresAtMs == 5_000 && moved[0].priority == 2 && moved[0].category == .promotional)
        #expect(f.apply(.transfer(from: f.pool, to: sales, amountMicrocredits: cr(7))).refusal == .insufficientFunds(availableMicrocredits: cr(6)))
        f.apply(.advanceTime, at: 5_000)
        #expect(f.ledger.available(in: sales) == 0)
    }

    @Test func adjustIsACorrectingEntryNotAnEdit() {
        var f = Fixture()
        f.fund(cr(10))
        f.debit(cr(4))
        // Refund a wrong charge: usage → pool.
        #expect(f.apply(.adjust(pool: f.pool, amountMicrocredits: cr(4), against: .usage, memo: "INC-12")).isAccepted)
        #expect(f.available == cr(10))
        #expect(f.ledger.balance(of: .usage) == 0)
        #expect(f.apply(.adjust(pool: f.pool, amountMicrocredits: -cr(3), against: .funding, memo: "over-funded")).isAccepted)
        #expect(f.available == cr(7))
        #expect(f.sink.records.count == 7)
    }

    @Test func aGrantEffectiveLaterIsInvisibleUntilThen() {
        var f = Fixture()
        f.fund(cr(10), effectiveAt: 2_000)
        #expect(f.balance.pendingMicrocredits == cr(10))
        #expect(f.debit(cr(1), at: 1_999).refusal == .insufficientFunds(availableMicrocredits: 0))
        #expect(f.debit(cr(1), at: 2_000).isAccepted)
    }

    @Test func timeNeverGoesBackwards() {
        var f = Fixture()
        f.fund(cr(10))
        f.debit(cr(1), at: 100)
        #expect(f.debit(cr(1), at: 99).refusal == .timeWentBackwards(nowMs: 100))
    }

    @Test func overflowIsARefusalNeverATrap() {
        var f = Fixture()
        #expect(f.fund(Int64.max - 1).isAccepted)
        #expect(f.fund(Int64.max - 1).refusal == .overflow)
        var e = Entitlement()
        e.capPerPeriodMicrocredits = Int64.max
        f.apply(.entitle(identity: f.bot, pool: f.pool, e))
        #expect(f.debit(Int64.max).refusal == .insufficientFunds(availableMicrocredits: Int64.max - 1))
    }

    @Test func badArgumentsAreRefusedWithAReason() {
        var f = Fixture()
        #expect(f.fund(0).refusal == .invalidArgument("amount must be positive"))
        #expect(f.debit(-5).refusal == .invalidArgument("amount must be positive"))
        #expect(f.apply(.createPool(PoolSpec(name: "eng"))).refusal == .duplicateName("eng"))
        #expect(f.apply(.fund(pool: PoolID(9), GrantSpec(amountMicrocredits: 1))).refusal == .unknownPool(PoolID(9)))
        #expect(f.apply(.capture(hold: HoldID(slot: 3, generation: 0), amountMicrocredits: 1)).refusal == .unknownHold(HoldID(slot: 3, generation: 0)))
        #expect(f.apply(.createPool(PoolSpec(name: "x", policies: [.overdraft(limitMicrocredits: -1)]))).refusal
                == .invalidArgument("overdraft limit must not be negative"))
    }

    @Test func creditsParseAndFormatExactly() {
        #expect(Money.parseCredits("1000") == 1_000_000_000)
        #expect(Money.parseCredits("0.25") == 250_000)
        #expect(Money.parseCredits("-3.5") == -3_500_000)
        #expect(Money.parseCredits("0.000001") == 1)
        #expect(Money.parseCredits("0.0000001") == nil)
        #expect(Money.parseCredits("1e3") == nil)
        #expect(Money.parseCredits("") == nil)
        #expect(Money.parseCredits("1.") == nil)
        #expect(Money.parseCredits("99999999999999999999") == nil)
        #expect(Money.formatCredits(250_000) == "0.25")
        #expect(Money.formatCredits(-1_000_000) == "-1")
        #expect(Money.formatCredits(1_000_001) == "1.000001")
    }

    @Test func durationsCarryTheirUnit() {
        #expect(Millis.parse("500ms") == 500)
        #expect(Millis.parse("90s") == 90_000)
        #expect(Millis.parse("1.5h") == 5_400_000)
        #expect(Millis.parse("4w") == 4 * 7 * Millis.day)
        #expect(Millis.parse("30") == nil)       // no unit
        #expect(Millis.parse("-5m") == nil)
        #expect(Millis.parse("5 parsecs") == nil)
    }

    @Test func holdIDsSurviveARawRoundTrip() {
        let id = HoldID(slot: 17, generation: 3)
        #expect(HoldID(raw: id.raw) == id)
        #expect(HoldID(raw: -1) == nil)
    }
}
