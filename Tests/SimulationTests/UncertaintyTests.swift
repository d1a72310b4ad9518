import Foundation
import Ledger
import Stochastic
import Testing
@testable import Simulation

/// Demand uncertainty (DESIGN.md, "Demand uncertainty") against its closed form. With the rate
/// multiplied by M ~ Gamma(mean 1, cv c), drawn once per replication, the count of a Poisson
/// workload over the horizon is N | M ~ Poisson(λT·M), so N ~ NegativeBinomial(r = 1/c²,
/// p = r / (r + λT)): mean λT, variance λT + (λT)²c². A hard stop at k requests serves min(N, k).
@Suite("Demand uncertainty")
struct UncertaintyTests {
    static let replications = 2_000

    func uncertainModel(cv: Double, fundingRequests k: Int, cost c: Int64, seed: UInt64 = 42) -> SimulationModel {
        var model = singlePoolModel(seed: seed, horizonHours: 20, ratePerHour: 20, fundingMicrocredits: Int64(k) * c, fixedCostMicrocredits: c)
        model.workloads[0].uncertainty = DemandUncertainty(rate: .gamma(try! Gamma(mean: 1, cv: cv)))
        return model
    }

    /// Σ f(n) P(N = n) for N ~ NB(r, p) over the support that matters (mean + 14 sd).
    func nbExpectation(shape r: Double, p: Double, mean: Double, sd: Double, _ f: (Int) -> Double) -> Double {
        var sum = 0.0
        for n in 0...Int(mean + 14 * sd + 20) { sum += f(n) * Distributions.negativeBinomialPMF(n, shape: r, p: p) }
        return sum
    }

    @Test func aGammaRateMultiplierGivesTheNegativeBinomialLaw() throws {
        let lambdaT = 400.0, cv = 0.3, k = 450
        let c: Int64 = 1_000_000
        let results = try MonteCarlo.run(try CompiledModel(uncertainModel(cv: cv, fundingRequests: k, cost: c)),
                                         replications: 0..<Self.replications)
        let r = 1 / (cv * cv), p = r / (r + lambdaT)
        let sd = (lambdaT + lambdaT * lambdaT * cv * cv).squareRoot()
        let n = Double(results.count)

        // Requests: E[N] = λT, Var[N] = λT + (λT)²c².
        let counts = results.map { Double($0.totals.requestsTotal) }
        let mc = Statistics.mean(counts)
        #expect(abs(mc - lambdaT) <= 4 * Statistics.standardDeviation(counts) / n.squareRoot(), "requests \(mc), exact \(lambdaT)")

        // Exhaustion ⇔ N > k: P = Q_NB(k).
        let pExhaust = Distributions.negativeBinomialSurvival(k, shape: r, p: p)
        let exhausted = Double(results.filter { $0.pools[0].exhaustedAtMs != nil }.count)
        let seP = (pExhaust * (1 - pExhaust) / n).squareRoot()
        #expect(abs(exhausted / n - pExhaust) <= 4 * seP, "exhaustion \(exhausted / n), exact \(pExhaust) ± \(4 * seP)")

        // Spend S = c·min(N, k): its mean, variance and CV, exactly.
        let credit = Double(c) / 1e6
        let es = credit * nbExpectation(shape: r, p: p, mean: lambdaT, sd: sd) { Double(min($0, k)) }
        let es2 = credit * credit * nbExpectation(shape: r, p: p, mean: lambdaT, sd: sd) { Double(min($0, k) * min($0, k)) }
        let exactVariance = es2 - es * es
        let exactCV = exactVariance.squareRoot() / es
        let spends = results.map { Double($0.totals.spendMicrocredits) / 1e6 }
        let m = Statistics.mean(spends), v = Statistics.variance(spends)
        #expect(abs(m - es) <= 4 * (v / n).squareRoot(), "mean spend \(m), exact \(es)")
        // The CV's standard error by the delta method on (mean, variance): Var(mean) = σ²/n,
        // Var(s²) = (μ₄ − σ⁴)/n, Cov(mean, s²) = μ₃/n; CV = √v / m.
        let m3 = spends.reduce(0) { $0 + pow($1 - m, 3) } / n
        let m4 = spends.reduce(0) { $0 + pow($1 - m, 4) } / n
        let gm = -v.squareRoot() / (m * m), gv = 1 / (2 * v.squareRoot() * m)
        let seCV = ((gm * gm * v + gv * gv * (m4 - v * v) + 2 * gm * gv * m3) / n).squareRoot()
        let cvSimulated = v.squareRoot() / m
        #expect(abs(cvSimulated - exactCV) <= 4 * seCV, "spend CV \(cvSimulated) ± \(4 * seCV), exact \(exactCV)")
        // A real spread, not Poisson noise: Poisson alone would give a CV near 1/√λT = 0.05.
        #expect(cvSimulated > 0.2)
    }

    @Test func variantsSeeTheSameDrawsAndOtherWorkloadsAreUntouched() throws {
        // Common random numbers: the draw depends on the seed, the replication and the workload's
        // name, not on the pool's funding, so two variants demand the same requests.
        let rich = try MonteCarlo.run(try CompiledModel(uncertainModel(cv: 0.5, fundingRequests: 1_000_000, cost: 1_000)), replications: 0..<20)
        let poor = try MonteCarlo.run(try CompiledModel(uncertainModel(cv: 0.5, fundingRequests: 100, cost: 1_000)), replications: 0..<20)
        #expect(rich.map(\.totals.requestsTotal) == poor.map(\.totals.requestsTotal))
        #expect(Set(rich.map(\.totals.requestsTotal)).count > 10)
        // Without uncertainty, the arrivals are exactly those of a model that never had the key.
        var plain = uncertainModel(cv: 0.5, fundingRequests: 1_000_000, cost: 1_000)
        plain.workloads[0].uncertainty = nil
        var unit = plain
        unit.workloads[0].uncertainty = DemandUncertainty(rate: .constant(1))
        let a = try MonteCarlo.run(try CompiledModel(plain), replications: 0..<5)
        let b = try MonteCarlo.run(try CompiledModel(unit), replications: 0..<5)
        #expect(a.map(\.totals.requestsTotal) == b.map(\.totals.requestsTotal))
    }

    @Test func growthUncertaintyReplacesTheGrowthPerMonth() throws {
        // Growth drawn as a constant 100%/month over 30 days doubles the rate by the end: the
        // expected count is λ·∫₀ᵀ 2^(t/T) dt = λT / ln 2.
        var model = singlePoolModel(horizonHours: 720, ratePerHour: 2, fundingMicrocredits: 1_000_000_000_000, fixedCostMicrocredits: 1)
        model.workloads[0].uncertainty = DemandUncertainty(growthPerMonth: .constant(1))
        let results = try MonteCarlo.run(try CompiledModel(model), replications: 0..<200)
        let counts = results.map { Double($0.totals.requestsTotal) }
        let exact = 2 * 720 / log(2.0)
        let se = Statistics.standardDeviation(counts) / Double(counts.count).squareRoot()
        #expect(abs(Statistics.mean(counts) - exact) <= 4 * se, "requests \(Statistics.mean(counts)), exact \(exact)")
    }
}
