import Foundation
import Scenario
import Simulation

/// What `burnrate size` answers, in JSON (for scripts), Markdown and a chart per pool.
public struct SizeAnswer: Sendable {
    public enum Layout: String, Sendable { case asWritten = "as-written", shared, split }

    public var scenario: String
    public var target: Expectation
    public var confidence: Double
    public var replications: Int
    /// Per layout (one unless both were asked), the sizes of its pools.
    public var layouts: [(layout: Layout, sizes: [PoolSize])]
    /// How the layouts were built (what the shared pool stands for, what was summed, which pools
    /// were not sized), in the order they apply.
    public var notes: [String]

    public init(scenario: String, target: Expectation, confidence: Double, replications: Int,
                layouts: [(layout: Layout, sizes: [PoolSize])], notes: [String] = []) {
        self.scenario = scenario
        self.target = target
        self.confidence = confidence
        self.replications = replications
        self.layouts = layouts
        self.notes = notes
    }

    /// Total funding of a layout (nil when a pool could not reach the target).
    static func total(_ sizes: [PoolSize]) -> Double? {
        var t = 0.0
        for s in sizes { guard let f = s.fundingCredits else { return nil }; t += f }
        return roundMicro(t)
    }

    /// Whether every pool reached the target.
    public var reached: Bool { layouts.allSatisfy { Self.total($0.sizes) != nil } }

    func poolJSON(_ s: PoolSize, layout: Layout?) -> JSON {
        var o: [String: JSON] = ["funding_credits": s.fundingCredits.map(JSON.number) ?? .null]
        if let p = s.point {
            o["estimate"] = .number(p.estimate)
            o["bound"] = .number(p.bound)
            o["replications"] = .number(Double(p.replications))
        }
        if let u = s.unreached {
            var n: [String: JSON] = [
                "funding_credits_max": .number(u.point.fundingCredits), "estimate": .number(u.point.estimate),
                "bound": .number(u.point.bound), "binding": u.binding.map(JSON.string) ?? .null,
                "rejections_per_replication": .object(u.point.rejectionsPerReplication.mapValues { .number(roundMicro($0)) }),
            ]
            n["identities"] = .object(u.point.identityRejectionsPerReplication.mapValues { .object($0.mapValues { .number(roundMicro($0)) }) })
            n["because"] = .string(Self.unreachedText(s.pool, u, target: target, confidence: confidence, layout: layout, names: { $0 }))
            o["not_reached"] = .object(n)
        }
        o["curve"] = .array(s.curve.map { p in
            .object(["funding_credits": .number(p.fundingCredits), "estimate": .number(p.estimate), "bound": .number(p.bound),
                     "replications": .number(Double(p.replications)), "holds": .bool(p.holds)])
        })
        return .object(o)
    }

    func layoutJSON(_ sizes: [PoolSize], layout: Layout, single: Bool) -> [String: JSON] {
        let named = layouts.count > 1 ? layout : nil
        if single, let s = sizes.first, sizes.count == 1, case .object(var o) = poolJSON(s, layout: named) {
            o["pool"] = .string(s.pool)
            return o
        }
        var pools: [String: JSON] = [:]
        for s in sizes { pools[s.pool] = poolJSON(s, layout: named) }
        return ["funding_credits": Self.total(sizes).map(JSON.number) ?? .null, "pools": .object(pools)]
    }

