import CGSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Poisson distribution: the number of events of a Poisson process in a fixed window.
public struct Poisson: DiscreteDistribution {
    public let meanValue: Double

    public init(mean: Double) throws(DistributionError) {
        try require(mean >= 0 && mean.isFinite, "poisson", "mean", mean, "non-negative and finite")
        self.meanValue = mean
    }

    public var mean: Double { meanValue }
    public var variance: Double { meanValue }

    @inlinable
    public func sample(_ stream: RandomStream) -> Int {
        Int(gsl_ran_poisson(stream.gslPointer, meanValue))
    }
}

/// The Bernoulli distribution: 1 with probability `p`, else 0.
public struct Bernoulli: DiscreteDistribution {
    public let p: Double

    public init(p: Double) throws(DistributionError) {
        try require(p >= 0 && p <= 1, "bernoulli", "p", p, "in [0, 1]")
        self.p = p
    }

    public var mean: Double { p }
    public var variance: Double { p * (1 - p) }

    @inlinable
    public func sample(_ stream: RandomStream) -> Int {
        Int(gsl_ran_bernoulli(stream.gslPointer, p))
    }

    /// One draw as a Boolean.
    @inlinable
    public func occurs(_ stream: RandomStream) -> Bool {
        gsl_ran_bernoulli(stream.gslPointer, p) == 1
    }
}

/// A weighted choice among `weights.count` outcomes `0..<count` in O(1) per draw, through GSL's
/// Walker alias table (`gsl_ran_discrete_preproc`).
///
/// Weights need not sum to one (they are normalised), but must be non-negative, finite, and not
/// all zero. The alias table is built once and never written again, so one instance may be read
/// from many threads at once (`gsl_ran_discrete` only reads it): that is why the type is
/// `Sendable` although it owns C memory.
public final class Categorical: DiscreteDistribution, @unchecked Sendable {
    /// The normalised probabilities, in the order given.
    public let probabilities: [Double]
    private let table: UnsafeMutablePointer<gsl_ran_discrete_t>

    public init(weights: [Double]) throws(DistributionError) {
        try require(!weights.isEmpty, "categorical", "weights.count", 0, "at least 1")
        var total = 0.0
        for (i, w) in weights.enumerated() {
            try require(w >= 0 && w.isFinite, "categorical", "weights[\(i)]", w, "non-negative and finite")
            total += w
        }
        try require(total > 0, "categorical", "sum of weights", total, "positive")
        GSLRuntime.ensureConfigured()
        guard let t = weights.withUnsafeBufferPointer({ gsl_ran_discrete_preproc($0.count, $0.baseAddress) }) else {
            throw DistributionError("categorical", "weights", total, "accepted by gsl_ran_discrete_preproc")
        }
        self.table = t
        self.probabilities = weights.map { $0 / total }
    }

    deinit {
        gsl_ran_discrete_free(table)
    }

    public var count: Int { probabilities.count }

    public var mean: Double {
        var m = 0.0
        for (i, p) in probabilities.enumerated() { m += Double(i) * p }
        return m
    }

    public var variance: Double {
        let m = mean
        var v = 0.0
        for (i, p) in probabilities.enumerated() { v += (Double(i) - m) * (Double(i) - m) * p }
        return v
    }

    /// An index in `0..<count`, chosen with the given probabilities.
    public func sample(_ stream: RandomStream) -> Int {
        gsl_ran_discrete(stream.gslPointer, table)
    }
}

/// The empirical distribution of observed samples, smoothed by linear interpolation between order
/// statistics: a draw is the sample quantile at a uniform `u`, computed like
/// `gsl_stats_quantile_from_sorted_data` (R's type 7). Every draw lies within
/// [min, max] of the data; with many samples it converges to the data's law.
public struct Empirical: ContinuousDistribution {
    /// The observations, sorted ascending.
    public let sorted: [Double]

    public init(samples: [Double]) throws(DistributionError) {
        try require(!samples.isEmpty, "empirical", "samples.count", 0, "at least 1")
        for (i, x) in samples.enumerated() {
            try require(x.isFinite, "empirical", "samples[\(i)]", x, "finite")
        }
        self.sorted = samples.sorted()
    }

    /// The mean of the interpolated law (trapezoid over the order statistics), which is what the
    /// sampler draws from; with a single observation it is that observation.
    public var mean: Double {
        let n = sorted.count
        guard n > 1 else { return sorted[0] }
        var s = 0.0
        for i in 0..<(n - 1) { s += (sorted[i] + sorted[i + 1]) / 2 }
        return s / Double(n - 1)
    }

    /// The variance of the interpolated law: each segment is uniform on [x_i, x_{i+1}].
    public var variance: Double {
        let n = sorted.count
        guard n > 1 else { return 0 }
        let m = mean
        var s = 0.0
        for i in 0..<(n - 1) {
            let a = sorted[i], b = sorted[i + 1]
            // E[(X − m)²] over U(a, b) = ((a−m)² + (a−m)(b−m) + (b−m)²) / 3.
            s += ((a - m) * (a - m) + (a - m) * (b - m) + (b - m) * (b - m)) / 3
        }
        return s / Double(n - 1)
    }

    @inlinable
    public func sample(_ stream: RandomStream) -> Double {
        let n = sorted.count
        if n == 1 { return sorted[0] }
        let position = gsl_rng_uniform(stream.gslPointer) * Double(n - 1)
        let lower = Int(position)
        let fraction = position - Double(lower)
        return sorted[lower] + fraction * (sorted[lower + 1] - sorted[lower])
    }
}
