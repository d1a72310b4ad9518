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

/// The reproductions of "The decision tools tell the truth" (a procurement user piloting from
/// the docs alone). They read the answer as that user does: procure.json and report.md.
@Suite("burnrate procure tells the truth")
struct ProcureTruthTests {
    /// One request an hour at exactly 1 credit for 30 days: 720 credits of demand by hand.
    static func scenario(pool: Int, variants: String = "", plans: String? = nil) throws -> Scenario {
        let defaultPlans = """
              - id: payg
                pay_as_you_go: { price_per_credit: 1.00 }
              - id: pack
                prepaid: { pack: { credits: 300, price: 240 }, when_exhausted: stop }
              - id: licence
                licence: { seats: 10, price_per_seat: 50, period: 30d, included_credits: 400, overage_price_per_credit: 0.50 }
            """
        return try Scenario.parse(yaml: """
            name: truth
            horizon: 30d
            seed: 1
            replications: 3
            prices: { job: { fixed: 1 } }
            pools: [ { id: team, grants: [ { amount: \(pool) } ] } ]
            identities:
              - id: agent
                pool: team
                workload: { arrivals: { periodic: { rate: 1/h } }, model: job }
            \(variants)
            plans:
            \(plans ?? defaultPlans)
            """, file: "truth.yaml")
    }

