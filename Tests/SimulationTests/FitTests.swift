import Foundation
import Stochastic
import Testing
@testable import Simulation

@Suite("Fitting a workload to a trace")
struct FitTests {
    @Test func fitRecoversTheLawsOfASyntheticTrace() throws {
        // 20,000 requests of a Poisson process at 600/h over ~33 h, lognormal tokens.
        let path = NSTemporaryDirectory() + "burnrate-fit-\(UUID().uuidString).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let s = RandomStream(seed: 11, replication: 0, name: "fit-test")
        let gap = try Exponential(rate: 600.0 / 3_600)     // per second
        let input = try LogNormal(median: 1_200, sigma: 0.9)
        let output = try LogNormal(median: 300, sigma: 0.6)
        var csv = "timestamp,identity,model,input_tokens,output_tokens\n"
        var t = 0.0
        for _ in 0..<20_000 {
            t += gap.sample(s)
            csv += "\(t),,,\(Int(input.sample(s).rounded())),\(Int(output.sample(s).rounded()))\n"
        }
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        let fit = try TraceFit.fit(path: path, format: .generic)
        #expect(fit.requests == 20_000)
        #expect(abs(fit.ratePerHour - 600) < 15)
        #expect(abs(fit.gapCV - 1) < 0.05)
        #expect(fit.hourlyProfile?.count == 24)
        let ln = try #require(fit.input.lognormal)
        #expect(fit.input.bestIsLognormal && fit.output.bestIsLognormal)
        #expect(abs(ln.median - 1_200) < 40 && abs(ln.sigma - 0.9) < 0.03)
        #expect(fit.yaml.contains("poisson: { rate: "))
        #expect(fit.yaml.contains("input_tokens:  { lognormal: { median: "))
    }

    @Test func quantisedArrivalsAreMeasuredFromCountsNotGaps() throws {
        let fit = try TraceFit.fit(path: fixture("mooncake_300.csv"), format: .mooncake)
        #expect(fit.gapCVFromCounts)
        #expect(fit.yaml.contains("quantised"))
    }
}
