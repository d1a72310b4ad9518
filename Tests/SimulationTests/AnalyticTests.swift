import Foundation
import Ledger
import Stochastic
import Testing
@testable import Simulation

/// The simulator against closed-form results. N ~ Poisson(λT) requests arrive over the horizon.
/// Each check compares a Monte Carlo mean with its exact value, using a 99.9% confidence interval
/// of the Monte Carlo estimate (fixed seeds, so the outcome is reproducible; the wide interval
/// keeps a correct simulator from failing by chance when a constant changes).
@Suite("Analytic checks")
struct AnalyticTests {
    static let replications = 4_000
    static let z999 = Distributions.normalQuantile(0.9995)

    /// Σ f(n) P(N = n) over the support that matters (to λ + 12√λ + 20).
    func expectation(mean: Double, _ f: (Int) -> Double) -> Double {
        let top = Int(mean + 12 * mean.squareRoot() + 20)
        var sum = 0.0
        for n in 0...top { sum += f(n) * Distributions.poissonPMF(n, mean: mean) }
        return sum
    }

    func run(_ model: SimulationModel) throws -> [ReplicationResult] {
        try MonteCarlo.run(try CompiledModel(model), replications: 0..<Self.replications)
    }

    func expectWithin(_ values: [Double], _ exact: Double, _ label: String) {
        let m = Statistics.mean(values)
        let half = Self.z999 * Statistics.standardDeviation(values) / Double(values.count).squareRoot()
        #expect(abs(m - exact) <= max(half, 1e-12), "\(label): simulated \(m) ± \(half), exact \(exact)")
    }

    @Test func hardStopExhaustionSpendAndContinuityFollowThePoissonLaw() throws {
        // λT = 10/h × 20 h = 200 requests expected; cost c = 1.5 credits; funding for k = 195.
        let lambdaT = 200.0, k = 195
        let c = credits(3) / 2
        let results = try run(singlePoolModel(horizonHours: 20, ratePerHour: 10, fundingMicrocredits: Int64(k) * c,
                                              fixedCostMicrocredits: c))
        // Exhaustion ⇔ N ≥ k + 1:  P = P(N > k) = Q(k; λT).
        let pExhaust = Distributions.poissonSurvival(k, mean: lambdaT)
        let exhausted = results.filter { $0.pools[0].exhaustedAtMs != nil }.count
        let wilson = Statistics.wilsonInterval(successes: exhausted, trials: results.count, confidence: 0.999)!
        #expect(wilson.contains(pExhaust), "exhaustion: \(exhausted)/\(results.count), exact \(pExhaust)")
        // Served = min(N, k):  E[spend] = c · E[min(N, k)].
        let meanSpend = Double(c) / 1e6 * expectation(mean: lambdaT) { Double(min($0, k)) }
        expectWithin(results.map { Double($0.totals.spendMicrocredits) / 1e6 }, meanSpend, "spend")
        // Continuity = min(N, k) / N, and 1 when N = 0:  E[continuity] = Σ min(n,k)/n · P(N = n).
        let continuity = expectation(mean: lambdaT) { $0 == 0 ? 1 : Double(min($0, k)) / Double($0) }
        expectWithin(results.map { ReplicationResult.continuity($0.totals) }, continuity, "continuity")
        // And the request count itself is Poisson: E[N] = λT.
        expectWithin(results.map { Double($0.totals.requestsTotal) }, lambdaT, "requests")
    }

    @Test func compoundPoissonSpendHasTheMeanAndVarianceOfTheLaw() throws {
        // Three models at 0.2, 1 and 5 credits per call (1,000 input tokens at 200, 1,000 and
        // 5,000 credits per Mtok), chosen 60/30/10. S = Σ C_i with N ~ Poisson(λT):
        // E[S] = λT·E[C], Var[S] = λT·E[C²] (Wald / the compound Poisson law).
        let prices = [
            ModelPrice(model: "small", tier: 2, inputMicrocreditsPerMillionTokens: credits(200), outputMicrocreditsPerMillionTokens: 0),
            ModelPrice(model: "mid", tier: 1, inputMicrocreditsPerMillionTokens: credits(1_000), outputMicrocreditsPerMillionTokens: 0),
            ModelPrice(model: "large", tier: 0, inputMicrocreditsPerMillionTokens: credits(5_000), outputMicrocreditsPerMillionTokens: 0),
        ]
        let costs = [0.2, 1.0, 5.0], p = [0.6, 0.3, 0.1]
        let lambdaT = 24.0 * 6
        let results = try run(singlePoolModel(horizonHours: 24, ratePerHour: 6, fundingMicrocredits: credits(1_000_000_000),
                                              prices: prices, models: [0, 1, 2], weights: [6, 3, 1], input: .constant(1_000)))
        let ec = zip(costs, p).reduce(0) { $0 + $1.0 * $1.1 }
        let ec2 = zip(costs, p).reduce(0) { $0 + $1.0 * $1.0 * $1.1 }
        let spends = results.map { Double($0.totals.spendMicrocredits) / 1e6 }
        expectWithin(spends, lambdaT * ec, "mean spend")
        // The sample variance's standard error is √((μ₄ − σ⁴)/n), estimated from the sample.
        let m = Statistics.mean(spends), v = Statistics.variance(spends)
        let m4 = spends.reduce(0) { $0 + pow($1 - m, 4) } / Double(spends.count)
        let se = ((m4 - v * v) / Double(spends.count)).squareRoot()
        #expect(abs(v - lambdaT * ec2) <= Self.z999 * se, "variance \(v) ± \(Self.z999 * se), exact \(lambdaT * ec2)")
        #expect(results.allSatisfy { $0.totals.requestsRejected == 0 })
    }

