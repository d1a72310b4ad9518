import Foundation
import Testing
@testable import Stochastic

/// Checks that the sample mean and variance of `n` draws agree with the exact moments.
///
/// Tolerances come from the sample size: the sample mean has standard error σ/√n; the sample
/// variance has standard error √((μ₄ − σ⁴)/n), estimated with the sample's own fourth central
/// moment. Five standard errors make a false failure rarer than one in a million, and the fixed
/// seed makes the outcome reproducible.
func expectMoments(_ draws: [Double], mean: Double, variance: Double, _ label: String) {
    let n = Double(draws.count)
    let m = Statistics.mean(draws)
    let v = Statistics.variance(draws)
    var m4 = 0.0
    for x in draws { let d = x - m; m4 += d * d * d * d }
    m4 /= n
    let meanTolerance = 5 * (variance / n).squareRoot()
    let varianceTolerance = 5 * (max(m4 - v * v, 0) / n).squareRoot()
    #expect(abs(m - mean) <= meanTolerance, "\(label): mean \(m) vs \(mean) ± \(meanTolerance)")
    #expect(abs(v - variance) <= varianceTolerance, "\(label): variance \(v) vs \(variance) ± \(varianceTolerance)")
}

func draws(_ d: some ContinuousDistribution, n: Int = 200_000, name: String) -> [Double] {
    let s = RandomStream(seed: 20_261_125, replication: 0, name: name)
    return (0..<n).map { _ in d.sample(s) }
}

func draws(_ d: some DiscreteDistribution, n: Int = 200_000, name: String) -> [Double] {
    let s = RandomStream(seed: 20_261_125, replication: 0, name: name)
    return (0..<n).map { _ in Double(d.sample(s)) }
}

@Suite("Distributions: sample moments match theory")
struct DistributionMomentTests {
    @Test func exponentialByRateAndByMean() throws {
        let byRate = try Exponential(rate: 4)
        #expect(byRate.mean == 0.25)
        expectMoments(draws(byRate, name: "exp-rate"), mean: 0.25, variance: 0.0625, "exponential(rate 4)")
        let byMean = try Exponential(mean: 30)
        expectMoments(draws(byMean, name: "exp-mean"), mean: 30, variance: 900, "exponential(mean 30)")
    }

    @Test(arguments: [0.5, 4.0, 120.0])
    func poisson(mean: Double) throws {
        expectMoments(draws(try Poisson(mean: mean), name: "poisson"), mean: mean, variance: mean, "poisson(\(mean))")
    }

    @Test func normal() throws {
        expectMoments(draws(try Normal(mean: -3, sd: 2.5), name: "normal"), mean: -3, variance: 6.25, "normal")
    }

    @Test func lognormalByMedianAndSigma() throws {
        let d = try LogNormal(median: 800, sigma: 0.6)
        #expect(abs(d.median - 800) < 1e-9)
        // E = m·e^{σ²/2}, Var = (e^{σ²} − 1)·m²·e^{σ²}
        let mean = 800 * exp(0.18)
        let variance = expm1(0.36) * 640_000 * exp(0.36)
        #expect(abs(d.mean - mean) < 1e-9 * mean)
        #expect(abs(d.variance - variance) < 1e-9 * variance)
        expectMoments(draws(d, name: "lognormal"), mean: mean, variance: variance, "lognormal(median, sigma)")
    }

    @Test func lognormalByMeanAndSd() throws {
        let d = try LogNormal(mean: 1_200, sd: 900)
        #expect(abs(d.mean - 1_200) < 1e-9 * 1_200)
        #expect(abs(d.variance - 810_000) < 1e-9 * 810_000)
        expectMoments(draws(d, name: "lognormal2"), mean: 1_200, variance: 810_000, "lognormal(mean, sd)")
    }

    @Test func gammaByShapeScaleAndByMeanCv() throws {
        expectMoments(draws(try Gamma(shape: 2.5, scale: 3), name: "gamma"), mean: 7.5, variance: 22.5, "gamma")
        let bursty = try Gamma(mean: 10, cv: 2)
        #expect(abs(bursty.shape - 0.25) < 1e-12)
        expectMoments(draws(bursty, name: "gamma-cv"), mean: 10, variance: 400, "gamma(mean 10, cv 2)")
    }

