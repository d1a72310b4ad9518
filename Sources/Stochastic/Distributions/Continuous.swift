import CGSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The exponential distribution: waiting times of a Poisson process.
public struct Exponential: ContinuousDistribution {
    /// The mean waiting time (1 / rate).
    public let meanValue: Double

    /// Exponential with the given rate (events per unit time).
    public init(rate: Double) throws(DistributionError) {
        try require(positiveFinite(rate), "exponential", "rate", rate, "positive and finite")
        self.meanValue = 1 / rate
    }

    /// Exponential with the given mean waiting time.
    public init(mean: Double) throws(DistributionError) {
        try require(positiveFinite(mean), "exponential", "mean", mean, "positive and finite")
        self.meanValue = mean
    }

    public var rate: Double { 1 / meanValue }
    public var mean: Double { meanValue }
    public var variance: Double { meanValue * meanValue }

    @inlinable
    public func sample(_ stream: RandomStream) -> Double {
        gsl_ran_exponential(stream.gslPointer, meanValue)
    }
}

/// The normal (Gaussian) distribution.
public struct Normal: ContinuousDistribution {
    public let meanValue: Double
    public let sd: Double

    public init(mean: Double, sd: Double) throws(DistributionError) {
        try require(mean.isFinite, "normal", "mean", mean, "finite")
        try require(sd >= 0 && sd.isFinite, "normal", "sd", sd, "non-negative and finite")
        self.meanValue = mean
        self.sd = sd
    }

    public var mean: Double { meanValue }
    public var variance: Double { sd * sd }

    /// Uses GSL's ziggurat method (Marsaglia & Tsang 2000), the fastest Gaussian sampler GSL has.
    @inlinable
    public func sample(_ stream: RandomStream) -> Double {
        meanValue + gsl_ran_gaussian_ziggurat(stream.gslPointer, sd)
    }
}

/// The lognormal distribution: `exp(N(mu, sigma²))`. Token counts and latencies are close to it.
public struct LogNormal: ContinuousDistribution {
    /// Location of the underlying normal (ln of the median).
    public let mu: Double
    /// Scale of the underlying normal.
    public let sigma: Double

    /// Lognormal with the given median and log-scale sigma, as one reads it off a quantile plot.
    public init(median: Double, sigma: Double) throws(DistributionError) {
        try require(positiveFinite(median), "lognormal", "median", median, "positive and finite")
        try require(sigma >= 0 && sigma.isFinite, "lognormal", "sigma", sigma, "non-negative and finite")
        self.mu = log(median)
        self.sigma = sigma
    }

    /// Lognormal with the given mean and standard deviation (of the variable itself):
    /// `sigma² = ln(1 + sd²/mean²)`, `mu = ln(mean) − sigma²/2`.
    public init(mean: Double, sd: Double) throws(DistributionError) {
        try require(positiveFinite(mean), "lognormal", "mean", mean, "positive and finite")
        try require(sd >= 0 && sd.isFinite, "lognormal", "sd", sd, "non-negative and finite")
        let s2 = log1p((sd * sd) / (mean * mean))
        self.mu = log(mean) - s2 / 2
        self.sigma = s2.squareRoot()
    }

    /// Lognormal with the parameters of the underlying normal.
    public init(mu: Double, sigma: Double) throws(DistributionError) {
        try require(mu.isFinite, "lognormal", "mu", mu, "finite")
        try require(sigma >= 0 && sigma.isFinite, "lognormal", "sigma", sigma, "non-negative and finite")
        self.mu = mu
        self.sigma = sigma
    }

    public var median: Double { exp(mu) }
    public var mean: Double { exp(mu + sigma * sigma / 2) }
    public var variance: Double { expm1(sigma * sigma) * exp(2 * mu + sigma * sigma) }

    /// `exp(mu + sigma·Z)` with Z from GSL's ziggurat: the same law as `gsl_ran_lognormal`
    /// (which uses the slower polar Box–Muller method), at about twice the speed.
    @inlinable
    public func sample(_ stream: RandomStream) -> Double {
        exp(mu + gsl_ran_gaussian_ziggurat(stream.gslPointer, sigma))
    }

    /// Maximum-likelihood fit: mu and sigma are the mean and the (1/n) standard deviation of the
    /// logarithms. Every sample must be positive; at least two are needed.
    public static func fit(_ samples: [Double]) throws(FitError) -> LogNormal {
        guard samples.count >= 2 else { throw FitError.tooFewSamples(samples.count) }
        var logs = [Double]()
        logs.reserveCapacity(samples.count)
        for x in samples {
            guard x > 0, x.isFinite else { throw FitError.outOfSupport(x) }
            logs.append(log(x))
        }
        let m = Statistics.mean(logs)
        let n = Double(logs.count)
        let s = (Statistics.variance(logs) * (n - 1) / n).squareRoot()
        do { return try LogNormal(mu: m, sigma: s) } catch { throw FitError.degenerate }
    }
}

/// The gamma distribution with shape `k` and scale `theta` (mean k·theta).
public struct Gamma: ContinuousDistribution {
    public let shape: Double
    public let scale: Double

    public init(shape: Double, scale: Double) throws(DistributionError) {
        try require(positiveFinite(shape), "gamma", "shape", shape, "positive and finite")
        try require(positiveFinite(scale), "gamma", "scale", scale, "positive and finite")
        self.shape = shape
        self.scale = scale
    }

