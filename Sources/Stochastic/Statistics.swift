import CGSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Descriptive and inferential statistics on top of GSL.
///
/// All functions are pure. Quantiles follow GSL's `gsl_stats_quantile_from_sorted_data`
/// (linear interpolation between order statistics, R's type 7, NumPy's default), so figures match
/// what a reader gets from R or NumPy.
public enum Statistics {
    /// The arithmetic mean; NaN for an empty array.
    public static func mean(_ xs: [Double]) -> Double {
        guard !xs.isEmpty else { return .nan }
        return xs.withUnsafeBufferPointer { gsl_stats_mean($0.baseAddress, 1, $0.count) }
    }

    /// The unbiased sample variance (divisor n − 1); 0 for one value, NaN for none.
    public static func variance(_ xs: [Double]) -> Double {
        guard !xs.isEmpty else { return .nan }
        guard xs.count > 1 else { return 0 }
        return xs.withUnsafeBufferPointer { gsl_stats_variance($0.baseAddress, 1, $0.count) }
    }

    /// The sample standard deviation (square root of ``variance(_:)``).
    public static func standardDeviation(_ xs: [Double]) -> Double {
        variance(xs).squareRoot()
    }

    /// The `p`-quantile (0 ≤ p ≤ 1) of data already sorted ascending.
    public static func quantile(sorted xs: [Double], _ p: Double) -> Double {
        precondition(p >= 0 && p <= 1, "quantile p must be in [0, 1]")
        guard !xs.isEmpty else { return .nan }
        return xs.withUnsafeBufferPointer { gsl_stats_quantile_from_sorted_data($0.baseAddress, 1, $0.count, p) }
    }

    /// The `p`-quantile of unsorted data (sorts a copy).
    public static func quantile(_ xs: [Double], _ p: Double) -> Double {
        quantile(sorted: xs.sorted(), p)
    }

    /// The Student-t confidence interval for the mean of `xs` at the given confidence level
    /// (e.g. 0.95): `mean ± t(1 − α/2, n − 1) · s / √n`. With fewer than two values the interval is
    /// the single point (or NaN when empty): there is no spread to estimate.
    public static func meanConfidenceInterval(_ xs: [Double], confidence: Double = 0.95) -> ClosedRange<Double>? {
        precondition(confidence > 0 && confidence < 1, "confidence must be in (0, 1)")
        guard !xs.isEmpty else { return nil }
        let m = mean(xs)
        guard xs.count > 1 else { return m...m }
        let n = Double(xs.count)
        let t = Distributions.studentTQuantile((1 + confidence) / 2, degreesOfFreedom: n - 1)
        let half = t * standardDeviation(xs) / n.squareRoot()
        return (m - half)...(m + half)
    }

    /// The Wilson score interval for a proportion `successes / trials` at the given confidence
    /// (Wilson 1927). Unlike the normal approximation it stays inside [0, 1] and behaves at 0 and
    /// at `trials`.
    public static func wilsonInterval(successes: Int, trials: Int, confidence: Double = 0.95) -> ClosedRange<Double>? {
        precondition(confidence > 0 && confidence < 1, "confidence must be in (0, 1)")
        precondition(successes >= 0 && successes <= trials, "successes must be in 0...trials")
        guard trials > 0 else { return nil }
        let n = Double(trials)
        let p = Double(successes) / n
        let z = Distributions.normalQuantile((1 + confidence) / 2)
        let z2 = z * z
        let centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        let half = z / (1 + z2 / n) * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        return max(0, centre - half)...min(1, centre + half)
    }
}

/// Cumulative distribution functions and quantiles from GSL, for analytic checks.
public enum Distributions {
    /// P(X ≤ k) for X ~ Poisson(mean). 0 for k < 0.
    public static func poissonCDF(_ k: Int, mean: Double) -> Double {
        GSLRuntime.ensureConfigured()
        guard k >= 0 else { return 0 }
        return gsl_cdf_poisson_P(UInt32(clamping: k), mean)
    }

    /// P(X > k) for X ~ Poisson(mean), computed directly (not as 1 − CDF) to keep precision in
    /// the tail.
    public static func poissonSurvival(_ k: Int, mean: Double) -> Double {
        GSLRuntime.ensureConfigured()
        guard k >= 0 else { return 1 }
        return gsl_cdf_poisson_Q(UInt32(clamping: k), mean)
    }

    /// P(X = k) for X ~ NegativeBinomial(shape r, p): the count of a Poisson process whose mean
    /// is λ·M with M ~ Gamma(shape r, scale 1/r), where p = r / (r + λ) (`gsl_ran_negative_binomial_pdf`).
    public static func negativeBinomialPMF(_ k: Int, shape r: Double, p: Double) -> Double {
        GSLRuntime.ensureConfigured()
        guard k >= 0 else { return 0 }
        return gsl_ran_negative_binomial_pdf(UInt32(clamping: k), p, r)
    }

    /// P(X > k) for X ~ NegativeBinomial(shape r, p), computed directly in the tail
    /// (`gsl_cdf_negative_binomial_Q`).
    public static func negativeBinomialSurvival(_ k: Int, shape r: Double, p: Double) -> Double {
        GSLRuntime.ensureConfigured()
        guard k >= 0 else { return 1 }
        return gsl_cdf_negative_binomial_Q(UInt32(clamping: k), p, r)
    }

    /// P(X ≤ k) for X ~ Binomial(n, p). 0 for k < 0, 1 for k ≥ n.
    public static func binomialCDF(_ k: Int, trials n: Int, p: Double) -> Double {
        GSLRuntime.ensureConfigured()
        guard k >= 0 else { return 0 }
        guard k < n else { return 1 }
        return gsl_cdf_binomial_P(UInt32(clamping: k), p, UInt32(clamping: n))
    }

