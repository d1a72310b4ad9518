import Testing
@testable import Ledger

/// A capture above its hold is new spend, and a hold belongs to the identity that placed it.
@Suite("Holds: the excess is checked, the owner is named")
struct HoldRulesTests {
    @Test func captureAboveAHoldRespectsTheDailySpendCap() {
        var f = Fixture(entitlement: Entitlement(capPerPeriodMicrocredits: cr(10), capPeriodMs: Millis.day))
        f.fund(cr(1_000))
        #expect(f.debit(cr(50)).refusal == .spendCapExceeded(capMicrocredits: cr(10), usedMicrocredits: 0))
        let hold = f.authorize(cr(1), expiresAt: 60_000).acceptance!.hold!
        // Before the fix the excess of 89 skipped every identity check and was accepted.
        #expect(f.apply(.capture(hold: hold, amountMicrocredits: cr(90))).refusal
                == .spendCapExceeded(capMicrocredits: cr(10), usedMicrocredits: cr(1)))
        // Nothing changed for the hold: it can still be captured within the cap.
        #expect(f.apply(.capture(hold: hold, amountMicrocredits: cr(9))).acceptance?.chargedMicrocredits == cr(9))
        #expect(f.ledger.balance(of: .usage) == cr(9))
    }

    @Test func aSuspendedOrRevokedIdentityCannotCaptureAboveItsHold() {
        for status in [IdentityStatus.suspended, .revoked] {
            var f = Fixture()
            f.fund(cr(1_000))
            let hold = f.authorize(cr(1), expiresAt: 60_000).acceptance!.hold!
            f.apply(.setIdentityStatus(identity: f.bot, status))
            let expected: Refusal = status == .suspended ? .identitySuspended : .identityRevoked
            #expect(f.apply(.capture(hold: hold, amountMicrocredits: cr(500))).refusal == expected)
            // The work the hold covered may still be settled.
            #expect(f.apply(.capture(hold: hold, amountMicrocredits: cr(1))).isAccepted)
        }
    }

    @Test func captureAboveAHoldRespectsTheTierAndRateCap() {
        var f = Fixture(entitlement: Entitlement(rateMaxDraws: 1, rateWindowMs: Millis.minute))
        f.fund(cr(100))
        let hold = f.authorize(cr(1), expiresAt: 30_000).acceptance!.hold!
        // The authorize used the one draw of this minute: the excess is refused by the rate cap.
        #expect(f.apply(.capture(hold: hold, amountMicrocredits: cr(2))).refusal?.code == "rate_cap_exceeded")
        #expect(f.apply(.capture(hold: hold, amountMicrocredits: cr(1))).isAccepted)
    }

    @Test func anotherIdentityCannotCaptureOrReleaseAHold() {
        var f = Fixture()
        f.fund(cr(100))
        let eve = f.apply(.createIdentity(IdentitySpec(name: "eve"))).acceptance!.identity!
        f.apply(.entitle(identity: eve, pool: f.pool, Entitlement()))
        let hold = f.authorize(cr(5), expiresAt: 60_000).acceptance!.hold!
        #expect(f.apply(.capture(hold: hold, amountMicrocredits: cr(5), identity: eve)).refusal == .holdNotOwned)
        #expect(f.apply(.release(hold: hold, identity: eve)).refusal == .holdNotOwned)
        #expect(f.ledger.balance(of: f.pool)!.heldMicrocredits == cr(5))
        #expect(f.apply(.capture(hold: hold, amountMicrocredits: cr(4), identity: f.bot)).acceptance?.chargedMicrocredits == cr(4))
    }

    @Test func keysThatDifferOnlyByUnicodeNormalisationAreTwoKeys() {
        var f = Fixture()
        f.fund(cr(100))
        let nfc = "caf\u{E9}", nfd = "cafe\u{301}"
        #expect(nfc == nfd)  // Swift's String equality: canonical equivalence
        #expect(f.debit(cr(1), key: nfc).isAccepted)
        #expect(f.debit(cr(2), key: nfd).acceptance?.chargedMicrocredits == cr(2))
        #expect(f.ledger.balance(of: .usage) == cr(3))
        // Each key still answers its own retry.
        #expect(f.debit(cr(1), key: nfc).acceptance?.chargedMicrocredits == cr(1))
        #expect(f.ledger.balance(of: .usage) == cr(3))
    }

    @Test func aFingerprintMakesARetryWithARelativeTimeTheSameRequest() {
        var f = Fixture()
        f.fund(cr(100))
        let first = f.ledger.apply(Request(atMs: 1_000, key: "h", fingerprint: 42,
                                           .authorize(identity: f.bot, pool: f.pool, tier: 0, amountMicrocredits: cr(1), expiresAtMs: 61_000)))
        // The same request sent again 1 ms later: its absolute expiry differs, its fingerprint does not.
        let retry = f.ledger.apply(Request(atMs: 1_001, key: "h", fingerprint: 42,
                                           .authorize(identity: f.bot, pool: f.pool, tier: 0, amountMicrocredits: cr(1), expiresAtMs: 61_001)))
        #expect(first.isAccepted && retry == first)
        let other = f.ledger.apply(Request(atMs: 1_002, key: "h", fingerprint: 43,
                                           .authorize(identity: f.bot, pool: f.pool, tier: 0, amountMicrocredits: cr(1), expiresAtMs: 61_002)))
        #expect(other == .refused(.idempotencyKeyReused("h")))
    }

    @Test func namesFollowOneRule() {
        var l = Ledger()
        for bad in ["", "a\u{0}b", "esc\u{1B}[31m", "evil\u{202E}gpj.exe", "..", ".hidden", "a/b", "a b", String(repeating: "x", count: 129)] {
            #expect(l.apply(Request(atMs: 0, .createPool(PoolSpec(name: bad)))).refusal?.code == "invalid_argument", "\(bad.debugDescription)")
            #expect(l.apply(Request(atMs: 0, .createIdentity(IdentitySpec(name: bad)))).refusal?.code == "invalid_argument")
        }
        for good in ["eng", "coding-agent", "team_1.sandbox", "svc:billing", "bot@eng", String(repeating: "x", count: 128)] {
            #expect(l.apply(Request(atMs: 0, .createPool(PoolSpec(name: good)))).isAccepted, "\(good)")
        }
    }

    @Test func amountsThatOverflowAreErrorsNotTraps() {
        #expect(Money.parseCredits("9223372036854.775807") == .max)
        #expect(Money.parseCredits("9223372036854.775808") == nil)
        #expect(Money.parseCredits("-9223372036854.775808") == nil)
        #expect(Money.parseCredits("99999999999999999999") == nil)
        #expect(Millis.parse("9223372036854775807d") == nil)
    }
}
