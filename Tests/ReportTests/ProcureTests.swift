import Foundation
import Testing
@testable import Reports
@testable import Scenario

@Suite("burnrate procure")
struct ProcureTests {
    func result() throws -> ProcureResult {
        let s = try Scenario.load(path: fixturePath("procure-deterministic.yaml"))
        return try ProcureResult.run(s, replications: 3, threads: 1)
    }

    @Test func costsOfADeterministicWorkloadByHand() throws {
        let r = try result()
        // One request an hour at 1 credit over 30 days; the first arrives at time zero.
        let usage = r.demand[0].total
        #expect(r.demand.allSatisfy { $0.total == usage })
        #expect(usage == 720)
        let cost = Dictionary(uniqueKeysWithValues: zip(r.plans.map(\.id), r.costs.map { $0[0] }))
        #expect(cost["payg"]!.cost == 720)
        #expect(cost["pack"]!.cost == 800 && abs(cost["pack"]!.unusedCredits - 280) < 1e-6)      // one pack, 280 left at the horizon
        #expect(abs(cost["licence"]!.cost - (10 * 50 + 0.5 * (720 - 400))) < 1e-6)              // 660
        #expect(cost["licence"]!.unusedCredits == 0)
        #expect(abs(cost["commit"]!.cost - 600) < 1e-6 && abs(cost["commit"]!.unusedCredits - 80) < 1e-6)  // 800 credits bought
        #expect(r.probabilityCheapest == [0, 0, 0, 1])
    }

    @Test func breakEvensAgreeWithAHandCalculation() throws {
        let r = try result()
        let be = Dictionary(uniqueKeysWithValues: r.breakEvens.map { ("\($0.a)/\($0.b)", $0.usage) })
        func near(_ xs: [Double]?, _ ys: [Double]) -> Bool {
            guard let xs, xs.count == ys.count else { return false }
            return zip(xs, ys).allSatisfy { abs($0 - $1) < 1e-3 }
        }
        // payg U = licence 500 + 0.5 (U − 400)  ⇒  U = 600.
        #expect(near(be["payg/licence"], [600]), "\(be["payg/licence"] ?? [])")
        // payg U = commit 600 (800 credits bought)  ⇒  U = 600.
        #expect(near(be["payg/commit"], [600]))
        // payg U = one pack 800 ⇒ 800; a second pack at U > 1000 makes payg cheaper again (searched up to 2 × 720).
        #expect(near(be["payg/pack"], [800, 1000]), "\(be["payg/pack"] ?? [])")
        // licence 300 + 0.5 U = commit 600 ⇒ 600; beyond 800 credits commit pays U − 200: 300 + 0.5 U = U − 200 ⇒ 1000.
        #expect(near(be["licence/commit"], [600, 1000]), "\(be["licence/commit"] ?? [])")
        // The licence is never dearer than the pack on [0, 1440] (equal only at U = 1000): no flip.
        #expect(be["pack/licence"] == [])
        let json = r.json.rendered()
        #expect(json.contains("\"break_even\"") && json.contains("\"probability_cheapest\"") && json.contains("\"cost_per_served_request\""))
    }

    @Test func prepaidPacksExpireAndStop() {
        // 100 credits a day for 10 days; packs of 300 expiring after 2 days.
        let curve = UsageCurve(timesHours: [0, 240], usageCredits: [0, 1000], served: [0, 1000])
        func plan(_ when: Plan.Prepaid.WhenExhausted) -> Plan {
            Plan(id: "p", kind: .prepaid(Plan.Prepaid(packCredits: 300, packPrice: 240, tiers: [], expiresMs: 2 * 86_400_000,
                                                      whenExhausted: when, overagePricePerCredit: 1.5)))
        }
        // Each pack lasts 2 days (200 used, 100 expire), so 5 packs; the last one ends at the horizon.
        let buy = PlanPricing.price(plan(.buyPack), curve)
        #expect(buy.cost == 5 * 240 && abs(buy.unusedCredits - 500) < 1e-6)
        // Stop: the first pack serves 2 days' worth (200), then expires; service stops when it is empty at day 2.
        let stop = PlanPricing.price(plan(.stop), curve)
        #expect(stop.cost == 240 && abs(stop.continuity - 0.2) < 1e-6)
        // Pay as you go after the first pack: 800 credits at 1.5.
        let payg = PlanPricing.price(plan(.payAsYouGo), curve)
        #expect(abs(payg.cost - (240 + 800 * 1.5)) < 1e-6 && abs(payg.unusedCredits - 100) < 1e-6)
    }

    @Test func tieredPacksAndBadPlans() throws {
        let p = Plan.Prepaid(packCredits: 1000, packPrice: nil,
                             tiers: [Plan.Tier(fromCredits: 0, pricePerCredit: 1), Plan.Tier(fromCredits: 1500, pricePerCredit: 0.8)],
                             expiresMs: nil, whenExhausted: .buyPack, overagePricePerCredit: nil)
        #expect(PlanPricing.packPrice(p, bought: 0) == 1000)
        #expect(abs(PlanPricing.packPrice(p, bought: 1000) - (500 + 500 * 0.8)) < 1e-9)
        let bad = """
            name: t
            horizon: 1d
            prices: { m: { fixed: 1 } }
            pools: [ { id: eng, grants: [ { amount: 10 } ] } ]
            identities: [ { id: a, pool: eng } ]
            plans:
              - id: x
                prepaid: { pack: { credits: 10 }, when_exhausted: panic }
              - id: y
                licence: { seats: 2 }
            """
        let e = errors(bad)
        #expect(e.contains { $0.contains("when_exhausted is buy_pack, pay_as_you_go, stop") && $0.hasPrefix("bad.yaml:8:") })
        #expect(e.contains { $0.contains("a pack has a 'price' or 'tiers'") })
        #expect(e.contains { $0.contains("plan 'y' needs 'price_per_seat'") })
    }
}

@Suite("procure contract example")
struct ProcureContractTests {
    @Test func theContractPlansLoad() throws {
        let s = try Scenario.load(path: try sharedScenario("procure.yaml"))
        #expect(s.plans.map(\.id) == ["payg", "pilot-pack", "licence", "commit"])
        guard case .prepaid(let p) = s.plans[1].kind, case .licence(let l) = s.plans[2].kind, case .commit(let c) = s.plans[3].kind else {
            Issue.record("plan kinds"); return
        }
        #expect(p.packCredits == 2500 && p.packPrice == 2125 && p.expiresMs == 90 * 86_400_000 && p.whenExhausted == .buyPack)
        #expect(l.seats == 40 && l.includedCredits == 800 && l.periodMs == 30 * 86_400_000)
        #expect(c.amount == 2400 && c.discount == 0.20 && c.rollover == 0.25)
    }
}
