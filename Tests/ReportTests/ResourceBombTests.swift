import Foundation
import Testing
@testable import Reports
@testable import Scenario

/// Issue #14, "resource bombs" and "errors that say too little": what would exhaust the runner
/// is refused before it runs, with a located error; extreme numbers are located errors, not traps.
@Suite("Untrusted files: resource bombs")
struct ResourceBombTests {
    /// Line 3 holds `top`, line 8 `pool`, line 12 `identity`, line 14 the arrivals.
    static func scenario(top: String = "", pool: String = "", identity: String = "",
                         arrivals: String = "{ poisson: { rate: 10/h } }", horizon: String = "30d") -> String {
        """
        name: b
        horizon: \(horizon)
        \(top)
        prices: { m: { input: 1, output: 1 } }
        pools:
          - id: p
            grants: [ { amount: 1000 } ]
        \(pool)
        identities:
          - id: i
            pool: p
        \(identity)
            workload:
              arrivals: \(arrivals)
        """
    }

    func workProblem(_ yaml: String, maxEvents: Double = WorkEstimate.defaultMaxEvents) throws -> String? {
        let s = try Scenario.parse(yaml: yaml, file: "bad.yaml")
        return s.workProblem(replications: s.replications, maxEvents: maxEvents)?.description
    }

    @Test(arguments: [
        (scenario(top: "sample_every: 1ms"), "bad.yaml:3:15: this scenario would simulate about 2.6e11 events", "sample_every"),
        (scenario(pool: "    period: 1ms\n    refill: { amount: 1 }"), "bad.yaml:8:13: this scenario would simulate about 2.6e11 events", "the period of pool 'p'"),
        (scenario(top: "replications: 1000000000"), "bad.yaml:3:15: 1000000000 replications asked for; at most 100000", "in memory"),
        (scenario(top: "replications: 90000", arrivals: "{ poisson: { rate: 1/s } }"), "bad.yaml:3:15: this scenario would simulate about 2.3e11 events", "90000 replication(s)"),
        (scenario(arrivals: "{ poisson: { rate: 1e9/s } }"), "bad.yaml:14:17: this scenario would simulate about 2.6e17 events", "the workload of 'i'"),
        (scenario(arrivals: "{ poisson: { rate: 1/s }, growth: { per_day: 5 } }"), "bad.yaml:14:17: this scenario would simulate about", "the workload of 'i'"),
    ])
    func workBeyondTheLimitIsRefusedBeforeRunningSayingHowBig(yaml: String, prefix: String, culprit: String) throws {
        let problem = try #require(try workProblem(yaml))
        #expect(problem.hasPrefix(prefix), "\(problem)")
        #expect(problem.contains(culprit), "\(problem)")
    }

    @Test func maxEventsRaisesTheLimit() throws {
        let yaml = Self.scenario(top: "replications: 5", arrivals: "{ poisson: { rate: 1000/s } }")
        #expect(try workProblem(yaml)?.contains("raise the limit with --max-events") == true)
        #expect(try workProblem(yaml, maxEvents: 1e11) == nil)
    }

