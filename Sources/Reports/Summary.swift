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
        if name != "spend_cv" {
            o["sd"] = .number(s.sd)
            o["ci95"] = .array(s.ci95.map(JSON.number))
            if !proportionMetrics.contains(name) {
                for (k, v) in [("p05", s.p05), ("p50", s.p50), ("p95", s.p95), ("p99", s.p99)] { o[k] = .number(v) }
            }
        }
        return .object(o)
    }

    func scopes(_ variant: Int) -> (pools: JSON, identities: JSON) {
        var p: [String: JSON] = [:], i: [String: JSON] = [:]
        for (k, name) in data.poolNames.enumerated() { p[name] = .object(["metrics": Self.metricsJSON(pools[variant][k])]) }
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
        return .object([
            "schema": .string("burnrate.summary/1"),
            "scenario": .string(data.scenario),
            "seed": .number(Double(data.seed)),
            "replications": .number(Double(data.replications)),
            "horizon_hours": .number(data.horizonHours),
            "metrics": Self.metricsJSON(run[0]),
            "pools": base.pools,
            "identities": base.identities,
            "variants": .object(variants),
        ])
    }

    public var text: String { json.rendered() + "\n" }
}