    public var json: JSON {
        var o: [String: JSON] = [
            "schema": .string("burnrate.size/1"), "scenario": .string(scenario), "target": .string(target.text),
            "confidence": .number(confidence), "replications": .number(Double(replications)),
        ]
        if layouts.count == 1 {
            for (k, v) in layoutJSON(layouts[0].sizes, layout: layouts[0].layout, single: layouts[0].layout == .asWritten) { o[k] = v }
            if layouts[0].layout != .asWritten { o["layout"] = .string(layouts[0].layout.rawValue) }
        } else {
            var l: [String: JSON] = [:]
            for (layout, sizes) in layouts { l[layout.rawValue] = .object(layoutJSON(sizes, layout: layout, single: false)) }
            o["layouts"] = .object(l)
            if let c = comparison {
                o["difference_credits"] = .number(roundMicro(c.split - c.shared))
                o["ratio"] = c.shared > 0 ? .number(c.split / c.shared) : .null
                o["resolution_credits"] = .number(roundMicro(c.resolution))
                o["comparison"] = .string(c.text.replacingOccurrences(of: "**", with: ""))
            }
        }
        if !notes.isEmpty { o["notes"] = .array(notes.map(JSON.string)) }
        return .object(o)
    }

    /// Shared against split: the totals, how finely the search pinned them, and what to say.
    struct LayoutComparison {
        var shared: Double
        var split: Double
        /// The sum of the final brackets' widths over every pool of both layouts: a difference
        /// within it is not measured.
        var resolution: Double
        var text: String
    }

    var comparison: LayoutComparison? {
        guard let sharedSizes = layouts.first(where: { $0.layout == .shared })?.sizes,
              let splitSizes = layouts.first(where: { $0.layout == .split })?.sizes,
              let shared = Self.total(sharedSizes), let split = Self.total(splitSizes) else { return nil }
        let resolution = (sharedSizes + splitSizes).reduce(0) { $0 + ($1.bracketCredits ?? 0) }
        let ratio = shared > 0 ? " (**\(Self.number(split / shared))×**)" : ""
        let difference = split - shared
        var text: String
        if abs(difference) <= resolution {
            text = "Split pools and one shared pool need the same funding here: the difference (\(Self.credits(difference)) credits\(ratio)) "
            text += "is within the search's resolution (\(Self.credits(resolution)) credits over both layouts). Pooling gains nothing measurable "
            text += "when the departments' peaks coincide or their noise is small against the resolution; a finer --resolution narrows it."
        } else if difference > 0 {
            text = "Split pools need **\(Self.credits(difference)) credits more** than one shared pool\(ratio): each department must carry its own peaks, "
            text += "a shared pool carries the peaks that do not coincide."
        } else {
            text = "Split pools need **\(Self.credits(-difference)) credits less** than one shared pool\(ratio), beyond the search's resolution "
            text += "(\(Self.credits(resolution)) credits). The shared pool keeps each department's rules with their per-pool limits summed (notes above), "
            text += "so pooling alone does not explain it: the shared target is judged on one pool's \(target.metric), the split one on each department's, "
            text += "with their own confidence bounds; rerun with more --replications to see whether it stays."
        }
        return LayoutComparison(shared: shared, split: split, resolution: resolution, text: text)
    }

    /// The terminal and pull-request form.
    public var markdown: String {
        var s = "# Sizing `\(Escape.codeSpan(scenario))`\n\n"
        s += "Target: **\(target.text)** with \(JSON.format(confidence * 100))% confidence "
        s += "(\(replications) replications per candidate, common random numbers; more where the interval straddles the target).\n\n"
        for n in notes { s += "- \(Escape.markdown(n))\n" }
        if !notes.isEmpty { s += "\n" }
        for (layout, sizes) in layouts {
            if layouts.count > 1 || layout != .asWritten {
                s += "## \(layout == .shared ? "One shared pool" : layout == .split ? "One pool per department (split)" : "As written")\n\n"
            }
            s += "| pool | funding (credits) | \(target.metric).\(target.statistic) | \(JSON.format(confidence * 100))% bound | replications | candidates tried |\n"
            s += "|---|---:|---:|---:|---:|---:|\n"
            for p in sizes {
                let f = p.fundingCredits.map { Self.credits($0) } ?? "not reached"
                s += "| \(Escape.markdown(p.pool)) | \(f) | \(p.point.map { Self.number($0.estimate) } ?? "–") | \(p.point.map { Self.number($0.bound) } ?? "–") "
                s += "| \(p.point.map { String($0.replications) } ?? "–") | \(p.curve.count) |\n"
            }
            if sizes.count > 1 { s += "| **total** | **\(Self.total(sizes).map(Self.credits) ?? "not reached")** | | | | |\n" }
            s += "\n"
        }
        if layouts.count > 1, let c = comparison { s += c.text + "\n\n" }
        let unreached = unreachedLines(names: Escape.markdown)
        if !unreached.isEmpty {
            s += "## Not reached\n\n"
            for line in unreached { s += "- \(line)\n" }
            s += "\n"
        }
        return s
    }