    static func object(_ r: ProcureResult) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(r.json.rendered().utf8)) as? [String: Any])
    }

    static func mean(_ o: Any?, _ path: String...) -> Double? {
        var node = o
        for key in path { node = (node as? [String: Any])?[key] }
        return ((node as? [String: Any])?["mean"] as? NSNumber)?.doubleValue
    }

    @Test func everyVariantsPlansArePriced() throws {
        let s = try Self.scenario(pool: 100_000, variants: """
            variants:
              twice-as-busy:
                agent.workload: { arrivals: { periodic: { rate: 2/h } }, model: job }
            """)
        let r = try ProcureResult.run(s, replications: 3, threads: 1)
        let o = try Self.object(r)
        // The scenario as written keeps its top-level keys.
        #expect(Self.mean(o["plans"], "payg", "cost") == 720)
        #expect(Self.mean(o["usage_credits"]) == 720)
        #expect(o["break_even"] is [Any])
        // The variant, under "variants": 1,440 credits, payg 1,440, licence 500 + 0.5 × 1,040 = 1,020.
        let v = (o["variants"] as? [String: Any])?["twice-as-busy"]
        #expect(Self.mean(v, "usage_credits") == 1440)
        #expect(Self.mean(v, "plans", "payg", "cost") == 1440)
        #expect(Self.mean(v, "plans", "licence", "cost") == 1020)
        #expect(((v as? [String: Any])?["plans"] as? [String: Any])?["licence"].flatMap { ($0 as? [String: Any])?["probability_cheapest"] as? Double } == 1)
        // And in the report: the variant-by-plan matrix and the variant's own table.
        let md = r.markdown
        #expect(md.contains("| variant | payg | pack | licence |"), "\(md)")
        #expect(md.contains("| `twice-as-busy` | 1440 | 240 | 1020 |"), "\(md)")
        #expect(md.contains("## Variant `twice-as-busy`"))
    }

    @Test func aPoolThatRunsDryDoesNotCapTheDemandPriced() throws {
        // Funded with 300 credits, the pool refuses 420 of the 720 requests: the workload's demand is still 720.
        let r = try ProcureResult.run(try Self.scenario(pool: 300), replications: 3, threads: 1)
        #expect(r.demand.allSatisfy { $0.total == 720 }, "\(r.demand.map(\.total))")
        let o = try Self.object(r)
        #expect(Self.mean(o["plans"], "payg", "cost") == 720)
        let demand = o["demand"] as? [String: Any]
        #expect((demand?["capped_replications"] as? NSNumber)?.intValue == 3)
        #expect(Self.mean(demand, "requests_refused_for_credit") == 420)
        #expect(Self.mean(demand, "as_written_usage_credits") == 300)
        // On the capped demand the 300-credit pack that stops would look cheapest; on the real demand the licence is.
        #expect(demand?["cheapest_as_written"] as? String == "pack")
        #expect(demand?["capping_pools"] as? [String] == ["team"])
        #expect((o["recommendation"] as? [String: Any])?["plan"] as? String == "licence")
        let md = r.markdown
        #expect(md.contains("**The pools as written capped the demand** (pool `team`) in 3 of 3 replications: on average they refused 420 requests for lack of credit"), "\(md)")
        #expect(md.contains("rerun with every pool's credit limit lifted"))
        #expect(md.contains("Priced on the capped demand, pack would have looked cheapest"))
    }

    @Test func aPoolThatDegradesSaysSoAndPricesTheRequestedModel() throws {
        // Two models at 1 and 0.25 credits; below 1,000 credits left the pool degrades to the cheap one.
        let s = try Scenario.parse(yaml: """
            name: degrading
            horizon: 30d
            seed: 1
            replications: 2
            prices: { big: { fixed: 1 }, small: { fixed: 0.25 } }
            pools: [ { id: team, grants: [ { amount: 1000 } ], policies: [ { degrade: { below: 1000, to: small } }, { hard_stop: {} } ] } ]
            identities:
              - id: agent
                pool: team
                workload: { arrivals: { periodic: { rate: 1/h } }, model: big }
            plans:
              - id: payg
                pay_as_you_go: { price_per_credit: 1.00 }
            """, file: "degrading.yaml")
        let r = try ProcureResult.run(s, replications: 2, threads: 1)
        // Every request degraded as written (180 credits); the workload asked for 720 of the big model.
        #expect(r.demand.allSatisfy { $0.total == 720 }, "\(r.demand.map(\.total))")
        #expect(r.limits?.degraded == [720, 720] && r.limits?.refusedForCredit == [0, 0])
        #expect(r.markdown.contains("on average they degraded 720 to a cheaper model, and let through 180 credits of the workload's 720"), "\(r.markdown)")
    }

    @Test func anUncappedPoolSaysSoAndPricesTheSameDemand() throws {
        let r = try ProcureResult.run(try Self.scenario(pool: 100_000), replications: 3, threads: 1)
        #expect(r.demand.allSatisfy { $0.total == 720 })
        #expect(r.limits?.cappedReplications(demand: r.demand) == 0)
        #expect(r.markdown.contains("No pool capped the demand as written"))
    }

    @Test func aPeriodLongerThanTheHorizonIsChargedWholeWithAProratedView() throws {
        let s = try Self.scenario(pool: 100_000, plans: """
              - id: payg
                pay_as_you_go: { price_per_credit: 1.00 }
              - id: annual
                commit: { amount: 3650, period: 365d, discount: 0.20, overage_price_per_credit: 1.00 }
            """)
        let r = try ProcureResult.run(s, replications: 3, threads: 1)
        let o = try Self.object(r)
        // Charged in full: 3,650. Pro-rated, 30/365 of it (300), with 30/365 of the 4,562.5 credits (375) against 720 used: 345 overage.
        #expect(Self.mean(o["plans"], "annual", "cost") == 3650)
        let prorated = try #require(Self.mean(o["plans"], "annual", "cost_prorated"))
        #expect(abs(prorated - (300 + 345)) < 1e-6, "\(prorated)")
        let partial = ((o["plans"] as? [String: Any])?["annual"] as? [String: Any])?["partial_period"] as? [String: Any]
        #expect((partial?["period_days"] as? NSNumber)?.doubleValue == 365)
        #expect(abs(((partial?["horizon_share"] as? NSNumber)?.doubleValue ?? 0) - 30.0 / 365) < 1e-6)
        let md = r.markdown
        #expect(md.contains("| plan | expected cost | p95 cost | pro-rated cost |"), "\(md)")
        #expect(md.contains("**annual**: its 365-day period is cut at the horizon (8.22% of it falls inside); expected 3,650 charged in full, 645 pro-rated"), "\(md)")
        #expect(md.contains("pro-rated, **annual** would be cheapest in 100% of replications"))
    }

    @Test func aProratedViewWithoutOverageIsCostTimesHorizonOverPeriod() {
        let curve = UsageCurve(timesHours: [0, 90 * 24], usageCredits: [0, 1000], served: [0, 1000])
        let commit = Plan(id: "c", kind: .commit(Plan.Commit(amount: 20_000, periodMs: 365 * 86_400_000, discount: 0.2, rollover: 0,
                                                             overagePricePerCredit: 1)))
        let c = PlanPricing.price(commit, curve)
        #expect(c.cost == 20_000 && abs(c.proratedCost - 20_000 * 90 / 365) < 1e-6)
        let licence = Plan(id: "l", kind: .licence(Plan.Licence(seats: 10, pricePerSeat: 100, periodMs: 60 * 86_400_000,
                                                                includedCredits: 1_000, overagePricePerCredit: 1)))
        // Two 60-day periods over 90 days: the second is half inside, with half of its 1,000 credits.
        let twoPeriods = UsageCurve(timesHours: [0, 90 * 24], usageCredits: [0, 900], served: [0, 900])
        let l = PlanPricing.price(licence, twoPeriods)
        #expect(l.cost == 2_000)
        #expect(abs(l.proratedCost - 1_500) < 1e-6, "\(l.proratedCost)")   // 300 used in the half period, within its 500
    }

    @Test func theReportOpensWithTheRecommendation() throws {
        let s = try Scenario.load(path: fixturePath("procure-deterministic.yaml"))
        let r = try ProcureResult.run(s, replications: 3, threads: 1)
        // commit costs 600 against payg's 720 in every replication; they cross at 600 credits.
        let sentence = "**commit** is cheapest in 100% of replications; expected cost 600, a saving of 120 against payg; break-even with payg at 600 credits."
        #expect(r.markdown.hasPrefix("# Buying for `procure-deterministic`\n\n" + sentence + "\n"), "\(r.markdown.prefix(400))")
        let o = try Self.object(r)
        let rec = o["recommendation"] as? [String: Any]
        #expect(rec?["plan"] as? String == "commit" && rec?["against"] as? String == "payg")
        #expect((rec?["expected_saving"] as? NSNumber)?.doubleValue == 120)
        #expect(abs(((rec?["break_even_usage_credits"] as? NSNumber)?.doubleValue ?? 0) - 600) < 1e-3)
    }

    @Test func aVariantCannotBringItsOwnPlans() {
        let e = errors("""
            name: t
            horizon: 1d
            prices: { m: { fixed: 1 } }
            pools: [ { id: eng, grants: [ { amount: 10 } ] } ]
            identities: [ { id: a, pool: eng } ]
            variants:
              cheaper:
                plans: [ { id: payg, pay_as_you_go: { price_per_credit: 0.5 } } ]
            plans:
              - id: payg
                pay_as_you_go: { price_per_credit: 1.00 }
            """)
        #expect(e.count == 1 && e[0].hasPrefix("bad.yaml:8:5:") && e[0].contains("variant 'cheaper': plans are shared by every variant"), "\(e)")
    }

    @Test func theWorkLimitCountsProcuresTwoRunsOfEachVariant() throws {
        let s = try Self.scenario(pool: 300)
        let once = s.estimatedEvents(replications: 3)
        #expect(s.workProblem(replications: 3, maxEvents: 1.5 * once) == nil)
        let problem = try #require(s.workProblem(replications: 3, maxEvents: 1.5 * once, runs: 2))
        #expect(problem.description.contains("× 3 replication(s) × 2 runs of each)"), "\(problem)")
    }

    @Test func procureJSONIsTheSameWhateverTheThreadCount() throws {
        let s = try Self.scenario(pool: 300, variants: """
            variants:
              busier:
                agent.workload: { arrivals: { poisson: { rate: 3/h } }, model: job }
            """)
        let one = try ProcureResult.run(s, replications: 4, threads: 1), two = try ProcureResult.run(s, replications: 4, threads: 2)
        #expect(one.json.rendered() == two.json.rendered())
        #expect(one.markdown == two.markdown)
    }

    @Test func aMisplacedTiersIsAnErrorNamingTheField() {
        let e = errors("""
            name: t
            horizon: 1d
            prices: { m: { fixed: 1 } }
            pools: [ { id: eng, grants: [ { amount: 10 } ] } ]
            identities: [ { id: a, pool: eng } ]
            plans:
              - id: tiered
                prepaid:
                  pack: { credits: 1000 }
                  tiers: [ { from_credits: 0, price_per_credit: 0.9 } ]
            """)
        #expect(e.count == 1, "\(e)")
        #expect(e.first?.hasPrefix("bad.yaml:10:") == true && e.first?.contains("'tiers' belongs inside 'pack'") == true, "\(e)")
        // Inside the pack, where the docs now show it, the same tiers load.
        let ok = errors("""
            name: t
            horizon: 1d
            prices: { m: { fixed: 1 } }
            pools: [ { id: eng, grants: [ { amount: 10 } ] } ]
            identities: [ { id: a, pool: eng } ]
            plans:
              - id: tiered
                prepaid:
                  pack: { credits: 1000, tiers: [ { from_credits: 0, price_per_credit: 0.9 } ] }
            """)
        #expect(ok.isEmpty, "\(ok)")
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
