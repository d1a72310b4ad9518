import Scenario
import Simulation
import Stochastic

/// `burnrate compare`: policies and layouts side by side, spend predictability against service
/// continuity, with the Pareto-efficient options marked.
public struct Comparison: Sendable {
    public struct Option: Sendable {
        public var name: String
        /// Prepaid budget over the horizon: grants plus scheduled refills, in credits.
        public var budgetCredits: Double
        public var metrics: [String: MetricSummary]

        /// p95 of spend divided by the budget (above 1: the bill can exceed what was prepaid).
        public var p95SpendOverBudget: Double {
            budgetCredits > 0 ? (metrics[Metric.spendCredits.name]?.p95 ?? 0) / budgetCredits : 0
        }
        public var spendCV: Double { metrics[Metric.spendCV.name]?.mean ?? 0 }
        public var overage: Double { metrics[Metric.overageCredits.name]?.mean ?? 0 }
        public var continuity: Double { metrics[Metric.continuity.name]?.mean ?? 1 }
        public var timeToExhaustion: Double? { metrics[Metric.timeToExhaustionHours.name]?.mean }
        public var exhaustion: Double { metrics[Metric.exhaustionProbability.name]?.mean ?? 0 }
        public var downtime: Double { metrics[Metric.downtimeHours.name]?.mean ?? 0 }
    }

    public var options: [Option]
    public var replications: Int

    public init(options: [Option], replications: Int) {
        self.options = options
        self.replications = replications
    }

    /// Budget of a model: funding at time zero plus refills over the horizon.
    public static func budget(_ model: SimulationModel) -> Double {
        var micro = 0.0
        for p in model.pools {
            micro += Double(p.grants.reduce(Int64(0)) { $0 + $1.amountMicrocredits })
            if let r = p.spec.refill, p.spec.periodMs > 0 {
                micro += Double(r.amountMicrocredits) * Double((model.horizonMs - 1) / p.spec.periodMs)
            }
        }
        return micro / 1_000_000
    }

