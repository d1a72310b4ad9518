import Scenario
import Simulation

/// The answer a buyer reads first: which plan, how sure, how much it saves against the obvious
/// alternative, and the usage at which it stops being the answer.
public struct ProcureRecommendation: Sendable, Equatable {
    /// The plan most often cheapest (ties: the lower expected cost, then the first written).
    public var plan: Int
    public var probabilityCheapest: Double
    public var expectedCost: Double
    /// Share of the demand the plan serves (below 1 only when no plan served it all).
    public var continuity: Double
    /// What it is measured against: pay as you go when the scenario has it (and it is not the
    /// answer), else the plan of lowest expected cost among the others that serve all the demand.
    public var against: Int?
    /// The mean over replications of (cost of `against` − cost of `plan`): negative when the plan
    /// most often cheapest is dearer on average.
    public var expectedSaving: Double?
    /// The usages at which the cheaper of `plan` and `against` flips, nearest the expected demand first.
    public var breakEvens: [Double]
    public var expectedDemand: Double
    /// Twice the highest demand: how far break-evens were searched.
    public var searchedUpTo: Double

    /// The sentence, e.g. "commit is cheapest in 100% of replications; expected cost 6,443, a
    /// saving of 1,250 against payg; break-even with payg at 5,000 credits" (the pilot notebook).
    public func sentence(_ plans: [Plan], markdown: Bool) -> String {
        func name(_ i: Int) -> String { markdown ? "**\(Escape.markdown(plans[i].id))**" : plans[i].id }
        var s = "\(name(plan)) is cheapest in \(Self.percent(probabilityCheapest)) of replications; expected cost \(Self.grouped(expectedCost))"
        if let against, let saving = expectedSaving {
            let other = markdown ? Escape.markdown(plans[against].id) : plans[against].id
            if saving >= 0 {
                s += ", a saving of \(Self.grouped(saving)) against \(other)"
            } else {
                s += ", \(Self.grouped(-saving)) more than \(other) on average"
            }
            if let nearest = breakEvens.first {
                s += "; break-even with \(other) at \(Self.grouped(nearest)) credits"
                if breakEvens.count > 1 { s += " (the nearest of \(breakEvens.count) to the expected \(Self.grouped(expectedDemand)))" }
            } else {
                s += "; no break-even with \(other) up to \(Self.grouped(searchedUpTo)) credits"
            }
        } else if plans.count == 1 {
            s += " (the only plan)"
        }
        if continuity < 1 - 1e-12 { s += "; it serves only \(Self.percent(continuity)) of the requests, as no plan serves them all" }
        return s
    }

    func json(_ plans: [Plan]) -> JSON {
        var o: [String: JSON] = [
            "plan": .string(plans[plan].id), "probability_cheapest": .number(probabilityCheapest),
            "expected_cost": .number(expectedCost), "text": .string(sentence(plans, markdown: false)),
            "break_even_usage_credits": breakEvens.first.map(JSON.number) ?? .null,
        ]
        if let against { o["against"] = .string(plans[against].id) }
        if let expectedSaving { o["expected_saving"] = .number(expectedSaving) }
        return .object(o)
    }

    /// A whole number with thousands separators, or two decimals below 100 ("28,100", "0.45").
    static func grouped(_ x: Double) -> String {
        guard x.isFinite else { return x > 0 ? "∞" : "−∞" }
        if abs(x) < 100 { return SizeAnswer.credits(x) }
        let digits = String(Int64(abs(x).rounded()))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return (x < 0 ? "−" : "") + out
    }

    /// A share as a whole percentage, never rounded to 0% or 100% when it is not.
    static func percent(_ p: Double) -> String {
        let v = (p * 100).rounded()
        if v >= 100 && p < 1 { return ">99%" }
        if v <= 0 && p > 0 { return "<1%" }
        return "\(Int(v))%"
    }
}

extension ProcureResult {
    /// The recommendation on this result's demand; nil without plans.
    public var recommendation: ProcureRecommendation? {
        guard !plans.isEmpty, !demand.isEmpty else { return nil }
        let cheapest = probabilityCheapest
        let mean = costs.map { c in c.map(\.cost).reduce(0, +) / Double(c.count) }
        let continuity = costs.map { c in c.map(\.continuity).reduce(0, +) / Double(c.count) }
        let best = plans.indices.min { a, b in
            cheapest[a] != cheapest[b] ? cheapest[a] > cheapest[b] : mean[a] != mean[b] ? mean[a] < mean[b] : a < b
        }!
        let others = plans.indices.filter { $0 != best }
        let payg = others.first { if case .payAsYouGo = plans[$0].kind { true } else { false } }
        let serving = others.filter { continuity[$0] >= 1 - 1e-12 }
        let against = payg ?? (serving.isEmpty ? others : serving).min { mean[$0] != mean[$1] ? mean[$0] < mean[$1] : $0 < $1 }
        let demandMean = demand.map(\.total).reduce(0, +) / Double(demand.count)
        let top = 2 * max(demand.map(\.total).max() ?? 1, 1)
        var saving: Double?, flips: [Double] = []
        if let against {
            saving = zip(costs[against], costs[best]).map { $0.cost - $1.cost }.reduce(0, +) / Double(demand.count)
            let (a, b) = (min(best, against), max(best, against))
            flips = breakEvens.first { $0.a == plans[a].id && $0.b == plans[b].id }?.usage ?? []
            flips.sort { abs($0 - demandMean) != abs($1 - demandMean) ? abs($0 - demandMean) < abs($1 - demandMean) : $0 < $1 }
        }
        return ProcureRecommendation(plan: best, probabilityCheapest: cheapest[best], expectedCost: mean[best],
                                     continuity: continuity[best], against: against, expectedSaving: saving,
                                     breakEvens: flips, expectedDemand: demandMean, searchedUpTo: top)
    }
}
