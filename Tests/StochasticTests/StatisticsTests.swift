import Foundation
import Testing
@testable import Stochastic

/// Reference values below were computed with SciPy 1.17.1 (`scipy.stats`) or NumPy 2.4.6 on this
/// machine, unless noted; each test names the call.
@Suite("Statistics against reference values")
struct StatisticsTests {
    let oneToTen: [Double] = (1...10).map(Double.init)

    @Test func meanAndVariance() {
        #expect(Statistics.mean(oneToTen) == 5.5)
        // numpy.var(1..10, ddof=1) = 9.166666666666666
        #expect(abs(Statistics.variance(oneToTen) - 9.166666666666666) < 1e-12)
        #expect(Statistics.variance([4]) == 0)
        #expect(Statistics.mean([]).isNaN)
    }

    @Test func quantilesInterpolateLikeNumpyDefault() {
        // numpy.quantile(1..10, 0.9) = 9.1; numpy.quantile(1..10, 0.25) = 3.25
        #expect(abs(Statistics.quantile(sorted: oneToTen, 0.9) - 9.1) < 1e-12)
        #expect(abs(Statistics.quantile(oneToTen.reversed(), 0.25) - 3.25) < 1e-12)
        #expect(Statistics.quantile(sorted: oneToTen, 0) == 1)
        #expect(Statistics.quantile(sorted: oneToTen, 1) == 10)
    }

    @Test func studentTConfidenceIntervalForAMean() throws {
        // mean ± scipy.stats.t.ppf(0.975, 9) · s/√10 = [3.334149410331831, 7.665850589668169]
        let ci = try #require(Statistics.meanConfidenceInterval(oneToTen, confidence: 0.95))
        #expect(abs(ci.lowerBound - 3.334149410331831) < 1e-9)
        #expect(abs(ci.upperBound - 7.665850589668169) < 1e-9)
        #expect(Statistics.meanConfidenceInterval([3]) == 3...3)
        #expect(Statistics.meanConfidenceInterval([]) == nil)
    }

    @Test(arguments: [
        // Newcombe (1998), "Two-sided confidence intervals for the single proportion", Stat. Med.
        // 17:857–872, Table I, method 3 (Wilson score, no continuity correction); the digits are
        // from scipy.stats.binomtest(k, n).proportion_ci(method='wilson').
        (81, 263, 0.2552885198782742, 0.36620957698280004),
        (15, 148, 0.0623863995307363, 0.16048724172330803),
        (0, 20, 0.0, 0.16112515805281938),
        (1, 29, 0.006113214292762653, 0.17175521879320288),
    ])
    func wilsonIntervalMatchesNewcombe(k: Int, n: Int, lower: Double, upper: Double) throws {
        let ci = try #require(Statistics.wilsonInterval(successes: k, trials: n))
        #expect(abs(ci.lowerBound - lower) < 1e-9)
        #expect(abs(ci.upperBound - upper) < 1e-9)
    }

    @Test func normalCDFAndQuantile() {
        // scipy.stats.norm.ppf(0.975) = 1.959963984540054; norm.cdf(1.5, 2, 3) = 0.43381616738909634
        #expect(abs(Distributions.normalQuantile(0.975) - 1.959963984540054) < 1e-12)
        #expect(abs(Distributions.normalCDF(1.5, mean: 2, sd: 3) - 0.43381616738909634) < 1e-12)
    }

    @Test func studentTQuantile() {
        // scipy.stats.t.ppf(0.975, 9) = 2.262157162798205; t.ppf(0.995, 4) = 4.604094871349992
        #expect(abs(Distributions.studentTQuantile(0.975, degreesOfFreedom: 9) - 2.262157162798205) < 1e-9)
        #expect(abs(Distributions.studentTQuantile(0.995, degreesOfFreedom: 4) - 4.604094871349992) < 1e-9)
    }

    @Test func poissonCDFSurvivalAndQuantile() {
        // scipy.stats.poisson.cdf(3, 2) = 0.857123460498547; cdf(110, 100) = 0.8528626515577303;
        // sf(130, 100) = 0.0017068403705014943; ppf(0.95, 100) = 117; ppf(0.5, 3.3) = 3
        #expect(abs(Distributions.poissonCDF(3, mean: 2) - 0.857123460498547) < 1e-12)
        #expect(abs(Distributions.poissonCDF(110, mean: 100) - 0.8528626515577303) < 1e-12)
        #expect(abs(Distributions.poissonSurvival(130, mean: 100) - 0.0017068403705014943) < 1e-14)
        #expect(Distributions.poissonQuantile(0.95, mean: 100) == 117)
        #expect(Distributions.poissonQuantile(0.5, mean: 3.3) == 3)
        #expect(Distributions.poissonCDF(-1, mean: 2) == 0)
        // P(X = 0) = e^{-2}
        #expect(abs(Distributions.poissonPMF(0, mean: 2) - exp(-2)) < 1e-15)
    }