    @Test func weibull() throws {
        let d = try Weibull(shape: 1.5, scale: 2)
        // Γ(1 + 1/1.5) = Γ(5/3) = 0.9027452929509338; Γ(1 + 2/1.5) = Γ(7/3) = 1.190639348758999
        // (values of the gamma function, scipy.special.gamma).
        #expect(abs(d.mean - 2 * 0.9027452929509338) < 1e-12)
        #expect(abs(d.variance - 4 * (1.190639348758999 - 0.9027452929509338 * 0.9027452929509338)) < 1e-12)
        expectMoments(draws(d, name: "weibull"), mean: d.mean, variance: d.variance, "weibull")
    }

    @Test func paretoWithFiniteFourthMoment() throws {
        // Shape 6 keeps the fourth moment finite, so the variance tolerance is meaningful.
        let d = try Pareto(shape: 6, minimum: 100)
        expectMoments(draws(d, name: "pareto"), mean: 120, variance: 10_000 * 6 / (25 * 4), "pareto")
        #expect(try Pareto(shape: 1, minimum: 1).mean == .infinity)
        #expect(try Pareto(shape: 2, minimum: 1).variance == .infinity)
    }

    @Test func uniform() throws {
        expectMoments(draws(try Uniform(lower: 2, upper: 8), name: "uniform"), mean: 5, variance: 3, "uniform")
    }

    @Test func bernoulli() throws {
        expectMoments(draws(try Bernoulli(p: 0.07), name: "bernoulli"), mean: 0.07, variance: 0.07 * 0.93, "bernoulli")
    }

    @Test func categoricalFrequenciesMatchWeights() throws {
        let weights = [5.0, 3.0, 1.5, 0.5]
        let d = try Categorical(weights: weights)
        #expect(d.probabilities == [0.5, 0.3, 0.15, 0.05])
        let s = RandomStream(seed: 1, replication: 0, name: "mix")
        let n = 400_000
        var counts = [0, 0, 0, 0]
        for _ in 0..<n { counts[d.sample(s)] += 1 }
        for (i, p) in d.probabilities.enumerated() {
            let tolerance = 5 * (p * (1 - p) / Double(n)).squareRoot()
            #expect(abs(Double(counts[i]) / Double(n) - p) <= tolerance, "outcome \(i)")
        }
        expectMoments(draws(d, name: "cat"), mean: d.mean, variance: d.variance, "categorical")
    }

    @Test func categoricalWithAZeroWeightNeverPicksIt() throws {
        let d = try Categorical(weights: [1, 0, 1])
        let s = RandomStream(seed: 1, replication: 0, name: "zero")
        for _ in 0..<50_000 { #expect(d.sample(s) != 1) }
    }

    @Test func empiricalReproducesItsInterpolatedLaw() throws {
        let observed: [Double] = [120, 340, 95, 2_048, 610, 77, 1_500, 410, 260, 880]
        let d = try Empirical(samples: observed)
        let xs = draws(d, name: "empirical")
        #expect(xs.allSatisfy { $0 >= 77 && $0 <= 2_048 })
        expectMoments(xs, mean: d.mean, variance: d.variance, "empirical")
    }

    @Test func constantAlwaysGivesItsValue() throws {
        let d = try Constant(1_000)
        #expect(draws(d, n: 10, name: "c").allSatisfy { $0 == 1_000 })
    }
}

@Suite("Distributions: parameters are validated")
struct DistributionValidationTests {
    @Test func negativeOrZeroParametersAreRefusedWithTheirName() {
        #expect(throws: DistributionError("exponential", "rate", -1, "positive and finite")) {
            try Exponential(rate: -1)
        }
        #expect(throws: DistributionError.self) { try LogNormal(median: 0, sigma: 1) }
        #expect(throws: DistributionError.self) { try Gamma(shape: 0, scale: 1) }
        #expect(throws: DistributionError.self) { try Uniform(lower: 3, upper: 3) }
        #expect(throws: DistributionError.self) { try Bernoulli(p: 1.5) }
        #expect(throws: DistributionError.self) { try Poisson(mean: .nan) }
        #expect(throws: DistributionError.self) { try Categorical(weights: []) }
        #expect(throws: DistributionError.self) { try Categorical(weights: [0, 0]) }
        #expect(throws: DistributionError.self) { try Categorical(weights: [1, -2]) }
        #expect(throws: DistributionError.self) { try Empirical(samples: []) }
    }

    @Test func errorMessageNamesDistributionParameterAndValue() {
        let e = DistributionError("gamma", "shape", -2, "positive and finite")
        #expect(e.description == "gamma: shape must be positive and finite, got -2.0")
    }
}
