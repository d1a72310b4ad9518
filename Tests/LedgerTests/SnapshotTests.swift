import Foundation
import PropertyBased
import Testing
@testable import Ledger

/// A snapshot taken at any point, written as JSON and restored, behaves exactly like the ledger it
/// was taken from: same digest, and the same outcome for every later command (retries of
/// remembered keys included).
@Suite("Ledger snapshots")
struct SnapshotTests {
    typealias Step = LedgerPropertyTests.Step

    /// Commands for a step, against a ledger with two pools (one with a refill period, alerts and
    /// a throttle) and two identities; every third command carries a key, and some keys repeat.
    static func request(_ s: Step, n: Int, now: Int64, holds: [HoldID]) -> Request {
        let unit = LedgerPropertyTests.unit
        let pool = PoolID(Int32(s.c % 2)), who = IdentityID(Int32(s.a % 2))
        let amount = Int64(s.a + 1) * unit
        let key: String? = n % 3 == 0 ? "k\(n % 7)" : nil
        let command: Command
        switch s.op {
        case 0, 1: command = .debit(identity: who, pool: pool, tier: 0, amountMicrocredits: amount)
        case 2: command = .authorize(identity: who, pool: pool, tier: 0, amountMicrocredits: amount, expiresAtMs: now + Int64(s.c + 1) * 300)
        case 3: command = holds.isEmpty ? .advanceTime : .capture(hold: holds[s.b % holds.count], amountMicrocredits: Int64(s.a) * unit)
        case 4: command = holds.isEmpty ? .advanceTime : .release(hold: holds[s.b % holds.count])
        case 5, 6:
            command = .fund(pool: pool, GrantSpec(amountMicrocredits: Int64(s.a * 3 + 1) * unit,
                                                  expiresAtMs: s.c == 0 ? nil : now + Int64(s.c) * 700, priority: Int32(s.c % 2)))
        case 7: command = .setIdentityStatus(identity: who, s.c % 2 == 0 ? .suspended : .active)
        default: command = .advanceTime
        }
        return Request(atMs: now, key: key, command)
    }

    static func setUp() -> Ledger {
        var l = Ledger(config: LedgerConfig(keyRetentionMs: 2_000))
        let refill = Refill(amountMicrocredits: 2_000_000, rolloverPartsPerMillion: 500_000)
        l.apply(Request(atMs: 0, .createPool(PoolSpec(name: "a", policies: [.alerts(thresholdsMicrocredits: [1_000_000]), .overdraft(limitMicrocredits: 300_000)]))))
        l.apply(Request(atMs: 0, .createPool(PoolSpec(name: "b", policies: [.throttle(maxDraws: 3, windowMs: 500, belowMicrocredits: 5_000_000)],
                                                      periodMs: 1_000, refill: refill))))
        for name in ["x", "y"] {
            let id = l.apply(Request(atMs: 0, .createIdentity(IdentitySpec(name: name)))).acceptance!.identity!
            for p in 0..<2 { l.apply(Request(atMs: 0, .entitle(identity: id, pool: PoolID(Int32(p)), Entitlement()))) }
        }
        return l
    }

    @Test func aRestoredSnapshotBehavesLikeTheOriginal() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...60), LedgerPropertyTests.steps) { cut, steps in
            var original = Self.setUp()
            var now: Int64 = 0
            var holds: [HoldID] = []
            var sent: [String: Request] = [:]
            var restored: Ledger? = nil
            for (n, s) in steps.enumerated() {
                if n == min(cut, steps.count - 1) {
                    let data = try! JSONEncoder().encode(original.snapshot())
                    let decoded = try! JSONDecoder().decode(LedgerSnapshot.self, from: data)
                    restored = try! Ledger(snapshot: decoded, config: original.config) { sent[$0] }
                    #expect(restored!.stateDigest == original.stateDigest)
                }
                now += Int64(s.b % 5) * 100
                let r = Self.request(s, n: n, now: now, holds: holds)
                let a = original.apply(r)
                if let key = r.key, a.isAccepted { sent[key] = r }  // a replay has the same command; a new acceptance is what is remembered
                if let h = a.acceptance?.hold { holds.append(h) }
                if restored != nil {
                    let b = restored!.apply(r)
                    #expect(a == b, "step \(n): \(r) gave \(a) then \(b) after the snapshot")
                }
            }
            if let restored {
                #expect(restored.stateDigest == original.stateDigest)
                #expect(restored.invariantViolations().isEmpty)
            }
        }
    }

    @Test func restoringChecksFormatConfigKeysAndDigest() throws {
        var l = Self.setUp()
        l.apply(Request(atMs: 10, key: "fund-1", .fund(pool: PoolID(0), GrantSpec(amountMicrocredits: 5_000_000))))
        let snap = l.snapshot()
        #expect(throws: SnapshotError.self) { try Ledger(snapshot: snap, config: LedgerConfig()) { _ in nil } }
        #expect(throws: SnapshotError.self) { try Ledger(snapshot: snap, config: l.config) { _ in nil } }
        var damaged = snap
        damaged.poolBalances[0] += 1
        #expect(throws: SnapshotError.self) {
            try Ledger(snapshot: damaged, config: l.config) { _ in Request(atMs: 10, key: "fund-1", .fund(pool: PoolID(0), GrantSpec(amountMicrocredits: 5_000_000))) }
        }
        var restored = try Ledger(snapshot: snap, config: l.config) { _ in Request(atMs: 10, key: "fund-1", .fund(pool: PoolID(0), GrantSpec(amountMicrocredits: 5_000_000))) }
        // The key is remembered: the retry is answered, a different command under it is refused.
        #expect(restored.apply(Request(atMs: 20, key: "fund-1", .fund(pool: PoolID(0), GrantSpec(amountMicrocredits: 5_000_000)))).isAccepted)
        #expect(restored.stateDigest == l.stateDigest)
        #expect(restored.apply(Request(atMs: 20, key: "fund-1", .advanceTime)) == .refused(.idempotencyKeyReused("fund-1")))
    }
}
