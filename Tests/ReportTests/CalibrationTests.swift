import Foundation
import Testing
@testable import Reports
@testable import Simulation

/// `burnrate fit EXPORT --report DIR`: the fitted workload against the export it came from.
@Suite("Calibration report")
struct CalibrationTests {
    /// A LiteLLM SpendLogs export (the columns `burnrate` reads, as in
    /// Tests/SimulationTests/Fixtures/exports/litellm_spend_logs.csv) of Poisson arrivals over
    /// `days` days from 2026-03-02 00:00 UTC: 30/h from 09:00 to 17:00, 3/h otherwise, times
    /// `dayFactor(d)` on day d; 70% gpt-4o, 30% gpt-4o-mini; 60% of each prompt read from the
    /// cache; `spend` the exact list price in USD. A fixed generator (SplitMix64), so the file is
    /// the same on every run. Returns the CSV, its rows, and each row's priced micro-credits.
    static func export(days: Int, dayFactor: (Int) -> Double = { _ in 1 }) -> (csv: String, rows: Int, pricedMicrocredits: Int64, loggedUSD: Double) {
        var state: UInt64 = 0x5EED
        func uniform() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) / 9_007_199_254_740_992
        }
        let start: Int64 = 1_772_409_600_000 // 2026-03-02T00:00:00Z
        // µcredits per million tokens (1 credit = 1 USD): gpt-4o 2.50 / 1.25 cached / 10.00 out.
        let rates: [String: (input: Int64, cached: Int64, output: Int64)] = [
            "gpt-4o": (2_500_000, 1_250_000, 10_000_000), "gpt-4o-mini": (150_000, 75_000, 600_000)]
        var lines = ["request_id,spend,prompt_tokens,completion_tokens,startTime,model,team_id,api_key,status,metadata"]
        var priced: Int64 = 0, logged = 0.0
        var t = 0.0
        let peak = 30.0 * 3.0 // the thinning bound: the peak rate times the largest day factor used
        let end = Double(days) * 86_400_000
        while true {
            t += -log(1 - uniform()) / peak * 3_600_000
            guard t < end else { break }
            let hour = Int(t / 3_600_000) % 24, day = Int(t / 86_400_000)
            let rate = (hour >= 9 && hour < 17 ? 30.0 : 3.0) * dayFactor(day)
            guard uniform() < rate / peak else { continue }
            let model = uniform() < 0.7 ? "gpt-4o" : "gpt-4o-mini"
            let prompt = 500 + Int64(uniform() * 2500), completion = 50 + Int64(uniform() * 350)
            let cached = prompt * 6 / 10
            let r = rates[model]!
            let exact = (prompt - cached) * r.input + cached * r.cached + completion * r.output // µcredits × 10⁶
            priced += (exact + 999_999) / 1_000_000
            let usd = Double(exact) / 1e12
            logged += usd
            let ms = start + Int64(t)
            let stamp = Self.stamp(ms)
            lines.append("r\(lines.count),\(usd),\(prompt),\(completion),\(stamp),\(model),team-a,k1,success,"
                         + "\"{\"\"additional_usage_values\"\": {\"\"cache_read_input_tokens\"\": \(cached)}}\"")
        }
        return (lines.joined(separator: "\n") + "\n", lines.count - 1, priced, logged)
    }

    /// `YYYY-MM-DD HH:MM:SS.mmm` (UTC), as LiteLLM's `COPY … TO CSV` writes `startTime`.
    static func stamp(_ ms: Int64) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS"
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    func calibrate(_ csv: String, replications: Int = 20) throws -> Calibration {
        let dir = temporaryDirectory()
        let path = dir + "/spend.csv"
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        let fit = try TraceFit.fit(paths: [path], format: .litellmSpendLogs)
        return try Calibration.run(fit: fit, paths: [path], exportOptions: ExportOptions(),
                                   options: Calibration.Options(pricesPath: fixturePath("model_prices.csv"), replications: replications, threads: 2),
                                   command: "burnrate fit spend.csv --format litellm-spend-logs --report out --prices model_prices.csv")
    }

    @Test("the export side is the export: every request, priced to the micro-credit, and its logged cost")
    func exportSideIsExact() throws {
        let e = Self.export(days: 3)
        let c = try calibrate(e.csv, replications: 4)
        #expect(c.exportPriced.requests == Double(e.rows))
        #expect(Int64((c.exportPriced.spendCredits * 1_000_000).rounded()) == e.pricedMicrocredits)
        let logged = try #require(c.exportLogged)
        #expect(logged.requests == Double(e.rows))
        // The logged USD are read to the micro-credit, row by row.
        #expect(abs(logged.spendCredits - e.loggedUSD) <= Double(e.rows) * 1e-6)
        // 60% of every prompt was a cache read (rounded down per request).
        #expect(abs(c.exportPriced.cachedInputShare - 0.6) < 0.001)
        // Hours line up with the clock: nothing before 00:00 of the first day is counted, and the
        // busiest hours are 09–16.
        let hours = c.hourOfDay
        #expect(abs(hours.map(\.export).reduce(0, +) - 1) < 1e-9)
        #expect(hours[10].export > 5 * hours[3].export)
        #expect(c.daily.count == 3)
        #expect(c.daily.map(\.export).reduce(0, +) == Double(e.rows))
    }

    @Test("a fit of a steady export reproduces its requests, spend, cache share and hours")
    func steadyExportIsReproduced() throws {
        let e = Self.export(days: 4)
        let c = try calibrate(e.csv)
        #expect(c.fitted.count == 20)
        let totals = Dictionary(uniqueKeysWithValues: c.totals.map { ($0.name, $0) })
        let requests = try #require(totals["requests"]), spend = try #require(totals["spend (credits)"])
        #expect(requests.inBand, "\(requests)")
        #expect(spend.inBand, "\(spend)")
        #expect(abs(try #require(requests.relativeError)) < 0.05)
        // The fit proposed the export's cache split, so the fitted spend is priced like the export's.
        #expect(c.fit.yaml.contains("cache: { read: 0.599"), "\(c.fit.yaml)")
        #expect(abs(try #require(totals["cached share of input tokens"]).fittedMean - 0.6) < 0.002)
        // The hourly profile: the fitted shares follow the export's business hours.
        for r in c.hourOfDay { #expect(abs(r.fittedMean - r.export) < 0.012, "\(r.name): \(r)") }
        #expect(!c.misses.contains { $0.hasPrefix("requests") || $0.hasPrefix("spend (credits)") }, "\(c.misses)")
        let md = c.markdown
        #expect(md.contains("| requests | \(e.rows) |"))
        #expect(md.contains("## Hourly profile"))
        #expect(md.contains("| 2026-03-02 | "))
        #expect(md.contains("The export's logged cost is"))
    }

    @Test("a day with ten times the demand is outside the fitted band, and the report says so")
    func lumpyDaysAreFlagged() throws {
        let e = Self.export(days: 4) { $0 == 1 ? 3 : 0.3 }
        let c = try calibrate(e.csv)
        let daily = c.daily
        #expect(!daily[1].inBand && daily[1].export > daily[1].fittedHigh)
        #expect(!daily[0].inBand && daily[0].export < daily[0].fittedLow)
        #expect(c.misses.contains { $0.hasPrefix("daily counts: ") }, "\(c.misses)")
        let dispersion = try #require(c.dailyDispersion)
        #expect(dispersion.export > 100 && !dispersion.inBand)
        #expect(c.markdown.contains("**Where the fit departs from the export**"))
    }

    @Test("an aggregated export calibrates from its buckets, every request counted")
    func bucketedExport() throws {
        let pages = ["openai_usage_page1.json", "openai_usage_page2.json"].map { simulationFixture("exports/" + $0) }
        let fit = try TraceFit.fit(paths: pages, format: .openaiUsage)
        var options = Calibration.Options(pricesPath: fixturePath("model_prices.csv"), replications: 3, threads: 1)
        // The export names a dated snapshot that the price table lists under its family's name.
        #expect(throws: Calibration.Failure.self) {
            try Calibration.run(fit: fit, paths: pages, exportOptions: ExportOptions(), options: options, command: "")
        }
        do {
            _ = try Calibration.run(fit: fit, paths: pages, exportOptions: ExportOptions(), options: options, command: "")
        } catch {
            #expect("\(error)".contains("no price row for the export's model 'gpt-4o-2024-08-06'"), "\(error)")
            #expect("\(error)".contains("--model-map NAME=ROW"))
        }
        options.modelMap = ["gpt-4o-2024-08-06": "gpt-4o"]
        let c = try Calibration.run(fit: fit, paths: pages, exportOptions: ExportOptions(), options: options, command: "burnrate fit …")
        #expect(c.fit.modelNames.allSatisfy { !$0.hasPrefix("gpt-4o-2024") }, "\(c.fit.modelNames)")
        #expect(c.exportPriced.requests == Double(fit.requests))
        #expect(c.exportLogged == nil)
        #expect(c.daily.map(\.export).reduce(0, +) == Double(fit.requests))
    }

    /// An OpenAI usage page of two hourly buckets: the first with `input` tokens over `requests`.
    static func openAIPage(input: Int64, requests: Int64) -> String {
        func bucket(_ start: Int, _ input: Int64, _ n: Int64) -> String {
            #"{"object": "bucket", "start_time": \#(start), "end_time": \#(start + 3600), "results": [{"object": "organization.usage.completions.result", "input_tokens": \#(input), "output_tokens": 10, "input_cached_tokens": 0, "num_model_requests": \#(n), "project_id": "p", "user_id": null, "api_key_id": "k", "model": "gpt-4o", "batch": false}]}"#
        }
        return #"{"object": "page", "data": ["# + bucket(1772438400, input, requests) + ", " + bucket(1772442000, 100, 5)
            + #"], "has_more": false, "next_page": null}"#
    }

    @Test("an aggregated bucket too large to hold, or with more tokens a request than a replay takes, is a located error (it crashed fit)")
    func hostileBucketsAreErrors() throws {
        let dir = temporaryDirectory()
        for (input, requests, message) in [(Int64(3_000_000_000), Int64(1), "more than 2147483647 a request"),
                                           (Int64(1_000_000_000_000_000), Int64(3), "more than 2147483647 a request"),
                                           (Int64(100), Int64(1_000_000_000_000), "more than 10000000 requests in one bucket")] {
            let path = dir + "/usage-\(requests).json"
            try Self.openAIPage(input: input, requests: requests).write(toFile: path, atomically: true, encoding: .utf8)
            do {
                _ = try TraceFit.fit(paths: [path], format: .openaiUsage)
                Issue.record("a bucket of \(input) tokens over \(requests) requests was fitted")
            } catch {
                #expect(error.description.contains(message) && error.description.contains(path + ":1"), "\(error)")
            }
        }
    }

    @Test("without a recorded or modelled cache split, spend is not split by class (it was all labelled input)")
    func noClassRowsWithoutASplit() throws {
        var csv = "request_id,spend,prompt_tokens,completion_tokens,startTime,model,team_id,api_key,status,metadata\n"
        for k in 0..<50 { csv += "r\(k),0.00035,100,10,2026-03-02 09:\(k < 10 ? "0" : "")\(k):00.000,gpt-4o,t,k,success,{}\n" }
        let c = try calibrate(csv, replications: 3)
        #expect(c.exportPriced.classSpendCredits == nil)
        #expect(!c.totals.contains { $0.name.hasPrefix("spend on ") }, "\(c.totals.map(\.name))")
        #expect(c.markdown.contains("With 3 replications the fitted band is no band"))
    }

    @Test("an error in a price table names the table, not the calibration's own scenario text")
    func priceErrorsNameTheTable() throws {
        let dir = temporaryDirectory()
        try "model,input_usd_per_mtok\ngpt-4o,2.5\n".write(toFile: dir + "/bad.csv", atomically: true, encoding: .utf8)
        let fit = try TraceFit.fit(paths: [simulationFixture("exports/litellm_spend_logs.csv")], format: .litellmSpendLogs)
        for prices in [dir + "/bad.csv", dir] {
            do {
                _ = try Calibration.run(fit: fit, paths: [simulationFixture("exports/litellm_spend_logs.csv")], exportOptions: ExportOptions(),
                                        options: Calibration.Options(pricesPath: prices, replications: 2), command: "")
                Issue.record("\(prices) was accepted")
            } catch {
                #expect("\(error)".hasPrefix(prices + ":") && !"\(error)".contains(":4:17"), "\(error)")
            }
        }
    }

    @Test("the report folder is written whole, and a folder burnrate did not write is refused")
    func writesAFolder() throws {
        let e = Self.export(days: 2)
        let c = try calibrate(e.csv, replications: 2)
        let out = temporaryDirectory() + "/calibration"
        try c.write(to: out)
        let md = try String(contentsOfFile: out + "/calibration.md", encoding: .utf8)
        #expect(md == c.markdown)
        let json = try String(contentsOfFile: out + "/calibration.json", encoding: .utf8)
        #expect(json.contains("\"hour_of_day\""))
        try c.write(to: out) // its own report is replaced
        let foreign = temporaryDirectory()
        try "keep".write(toFile: foreign + "/notes.txt", atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try c.write(to: foreign) }
        #expect(try String(contentsOfFile: foreign + "/notes.txt", encoding: .utf8) == "keep")
    }

    @Test("the CLI writes the report and refuses what cannot be calibrated")
    func commandLine() throws {
        let dir = temporaryDirectory()
        try Self.export(days: 2).csv.write(toFile: dir + "/spend.csv", atomically: true, encoding: .utf8)
        let prices = fixturePath("model_prices.csv")
        let ok = try burnrate(["fit", "spend.csv", "--format", "litellm-spend-logs", "--report", "cal", "--prices", prices,
                               "--replications", "3"], in: dir)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("cache: { read: "))
        #expect(ok.stderr.contains("calibration report: cal/calibration.md"))
        #expect(FileManager.default.fileExists(atPath: dir + "/cal/calibration.json"))
        let noPrices = try burnrate(["fit", "spend.csv", "--format", "litellm-spend-logs", "--report", "cal2"], in: dir)
        #expect(noPrices.status != 0 && noPrices.stderr.contains("--report needs --prices"))
        try "timestamp,identity,model,input_tokens,output_tokens\n2026-03-02T09:00:00Z,a,gpt-4o,1,1\n2026-03-02T10:00:00Z,a,gpt-4o,1,1\n"
            .write(toFile: dir + "/t.csv", atomically: true, encoding: .utf8)
        let trace = try burnrate(["fit", "t.csv", "--format", "generic", "--report", "cal3", "--prices", prices], in: dir)
        #expect(trace.status != 0 && trace.stderr.contains("research trace layout"))
        let missing = try burnrate(["fit", "spend.csv", "--format", "litellm-spend-logs", "--report", "cal4", "--prices", dir + "/none.csv"], in: dir)
        #expect(missing.status == 2 && missing.stderr.contains("none.csv: cannot read the price table"), "\(missing.stderr)")
        let badMap = try burnrate(["fit", "spend.csv", "--format", "litellm-spend-logs", "--report", "cal5", "--prices", prices,
                                   "--model-map", "gpt-4o"], in: dir)
        #expect(badMap.status != 0 && badMap.stderr.contains("--model-map takes NAME=ROW"))
        let unpriced = try burnrate(["fit", "spend.csv", "--format", "litellm-spend-logs", "--report", "cal6", "--prices", prices,
                                     "--model-map", "gpt-4o=gpt-9"], in: dir)
        #expect(unpriced.status == 2 && unpriced.stderr.contains("no price row for the export's model 'gpt-9'"), "\(unpriced.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/cal4"))
    }
}

/// A fixture of the simulation tests (`Tests/SimulationTests/Fixtures/`), by its path beside this file.
func simulationFixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("SimulationTests/Fixtures/" + name).path
}