    @Test func theCommittedScenariosAreWithinTheDefaultLimit() throws {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        var files: [String] = []
        for folder in ["scenarios", "notebooks-md", "examples"] {
            let path = url.appendingPathComponent(folder).path
            files += try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".yaml") }.map { path + "/" + $0 }
        }
        // The contract examples must be there (a missing folder is a failure, not a smaller test).
        let shared = (try sharedScenario("quickstart.yaml") as NSString).deletingLastPathComponent
        files += try FileManager.default.contentsOfDirectory(atPath: shared).filter { $0.hasSuffix(".yaml") }.map { shared + "/" + $0 }
        #expect(files.count >= 5)
        for f in files {
            let s = try Scenario.load(path: f)
            // `size` runs up to 4× the replications per candidate.
            #expect(s.workProblem(replications: 4 * s.replications, maxEvents: WorkEstimate.defaultMaxEvents) == nil, "\(f)")
        }
    }

    @Test func theRunCommandRefusesABombWithExitStatus2() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.scenario(arrivals: "{ poisson: { rate: 1e9/s } }").write(toFile: dir + "/s.yaml", atomically: true, encoding: .utf8)
        let started = Date()
        let result = try burnrate(["run", "s.yaml", "--out", "out"], in: dir)
        #expect(result.status == 2 && result.stderr.contains("s.yaml:14:17: this scenario would simulate about"), "\(result.stderr)")
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(!FileManager.default.fileExists(atPath: dir + "/out"))
    }

    @Test func anAliasBombIsRefusedWithinBoundedWork() {
        var lines = ["name: bomb", "horizon: 1d", "prices: { m: { fixed: 1 } }", "pools:", "  - id: p", "    children:"]
        lines.append("      - &a0 { id: leaf }")
        // Nine references per level, twenty levels: 9^20 pools once expanded.
        for i in 1..<20 { lines.append("      - &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ", ") + "]") }
        lines.append("identities: []")
        let started = Date()
        let found = errors(lines.joined(separator: "\n") + "\n")
        #expect(found.contains { $0.contains("expands to more than") }, "\(found)")
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test func deepNestingIsRefusedBeforeComposing() {
        let found = errors("name: d\nhorizon: " + String(repeating: "[", count: 100_000) + "\n")
        #expect(found == ["bad.yaml:2:74: YAML: nested more than 64 levels deep"])
    }

    // Extreme numbers: located errors (exit 2), never a trap.

    @Test(arguments: [
        (scenario(arrivals: "{ renewal: { rate: 1e-300/h, cv: 1 } }"), "bad.yaml:14:36: renewal rate is too low"),
        (scenario(arrivals: "{ periodic: { rate: 1e-300/h } }"), "bad.yaml:14:37: periodic rate is too low"),
        (scenario(arrivals: "{ poisson: { rate: 1e308/s } }"), "bad.yaml:14:36: poisson rate is too high"),
        (scenario(arrivals: "{ renewal: { rate: 10/h, cv: 1e300 } }"), "bad.yaml:14:46: cv must be at most 10"),
        (scenario(identity: "    rate_cap: 1e300/h"), "bad.yaml:12:15: rate_cap is too high"),
        (scenario(pool: "    policies: [ { throttle: { rate: 1e300/h } } ]"), "bad.yaml:8:37: throttle rate is too high"),
        (scenario(pool: "    policies: [ { auto_top_up: { amount: 9223372036854 } } ]"), "bad.yaml:8:42: auto_top_up amount is too large for the default max_per_period"),
        (scenario(pool: "    period: 0s"), "bad.yaml:8:13: period must be positive"),
        (scenario(identity: "    stop: { spend_rate_over: 5x, window: 0s }"), "bad.yaml:12:42: a stop window is at least 1s"),
        (scenario(identity: "    rate_cap: 0/m"), "bad.yaml:12:15: rate_cap must be positive"),
        (scenario(identity: "    stop: { spend_rate_over: 1e300x }"), "bad.yaml:12:30: spend_rate_over is a factor such as 5x"),
        (scenario(horizon: "365000d"), "bad.yaml:2:10: horizon is too long"),
        (scenario(pool: "    refill: { amount: 9223372036854 }").replacingOccurrences(of: "amount: 1000 }", with: "amount: 9223372036854 }"),
         "bad.yaml:8:13: the grants and refill of pool 'p' sum to more than"),
        (scenario().replacingOccurrences(of: "[ { amount: 1000 } ]", with: "[ { amount: 9223372036854 }, { amount: 9223372036854 } ]"),
         "bad.yaml:7:13: the grants of pool 'p' sum to more than"),
    ])
    func extremeNumbersAreLocatedErrors(yaml: String, expected: String) {
        let found = errors(yaml)
        #expect(found.contains { $0.hasPrefix(expected) }, "\(found)")
    }

    @Test func aTimeScaleThatOverflowsTheClockIsALocatedError() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "timestamp,identity,model,input_tokens,output_tokens\n0,,m,1,1\n60,,m,1,1\n".write(toFile: dir + "/t.csv", atomically: true, encoding: .utf8)
        let yaml = Self.scenario(arrivals: "{ poisson: { rate: 1/h } }")
            .replacingOccurrences(of: "arrivals: { poisson: { rate: 1/h } }", with: "replay: { trace: t.csv, time_scale: 1e300 }")
        do {
            _ = try Scenario.parse(yaml: yaml, file: "bad.yaml", directory: dir)
            Issue.record("time_scale 1e300 was accepted")
        } catch {
            #expect(error.description.hasPrefix("bad.yaml:14:43: time_scale must be at most 1000000"), "\(error)")
        }
    }

    @Test func theLowestAndHighestAcceptedValuesRunWithoutATrap() throws {
        for arrivals in ["{ renewal: { rate: 1e-6/h, cv: 10 } }", "{ renewal: { rate: 1e-6/h, cv: 10, gaps: weibull } }",
                         "{ periodic: { rate: 1e-6/h } }", "{ renewal: { rate: 10/h, cv: 0.01 } }"] {
            let yaml = Self.scenario(top: "replications: 2", identity: "    rate_cap: 1e9/m", arrivals: arrivals)
            let s = try Scenario.parse(yaml: yaml, file: "edge.yaml")
            #expect(s.workProblem(replications: 2, maxEvents: WorkEstimate.defaultMaxEvents) == nil)
            _ = try RunData.run(s, replications: 2, threads: 1)
        }
    }

    @Test func aScenarioWhoseWorkloadsAllHaveAFixedCostNeedsNoPrices() throws {
        let yaml = """
            name: fixed
            horizon: 2d
            pools: [ { id: p, grants: [ { amount: 100 } ] } ]
            identities:
              - id: i
                pool: p
                workload: { arrivals: { poisson: { rate: 10/h } }, cost: { fixed: 0.5 } }
            """
        let s = try Scenario.parse(yaml: yaml, file: "fixed.yaml")
        let data = try RunData.run(s, replications: 3, threads: 1)
        #expect(Summary(data).run[0]["spend_credits"]?.mean == 100)
        // Without a fixed cost, the workload says what it lacks.
        let found = errors(yaml.replacingOccurrences(of: ", cost: { fixed: 0.5 }", with: ""))
        #expect(found.contains { $0.contains("needs a fixed 'cost', or a 'prices' table and a 'model'") }, "\(found)")
    }
}
