import Testing
@testable import Ledger

/// Delegation: a budget handed down an agent chain (DESIGN, "Delegation").
@Suite("Delegations: reserve, spend, cascade")
struct DelegationTests {
    /// A fixture with 100 credits in `eng` for `bot` (the planner).
    static func funded(_ amount: Int64 = cr(100), policies: [Policy] = [], entitlement: Entitlement = Entitlement()) -> Fixture {
        var f = Fixture(policies: policies, entitlement: entitlement)
        f.fund(amount)
        return f
    }

    static func delegate(_ f: inout Fixture, by who: IdentityID, to child: String, from source: DelegationSource,
                         _ amount: Int64, expiresAt: Int64? = nil) -> Outcome {
        f.apply(.delegate(identity: who, child: child, from: source, amountMicrocredits: amount, expiresAtMs: expiresAt))
    }

    @Test func aRootDelegationHoldsItsAmountOnThePoolAndCreatesTheChild() {
        var f = Self.funded()
        let a = Self.delegate(&f, by: f.bot, to: "researcher", from: .pool(f.pool), cr(10)).acceptance!
        let d = a.delegation!
        #expect(d.raw == 0)
        let researcher = f.ledger.identity(named: "researcher")!
        #expect(a.identity == researcher)
        #expect(f.available == cr(90) && f.balance.heldMicrocredits == cr(10))
        let b = f.ledger.delegation(d)!
        #expect(b.depth == 1 && b.holder == researcher && b.delegator == f.bot && b.availableMicrocredits == cr(10))
        // The child may draw only through the delegation: it has no entitlement of its own.
        #expect(f.apply(.debit(identity: researcher, pool: f.pool, tier: 0, amountMicrocredits: cr(1))).refusal == .notEntitled)
        #expect(f.apply(.delegatedDebit(delegation: d, identity: researcher, tier: 0, amountMicrocredits: cr(2))).acceptance?.chargedMicrocredits == cr(2))
        #expect(f.ledger.balance(of: .usage) == cr(2))
        #expect(f.balance.heldMicrocredits == cr(8) && f.balance.totalMicrocredits == cr(98))
        #expect(f.ledger.delegation(d)!.spentMicrocredits == cr(2))
    }

