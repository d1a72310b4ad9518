import Scenario
import Simulation
import Stochastic

extension ProcureResult {
    /// A description of a plan in one line.
    static func describe(_ plan: Plan) -> String {
        let n = SizeAnswer.number
        switch plan.kind {
        case .payAsYouGo(let p): return "pay as you go at \(n(p)) per credit"
        case .prepaid(let p):
            let price = p.packPrice.map { "for \(n($0))" } ?? "tiered"
            let expiry = p.expiresMs.map { ", expiring \($0 / 86_400_000) days after purchase" } ?? ""
            return "packs of \(n(p.packCredits)) credits \(price)\(expiry); when exhausted: \(p.whenExhausted.rawValue.replacingOccurrences(of: "_", with: " "))"
        case .licence(let l):
            return "\(l.seats) seats × \(n(l.pricePerSeat)) per \(l.periodMs / 86_400_000) days, \(n(l.includedCredits)) credits included, overage \(n(l.overagePricePerCredit))"
        case .commit(let c):
            return "commit \(n(c.amount)) per \(c.periodMs / 86_400_000) days at \(n(c.discount * 100))% discount, \(n(c.rollover * 100))% rollover, overage \(n(c.overagePricePerCredit))"
        }
    }

    public var markdown: String {
        var s = "# Buying for `\(Escape.codeSpan(scenario))`\n\n"
        s += section(level: 2)
        if !variants.isEmpty {
            s += variantMatrix
            for v in variants {
                s += "## Variant `\(Escape.codeSpan(v.variant ?? ""))`\n\n"
                s += v.section(level: 3)
            }
        }
        return s
    }

    /// The answer for this result's demand: recommendation, notes, the plans' table and break-evens.
    func section(level: Int) -> String {
        let n = SizeAnswer.number, g = ProcureRecommendation.grouped
        let usage = MetricSummary(demand.map(\.total))!
        var s = ""
        if let r = recommendation { s += r.sentence(plans, markdown: true) + ".\n\n" }
        s += cappingNote
        s += "Demand over \(n(horizonHours / 24)) days, \(replications) replications: mean **\(SizeAnswer.credits(usage.mean)) credits** "
        s += "(p05 \(SizeAnswer.credits(usage.p05)), p95 \(SizeAnswer.credits(usage.p95))). Every plan is priced on the same demand; P(cheapest) counts only plans that served all of it.\n\n"
        let partial = partialPeriods
        s += "| plan | expected cost | p95 cost |\(partial.isEmpty ? "" : " pro-rated cost |") cost per served request | unused credits | continuity | P(cheapest) |\n"
        s += "|---|---:|---:|\(partial.isEmpty ? "" : "---:|")---:|---:|---:|---:|\n"
        let cheapest = probabilityCheapest
        for (i, plan) in plans.enumerated() {
            let m = summaries(i)
            s += "| \(Escape.markdown(plan.id)) | \(SizeAnswer.credits(m["cost"]!.mean)) | \(SizeAnswer.credits(m["cost"]!.p95)) "
            if !partial.isEmpty { s += "| \(SizeAnswer.credits(m["cost_prorated"]!.mean)) " }
            s += "| \(n((m["cost_per_served_request"]!.mean * 1e6).rounded() / 1e6)) | \(SizeAnswer.credits(m["unused_credits"]!.mean)) "
            s += "| \(n((m[Metric.continuity.name]!.mean * 1e4).rounded() / 1e4)) | \(n((cheapest[i] * 1e3).rounded() / 1e3)) |\n"
        }
        s += "\n"
        for plan in plans { s += "- **\(Escape.markdown(plan.id))**: \(Self.describe(plan))\n" }
        if !partial.isEmpty {
            s += "\nPeriods longer than what is left of the horizon are charged whole above (as a contract bills them); "
            s += "the pro-rated cost charges the horizon's share of that period's price and of its included or committed credits, overage as usual:\n\n"
            for i in partial.keys.sorted() {
                let p = partial[i]!, m = summaries(i)
                s += "- **\(Escape.markdown(plans[i].id))**: its \(n(p.periodHours / 24))-day period is cut at the horizon "
                s += "(\(n((p.share * 1e4).rounded() / 100))% of it falls inside); expected \(g(m["cost"]!.mean)) charged in full, \(g(m["cost_prorated"]!.mean)) pro-rated\n"
            }
            let prorated = probabilityCheapestProrated
            if let r = recommendation, let best = prorated.indices.max(by: { prorated[$0] < prorated[$1] || (prorated[$0] == prorated[$1] && $0 > $1) }), best != r.plan {
                s += "- pro-rated, **\(Escape.markdown(plans[best].id))** would be cheapest in \(ProcureRecommendation.percent(prorated[best])) of replications\n"
            }
        }
        s += "\n\(String(repeating: "#", count: level)) Break-even\n\nUsage over the horizon (spread evenly) at which the cheaper of two plans changes:\n\n"
        var any = false
        for pair in breakEvens {
            if pair.usage.isEmpty { continue }
            any = true
            let shown = pair.usage.prefix(6).map { SizeAnswer.credits($0) }.joined(separator: ", ")
            s += "- \(Escape.markdown(pair.a)) / \(Escape.markdown(pair.b)): \(shown)\(pair.usage.count > 6 ? " … (\(pair.usage.count) in all)" : "") credits\n"
        }
        let never = breakEvens.filter(\.usage.isEmpty).map { "\($0.a) / \($0.b)" }
        if !never.isEmpty { s += "- never flips up to twice the highest demand: \(never.map(Escape.markdown).joined(separator: ", "))\n" }
        if !any && never.isEmpty { s += "- (one plan only)\n" }
        return s + "\n"
    }