    /// P(X = k) for X ~ Poisson(mean).
    public static func poissonPMF(_ k: Int, mean: Double) -> Double {
        GSLRuntime.ensureConfigured()
        guard k >= 0 else { return 0 }
        return gsl_ran_poisson_pdf(UInt32(clamping: k), mean)
    }

    /// The smallest k with P(X ≤ k) ≥ p for X ~ Poisson(mean). GSL has no Poisson quantile, so it
    /// is found by a search on `gsl_cdf_poisson_P` started at the normal approximation.
    public static func poissonQuantile(_ p: Double, mean: Double) -> Int {
        precondition(p >= 0 && p < 1, "p must be in [0, 1)")
        precondition(mean >= 0 && mean.isFinite, "mean must be non-negative")
        if mean == 0 || p == 0 { return 0 }
        var k = max(0, Int((mean + normalQuantile(p) * mean.squareRoot()).rounded(.down)))
        while k > 0 && poissonCDF(k - 1, mean: mean) >= p { k -= 1 }
        while poissonCDF(k, mean: mean) < p { k += 1 }
        return k
    }

    /// Φ((x − mean) / sd).
    public static func normalCDF(_ x: Double, mean: Double = 0, sd: Double = 1) -> Double {
        GSLRuntime.ensureConfigured()
        return gsl_cdf_gaussian_P(x - mean, sd)
    }

    /// The inverse of ``normalCDF(_:mean:sd:)``.
    public static func normalQuantile(_ p: Double, mean: Double = 0, sd: Double = 1) -> Double {
        GSLRuntime.ensureConfigured()
        return mean + gsl_cdf_gaussian_Pinv(p, sd)
    }

    /// P(X ≤ x) for X ~ Gamma(shape, scale).
    public static func gammaCDF(_ x: Double, shape: Double, scale: Double) -> Double {
        GSLRuntime.ensureConfigured()
        return gsl_cdf_gamma_P(x, shape, scale)
    }

    /// The inverse of ``gammaCDF(_:shape:scale:)``.
    public static func gammaQuantile(_ p: Double, shape: Double, scale: Double) -> Double {
        GSLRuntime.ensureConfigured()
        return gsl_cdf_gamma_Pinv(p, shape, scale)
    }

    /// The quantile of Student's t with `degreesOfFreedom`.
    public static func studentTQuantile(_ p: Double, degreesOfFreedom nu: Double) -> Double {
        GSLRuntime.ensureConfigured()
        return gsl_cdf_tdist_Pinv(p, nu)
    }

    /// P(X ≤ x) for X ~ lognormal(mu, sigma).
    public static func lognormalCDF(_ x: Double, mu: Double, sigma: Double) -> Double {
        GSLRuntime.ensureConfigured()
        return gsl_cdf_lognormal_P(x, mu, sigma)
    }

    /// P(X ≤ x) for X ~ exponential(mean).
    public static func exponentialCDF(_ x: Double, mean: Double) -> Double {
        GSLRuntime.ensureConfigured()
        return gsl_cdf_exponential_P(x, mean)
    }
}

/// A histogram with equal-width bins, filled through GSL's `gsl_histogram`.
public struct Histogram: Sendable, Equatable {
    /// Bin edges: `count + 1` ascending values.
    public let edges: [Double]
    /// Observations per bin.
    public let counts: [Int]
    /// Observations below the first edge or at/above the last (GSL drops them; we count them).
    public let outside: Int

    /// Bins `values` into `bins` equal bins over `range` (upper edge exclusive).
    public init(_ values: [Double], bins: Int, range: ClosedRange<Double>) {
        precondition(bins > 0, "a histogram needs at least one bin")
        precondition(range.upperBound > range.lowerBound, "a histogram needs a non-empty range")
        GSLRuntime.ensureConfigured()
        guard let h = gsl_histogram_alloc(bins) else { fatalError("gsl_histogram_alloc failed: out of memory") }
        defer { gsl_histogram_free(h) }
        gsl_histogram_set_ranges_uniform(h, range.lowerBound, range.upperBound)
        var outside = 0
        for v in values where gsl_histogram_increment(h, v) != GSL_SUCCESS {
            outside += 1
        }
        var edges = [Double]()
        var counts = [Int]()
        for i in 0...bins { edges.append(h.pointee.range[i]) }
        for i in 0..<bins { counts.append(Int(h.pointee.bin[i])) }
        self.edges = edges
        self.counts = counts
        self.outside = outside
    }

    /// Bins `values` into `bins` equal bins spanning their minimum and maximum.
    public init(_ values: [Double], bins: Int) {
        let lo = values.min() ?? 0
        var hi = values.max() ?? 1
        if hi <= lo { hi = lo + 1 }
        // Widen the top edge by one ulp-scale step so the maximum falls in the last bin.
        self.init(values, bins: bins, range: lo...(hi + (hi - lo) * 1e-12))
    }
}

extension Statistics {
    /// The Kolmogorov–Smirnov statistic D = sup |F̂(x) − F(x)| of sorted data against a CDF:
    /// max over i of max(F(xᵢ) − (i−1)/n, i/n − F(xᵢ)). A goodness-of-fit figure: small is good;
    /// about 1.36/√n is the 5% critical value for a fully specified F.
    public static func kolmogorovSmirnov(sorted xs: [Double], cdf: (Double) -> Double) -> Double {
        let n = Double(xs.count)
        var d = 0.0
        for (i, x) in xs.enumerated() {
            let f = cdf(x)
            d = max(d, f - Double(i) / n, Double(i + 1) / n - f)
        }
        return d
    }
}
