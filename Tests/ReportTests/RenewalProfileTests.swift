import Foundation
import Testing
@testable import Scenario
@testable import Simulation

/// A `renewal` process under a `profile:` (DESIGN.md: a profile shapes a rate): its gaps are drawn
/// in the profile's operational time, so every hour gets rate × factor requests on average,
/// the first busy hour after a quiet night included.
@Suite("Renewal arrivals through a profile")
struct RenewalProfileTests {
    /// Requests per hour of the day over `days` days of one replication, from the hourly samples.
    static func hourOfDayCounts(cv: Double, gaps: String, days: Int = 200) throws -> [Double] {
        let quiet = Array(repeating: "0.2", count: 9), busy = Array(repeating: "3", count: 8), evening = Array(repeating: "0.2", count: 7)
        let yaml = """
            name: renewal-profile
            horizon: \(days)d
            replications: 1
            sample_every: 1h
            pools: [ { id: p, grants: [ { amount: 1000000000 } ] } ]
            identities:
              - id: a
                pool: p
                workload:
                  arrivals: { renewal: { rate: 12/h, cv: \(cv), gaps: \(gaps) }, profile: [\((quiet + busy + evening).joined(separator: ", "))] }
                  cost: { fixed: 1 }

            """
        let scenario = try Scenario.parse(yaml: yaml, file: "renewal-profile.yaml")
        let r = try MonteCarlo.run(try CompiledModel(scenario.base), replications: 0..<1)[0]
        var byHour = [Double](repeating: 0, count: 24)
        var previous: Int64 = 0
        for (t, served) in zip(r.sampleTimesMs, r.servedSeries) where t > 0 {
            byHour[Int((t / 3_600_000 - 1) % 24)] += Double(served - previous)
            previous = served
        }
        return byHour.map { $0 / Double(days) }
    }

    @Test("every hour gets its profile's share, at the edges of the busy hours too", arguments: [(2.0, "gamma"), (3.0, "weibull"), (0.5, "gamma")])
    func hoursFollowTheProfile(cv: Double, gaps: String) throws {
        let perDay = try Self.hourOfDayCounts(cv: cv, gaps: gaps)
        // The profile's mean is (9 × 0.2 + 8 × 3 + 7 × 0.2) / 24 = 1.1333: a busy hour expects
        // 12 × 3 / 1.1333 = 31.8 requests, a quiet one 2.12.
        let mean: Double = 27.2 / 24
        let busy: Double = 36 / mean, quiet: Double = 2.4 / mean
        // 200 days: a busy hour's mean has a standard error of about cv × √(31.8 / 200) ≈ 0.8 at
        // cv 2 (renewal counts: variance ≈ cv² × mean), so 15% is many standard errors wide.
        #expect(abs(perDay[9] / busy - 1) < 0.15, "first busy hour 09: \(perDay[9]) against \(busy)")
        #expect(abs(perDay[12] / busy - 1) < 0.15, "12: \(perDay[12]) against \(busy)")
        #expect(abs(perDay[17] / quiet - 1) < 0.3, "first quiet hour 17: \(perDay[17]) against \(quiet)")
        #expect(abs(perDay[3] / quiet - 1) < 0.3, "03: \(perDay[3]) against \(quiet)")
        let total: Double = perDay.reduce(0, +)
        #expect(abs(total / 288 - 1) < 0.06, "\(total) a day against 288")
    }

    @Test("a profile or growth on bursty arrivals is an error, not silently ignored")
    func burstyTakesNoProfile() {
        for extra in ["profile: business-hours", "growth: { per_month: 0.1 }"] {
            let yaml = """
                name: b
                horizon: 1d
                pools: [ { id: p, grants: [ { amount: 10 } ] } ]
                identities:
                  - id: a
                    pool: p
                    workload:
                      arrivals: { bursty: { base: 10/h, burst: 100/h, burst_every: 6h, burst_length: 10m }, \(extra) }
                      cost: { fixed: 1 }

                """
            #expect(errors(yaml).contains { $0.contains("bursty arrivals take no profile or growth") }, "\(errors(yaml))")
        }
    }
}