    @Test func aRootDelegationIsSubjectToTheEntitlementCapAndThePool() {
        var f = Self.funded(cr(100), entitlement: Entitlement(capPerPeriodMicrocredits: cr(20), capPeriodMs: Millis.day))
        #expect(Self.delegate(&f, by: f.bot, to: "r", from: .pool(f.pool), cr(30)).refusal
                == .spendCapExceeded(capMicrocredits: cr(20), usedMicrocredits: 0))
        let d = Self.delegate(&f, by: f.bot, to: "r", from: .pool(f.pool), cr(15)).acceptance!.delegation!
        // The delegation counts against the planner's cap as a hold, then as the tree spends.
        #expect(f.debit(cr(6)).refusal == .spendCapExceeded(capMicrocredits: cr(20), usedMicrocredits: cr(15)))
        let r = f.ledger.identity(named: "r")!
        #expect(f.apply(.delegatedDebit(delegation: d, identity: r, tier: 0, amountMicrocredits: cr(5))).isAccepted)
        #expect(f.debit(cr(6)).refusal == .spendCapExceeded(capMicrocredits: cr(20), usedMicrocredits: cr(15)))
        #expect(f.debit(cr(5)).isAccepted)
        // A refused delegation created no identity.
        var g = Self.funded(cr(5))
        #expect(Self.delegate(&g, by: g.bot, to: "ghost", from: .pool(g.pool), cr(10)).refusal == .insufficientFunds(availableMicrocredits: cr(5)))
        #expect(g.ledger.identity(named: "ghost") == nil)
    }

    @Test func spendPlusSubDelegatedNeverExceedsTheAmount() {
        var f = Self.funded()
        let root = Self.delegate(&f, by: f.bot, to: "researcher", from: .pool(f.pool), cr(10)).acceptance!.delegation!
        let researcher = f.ledger.identity(named: "researcher")!
        let sub = Self.delegate(&f, by: researcher, to: "search", from: .delegation(root), cr(4)).acceptance!.delegation!
        let search = f.ledger.identity(named: "search")!
        #expect(f.apply(.delegatedDebit(delegation: root, identity: researcher, tier: 0, amountMicrocredits: cr(7))).refusal
                == .insufficientFunds(availableMicrocredits: cr(6)))
        #expect(f.apply(.delegatedDebit(delegation: sub, identity: search, tier: 0, amountMicrocredits: cr(5))).refusal
                == .insufficientFunds(availableMicrocredits: cr(4)))
        #expect(f.apply(.delegatedDebit(delegation: sub, identity: search, tier: 0, amountMicrocredits: cr(4))).isAccepted)
        #expect(f.apply(.delegatedDebit(delegation: root, identity: researcher, tier: 0, amountMicrocredits: cr(6))).isAccepted)
        #expect(f.ledger.delegation(root)!.treeSpentMicrocredits == cr(10))
        #expect(f.balance.heldMicrocredits == 0 && f.ledger.balance(of: .usage) == cr(10))
        // Only the holder draws: the planner cannot spend through the researcher's budget.
        #expect(f.apply(.delegatedDebit(delegation: root, identity: f.bot, tier: 0, amountMicrocredits: 1)).refusal == .delegationNotOwned)
    }

    @Test func holdsThroughADelegationReserveWithinItAndCaptureChargesThePool() {
        var f = Self.funded()
        let d = Self.delegate(&f, by: f.bot, to: "r", from: .pool(f.pool), cr(10)).acceptance!.delegation!
        let r = f.ledger.identity(named: "r")!
        let hold = f.apply(.delegatedAuthorize(delegation: d, identity: r, tier: 0, amountMicrocredits: cr(6), expiresAtMs: 60_000)).acceptance!.hold!
        #expect(f.ledger.delegation(d)!.availableMicrocredits == cr(4))
        // The pool's held is the delegation's, not counted twice.
        #expect(f.balance.heldMicrocredits == cr(10))
        // Above the hold, the excess must fit in what is free (4).
        #expect(f.apply(.capture(hold: hold, amountMicrocredits: cr(11), identity: r)).refusal == .insufficientFunds(availableMicrocredits: cr(4)))
        let c = f.apply(.delegatedCapture(delegation: d, hold: hold, amountMicrocredits: cr(7), identity: r)).acceptance!
        #expect(c.chargedMicrocredits == cr(7) && c.delegation == d)
        #expect(f.ledger.delegation(d)!.availableMicrocredits == cr(3) && f.balance.heldMicrocredits == cr(3))
        #expect(f.ledger.balance(of: .usage) == cr(7))
        // A hold expiring inside the delegation returns to it, not to the pool.
        _ = f.apply(.delegatedAuthorize(delegation: d, identity: r, tier: 0, amountMicrocredits: cr(2), expiresAtMs: 90_000))
        f.apply(.advanceTime, at: 90_000)
        #expect(f.ledger.delegation(d)!.availableMicrocredits == cr(3) && f.available == cr(90))
        // A capture naming another delegation is refused.
        let other = Self.delegate(&f, by: f.bot, to: "q", from: .pool(f.pool), cr(1)).acceptance!.delegation!
        let h2 = f.apply(.delegatedAuthorize(delegation: d, identity: r, tier: 0, amountMicrocredits: cr(1), expiresAtMs: 200_000)).acceptance!.hold!
        #expect(f.apply(.delegatedCapture(delegation: other, hold: h2, amountMicrocredits: cr(1), identity: r)).refusal?.code == "invalid_argument")
    }

    @Test func depthIsLimitedToFourLevels() {
        var f = Self.funded()
        var source = DelegationSource.pool(f.pool)
        var who = f.bot
        for level in 1...4 {
            let d = Self.delegate(&f, by: who, to: "agent-\(level)", from: source, cr(Int64(10 - level))).acceptance!.delegation!
            #expect(f.ledger.delegation(d)!.depth == level)
            source = .delegation(d)
            who = f.ledger.identity(named: "agent-\(level)")!
        }
        #expect(Self.delegate(&f, by: who, to: "agent-5", from: source, cr(1)).refusal == .delegationDepthExceeded(maxDepth: 4))
        #expect(f.ledger.identity(named: "agent-5") == nil)
    }

    @Test func closingReturnsTheUnspentRestOfTheWholeSubtree() {
        var f = Self.funded()
        let root = Self.delegate(&f, by: f.bot, to: "researcher", from: .pool(f.pool), cr(10)).acceptance!.delegation!
        let researcher = f.ledger.identity(named: "researcher")!
        let sub = Self.delegate(&f, by: researcher, to: "search", from: .delegation(root), cr(4)).acceptance!.delegation!
        let search = f.ledger.identity(named: "search")!
        _ = f.apply(.delegatedDebit(delegation: sub, identity: search, tier: 0, amountMicrocredits: cr(1)))
        _ = f.apply(.delegatedAuthorize(delegation: sub, identity: search, tier: 0, amountMicrocredits: cr(2), expiresAtMs: 60_000))
        _ = f.apply(.delegatedDebit(delegation: root, identity: researcher, tier: 0, amountMicrocredits: cr(2)))
        // Only a delegator on the chain (or an admin) closes; the holder does not.
        #expect(f.apply(.closeDelegation(sub, identity: search)).refusal == .delegationNotOwned)
        // Closing the sub-delegation: its rest (3, its open hold included) goes back to the pool.
        let closed = f.apply(.closeDelegation(sub, identity: researcher)).acceptance!
        #expect(closed.releasedMicrocredits == cr(3))
        #expect(f.available == cr(100) - cr(3) - cr(4))
        #expect(f.ledger.delegation(sub) == nil)
        #expect(f.apply(.delegatedDebit(delegation: sub, identity: search, tier: 0, amountMicrocredits: 1)).refusal == .delegationClosed)
        // The root's own rest: 10 − 2 spent − 4 delegated.
        #expect(f.ledger.delegation(root)!.availableMicrocredits == cr(4))
        // The planner closes the root (the sub-delegation's slot was freed and is reused below it).
        let again = Self.delegate(&f, by: researcher, to: "search", from: .delegation(root), cr(1)).acceptance!.delegation!
        #expect(again.slot == sub.slot && again.generation == sub.generation + 1)
        #expect(f.apply(.closeDelegation(root, identity: f.bot)).acceptance?.releasedMicrocredits == cr(4))
        #expect(f.ledger.delegation(again) == nil && f.ledger.openDelegations.isEmpty)
        #expect(f.available == cr(97) && f.balance.heldMicrocredits == 0 && f.ledger.balance(of: .usage) == cr(3))
    }

    @Test func expiryClosesTheDelegationAndEverythingBelow() {
        var f = Self.funded()
        let root = Self.delegate(&f, by: f.bot, to: "r", from: .pool(f.pool), cr(10), expiresAt: 3_600_000).acceptance!.delegation!
        let r = f.ledger.identity(named: "r")!
        let sub = Self.delegate(&f, by: r, to: "s", from: .delegation(root), cr(5), expiresAt: 1_800_000).acceptance!.delegation!
        // Without an expiry of its own, a sub-delegation ends with its parent.
        let s = f.ledger.identity(named: "s")!
        let leaf = Self.delegate(&f, by: s, to: "t", from: .delegation(sub), cr(2)).acceptance!.delegation!
        #expect(f.ledger.delegation(leaf)!.expiresAtMs == 1_800_000)
        f.apply(.advanceTime, at: 1_800_000)
        #expect(f.ledger.delegation(sub) == nil && f.ledger.delegation(leaf) == nil)
        #expect(f.available == cr(95))
        f.apply(.advanceTime, at: 3_600_000)
        #expect(f.ledger.openDelegations.isEmpty && f.available == cr(100))
    }

    @Test func suspendingAnIdentityAboveClosesWhatItHandedDown() {
        var f = Self.funded()
        let root = Self.delegate(&f, by: f.bot, to: "r", from: .pool(f.pool), cr(10)).acceptance!.delegation!
        let r = f.ledger.identity(named: "r")!
        let sub = Self.delegate(&f, by: r, to: "s", from: .delegation(root), cr(5)).acceptance!.delegation!
        // Suspending the researcher closes what it delegated; its own budget is frozen, not closed.
        f.apply(.setIdentityStatus(identity: r, .suspended))
        #expect(f.ledger.delegation(sub) == nil && f.ledger.delegation(root) != nil)
        #expect(f.apply(.delegatedDebit(delegation: root, identity: r, tier: 0, amountMicrocredits: 1)).refusal == .identitySuspended)
        f.apply(.setIdentityStatus(identity: r, .active))
        #expect(f.apply(.delegatedDebit(delegation: root, identity: r, tier: 0, amountMicrocredits: 1)).isAccepted)
        // Suspending the planner closes the root and so the whole tree.
        _ = Self.delegate(&f, by: r, to: "s", from: .delegation(root), cr(5))
        f.apply(.setIdentityStatus(identity: f.bot, .suspended))
        #expect(f.ledger.openDelegations.isEmpty)
        #expect(f.available == cr(100) - 1)
        // Revoking a holder returns its budget at once (it can never draw again).
        f.apply(.setIdentityStatus(identity: f.bot, .active))
        let third = Self.delegate(&f, by: f.bot, to: "q", from: .pool(f.pool), cr(3)).acceptance!.delegation!
        f.apply(.setIdentityStatus(identity: f.ledger.identity(named: "q")!, .revoked))
        #expect(f.ledger.delegation(third) == nil && f.available == cr(100) - 1)
    }

    @Test func aChildMayNotBeTheDelegatorOrOnTheChain() {
        var f = Self.funded()
        #expect(Self.delegate(&f, by: f.bot, to: "bot", from: .pool(f.pool), cr(1)).refusal?.code == "invalid_argument")
        let root = Self.delegate(&f, by: f.bot, to: "r", from: .pool(f.pool), cr(5)).acceptance!.delegation!
        let r = f.ledger.identity(named: "r")!
        #expect(Self.delegate(&f, by: r, to: "bot", from: .delegation(root), cr(1)).refusal?.code == "invalid_argument")
        // A sub-delegation is made by the holder only.
        #expect(Self.delegate(&f, by: f.bot, to: "x", from: .delegation(root), cr(1)).refusal == .delegationNotOwned)
    }

    @Test func tiersAreThoseOfTheRootDelegatorsEntitlement() {
        var f = Self.funded(entitlement: .tiers([0, 1]))
        let d = Self.delegate(&f, by: f.bot, to: "r", from: .pool(f.pool), cr(5)).acceptance!.delegation!
        let r = f.ledger.identity(named: "r")!
        #expect(f.apply(.delegatedDebit(delegation: d, identity: r, tier: 2, amountMicrocredits: 1)).refusal == .tierNotAllowed(tier: 2))
        #expect(f.apply(.delegatedDebit(delegation: d, identity: r, tier: 1, amountMicrocredits: 1)).isAccepted)
    }

    @Test func aRootOnTheOverdraftChargesOverageAndReleasesTheOverdraftFirst() {
        var f = Self.funded(cr(5), policies: [.overdraft(limitMicrocredits: cr(10))])
        let d = Self.delegate(&f, by: f.bot, to: "r", from: .pool(f.pool), cr(12)).acceptance!.delegation!
        let r = f.ledger.identity(named: "r")!
        let debit = f.apply(.delegatedDebit(delegation: d, identity: r, tier: 0, amountMicrocredits: cr(6))).acceptance!
        #expect(debit.overageMicrocredits == cr(1))
        #expect(f.ledger.balance(of: .overage) == cr(1) && f.ledger.balance(of: .usage) == cr(5))
        #expect(f.apply(.closeDelegation(d, identity: nil)).isAccepted)
        #expect(f.balance.heldMicrocredits == 0)
    }

    @Test func aDelegationsAnswerIsRememberedUnderItsKey() {
        var f = Self.funded()
        let c = Command.delegate(identity: f.bot, child: "r", from: .pool(f.pool), amountMicrocredits: cr(5), expiresAtMs: nil)
        let first = f.apply(c, key: "k1")
        #expect(f.apply(c, key: "k1") == first)
        #expect(f.ledger.openDelegations.count == 1 && f.available == cr(95))
    }

    @Test func aSnapshotWithDelegationsRestoresTheSameState() throws {
        var f = Self.funded()
        let root = Self.delegate(&f, by: f.bot, to: "r", from: .pool(f.pool), cr(10), expiresAt: 100_000).acceptance!.delegation!
        let r = f.ledger.identity(named: "r")!
        _ = Self.delegate(&f, by: r, to: "s", from: .delegation(root), cr(3))
        _ = f.apply(.delegatedAuthorize(delegation: root, identity: r, tier: 0, amountMicrocredits: cr(1), expiresAtMs: 50_000))
        let restored = try Ledger(snapshot: f.ledger.snapshot(), config: f.ledger.config) { _ in nil }
        #expect(restored.stateDigest == f.ledger.stateDigest)
        #expect(restored.openDelegations == f.ledger.openDelegations)
        // Replay of the journal gives the same state too.
        let (replayed, mismatches) = Ledger.replay(f.sink.records)
        #expect(mismatches.isEmpty && replayed.stateDigest == f.ledger.stateDigest)
    }
}
