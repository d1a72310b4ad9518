import Simulation
import Stochastic

/// One-sided confidence bounds for the statistics an expectation names, so that a decision tool
/// can say a target holds "with 95% confidence" rather than "on this sample".
public enum ConfidenceBound {
    /// The statistic `statistic` of `values` (one per replication) and its one-sided bound at
    /// `confidence`: the lower bound when `lower`, else the upper one.
    ///
    /// - mean of a 0/1 metric: Wilson score bound;
    /// - mean of anything else: Student t bound;
    /// - p05…p99: the distribution-free order-statistic bound (the binomial law of how many
    ///   replications fall below the true quantile), ±infinity when there are too few replications;
    /// - sd: the point estimate (no bound).
    public static func estimate(_ values: [Double], statistic: String, proportion: Bool, confidence: Double,
                                lower: Bool) -> (value: Double, bound: Double) {
        let sorted = values.sorted()
        let n = sorted.count
        guard n > 0 else { return (.nan, .nan) }
        let twoSided = 2 * confidence - 1
        switch statistic {
        case "mean":
            let mean = Statistics.mean(values)
            if proportion {
                let successes = values.reduce(0) { $0 + ($1 >= 0.5 ? 1 : 0) }
                let ci = Statistics.wilsonInterval(successes: successes, trials: n, confidence: twoSided)!
                return (mean, lower ? ci.lowerBound : ci.upperBound)
            }
            guard n > 1, let ci = Statistics.meanConfidenceInterval(values, confidence: twoSided) else {
                return (mean, lower ? -.infinity : .infinity)
            }
            return (mean, lower ? ci.lowerBound : ci.upperBound)
        case "p05", "p50", "p95", "p99":
            let q = Double(statistic.dropFirst())! / 100
            let value = Statistics.quantile(sorted: sorted, q)
            if lower {
                // The largest k with P(Binomial(n, q) ≥ k) ≥ confidence: x_(k) ≤ the q-quantile then.
                var k = 0
                while k < n, 1 - Distributions.binomialCDF(k, trials: n, p: q) >= confidence { k += 1 }
                return (value, k == 0 ? -.infinity : sorted[k - 1])
            }
            // The smallest k with P(Binomial(n, q) ≤ k − 1) ≥ confidence.
            var k = 1
            while k <= n, Distributions.binomialCDF(k - 1, trials: n, p: q) < confidence { k += 1 }
            return (value, k > n ? .infinity : sorted[k - 1])
        default:
            let sd = n > 1 ? Statistics.standardDeviation(values) : 0
            return (sd, sd)
        }
    }
}