    /// Whether the pools as written cut the demand, and what the plans price instead.
    var cappingNote: String {
        guard let limits else { return "" }
        let g = ProcureRecommendation.grouped
        let capped = limits.cappedReplications(demand: demand)
        let mean = { (xs: [Double]) in xs.reduce(0, +) / Double(max(1, xs.count)) }
        var s = ""
        if capped == 0 {
            s += "No pool capped the demand as written: no request was refused for lack of credit, and the workload spent as much as with unlimited credit.\n\n"
        } else {
            let refused = mean(limits.refusedForCredit.map(Double.init)), degraded = mean(limits.degraded.map(Double.init))
            let pools = limits.cappingPools.map { "`\(Escape.codeSpan($0))`" }
            let named = pools.isEmpty ? "" : " (\(pools.count == 1 ? "pool" : "pools") \(pools.joined(separator: ", ")))"
            s += "**The pools as written capped the demand**\(named) in \(capped) of \(replications) replications: "
            var what: [String] = []
            if refused > 0 { what.append("refused \(g(refused)) requests for lack of credit") }
            if degraded > 0 { what.append("degraded \(g(degraded)) to a cheaper model") }
            // Neither: a throttle delayed requests past the horizon, or unreserved requests were charged short.
            if what.isEmpty { what.append("held requests back (throttled, or charged short)") }
            s += "on average they \(what.joined(separator: " and ")), "
            s += "and let through \(g(mean(limits.allowed.map(\.total)))) credits of the workload's \(g(mean(demand.map(\.total)))). "
            s += "Demand for buying is what the workload would use, so the plans are priced on the same replications "
            s += "(same seed, same random numbers) rerun with every pool's credit limit lifted."
            if let asWritten = pricedAsWritten?.recommendation, let r = recommendation, asWritten.plan != r.plan {
                s += " Priced on the capped demand, \(Escape.markdown(plans[asWritten.plan].id)) would have looked cheapest "
                s += "(\(ProcureRecommendation.percent(asWritten.probabilityCheapest)) of replications)."
            }
            s += "\n\n"
        }
        let stillRefused = mean(limits.refusedWhenLifted.map(Double.init))
        if stillRefused > 0 {
            s += "Even with the pools' credit lifted, \(g(stillRefused)) requests a replication were refused for lack of credit "
            s += "(a delegation's own budget): they are not in the priced demand.\n\n"
        }
        return s
    }

    /// Expected cost and P(cheapest) of every plan in every variant.
    var variantMatrix: String {
        let all = [self] + variants
        let header = "| variant | " + plans.map { Escape.markdown($0.id) }.joined(separator: " | ") + " |\n"
            + "|---|" + String(repeating: "---:|", count: plans.count) + "\n"
        func name(_ r: ProcureResult) -> String { r.variant.map { "`\(Escape.codeSpan($0))`" } ?? "as written" }
        var s = "## Variants\n\nEach variant's plans priced on its own demand (the same replications and random numbers). Expected cost:\n\n" + header
        for r in all {
            s += "| \(name(r)) | " + r.plans.indices.map { SizeAnswer.credits(r.summaries($0)["cost"]!.mean) }.joined(separator: " | ") + " |\n"
        }
        s += "\nP(cheapest):\n\n" + header
        for r in all {
            let p = r.probabilityCheapest
            s += "| \(name(r)) | " + p.map { SizeAnswer.number(($0 * 1e3).rounded() / 1e3) }.joined(separator: " | ") + " |\n"
        }
        s += "\n"
        for r in variants {
            if let rec = r.recommendation { s += "- \(name(r)): \(rec.sentence(r.plans, markdown: true))\n" }
        }
        return s + "\n"
    }

    /// Cost against usage for every plan, with the simulated demand's p05–p95 shaded.
    public var chart: String {
        let top = max(demand.map(\.total).max() ?? 1, 1) * 1.5
        let steps = 300
        var lines: [[(Double, Double)]] = []
        for plan in plans {
            lines.append((0...steps).map { k in
                let u = top * Double(k) / Double(steps)
                return (u, PlanPricing.price(plan, UsageCurve.uniform(total: u, horizonHours: horizonHours)).cost)
            })
        }
        let ymax = max(lines.flatMap { $0.map(\.1) }.max() ?? 1, 1) * 1.05
        var c = SVGChart(title: "Cost of each plan against usage over \(SizeAnswer.number(horizonHours / 24)) days",
                         xLabel: "credits used over the horizon", yLabel: "cost", x: 0...top, y: 0...ymax)
        let usage = MetricSummary(demand.map(\.total))!
        c.band([(usage.p05, 0), (usage.p95, 0)], [(usage.p05, ymax), (usage.p95, ymax)], color: "#999", name: "simulated demand p5–p95")
        for (i, plan) in plans.enumerated() { c.line(lines[i], color: Charts.palette[i % Charts.palette.count], name: plan.id) }
        return c.render()
    }

    public var files: [(path: String, contents: String)] {
        [("procure.json", json.rendered() + "\n"), ("report.md", markdown + "![cost against usage](charts/procure-cost.svg)\n"),
         ("charts/procure-cost.svg", chart)]
    }

}
