import Scenario
import Simulation

/// Sequential stopping (DESIGN.md, "Sequential stopping"): run replications in fixed batches and
/// stop once every named metric's 95% half-width is at most its target (judged from the second
/// batch on), with the scenario's replications as the cap.
public enum SequentialRun {
    /// Replications per batch. Fixed, so where a run stops depends only on the scenario and its
    /// seed, never on the thread count.
    public static let batch = 20

    /// Reads `--precision METRIC=HALF_WIDTH` values.
    public static func parse(_ texts: [String]) throws(DecisionError) -> [String: Double] {
        var out: [String: Double] = [:]
        for text in texts {
            let parts = text.split(separator: "=", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, let width = Double(parts[1]), width > 0, width.isFinite else {
                throw DecisionError("--precision is METRIC=HALF_WIDTH with a positive half-width, e.g. continuity=0.002; got '\(text)'")
            }
            if let problem = Metric.precisionProblem(parts[0]) { throw DecisionError("--precision \(text): \(problem)") }
            out[parts[0]] = width
        }
        return out
    }

    /// The largest 95% half-width of `metric` over the variants of `data`, on the replications run.
    public static func halfWidth(_ metric: String, in data: RunData) -> Double {
        let proportion = Metric.named(metric)?.kind == .proportion
        var widest = 0.0
        for v in data.variants {
            let values = v.records.compactMap { $0.run[metric] }
            guard values.count > 1, let s = MetricSummary(values, proportion: proportion) else { return .infinity }
            widest = max(widest, (s.ci95[1] - s.ci95[0]) / 2)
        }
        return widest
    }

    /// Runs `scenario` batch by batch until every target of `precision` is met (`stopped_by`
    /// `precision`) or `cap` replications have run (`cap`). Every variant must meet every target.
    public static func run(_ scenario: Scenario, precision: [String: Double], cap: Int, threads: Int?,
                           progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> RunData {
        var data: RunData? = nil
        var done = 0
        while done < cap {
            let next = min(cap, done + batch), start = done, variants = max(1, scenario.variants.count)
            let part = try RunData.run(scenario, numbers: Array(done..<next), replications: next, threads: threads, shard: nil,
                                       progress: progress.map { p in { @Sendable n, _ in p(start + n / variants, cap) } })
            if var d = data {
                for v in d.variants.indices { d.variants[v].records += part.variants[v].records }
                d.replications = next
                data = d
            } else {
                data = part
            }
            done = next
            // At least two batches: an interval on 20 identical values is no evidence.
            if done >= 2 * batch, precision.allSatisfy({ halfWidth($0.key, in: data!) <= $0.value }) {
                data!.stoppedBy = "precision"
                break
            }
        }
        var result = data!
        if result.stoppedBy == nil { result.stoppedBy = "cap" }
        result.precision = precision
        return result
    }
}
