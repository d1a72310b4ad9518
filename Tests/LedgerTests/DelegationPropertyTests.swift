import PropertyBased
import Testing
@testable import Ledger

/// The ledger's property test, extended to delegations: random delegate, sub-delegate, close,
/// debit, authorize, capture, release, suspend, resume, revoke, expire and fund sequences. After
/// every step: the ledger's invariants (its delegation invariants among them), a tree never spends
/// more than its root's amount (counted here from the accepted answers), closed means closed
/// below (after a close, an expiry or a suspension, nothing the test knows below is open), and
/// conservation of credits. Every 16 steps and at the end, replaying the journal and restoring a
/// snapshot give the identical state digest.
extension LedgerPropertyTests {
    static let delegationSteps = zip(Gen.int(in: 0...12), Gen.int(in: 0...30), Gen.int(in: 0...40), Gen.int(in: 0...7))
        .map { Step($0, $1, $2, $3) }
        .array(of: 1...80)

    @Test func delegationTreesKeepTheirInvariantsUnderRandomCommands() async {
        await propertyCheck(count: 1_000, input: Gen.int(in: 0...3), Self.delegationSteps) { limitUnits, steps in
            runDelegations(limit: Int64(limitUnits) * Self.unit, steps: steps)
        }
    }

    /// What the test knows of a delegation it made.
    struct Known {
        var id: DelegationID
        var parent: Int?
        var root: Int
        var delegator: IdentityID
        var holder: IdentityID
        var amount: Int64
    }