    /// Credits to the cent, without ".00" for whole amounts; from a million on, as 1.72×10^12.
    static func credits(_ x: Double) -> String {
        if abs(x) >= 1e6 {
            let e = Int(log10(abs(x)).rounded(.down))
            return "\(JSON.format((x / pow(10, Double(e)) * 100).rounded() / 100))×10^\(e)"
        }
        let r = (x * 100).rounded() / 100
        return r == r.rounded() ? String(Int64(r)) : String(format: "%.2f", r)
    }

    static func number(_ x: Double) -> String {
        guard x.isFinite else { return x > 0 ? "∞" : "−∞" }
        return JSON.format((x * 1e6).rounded() / 1e6)
    }

    /// The metric against funding for one pool: the estimate, its confidence bound, the target
    /// and the answer.
    public func chart(layout: Int, pool: Int) -> String {
        let size = layouts[layout].sizes[pool]
        let pts = size.curve
        let xs = pts.map(\.fundingCredits)
        let ys = (pts.map(\.estimate) + pts.map(\.bound) + [target.value]).filter(\.isFinite)
        let lo = ys.min() ?? 0, hi = ys.max() ?? 1
        let pad = max((hi - lo) * 0.08, 1e-4)
        var c = SVGChart(title: "\(size.pool): \(target.metric).\(target.statistic) against funding",
                         xLabel: "funding (credits)", yLabel: "\(target.metric).\(target.statistic)",
                         x: 0...max((xs.max() ?? 1) * 1.05, 1e-6), y: (lo - pad)...(hi + pad))
        let est = pts.map { ($0.fundingCredits, $0.estimate) }
        let bound = pts.map { ($0.fundingCredits, $0.bound.isFinite ? $0.bound : $0.estimate) }
        c.band(est, bound, color: Charts.palette[0], name: "\(JSON.format(confidence * 100))% one-sided bound")
        c.line(est, color: Charts.palette[0], name: "estimate")
        for p in pts { c.point((p.fundingCredits, p.estimate), color: p.holds ? Charts.palette[2] : Charts.palette[1]) }
        c.line([(0, target.value), (max((xs.max() ?? 1) * 1.05, 1e-6), target.value)], color: "#555", width: 1, dashed: true, name: "target \(target.op.rawValue) \(SizeAnswer.number(target.value))")
        if let f = size.fundingCredits { c.vertical(at: f, color: Charts.palette[2], label: "answer \(Self.credits(f))") }
        return c.render()
    }

    /// `size.json`, `report.md` and `charts/size-<layout>-<pool>.svg`.
    public var files: [(path: String, contents: String)] {
        var charts: [(String, String)] = []
        for (l, entry) in layouts.enumerated() {
            for p in entry.sizes.indices {
                charts.append(("charts/size-\(entry.layout.rawValue)-\(ReportWriter.slug(entry.sizes[p].pool)).svg", chart(layout: l, pool: p)))
            }
        }
        var md = markdown
        md += "## Metric against funding\n\nGreen points meet the target at the stated confidence, red ones do not; the band runs from the estimate to its one-sided bound.\n\n"
        for (path, _) in charts { md += "![\(path)](\(path))\n\n" }
        return [("size.json", json.rendered() + "\n"), ("report.md", md)] + charts
    }

}