    @Test func gammaCDFAndQuantile() {
        // Gamma(2, 1): P(X ≤ 2) = 1 − 3e^{−2} = 0.5939941502901616 (closed form; scipy agrees).
        #expect(abs(Distributions.gammaCDF(2, shape: 2, scale: 1) - 0.5939941502901616) < 1e-12)
        // scipy.stats.gamma.cdf(7.5, 3.2, scale=1.7) = 0.7850381440518146; ppf(0.9, …) = 9.517773789158987
        #expect(abs(Distributions.gammaCDF(7.5, shape: 3.2, scale: 1.7) - 0.7850381440518146) < 1e-10)
        #expect(abs(Distributions.gammaQuantile(0.9, shape: 3.2, scale: 1.7) - 9.517773789158987) < 1e-8)
    }

    @Test func histogramCountsEveryValueOnce() {
        let h = Histogram([0.5, 1.5, 1.7, 2.2, 9.9, -1, 10], bins: 5, range: 0...10)
        #expect(h.edges == [0, 2, 4, 6, 8, 10])
        #expect(h.counts == [3, 1, 0, 0, 1])
        #expect(h.outside == 2)  // -1 below, 10 at the exclusive upper edge
        let auto = Histogram(oneToTen, bins: 3)
        #expect(auto.counts.reduce(0, +) == 10)
        #expect(auto.outside == 0)
    }
}

@Suite("Maximum-likelihood fits")
struct FitTests {
    // Token counts, hand-picked to look like a prompt-length sample.
    let sample: [Double] = [412, 1033, 87, 2210, 640, 151, 798, 3120, 275, 560, 1490, 333]

    @Test func gammaFitMatchesScipy() throws {
        // scipy.stats.gamma.fit(sample, floc=0) = (1.2161315062802243, 0, 761.2252418585776)
        let g = try Gamma.fit(sample)
        #expect(abs(g.shape - 1.2161315062802243) < 1e-6)
        #expect(abs(g.scale - 761.2252418585776) < 1e-3)
    }

    @Test func lognormalFitMatchesScipy() throws {
        // scipy.stats.lognorm.fit(sample, floc=0): s = 1.0144103244895903, ln(scale) = 6.366144032781103
        let l = try LogNormal.fit(sample)
        #expect(abs(l.sigma - 1.0144103244895903) < 1e-9)
        #expect(abs(l.mu - 6.366144032781103) < 1e-9)
    }

    @Test func fitsRecoverTheParametersOfLargeSamples() throws {
        let g = try Gamma.fit(draws(try Gamma(shape: 0.7, scale: 40), n: 100_000, name: "fit-g"))
        #expect(abs(g.shape - 0.7) < 0.02)
        #expect(abs(g.scale - 40) < 1.5)
        let l = try LogNormal.fit(draws(try LogNormal(median: 500, sigma: 1.2), n: 100_000, name: "fit-l"))
        #expect(abs(l.median - 500) < 10)
        #expect(abs(l.sigma - 1.2) < 0.02)
    }

    @Test func fitsRefuseBadSamples() {
        #expect(throws: FitError.tooFewSamples(1)) { try Gamma.fit([3]) }
        #expect(throws: FitError.outOfSupport(-2)) { try LogNormal.fit([1, -2, 3]) }
        #expect(throws: FitError.degenerate) { try Gamma.fit([5, 5, 5]) }
    }
}

@Suite("Goodness of fit")
struct GoodnessOfFitTests {
    @Test func kolmogorovSmirnovMatchesScipy() {
        // scipy.stats.kstest([0.1, 0.5, 0.9, 1.3, -0.4], 'norm').statistic = 0.3445782583896758
        let d = Statistics.kolmogorovSmirnov(sorted: [-0.4, 0.1, 0.5, 0.9, 1.3]) { Distributions.normalCDF($0) }
        #expect(abs(d - 0.3445782583896758) < 1e-12)
    }
}