    /// Gamma with the given mean and coefficient of variation (sd / mean): shape = 1/cv².
    /// This is how burstiness of inter-arrival times is usually stated.
    public init(mean: Double, cv: Double) throws(DistributionError) {
        try require(positiveFinite(mean), "gamma", "mean", mean, "positive and finite")
        try require(positiveFinite(cv), "gamma", "cv", cv, "positive and finite")
        let k = 1 / (cv * cv)
        try self.init(shape: k, scale: mean / k)
    }

    public var mean: Double { shape * scale }
    public var variance: Double { shape * scale * scale }

    /// GSL's Marsaglia–Tsang sampler.
    @inlinable
    public func sample(_ stream: RandomStream) -> Double {
        gsl_ran_gamma(stream.gslPointer, shape, scale)
    }

    /// Maximum-likelihood fit. The shape solves `ln k − ψ(k) = ln(mean) − mean(ln x)` by Newton's
    /// method (digamma ψ and trigamma from GSL), started from Minka's (2002) closed-form
    /// approximation; the scale is then mean / k.
    public static func fit(_ samples: [Double]) throws(FitError) -> Gamma {
        guard samples.count >= 2 else { throw FitError.tooFewSamples(samples.count) }
        var sumLog = 0.0
        for x in samples {
            guard x > 0, x.isFinite else { throw FitError.outOfSupport(x) }
            sumLog += log(x)
        }
        GSLRuntime.ensureConfigured()
        let m = Statistics.mean(samples)
        let s = log(m) - sumLog / Double(samples.count)
        guard s > 0, s.isFinite else { throw FitError.degenerate }
        var k = (3 - s + ((s - 3) * (s - 3) + 24 * s).squareRoot()) / (12 * s)
        for _ in 0..<100 {
            let f = log(k) - gsl_sf_psi(k) - s
            let df = 1 / k - gsl_sf_psi_1(k)
            let next = k - f / df
            let converged = abs(next - k) <= 1e-12 * k
            k = next > 0 ? next : k / 2
            if converged { break }
        }
        do { return try Gamma(shape: k, scale: m / k) } catch { throw FitError.degenerate }
    }
}

/// The Weibull distribution with shape `k` and scale `lambda`.
public struct Weibull: ContinuousDistribution {
    public let shape: Double
    public let scale: Double

    public init(shape: Double, scale: Double) throws(DistributionError) {
        try require(positiveFinite(shape), "weibull", "shape", shape, "positive and finite")
        try require(positiveFinite(scale), "weibull", "scale", scale, "positive and finite")
        self.shape = shape
        self.scale = scale
    }

    public var mean: Double { scale * tgamma(1 + 1 / shape) }
    public var variance: Double {
        let g1 = tgamma(1 + 1 / shape)
        return scale * scale * (tgamma(1 + 2 / shape) - g1 * g1)
    }

    @inlinable
    public func sample(_ stream: RandomStream) -> Double {
        gsl_ran_weibull(stream.gslPointer, scale, shape)
    }
}

/// The Pareto (type I) distribution: support `[minimum, ∞)`, tail index `shape`.
public struct Pareto: ContinuousDistribution {
    public let shape: Double
    public let minimum: Double

    public init(shape: Double, minimum: Double) throws(DistributionError) {
        try require(positiveFinite(shape), "pareto", "shape", shape, "positive and finite")
        try require(positiveFinite(minimum), "pareto", "minimum", minimum, "positive and finite")
        self.shape = shape
        self.minimum = minimum
    }

    public var mean: Double { shape > 1 ? shape * minimum / (shape - 1) : .infinity }
    public var variance: Double {
        shape > 2 ? minimum * minimum * shape / ((shape - 1) * (shape - 1) * (shape - 2)) : .infinity
    }

    @inlinable
    public func sample(_ stream: RandomStream) -> Double {
        gsl_ran_pareto(stream.gslPointer, shape, minimum)
    }
}

/// The continuous uniform distribution on `[lower, upper)`.
public struct Uniform: ContinuousDistribution {
    public let lower: Double
    public let upper: Double

    public init(lower: Double, upper: Double) throws(DistributionError) {
        try require(lower.isFinite, "uniform", "lower", lower, "finite")
        try require(upper.isFinite && upper > lower, "uniform", "upper", upper, "finite and above lower (\(lower))")
        self.lower = lower
        self.upper = upper
    }

    public var mean: Double { (lower + upper) / 2 }
    public var variance: Double { (upper - lower) * (upper - lower) / 12 }

    @inlinable
    public func sample(_ stream: RandomStream) -> Double {
        gsl_ran_flat(stream.gslPointer, lower, upper)
    }
}

/// A point mass: always the same value. Lets a workload say "exactly 1,000 tokens" through the
/// same interface as a random one.
public struct Constant: ContinuousDistribution {
    public let value: Double

    public init(_ value: Double) throws(DistributionError) {
        try require(value.isFinite, "constant", "value", value, "finite")
        self.value = value
    }

    public var mean: Double { value }
    public var variance: Double { 0 }

    @inlinable
    public func sample(_ stream: RandomStream) -> Double { value }
}

/// A fit that could not be made.
public enum FitError: Error, Equatable, Sendable, CustomStringConvertible {
    case tooFewSamples(Int)
    case outOfSupport(Double)
    case degenerate

    public var description: String {
        switch self {
        case .tooFewSamples(let n): "at least 2 samples are needed to fit, got \(n)"
        case .outOfSupport(let x): "sample \(x) is outside the distribution's support (positive, finite)"
        case .degenerate: "the samples are all equal: no spread to fit"
        }
    }
}
