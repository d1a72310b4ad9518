import Foundation
import Simulation

/// `report.md`: a reader's page — what was simulated, the headline in plain words, tables, the
/// charts and the assumptions.
enum MarkdownReport {
    static func pct(_ x: Double?) -> String {
        guard let x else { return "–" }
        let v = (x * 1000).rounded() / 10
        return "\(v == v.rounded() ? String(Int(v)) : String(v))%"
    }

    static func num(_ x: Double?) -> String {
        guard let x, x.isFinite else { return "–" }
        if abs(x) >= 100 { return String(Int(x.rounded())) }
        let v = (x * 100).rounded() / 100
        return v == v.rounded() ? String(Int(v)) : String(v)
    }

    static func ci(_ s: MetricSummary?, percent: Bool) -> String {
        guard let s else { return "–" }
        let f = percent ? pct : num
        return "\(f(s.mean)) (\(f(s.ci95[0]))–\(f(s.ci95[1])))"
    }

    static func horizon(_ hours: Double) -> String {
        hours >= 48 ? "\(num(hours / 24)) days" : "\(num(hours)) hours"
    }

    /// One sentence on a variant's outcome.
    static func headline(_ name: String, _ m: [String: MetricSummary], horizonHours: Double, base: [String: MetricSummary]?) -> String {
        let exhaustion = m["exhaustion_probability"]?.mean ?? 0
        var s = "**\(Escape.markdown(name))**: "
        if exhaustion > 0 {
            let when = m["time_to_exhaustion_hours"].map { " (median \(horizon($0.p50)) in)" } ?? ""
            s += "a pool runs dry in \(pct(exhaustion)) of replications\(when); "
        } else {
            s += "no pool runs dry in any replication; "
        }
        s += "\(pct(m["continuity"]?.mean)) of requests are served"
        if let degraded = m["requests_degraded"]?.mean, let total = m["requests_total"]?.mean, degraded > 0, total > 0 {
            s += " (\(pct(degraded / total)) at a cheaper model)"
        }
        s += ", for \(num(m["spend_credits"]?.mean)) credits on average (p95 \(num(m["spend_credits"]?.p95)))"
        if let base, let b = base["spend_credits"]?.mean, let v = m["spend_credits"]?.mean, b > 0 {
            let delta = (v - b) / b
            s += abs(delta) < 0.0005 ? ", the same spend as written" : ", \(pct(abs(delta))) \(delta > 0 ? "more" : "less") than as written"
        }
        if let over = m["overage_credits"]?.mean, over > 0 { s += "; \(num(over)) credits of overage" }
        if let runaway = m["runaway_spend_credits"]?.mean, let stop = m["time_to_stop_minutes"]?.mean {
            s += "; a runaway loop spent \(num(runaway)) credits before it was stopped, \(num(stop)) min after it began"
        }
        return s + "."
    }

    static func render(_ summary: Summary, charts: [String]) -> String {
        let d = summary.data
        var md = "# \(Escape.markdown(d.scenario)) — Burnrate report\n\n"
        if let description = d.description {
            md += description.split(separator: "\n", omittingEmptySubsequences: false).map { "> " + Escape.markdown(String($0)) }.joined(separator: "\n") + "\n\n"
        }
        md += "**What was simulated:** \(d.replications) replications of \(horizon(d.horizonHours)), seed \(d.seed)"
        md += d.variants.count > 1 ? ", \(d.variants.count - 1) variant(s) with common random numbers.\n\n" : ".\n\n"

        md += "## Headline\n\n"
        for (v, variant) in d.variants.enumerated() {
            md += "- " + headline(variant.name ?? "As written", summary.run[v], horizonHours: d.horizonHours, base: v == 0 ? nil : summary.run[0]) + "\n"
        }

        md += "\n## Variants\n\n"
        md += "| variant | continuity (95% CI) | P(pool runs dry) | spend mean | spend p95 | spend CV | overage | unused | downtime (h) |\n"
        md += "|---|---|---|---|---|---|---|---|---|\n"
        for (v, variant) in d.variants.enumerated() {
            let m = summary.run[v]
            md += "| \(Escape.markdown(variant.name ?? "as written")) | \(ci(m["continuity"], percent: true)) | \(ci(m["exhaustion_probability"], percent: true)) "
            md += "| \(num(m["spend_credits"]?.mean)) | \(num(m["spend_credits"]?.p95)) | \(num(m["spend_cv"]?.mean)) "
            md += "| \(num(m["overage_credits"]?.mean)) | \(num(m["unused_credits"]?.mean)) | \(num(m["downtime_hours"]?.mean)) |\n"
        }

        md += "\n## Pools (as written)\n\n"
        md += "| pool | funding | spend mean | spend p95 | P(runs dry) | median time to dry | continuity |\n|---|---|---|---|---|---|---|\n"
        for (p, name) in d.poolNames.enumerated() {
            let m = summary.pools[0][p]
            md += "| \(Escape.markdown(name)) | \(num(d.poolFundingCredits[p])) | \(num(m["spend_credits"]?.mean)) | \(num(m["spend_credits"]?.p95)) "
            md += "| \(pct(m["exhaustion_probability"]?.mean)) | \(m["time_to_exhaustion_hours"].map { horizon($0.p50) } ?? "–") | \(pct(m["continuity"]?.mean)) |\n"
        }

        md += "\n## Identities (as written)\n\n"
        md += "| identity | requests | continuity | spend mean | spend p95 | runaway spend | time to stop (min) |\n|---|---|---|---|---|---|---|\n"
        for (i, name) in d.identityNames.enumerated() {
            let m = summary.identities[0][i]
            md += "| \(Escape.markdown(name)) | \(num(m["requests_total"]?.mean)) | \(pct(m["continuity"]?.mean)) | \(num(m["spend_credits"]?.mean)) "
            md += "| \(num(m["spend_credits"]?.p95)) | \(num(m["runaway_spend_credits"]?.mean)) | \(num(m["time_to_stop_minutes"]?.mean)) |\n"
        }

        if !d.expectations.isEmpty {
            md += "\n## Expectations\n\n"
            for r in Checker.expectations(summary) {
                let value = r.actual.map { num($0) } ?? r.detail
                md += "- `\(Escape.codeSpan(r.name))`: \(r.passed ? "holds" : "**fails**") (\(value))\n"
            }
        }

        md += "\n## Charts\n\n"
        for c in charts { md += "![\(c)](\(c))\n\n" }

        md += """
            ## Assumptions

            - Each replication is an independent month (or horizon) of the workloads as specified; \
            variants reuse the same random numbers, so their differences come from the policies, not from luck.
            - Where the scenario is silent: no latency (capture at arrival), no retry after a refusal, \
            no overdraft, grants that never expire, holds that lapse after one hour.
            - Continuity = (served + degraded) / requests; a degraded request is re-priced at the cheaper model.
            - Time to exhaustion counts replications in which a pool refused a request for lack of credit; \
            downtime adds up the periods between such a refusal and the pool's next successful draw.
            - Intervals are 95% confidence intervals of the mean over replications (Wilson for proportions, Student t otherwise).

            Data behind the charts: `data/replications.csv`, `data/balance.csv`, `data/identities.csv`.

            """
        return md
    }
}