    func runDelegations(limit: Int64, steps: [Step]) {
        var ledger = Ledger()
        var sink = RecordingSink()
        var now: Int64 = 0
        func apply(_ c: Command) -> Outcome { ledger.apply(Request(atMs: now, c), sink: &sink) }
        let policies: [Policy] = limit > 0 ? [.overdraft(limitMicrocredits: limit)] : []
        let pool = apply(.createPool(PoolSpec(name: "p", policies: policies))).acceptance!.pool!
        var entitled: [IdentityID] = []
        for name in ["bot", "ann"] {
            let i = apply(.createIdentity(IdentitySpec(name: name))).acceptance!.identity!
            _ = apply(.entitle(identity: i, pool: pool, Entitlement()))
            entitled.append(i)
        }
        _ = apply(.fund(pool: pool, GrantSpec(amountMicrocredits: 40 * Self.unit)))
        let children = (0..<6).map { "c\($0)" }
        var known: [Known] = []
        var holds: [(id: HoldID, delegation: Int, amount: Int64)] = []
        /// Per root (index into `known`): credits charged by accepted draws in its tree.
        var treeCharged: [Int: Int64] = [:]

        func identities() -> [IdentityID] { (0..<ledger.identityCount).map { IdentityID(Int32($0)) } }
        func isOpen(_ k: Int) -> Bool { ledger.delegation(known[k].id) != nil }
        func depthOf(_ k: Int) -> Int { ledger.delegation(known[k].id)?.depth ?? 0 }
        func below(_ k: Int) -> [Int] {
            known.indices.filter { j in
                var p = known[j].parent
                while let q = p { if q == k { return true }; p = known[q].parent }
                return false
            }
        }

        for (n, s) in steps.enumerated() {
            now += Int64(s.b % 4) * 250
            let amount = Int64(s.a + 1) * Self.unit / 2
            let label = "step \(n) \(s)"
            // Open and still live at this step's time (an expiry due by now runs before its command).
            let open = known.indices.filter { ledger.delegation(known[$0].id).map { ($0.expiresAtMs ?? .max) > now } ?? false }
            var closedNow: [Int] = []   // delegations whose subtree must be closed after this step
            var outcome: Outcome = .refused(.invalidArgument("no step"))
            switch s.op {
            case 0:
                let who = entitled[s.c % 2]
                let expires: Int64? = s.c % 3 == 0 ? nil : now + Int64(s.b + 1) * 300
                outcome = apply(.delegate(identity: who, child: children[s.b % children.count], from: .pool(pool),
                                          amountMicrocredits: amount * 4, expiresAtMs: expires))
                if let d = outcome.acceptance?.delegation {
                    known.append(Known(id: d, parent: nil, root: known.count, delegator: who, holder: outcome.acceptance!.identity!, amount: amount * 4))
                }
            case 1, 2, 12:
                guard !open.isEmpty else { continue }
                // The deepest open ones first half the time, so that chains grow.
                let k = s.c % 2 == 0 ? open.max { depthOf($0) < depthOf($1) }! : open[s.b % open.count]
                // Mostly the holder; sometimes someone else (refused).
                let who = s.c == 7 ? entitled[0] : known[k].holder
                let expires: Int64? = s.c % 2 == 0 ? nil : now + Int64(s.b + 1) * 200
                // A third of a root step's amount, so that chains reach the depth limit.
                let part = max(1, amount / 3)
                outcome = apply(.delegate(identity: who, child: children[(s.b + s.c) % children.count], from: .delegation(known[k].id),
                                          amountMicrocredits: part, expiresAtMs: expires))
                if let d = outcome.acceptance?.delegation {
                    known.append(Known(id: d, parent: k, root: known[k].root, delegator: who, holder: outcome.acceptance!.identity!, amount: part))
                }
                if case .delegationDepthExceeded = outcome.refusal { #expect(ledger.delegation(known[k].id)!.depth == 4, "\(label)") }
            case 3, 4:
                guard !open.isEmpty else { continue }
                let k = open[s.b % open.count]
                let who = s.c == 7 ? entitled[1] : known[k].holder
                outcome = apply(.delegatedDebit(delegation: known[k].id, identity: who, tier: 0, amountMicrocredits: amount))
                if let a = outcome.acceptance { treeCharged[known[k].root, default: 0] += a.chargedMicrocredits }
            case 5:
                guard !open.isEmpty else { continue }
                let k = open[s.b % open.count]
                outcome = apply(.delegatedAuthorize(delegation: known[k].id, identity: known[k].holder, tier: 0, amountMicrocredits: amount,
                                                    expiresAtMs: now + Int64(s.c + 1) * 400))
                if let h = outcome.acceptance?.hold { holds.append((h, k, amount)) }
            case 6:
                guard !holds.isEmpty else { continue }
                let h = holds.remove(at: s.b % holds.count)
                if s.c % 3 == 0 {
                    outcome = apply(.release(hold: h.id, identity: known[h.delegation].holder))
                } else {
                    let charge = h.amount + Int64(s.c - 3) * Self.unit / 4
                    let command: Command = s.c % 2 == 0
                        ? .capture(hold: h.id, amountMicrocredits: max(0, charge), identity: known[h.delegation].holder)
                        : .delegatedCapture(delegation: known[h.delegation].id, hold: h.id, amountMicrocredits: max(0, charge),
                                            identity: known[h.delegation].holder)
                    outcome = apply(command)
                    if let a = outcome.acceptance { treeCharged[known[h.delegation].root, default: 0] += a.chargedMicrocredits }
                }
            case 7:
                guard !open.isEmpty else { continue }
                let k = open[s.b % open.count]
                // The delegator, one above it, a stranger (refused) or an admin.
                var closer: IdentityID? = known[k].delegator
                if s.c % 4 == 1, let p = known[k].parent { closer = known[p].delegator }
                if s.c % 4 == 2 { closer = known[k].holder }
                if s.c % 4 == 3 { closer = nil }
                outcome = apply(.closeDelegation(known[k].id, identity: closer))
                if outcome.isAccepted { closedNow.append(k) }
                if s.c % 4 == 2 { #expect(outcome.refusal == .delegationNotOwned, "\(label): the holder closed its own delegation") }
            case 8:
                let all = identities()
                let who = all[s.b % all.count]
                let status: IdentityStatus = s.c < 3 ? .suspended : s.c == 7 ? .revoked : .active
                outcome = apply(.setIdentityStatus(identity: who, status))
                if outcome.isAccepted && status != .active {
                    closedNow += open.filter { known[$0].delegator == who || (status == .revoked && known[$0].holder == who) }
                }
            case 9:
                outcome = apply(.fund(pool: pool, GrantSpec(amountMicrocredits: Int64(s.a + 1) * Self.unit,
                                                            expiresAtMs: s.c % 2 == 0 ? nil : now + Int64(s.c) * 500)))
            case 10:
                outcome = apply(.debit(identity: entitled[s.c % 2], pool: pool, tier: 0, amountMicrocredits: amount))
            default:
                now += Int64(s.b) * 100
                outcome = apply(.advanceTime)
            }
            _ = outcome

            let problems = ledger.invariantViolations()
            #expect(problems.isEmpty, "\(label): \(problems)")
            if !problems.isEmpty { return }
            // Closed means closed below.
            for k in closedNow {
                #expect(!isOpen(k), "\(label): closed delegation \(k) still open")
                for j in below(k) { #expect(!isOpen(j), "\(label): \(j) open below closed \(k)") }
            }
            for k in known.indices where isOpen(k) {
                if let p = known[k].parent { #expect(isOpen(p), "\(label): \(k) open below closed \(p)") }
            }
            // A tree never spends more than its root's amount (from the answers, not the ledger's books).
            for (root, charged) in treeCharged { #expect(charged <= known[root].amount, "\(label): tree of \(root) spent \(charged)") }
            // Conservation: every credit funded is in the pool, spent, overdrawn or expired.
            let b = ledger.balance(of: pool)!
            #expect(b.totalMicrocredits + ledger.balance(of: .usage) + ledger.balance(of: .overage) + ledger.balance(of: .expiry)
                    == -ledger.balance(of: .funding), "\(label): conservation")
            #expect(b.heldMicrocredits >= 0 && b.heldMicrocredits == ledger.openDelegations.filter { $0.parent == nil }
                        .reduce(0) { $0 + ($1.amountMicrocredits - $1.treeSpentMicrocredits!) } - returned(ledger), "\(label): held")
            if n % 16 == 15 { expectReplayAndSnapshot(sink.records, reproduce: ledger, label) }
        }
        expectReplayAndSnapshot(sink.records, reproduce: ledger, "end")
    }

    /// What the open roots' closed parts returned (the root hold is amount − tree spent − returned).
    func returned(_ ledger: Ledger) -> Int64 {
        ledger.delegations.enumerated().reduce(0) { sum, e in
            e.element.phase == .open && e.element.root == Int32(e.offset) ? sum + e.element.treeReturned : sum
        }
    }

    func expectReplayAndSnapshot(_ records: [JournalRecord], reproduce ledger: Ledger, _ label: String) {
        expectReplay(records, reproduces: ledger, label)
        do {
            let restored = try Ledger(snapshot: ledger.snapshot(), config: ledger.config) { _ in nil }
            #expect(restored.stateDigest == ledger.stateDigest, "\(label): snapshot digest differs")
            #expect(restored.openDelegations == ledger.openDelegations, "\(label): snapshot delegations differ")
        } catch {
            Issue.record("\(label): snapshot does not restore: \(error)")
        }
    }
}
