import Simulation
import Stochastic

/// The report's charts, from the run's data. Each returns SVG text.
enum Charts {
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]

    /// Hours or days on the x axis, whichever reads better for the horizon.
    static func timeAxis(_ horizonHours: Double) -> (scale: Double, label: String) {
        horizonHours > 72 ? (24, "time (days)") : (1, "time (hours)")
    }

    /// A pool's available balance over time: the p5–p95 fan and the median.
    static func balanceFan(_ data: RunData, pool p: Int) -> String {
        let records = data.variants[0].records
        let times = data.sampleTimesHours
        let (scale, xLabel) = timeAxis(data.horizonHours)
        var p05: [(Double, Double)] = [], p50: [(Double, Double)] = [], p95: [(Double, Double)] = []
        for (k, t) in times.enumerated() {
            let values = records.compactMap { k < $0.series[p].count ? $0.series[p][k] : nil }.sorted()
            guard !values.isEmpty else { continue }
            let x = t / scale
            p05.append((x, Statistics.quantile(sorted: values, 0.05)))
            p50.append((x, Statistics.quantile(sorted: values, 0.5)))
            p95.append((x, Statistics.quantile(sorted: values, 0.95)))
        }
        let ys = (p05 + p95).map(\.1) + [0]
        var chart = SVGChart(title: "Pool \(data.poolNames[p]): available credits (\(records.count) replications)",
                             xLabel: xLabel, yLabel: "available credits",
                             x: 0...(data.horizonHours / scale), y: (ys.min() ?? 0)...max((ys.max() ?? 1) * 1.08, 1))
        chart.band(p05, p95, color: palette[0], name: "p5–p95")
        chart.line(p50, color: palette[0], name: "median")
        return chart.render()
    }

    /// Histogram of a per-replication value with its mean marked.
    static func histogram(_ values: [Double], title: String, xLabel: String, empty: String) -> String {
        guard let lo = values.min(), let hi = values.max() else {
            var chart = SVGChart(title: title, xLabel: xLabel, yLabel: "replications", x: 0...1, y: 0...1)
            chart.note(empty)
            return chart.render()
        }
        let bins = max(5, min(30, Int(Double(values.count).squareRoot())))
        let h = Histogram(values, bins: bins, range: lo...(hi > lo ? hi + (hi - lo) * 1e-9 : lo + 1))
        var chart = SVGChart(title: title, xLabel: xLabel, yLabel: "replications",
                             x: h.edges.first!...h.edges.last!, y: 0...(Double(max(h.counts.max() ?? 1, 1)) * 1.1))
        for (i, c) in h.counts.enumerated() { chart.bar(from: h.edges[i], to: h.edges[i + 1], height: Double(c), color: palette[0]) }
        chart.vertical(at: Statistics.mean(values), color: palette[1], label: "mean \(SVGChart.label(Statistics.mean(values)))")
        return chart.render()
    }

    /// Continuity against spend predictability (CV of spend), one point per variant.
    static func tradeOff(_ summary: Summary) -> String {
        let names = summary.data.variants.map { $0.name ?? "as written" }
        let points = summary.run.map { ($0[Metric.spendCV.name]?.mean ?? 0, $0[Metric.continuity.name]?.mean ?? 1) }
        let xs = points.map(\.0), ys = points.map(\.1)
        let xr = (xs.min() ?? 0)...(xs.max() ?? 1), yr = (ys.min() ?? 0)...(ys.max() ?? 1)
        let padX = max((xr.upperBound - xr.lowerBound) * 0.15, 0.01), padY = max((yr.upperBound - yr.lowerBound) * 0.15, 0.005)
        var chart = SVGChart(title: "Continuity against spend predictability, by variant",
                             xLabel: "coefficient of variation of spend (lower = more predictable)", yLabel: "mean continuity",
                             x: max(0, xr.lowerBound - padX)...(xr.upperBound + padX), y: (yr.lowerBound - padY)...min(1.0001, yr.upperBound + padY))
        // Variants with the same outcome share one point and one label.
        var drawn: [(Double, Double)] = []
        for (i, p) in points.enumerated() where !drawn.contains(where: { $0 == p }) {
            let same = points.indices.filter { points[$0] == p }.map { names[$0] }
            chart.point(p, color: palette[i % palette.count], label: same.joined(separator: " = "))
            drawn.append(p)
        }
        return chart.render()
    }

    /// Mean spend per identity, with p5–p95 whiskers.
    static func spendByIdentity(_ summary: Summary) -> String {
        let names = summary.data.identityNames
        let stats = summary.identities[0].map { $0[Metric.spendCredits.name] }
        let top = stats.map { $0?.p95 ?? 0 }.max() ?? 1
        var chart = SVGChart(title: "Spend by identity (mean, p5–p95)", xLabel: "identity",
                             yLabel: "credits per replication", x: 0.5...(Double(names.count) + 0.5), y: 0...max(top * 1.12, 1))
        chart.xCategories = names
        for (i, s) in stats.enumerated() {
            guard let s else { continue }
            let x = Double(i + 1)
            chart.bar(from: x - 0.3, to: x + 0.3, height: s.mean, color: palette[i % palette.count])
            chart.line([(x, s.p05), (x, s.p95)], color: "#333", width: 1.5)
            chart.point((x, s.mean), color: "#333", label: SVGChart.label(s.mean))
        }
        return chart.render()
    }
}
