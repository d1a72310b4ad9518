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
        let usage = MetricSummary(demand.map(\.total))!
        var s = "# Buying for `\(Escape.codeSpan(scenario))`\n\n"
        s += "Demand over \(SizeAnswer.number(horizonHours / 24)) days, \(replications) replications: mean **\(SizeAnswer.credits(usage.mean)) credits** "
        s += "(p05 \(SizeAnswer.credits(usage.p05)), p95 \(SizeAnswer.credits(usage.p95))). Every plan is priced on the same demand; P(cheapest) counts only plans that served all of it.\n\n"
        s += "| plan | expected cost | p95 cost | cost per served request | unused credits | continuity | P(cheapest) |\n"
        s += "|---|---:|---:|---:|---:|---:|---:|\n"
        let cheapest = probabilityCheapest
        for (i, plan) in plans.enumerated() {
            let m = summaries(i)
            s += "| \(Escape.markdown(plan.id)) | \(SizeAnswer.credits(m["cost"]!.mean)) | \(SizeAnswer.credits(m["cost"]!.p95)) "
            s += "| \(SizeAnswer.number((m["cost_per_served_request"]!.mean * 1e6).rounded() / 1e6)) | \(SizeAnswer.credits(m["unused_credits"]!.mean)) "
            s += "| \(SizeAnswer.number((m["continuity"]!.mean * 1e4).rounded() / 1e4)) | \(SizeAnswer.number((cheapest[i] * 1e3).rounded() / 1e3)) |\n"
        }
        s += "\n"
        for plan in plans { s += "- **\(Escape.markdown(plan.id))**: \(Self.describe(plan))\n" }
        s += "\n## Break-even\n\nUsage over the horizon (spread evenly) at which the cheaper of two plans changes:\n\n"
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