    @Test func theFractionRefusedWithAnOverdraftLimit() throws {
        // Funding 90 + overdraft 20 at 1 credit per request: k' = 110 served. λT = 100.
        // Refused fraction per replication = (N − k')⁺ / N:  E = Σ (n − k')⁺/n · P(N = n).
        let lambdaT = 100.0, kPrime = 110
        let results = try run(singlePoolModel(horizonHours: 10, ratePerHour: 10, fundingMicrocredits: credits(90),
                                              policies: [.overdraft(limitMicrocredits: credits(20))], fixedCostMicrocredits: credits(1)))
        let exact = expectation(mean: lambdaT) { $0 == 0 ? 0 : Double(max($0 - kPrime, 0)) / Double($0) }
        expectWithin(results.map { $0.totals.requestsTotal == 0 ? 0 : Double($0.totals.requestsRejected) / Double($0.totals.requestsTotal) },
                     exact, "refused fraction")
        // Overage = min(N, k') − 90 when positive:  E[overage] = Σ (min(n, k') − 90)⁺ · P(N = n).
        let overage = expectation(mean: lambdaT) { Double(max(min($0, kPrime) - 90, 0)) }
        expectWithin(results.map { Double($0.totals.overageMicrocredits) / 1e6 }, overage, "overage")
    }

    @Test func aProfiledPoissonProcessKeepsItsAverageRate() throws {
        // A week of business hours at an average 30/h: E[N] = 30 × 168 (the profile averages 1).
        let results = try MonteCarlo.run(try CompiledModel(singlePoolModel(
            horizonHours: 168, ratePerHour: 30, fundingMicrocredits: credits(1_000_000), fixedCostMicrocredits: 1,
            arrivals: .poisson(ratePerHour: 30, profile: .businessHours, growthPerDay: 0))), replications: 0..<400)
        expectWithin(results.map { Double($0.totals.requestsTotal) }, 30 * 168, "requests over a week")
    }

    @Test func aGammaRenewalProcessHasTheRateAndBurstinessAsked() throws {
        // Gaps with mean 60 s and CV 3: about 60 arrivals/h; the gaps' CV is 3 (sample of one run).
        let model = singlePoolModel(horizonHours: 2_000, ratePerHour: 60, fundingMicrocredits: credits(1_000_000_000),
                                    fixedCostMicrocredits: 1, arrivals: .renewal(ratePerHour: 60, family: .gamma(cv: 3), profile: .flat, growthPerDay: 0))
        let r = try Engine.run(try CompiledModel(model), replication: 0)
        let perHour = Double(r.totals.requestsTotal) / 2_000
        // N(t)/t → 1/mean with variance cv²·t/mean³ (renewal CLT): sd of the rate ≈ 3·√(60/2000)/1 ≈ 0.52/h.
        #expect(abs(perHour - 60) < 4 * 3 * (60.0 / 2_000).squareRoot())
    }

    @Test func aRenewalProcessWaitsThroughIdleHoursOfItsProfile() throws {
        // Idle for the first 12 hours of each day, busy the other 12 (factor 2): the process must
        // resume after each idle stretch, not end at its first idle hour. With CV 1 the gaps are
        // exponential, so the count is about 60/h × 2 × 12 h × 10 days (gaps drawn at a busy-hour
        // rate may spill a little into the following idle hour, hence the tolerance).
        let profile = Profile(factors: Array(repeating: 0.0, count: 12) + Array(repeating: 1.0, count: 12))!
        let model = singlePoolModel(horizonHours: 240, ratePerHour: 60, fundingMicrocredits: credits(1_000_000_000), fixedCostMicrocredits: 1,
                                    arrivals: .renewal(ratePerHour: 60, family: .gamma(cv: 1), profile: profile, growthPerDay: 0))
        let r = try Engine.run(try CompiledModel(model), replication: 0)
        let expected: Double = 60 * 2 * 12 * 10
        let count = Double(r.totals.requestsTotal)
        #expect(abs(count - expected) < 0.05 * expected, "\(count) requests, expected about \(expected)")
    }
}