    /// Runs every variant of every scenario (common random numbers within a file).
    public static func run(_ scenarios: [Scenario], replications: Int?, threads: Int?,
                           progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> Comparison {
        var options: [Option] = []
        var reps = 0
        let named = scenarios.count > 1
        for s in scenarios {
            let n = replications ?? s.replications
            reps = max(reps, n)
            let data = try RunData.run(s, replications: n, threads: threads, progress: progress)
            let summary = Summary(data)
            for (v, variant) in s.variants.enumerated() {
                let label = [named || variant.name == nil ? s.name : nil, variant.name].compactMap { $0 }.joined(separator: "/")
                options.append(Option(name: label, budgetCredits: budget(variant.model), metrics: summary.run[v]))
            }
        }
        return Comparison(options: options, replications: reps)
    }

    /// For each option, nil when Pareto-efficient, else the index of an option that dominates it:
    /// no worse on p95 spend over budget, overage and continuity, and better on at least one.
    public var dominatedBy: [Int?] {
        func key(_ o: Option) -> [Double] { [round6(o.p95SpendOverBudget), round6(o.overage), -round6(o.continuity)] }
        return options.indices.map { i in
            let a = key(options[i])
            return options.indices.first { j in
                let b = key(options[j])
                return j != i && zip(b, a).allSatisfy { $0 <= $1 } && zip(b, a).contains { $0 < $1 }
            }
        }
    }

    func round6(_ x: Double) -> Double { (x * 1e6).rounded() / 1e6 }

    /// Why an option is dominated, in words.
    func reason(_ i: Int, by j: Int) -> String {
        let a = options[i], b = options[j]
        var better: [String] = []
        if round6(b.continuity) > round6(a.continuity) { better.append("higher continuity") }
        if round6(b.p95SpendOverBudget) < round6(a.p95SpendOverBudget) { better.append("lower p95 spend") }
        if round6(b.overage) < round6(a.overage) { better.append("less overage") }
        return "\(b.name) is as good on every axis and has \(better.joined(separator: " and "))"
    }

    public var markdown: String {
        let dominated = dominatedBy
        var s = "# Comparison (\(replications) replications each)\n\n"
        s += "| option | p95 spend / budget | spend CV | mean overage | continuity | P(exhaustion) | time to exhaustion (h, horizon if never) | downtime (h) | Pareto |\n"
        s += "|---|---:|---:|---:|---:|---:|---:|---:|:-:|\n"
        let n = SizeAnswer.number
        let runaway = options.contains { $0.metrics[Metric.runawaySpendCredits.name] != nil }
        if runaway {
            s = s.replacingOccurrences(of: "| downtime (h) | Pareto |\n", with: "| downtime (h) | runaway spend | time to stop (min) | Pareto |\n")
                .replacingOccurrences(of: "|---:|:-:|\n", with: "|---:|---:|---:|:-:|\n")
        }
        for (i, o) in options.enumerated() {
            s += "| \(Escape.markdown(o.name)) | \(n((o.p95SpendOverBudget * 1e3).rounded() / 1e3)) | \(n((o.spendCV * 1e4).rounded() / 1e4)) "
            s += "| \(SizeAnswer.credits(o.overage)) | \(n((o.continuity * 1e5).rounded() / 1e5)) | \(n((o.exhaustion * 1e3).rounded() / 1e3)) "
            s += "| \(o.timeToExhaustion.map { n(($0 * 10).rounded() / 10) } ?? "–") | \(n((o.downtime * 100).rounded() / 100)) "
            if runaway {
                s += "| \(o.metrics[Metric.runawaySpendCredits.name].map { SizeAnswer.credits($0.mean) } ?? "–") "
                s += "| \(o.metrics[Metric.timeToStopMinutes.name].map { n(($0.mean * 10).rounded() / 10) } ?? "–") "
            }
            s += "| \(dominated[i] == nil ? "**✓**" : "") |\n"
        }
        s += "\n**Pareto-efficient** (✓): no other option is at least as good on p95 spend over budget, overage and continuity "
        s += "and better on one of them — choosing among these is a trade of predictable spend against continuity; the others are simply worse.\n\n"
        for (i, d) in dominated.enumerated() {
            if let d { s += "- \(Escape.markdown(options[i].name)): dominated — \(reason(i, by: d)).\n" }
        }
        return s + "\n"
    }

    /// Continuity against p95 spend over budget; the efficient frontier joined.
    public var chart: String {
        let xs = options.map(\.p95SpendOverBudget), ys = options.map(\.continuity)
        let xr = (xs.min() ?? 0)...(xs.max() ?? 1), yr = (ys.min() ?? 0)...(ys.max() ?? 1)
        let padX = max((xr.upperBound - xr.lowerBound) * 0.15, 0.02), padY = max((yr.upperBound - yr.lowerBound) * 0.15, 0.002)
        var c = SVGChart(title: "Service continuity against spend risk", xLabel: "p95 spend / prepaid budget (lower = more predictable)",
                         yLabel: "mean continuity", x: max(0, xr.lowerBound - padX)...(xr.upperBound + padX),
                         y: (yr.lowerBound - padY)...min(1.0005, yr.upperBound + padY))
        let dominated = dominatedBy
        let frontier = options.indices.filter { dominated[$0] == nil }.map { (xs[$0], ys[$0]) }.sorted { $0.0 < $1.0 }
        c.line(frontier, color: Charts.palette[2], width: 1.5, dashed: true, name: "Pareto frontier")
        var drawn: [(Double, Double)] = []
        for (i, o) in options.enumerated() {
            let p = (xs[i], ys[i])
            if drawn.contains(where: { $0 == p }) { continue }
            let same = options.indices.filter { (xs[$0], ys[$0]) == p }.map { options[$0].name }
            c.point(p, color: dominated[i] == nil ? Charts.palette[2] : Charts.palette[1], label: same.joined(separator: " = "))
            drawn.append(p)
            _ = o
        }
        return c.render()
    }

    public var json: JSON {
        let dominated = dominatedBy
        var o: [String: JSON] = [:]
        for (i, opt) in options.enumerated() {
            o[opt.name] = .object([
                "budget_credits": .number(opt.budgetCredits), "p95_spend_over_budget": .number(opt.p95SpendOverBudget),
                "pareto": .bool(dominated[i] == nil), "dominated_by": dominated[i].map { .string(options[$0].name) } ?? .null,
                "metrics": Summary.metricsJSON(opt.metrics),
            ])
        }
        return .object(["schema": .string("burnrate.compare/1"), "replications": .number(Double(replications)), "options": .object(o)])
    }

    public var files: [(path: String, contents: String)] {
        [("compare.json", json.rendered() + "\n"), ("report.md", markdown + "![continuity against spend risk](charts/compare.svg)\n"),
         ("charts/compare.svg", chart)]
    }

}
