import Simulation

/// `summary.json`: DESIGN.md's schema `burnrate.summary/1`.
public struct Summary: Sendable {
    public let data: RunData
    /// Per variant (index 0 = the scenario as written): run, pool and identity summaries.
    public let run: [[String: MetricSummary]]
    public let pools: [[[String: MetricSummary]]]
    public let identities: [[[String: MetricSummary]]]

    public init(_ data: RunData) {
        self.data = data
        run = data.variants.map { summarize($0.records.map(\.run)) }
        pools = data.variants.map { v in data.poolNames.indices.map { p in summarize(v.records.map { $0.pools[p] }) } }
        identities = data.variants.map { v in data.identityNames.indices.map { i in summarize(v.records.map { $0.identities[i] }) } }
    }

    static func metricsJSON(_ m: [String: MetricSummary]) -> JSON {
        var out: [String: JSON] = [:]
        for (name, s) in m { out[name] = metricJSON(name, s) }
        return .object(out)
    }

    /// One metric's statistics (what applies to it: no percentiles for a proportion).
    static func metricJSON(_ name: String, _ s: MetricSummary) -> JSON {
        var o: [String: JSON] = ["mean": .number(s.mean), "n": .number(Double(s.n))]
        let kind = Metric.named(name)?.kind ?? .quantity
        if kind != .acrossReplications {
            o["sd"] = .number(s.sd)
            o["ci95"] = .array(s.ci95.map(JSON.number))
            if kind != .proportion {
                for (k, v) in [("p05", s.p05), ("p50", s.p50), ("p95", s.p95), ("p99", s.p99)] { o[k] = .number(v) }
            }
        }
        return .object(o)
    }

    /// A pool's alerts across the replications of one variant: per threshold, the share of
    /// replications in which it fired and when it first did (over those), in pool order.
    public struct AlertSummary: Sendable {
        public var belowCredits: Double
        /// The share of the pool's budget used when it fires (nil when the pool has no funding).
        public var budgetUsed: Double?
        public var fired: MetricSummary
        public var firstAtHours: MetricSummary?
        public var timesFired: MetricSummary
    }

    /// The alerts of pool `pool` in `variant` (empty when it has none).
    public func alerts(variant: Int, pool: Int) -> [AlertSummary] {
        let records = data.variants[variant].records.compactMap { r in r.alerts.flatMap { pool < $0.count ? $0[pool] : nil } }
        guard let first = records.first, records.count == data.variants[variant].records.count else { return [] }
        let funding = data.poolFundingCredits[pool]
        return first.indices.map { k in
            let column = records.map { $0[k] }
            return AlertSummary(belowCredits: first[k].belowCredits,
                                budgetUsed: funding > 0 ? 1 - first[k].belowCredits / funding : nil,
                                fired: MetricSummary(column.map { $0.firstAtHours == nil ? 0 : 1 }, proportion: true)!,
                                firstAtHours: MetricSummary(column.compactMap(\.firstAtHours)),
                                timesFired: MetricSummary(column.map { Double($0.count) })!)
        }
    }

    func alertsJSON(variant: Int, pool: Int) -> JSON? {
        let list = alerts(variant: variant, pool: pool)
        guard !list.isEmpty else { return nil }
        return .array(list.map { a in
            var o: [String: JSON] = [
                "below_credits": .number(a.belowCredits),
                "probability": .object(["mean": .number(a.fired.mean), "ci95": .array(a.fired.ci95.map(JSON.number))]),
                "times_fired": .object(["mean": .number(a.timesFired.mean), "p95": .number(a.timesFired.p95)]),
            ]
            if let used = a.budgetUsed { o["budget_used"] = .number(used) }
            if let t = a.firstAtHours {
                o["first_fired_hours"] = .object(["n": .number(Double(t.n)), "mean": .number(t.mean), "p05": .number(t.p05),
                                                  "p50": .number(t.p50), "p95": .number(t.p95)])
            }
            return .object(o)
        })
    }

    func scopes(_ variant: Int) -> (pools: JSON, identities: JSON) {
        var p: [String: JSON] = [:], i: [String: JSON] = [:]
        for (k, name) in data.poolNames.enumerated() {
            var o: [String: JSON] = ["metrics": Self.metricsJSON(pools[variant][k])]
            if let alerts = alertsJSON(variant: variant, pool: k) { o["alerts"] = alerts }
            p[name] = .object(o)
        }
        for (k, name) in data.identityNames.enumerated() { i[name] = .object(["metrics": Self.metricsJSON(identities[variant][k])]) }
        return (.object(p), .object(i))
    }

    public var json: JSON {
        let base = scopes(0)
        var variants: [String: JSON] = [:]
        for v in data.variants.indices.dropFirst() {
            let s = scopes(v)
            variants[data.variants[v].name ?? "variant-\(v)"] = .object(["metrics": Self.metricsJSON(run[v]), "pools": s.pools, "identities": s.identities])
        }
        var top: [String: JSON] = [
            "schema": .string("burnrate.summary/1"),
            "scenario": .string(data.scenario),
            "seed": .number(Double(data.seed)),
            "replications": .number(Double(data.replications)),
            "horizon_hours": .number(data.horizonHours),
            "metrics": Self.metricsJSON(run[0]),
            "pools": base.pools,
            "identities": base.identities,
            "variants": .object(variants),
        ]
        // Sequential stopping: how many replications ran (`replications`) and why they stopped.
        if let stoppedBy = data.stoppedBy { top["stopped_by"] = .string(stoppedBy) }
        if let precision = data.precision { top["precision"] = .object(precision.mapValues(JSON.number)) }
        // Usage exports: rows skipped as not successful, per replaying workload.
        if let skipped = data.replayRowsSkipped { top["replay_rows_skipped"] = .object(skipped.mapValues { .number(Double($0)) }) }
        return .object(top)
    }

    public var text: String { json.rendered() + "\n" }
}
