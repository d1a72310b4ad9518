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
    static func headline(_ name: String, _ m: [String: MetricSummary], horizonHours: Double, base: [String: MetricSummary]?,
                         leakBounds: [String] = []) -> String {
        let exhaustion = m[Metric.exhaustionProbability.name]?.mean ?? 0
        var s = "**\(Escape.markdown(name))**: "
        if exhaustion > 0 {
            let when = m[Metric.timeToExhaustionHours.name].map { t in
                t.p50 < horizonHours ? " (median \(horizon(t.p50)) in)"
                    : t.p05 < horizonHours ? " (one replication in twenty within \(horizon(t.p05)))" : ""
            } ?? ""
            s += "a pool runs dry in \(pct(exhaustion)) of replications\(when); "
        } else {
            s += "no pool runs dry in any replication; "
        }
        s += "\(pct(m[Metric.continuity.name]?.mean)) of requests are served"
        if let degraded = m[Metric.requestsDegraded.name]?.mean, let total = m[Metric.requestsTotal.name]?.mean, degraded > 0, total > 0 {
            s += " (\(pct(degraded / total)) at a cheaper model)"
        }
        s += ", for \(num(m[Metric.spendCredits.name]?.mean)) credits on average (p95 \(num(m[Metric.spendCredits.name]?.p95)))"
        if let base, let b = base[Metric.spendCredits.name]?.mean, let v = m[Metric.spendCredits.name]?.mean, b > 0 {
            let delta = (v - b) / b
            s += abs(delta) < 0.0005 ? ", the same spend as written" : ", \(pct(abs(delta))) \(delta > 0 ? "more" : "less") than as written"
        }
        if let over = m[Metric.overageCredits.name]?.mean, over > 0 { s += "; \(num(over)) credits of overage" }
        if let runaway = m[Metric.runawaySpendCredits.name]?.mean, let stop = m[Metric.timeToStopMinutes.name]?.mean {
            switch m[Metric.runawayStopped.name]?.mean ?? 1 {
            case 1: s += "; a runaway loop spent \(num(runaway)) credits before it was stopped, \(num(stop)) min after it began"
            case 0: s += "; a runaway loop spent \(num(runaway)) credits and nothing stopped it: it ran its whole \(num(stop)) min"
            case let share:
                s += "; a runaway loop spent \(num(runaway)) credits; a control stopped it in \(pct(share)) of replications "
                    + "(time to stop \(num(stop)) min on average, counting a loop nothing stopped as running to its end)"
            }
        }
        if let leak = m[Metric.leakSpendCredits.name] { s += leakSentence(leak, m, bounds: leakBounds) }
        return s + "."
    }

    /// Cached share, savings and spend by token class, per variant; empty when no workload has
    /// a cache or batch pricing (the run has no such metrics).
    static func tokenClasses(_ summary: Summary) -> String {
        guard summary.run.contains(where: { $0[Metric.cachedInputShare.name] != nil }) else { return "" }
        var md = "\n## Token classes\n\n"
        md += "| variant | cached share of input | saved by caching | " + Metric.spendByTokenClass.map { Escape.markdown($0.name) }.joined(separator: " | ") + " |\n"
        md += "|---|---|---|" + String(repeating: "---|", count: Metric.spendByTokenClass.count) + "\n"
        for (v, variant) in summary.data.variants.enumerated() {
            let m = summary.run[v]
            md += "| \(Escape.markdown(variant.name ?? "as written")) | \(pct(m[Metric.cachedInputShare.name]?.mean)) | \(num(m[Metric.cacheSavingsCredits.name]?.mean)) | "
            md += Metric.spendByTokenClass.map { num(m[$0.name]?.mean) }.joined(separator: " | ") + " |\n"
        }
        md += "\nMean credits per replication of served requests' tokens at list price by class (before each request's rounding up); "
        md += "saved: against the same input tokens all billed as uncached input.\n"
        return md
    }

    /// What a leaked credential cost and what bounded it (the control that refused most of the
    /// attacker's requests, replication by replication).
    static func leakSentence(_ spend: MetricSummary, _ m: [String: MetricSummary], bounds: [String]) -> String {
        var s = "; a leaked credential cost \(num(spend.mean)) credits on average (p95 \(num(spend.p95)))"
        if let served = m[Metric.leakRequestsServed.name]?.mean { s += " for \(num(served)) attacker requests served" }
        if let revoke = m[Metric.timeToRevokeHours.name]?.mean {
            s += ", \(num(revoke)) h on average from the leak to its revocation (to the horizon when detection came after it)"
        }
        let counted = LeakBound.allCases.compactMap { b -> (LeakBound, Int)? in
            let n = bounds.filter { $0 == b.rawValue }.count
            return n > 0 ? (b, n) : nil
        }.sorted { $0.1 > $1.1 }
        if counted.count == 1 {
            s += "; what bounded it: \(counted[0].0.phrase)"
        } else if !counted.isEmpty {
            s += "; what bounded it: " + counted.map { "\($0.0.phrase) in \(pct(Double($0.1) / Double(bounds.count)))" }.joined(separator: ", ")
        }
        return s
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
            md += "- " + headline(variant.name ?? "As written", summary.run[v], horizonHours: d.horizonHours, base: v == 0 ? nil : summary.run[0],
                                  leakBounds: variant.records.compactMap(\.leakBound)) + "\n"
        }

        md += "\n## Variants\n\n"
        md += "| variant | continuity (95% CI) | P(pool runs dry) | spend mean | spend p95 | spend CV | overage | unused | downtime (h) |\n"
        md += "|---|---|---|---|---|---|---|---|---|\n"
        for (v, variant) in d.variants.enumerated() {
            let m = summary.run[v]
            md += "| \(Escape.markdown(variant.name ?? "as written")) | \(ci(m[Metric.continuity.name], percent: true)) | \(ci(m[Metric.exhaustionProbability.name], percent: true)) "
            md += "| \(num(m[Metric.spendCredits.name]?.mean)) | \(num(m[Metric.spendCredits.name]?.p95)) | \(num(m[Metric.spendCV.name]?.mean)) "
            md += "| \(num(m[Metric.overageCredits.name]?.mean)) | \(num(m[Metric.unusedCredits.name]?.mean)) | \(num(m[Metric.downtimeHours.name]?.mean)) |\n"
        }

        md += tokenClasses(summary)

        md += "\n## Pools (as written)\n\n"
        md += "| pool | funding | spend mean | spend p95 | P(runs dry) | median time to dry | continuity |\n|---|---|---|---|---|---|---|\n"
        for (p, name) in d.poolNames.enumerated() {
            let m = summary.pools[0][p]
            md += "| \(Escape.markdown(name)) | \(num(d.poolFundingCredits[p])) | \(num(m[Metric.spendCredits.name]?.mean)) | \(num(m[Metric.spendCredits.name]?.p95)) "
            md += "| \(pct(m[Metric.exhaustionProbability.name]?.mean)) | \(m[Metric.timeToExhaustionHours.name].map { $0.p50 < d.horizonHours ? horizon($0.p50) : "beyond the horizon" } ?? "–") | \(pct(m[Metric.continuity.name]?.mean)) |\n"
        }

        let alerts = d.poolNames.indices.map { summary.alerts(variant: 0, pool: $0) }
        if alerts.contains(where: { !$0.isEmpty }) {
            md += "\n## Alerts (as written)\n\n"
            md += "| pool | alert | P(fires) | first fired: p05 | median | p95 | times fired (mean) |\n|---|---|---|---|---|---|---|\n"
            for (p, list) in alerts.enumerated() {
                for a in list {
                    let below = "below \(num(a.belowCredits)) credits"
                    let label = a.budgetUsed.map { "\(pct($0)) used (\(below))" } ?? below
                    let t = a.firstAtHours
                    md += "| \(Escape.markdown(d.poolNames[p])) | \(label) | \(pct(a.fired.mean)) "
                    md += "| \(t.map { horizon($0.p05) } ?? "–") | \(t.map { horizon($0.p50) } ?? "–") | \(t.map { horizon($0.p95) } ?? "–") "
                    md += "| \(num(a.timesFired.mean)) |\n"
                }
            }
            md += "\nWhen each alert threshold was first crossed, over the replications in which it fired.\n"
        }

        md += "\n## Identities (as written)\n\n"
        md += "| identity | requests | continuity | spend mean | spend p95 | runaway spend | time to stop (min) |\n|---|---|---|---|---|---|---|\n"
        for (i, name) in d.identityNames.enumerated() {
            let m = summary.identities[0][i]
            md += "| \(Escape.markdown(name)) | \(num(m[Metric.requestsTotal.name]?.mean)) | \(pct(m[Metric.continuity.name]?.mean)) | \(num(m[Metric.spendCredits.name]?.mean)) "
            md += "| \(num(m[Metric.spendCredits.name]?.p95)) | \(num(m[Metric.runawaySpendCredits.name]?.mean)) | \(num(m[Metric.timeToStopMinutes.name]?.mean)) |\n"
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
