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

    /// BurstGPT_3's first 200 rows in the generic layout: identity = `Log Type`, model = `Model`.
    @Test func aTraceWithIdentitiesAndModelsIsFittedPerIdentityWithItsModelMix() throws {
        let fit = try TraceFit.fit(path: fixture("burstgpt3_generic.csv"), format: .generic)
        #expect(fit.requests == 200)
        // Counted independently: 134 ChatGPT + 60 GPT-4 conversation rows, 3 + 3 API rows.
        #expect(fit.identities.map(\.name) == ["Conversation log", "API log"])
        #expect(fit.identities.map(\.workload.requests) == [194, 6])
        #expect(fit.identities[0].workload.models.map(\.name) == ["ChatGPT", "GPT-4"])
        #expect(fit.identities[0].workload.models.map(\.requests) == [134, 60])
        #expect(fit.whole.models.map(\.requests) == [137, 63])
        // Rates are over the trace's whole window, so the identities' rates add up to the trace's.
        let sum = fit.identities.map(\.workload.ratePerHour).reduce(0, +)
        #expect(abs(sum - fit.ratePerHour) < 1e-9 * fit.ratePerHour)
        let yaml = fit.yaml
        #expect(yaml.contains("identities:\n  - id: Conversation-log   # 194 requests (97%); 'Conversation log' in the trace\n    pool: team\n"))
        // 134 / 194 = 0.6907216… and 60 / 194 = 0.3092783…: millionths that sum to one.
        #expect(yaml.contains("      model: { ChatGPT: 0.690722, GPT-4: 0.309278 }\n"))
        #expect(yaml.contains("  - id: API-log   # 6 requests (3%); 'API log' in the trace\n"))
        #expect(yaml.contains("      model: { ChatGPT: 0.5, GPT-4: 0.5 }\n"))
    }

    @Test func aTraceWithModelsButNoIdentitiesGetsOneWorkloadWithAModelMix() throws {
        let fit = try TraceFit.fit(path: fixture("burstgpt3_200.csv"), format: .burstGPT)
        #expect(fit.identities.isEmpty)
        let total = fit.whole.models.map(\.requests).reduce(0, +)
        #expect(total == fit.requests && fit.whole.requestsWithoutModel == 0)
        #expect(fit.yaml.contains("workload:\n"))
        #expect(fit.yaml.contains("  model: { ChatGPT: "))
        #expect(!fit.yaml.contains("identities:"))
    }

    @Test func moreIdentitiesThanTheLimitAreFittedAsOneWorkload() throws {
        let path = NSTemporaryDirectory() + "burnrate-fit-many-\(UUID().uuidString).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var csv = "timestamp,identity,model,input_tokens,output_tokens\n"
        for i in 0...TraceFit.maxIdentities { csv += "\(i),agent-\(i),m,\(100 + i),\(10 + i)\n" }
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        let fit = try TraceFit.fit(path: path, format: .generic)
        #expect(fit.identityLimitExceeded && fit.identities.isEmpty)
        #expect(fit.requests == TraceFit.maxIdentities + 1)
        #expect(fit.yaml.contains("more than 64 identities: one workload for all of them"))
        #expect(fit.yaml.contains("workload:\n  arrivals: "))
    }

    @Test func namesFromTheTraceAreWrittenSoTheScenarioReadsThemBack() {
        var used = Set<String>()
        #expect(TraceFit.identityID("bot-a", used: &used) == "bot-a")
        #expect(TraceFit.identityID("bot-a", used: &used) == "bot-a-2")
        #expect(TraceFit.identityID("ops team/ü", used: &used) == "ops-team--")
        #expect(TraceFit.identityID("-x", used: &used) == "id--x")
        #expect(TraceFit.identityID(nil, used: &used) == "unnamed")
        #expect(TraceFit.scalar("gpt-4o") == "gpt-4o")
        #expect(TraceFit.scalar("a: b, #c") == "\"a: b, #c\"")
        #expect(TraceFit.scalar("true") == "\"true\"" && TraceFit.scalar("1.5") == "\"1.5\"")
        #expect(TraceFit.scalar("esc\u{1B}\"q\\") == "\"esc\\x1B\\\"q\\\\\"")
        #expect(TraceFit.modelMix([("a", 1), ("b", 1), ("c", 1)])?.text == "a: 0.333334, b: 0.333333, c: 0.333333")
        #expect(TraceFit.modelMix([("a", 2_000_000), ("b", 1)])?.droppedModels == 1)
        #expect(TraceFit.rate(1.0 / 720) == "0.001389/h" && TraceFit.rate(600) == "600/h")
    }
}
