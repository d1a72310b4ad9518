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
        // 33 hours hold one full day: too few to say anything about day-to-day variation.
        #expect(fit.whole.daily == nil && fit.yaml.contains("fewer than 7 full days: no estimate of demand uncertainty"))
    }

    @Test("a Poisson process through business hours is fitted as Poisson under its profile, not as a bursty renewal")
    func burstinessIsMeasuredInTheProfilesTime() throws {
        // 5 days of Poisson arrivals at 60/h from 09:00 to 17:00 and 6/h otherwise (thinning of a
        // 60/h process). Raw gaps mix the nights' 10-minute gaps with the days' 1-minute ones: their
        // CV is about 2. In the profile's operational time they are exponential (CV 1).
        let path = NSTemporaryDirectory() + "burnrate-fit-hours-\(UUID().uuidString).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let s = RandomStream(seed: 5, replication: 0, name: "fit-test-hours")
        let gap = try Exponential(rate: 60.0 / 3_600)
        var csv = "timestamp,identity,model,input_tokens,output_tokens\n"
        var t = 0.0, raw: [Double] = [], previous: Double? = nil
        while t < 5 * 86_400 {
            t += gap.sample(s)
            let hour = Int(t / 3_600) % 24
            guard s.uniform() < (hour >= 9 && hour < 17 ? 1 : 0.1) else { continue }
            if let p = previous { raw.append(t - p) }
            previous = t
            csv += "\(t),,,100,10\n"
        }
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        let fit = try TraceFit.fit(path: path, format: .generic)
        #expect(Statistics.standardDeviation(raw) / Statistics.mean(raw) > 1.8)
        #expect(abs(fit.gapCV - 1) < 0.06, "\(fit.gapCV)")
        #expect(fit.yaml.contains("poisson: { rate: "), "\(fit.yaml)")
        let profile = try #require(fit.hourlyProfile)
        #expect(abs(profile[12] / profile[3] - 10) < 2.5, "\(profile)")
    }

    @Test("a trace covering some hours of the day twice gets each hour's rate, not its count")
    func profileIsPerHourOfExposure() throws {
        // Uniform arrivals, one every 36 s, over 36 hours: hours 00–11 are covered twice. A
        // profile of counts would give them twice the factor of the others.
        let path = NSTemporaryDirectory() + "burnrate-fit-exposure-\(UUID().uuidString).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var csv = "timestamp,identity,model,input_tokens,output_tokens\n"
        for k in 0..<3_600 { csv += "\(Double(k) * 36),,,100,10\n" }
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        let profile = try #require(try TraceFit.fit(path: path, format: .generic).hourlyProfile)
        for f in profile { #expect(abs(f - 1) < 0.02, "\(profile)") }
    }

    @Test func dailyCountsBeyondPoissonProposeARateUncertainty() throws {
        // 14 days alternating 100 and 300 requests, spread evenly over each day, and one request in
        // the last millisecond of day 13 so that it is full: 14 full days.
        let path = NSTemporaryDirectory() + "burnrate-fit-days-\(UUID().uuidString).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var counts = (0..<14).map { $0 % 2 == 0 ? 100 : 300 }
        var csv = "timestamp,identity,model,input_tokens,output_tokens\n"
        for (day, n) in counts.enumerated() {
            for i in 0..<n { csv += "\(Double(day * 86_400) + Double(i) * 86_400 / Double(n)),,,100,10\n" }
        }
        csv += "1209599.999,,,100,10\n"
        counts[13] += 1
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        let fit = try TraceFit.fit(path: path, format: .generic)
        let daily = try #require(fit.whole.daily)
        let values = counts.map(Double.init)
        let m = values.reduce(0, +) / 14
        let v = values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / 13
        #expect(daily.periods == 14 && daily.periodHours == 24)
        #expect(abs(daily.mean - m) < 1e-9 && abs(daily.variance - v) < 1e-6)
        let cv = ((v - m) / (m * m)).squareRoot()
        #expect(abs(daily.rateCV - cv) < 1e-9)
        // Two weeks are fewer than four: the daily figure is the one proposed.
        #expect(fit.whole.weekly == nil)
        let rounded = TraceFit.number(cv)
        #expect(fit.yaml.contains("uncertainty: { rate: { gamma: { mean: 1, cv: \(rounded) } } }"), "\(fit.yaml)")
        #expect(fit.yaml.contains("daily counts over 14 full days"))
    }

    @Test func poissonDaysProposeNoUncertainty() throws {
        // 14 days of a Poisson process at 2,000 a day: the sample variance of the daily counts is
        // 2,000 ± 800 (sd m·√(2/13)), so the excess CV stays near 0.01, below the 0.05 threshold.
        let path = NSTemporaryDirectory() + "burnrate-fit-poisson-days-\(UUID().uuidString).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let s = RandomStream(seed: 3, replication: 0, name: "fit-days")
        var csv = "timestamp,identity,model,input_tokens,output_tokens\n"
        var t = 0.0
        while t < 14 * 86_400 { csv += "\(t),,,100,10\n"; t += s.exponential(mean: 86_400 / 2_000) }
        csv += "1209599.999,,,100,10\n"
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        let fit = try TraceFit.fit(path: path, format: .generic)
        let daily = try #require(fit.whole.daily)
        #expect(daily.periods == 14 && daily.rateCV < 0.05)
        #expect(fit.yaml.contains("no uncertainty beyond Poisson noise worth modelling") && !fit.yaml.contains("uncertainty: {"))
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
