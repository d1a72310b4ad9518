import Foundation
import Testing
@testable import Reports
@testable import Scenario
import Simulation

@Suite("Scenario files")
struct ScenarioTests {
    @Test(arguments: ["quickstart.yaml", "replay.yaml", "procure.yaml"])
    func contractExamplesLoadAndRun(file: String) throws {
        let scenario = try Scenario.load(path: try sharedScenario(file))
        #expect(!scenario.variants.isEmpty)
        // One replication each keeps the debug-build suite fast; determinism and statistics are
        // tested elsewhere.
        let data = try RunData.run(scenario, replications: 1, threads: 2)
        #expect(data.variants.allSatisfy { $0.records.count == 1 })
        #expect(data.variants[0].records[0].run["requests_total"]! > 0)
    }

    @Test func theQuickstartContractMeansWhatItSays() throws {
        let s = try Scenario.load(path: try sharedScenario("quickstart.yaml"))
        #expect(s.name == "quickstart" && s.replications == 200 && s.base.seed == 42)
        #expect(s.base.horizonMs == 30 * 86_400_000)
        #expect(s.poolNames == ["org", "eng", "research"])
        #expect(s.variants.map(\.name) == [nil, "hard-stop-only", "overdraft-instead"])
        #expect(s.initialFundingMicrocredits[1] == 1_700_000_000)
        // eng: alerts, degrade below 10% of 1,700 credits to gpt-4o-mini (tier 1), hard stop.
        #expect(s.base.pools[1].spec.policies == [.alerts(thresholdsMicrocredits: [850_000_000, 340_000_000, 85_000_000]),
                                                  .degrade(toTier: 1, belowMicrocredits: 170_000_000), .hardStop])
        #expect(s.variants[2].model.pools[1].spec.policies == [.overdraft(limitMicrocredits: 300_000_000)])
        #expect(s.expectations.map(\.text) == ["continuity >= 0.90", "spend_credits.p95 <= 2600"])
        let runaway = try #require(s.base.workloads.last)
        #expect(runaway.stopsAtFirstRefusal && runaway.startMs == 10 * 86_400_000)
    }

    @Test func everyProblemIsReportedAtOnceWithItsLocation() {
        let e = errors("""
            name: broken
            horizon: 30
            seed: 1
            prices:
              gpt-4o: { input: 2.50, output: 10.00 }
            pools:
              - id: eng
                grants: [ { amount: -5 } ]
                polices: []
            identities:
              - id: bot
                pool: engg
                workload:
                  arrivals: { poisson: { rate: 10/fortnight } }
                  model: { gpt-4o: 0.7, gpt-5: 0.2 }
            """)
        #expect(e.contains("bad.yaml:2:10: horizon must be a duration with a unit (500ms, 90s, 15m, 12h, 30d, 4w), got '30'"))
        #expect(e.contains("bad.yaml:8:25: grant amount must not be negative, got -5"))
        #expect(e.contains { $0.hasPrefix("bad.yaml:9:5: pool: unknown key 'polices' (did you mean 'policies'?)") })
        #expect(e.contains("bad.yaml:12:11: no pool 'engg' (did you mean 'eng'?)"))
        #expect(e.contains("bad.yaml:14:36: poisson rate must be a rate such as 600/h (units /s /m /h /d), got '10/fortnight'"))
        #expect(e.contains("bad.yaml:15:29: model 'gpt-5' is not in prices (did you mean 'gpt-4o'?)"))
        #expect(e.count >= 6)
    }

    @Test(arguments: [
        ("name: x\nhorizon: 1d\nprices: { m: { input: 1, output: 1 } }\npools: [ { id: p } ]\nidentities: [ { id: a, pool: p, workload: { arrivals: { poisson: { rate: 1/h } }, model: { m: 0.5 } } } ]\n",
         "model shares must sum to 1, they sum to 0.5"),
        ("name: x\nhorizon: 1d\nprices: { m: { input: 1, output: 1 } }\npools: [ { id: p } ]\nidentities: [ { id: a, pool: p, workload: { replay: { trace: missing.csv, format: azure-llm } } } ]\n",
         "cannot replay the trace: ./missing.csv:0: cannot open the trace"),
        ("name: x\nhorizon: 1d\nprices: { m: { input: 1, output: 1 } }\npools: [ { id: p, policies: [ { overdraft: { limit: -3 } } ] } ]\nidentities: []\n",
         "overdraft limit must not be negative, got -3"),
        ("name: x\nhorizon: 1d\nprices: { m: { input: 1, output: 1 } }\npools: [ { id: p } ]\nidentities: [ { id: a, pool: p, workload: { arrivals: { poisson: { rate: 1/h } }, input_tokens: { lognormal: { median: -4, sigma: 1 } } } } ]\n",
         "input_tokens: median must be positive and finite, got -4"),
        ("name: x\nhorizon: 1d\nprices: { m: { input: 1, output: 1 } }\npools: [ { id: p } ]\nidentities: []\nvariants: { v: { q.policies: [] } }\n",
         "variant 'v': no pool or identity 'q' (did you mean 'p'?)"),
        ("name: x\nhorizon: 1d\nprices: { m: { input: 1, output: 1 } }\npools: [ { id: p } ]\nidentities: []\nexpect: { continuty: \">= 0.9\" }\n",
         "unknown metric 'continuty' (did you mean 'continuity'?)"),
        ("name: x\nhorizon: [1d\n", "YAML:"),
        ("name: x\nhorizon: 1d\nseed: 1\nseed: 2\nprices: {}\npools: []\nidentities: []\n", "YAML:"),
    ])
    func malformedScenariosFailWithAnActionableMessage(yaml: String, expected: String) {
        let e = errors(yaml)
        #expect(e.contains { $0.contains(expected) }, "\(e)")
        #expect(e.allSatisfy { $0.range(of: #"^bad\.yaml:\d+:\d+: "#, options: .regularExpression) != nil })
    }

    // MARK: Replays of generic traces

    /// A generic trace of five requests over 4 s: two identities, two models (prices below).
    static let genericTrace = """
        timestamp,identity,model,input_tokens,output_tokens
        2026-03-02T09:15:00Z,bot-a,gpt-4o,1000,200
        2026-03-02T09:15:01Z,bot-b,gpt-4o-mini,2000,100
        2026-03-02T09:15:02Z,bot-a,gpt-4o-mini,500,50
        2026-03-02T09:15:03Z,bot-b,gpt-4o,100,10
        2026-03-02T09:15:04Z,bot-a,gpt-4o,300,30

        """

    /// Writes `trace` and a scenario replaying it as `replay.yaml` in a fresh folder; the
    /// scenario's workload sits on identity `svc`, declared before `later`.
    static func replayScenario(trace: String, replay: String, resample: String = "none", extra: String = "") throws -> String {
        let dir = temporaryDirectory()
        try trace.write(toFile: dir + "/trace.csv", atomically: true, encoding: .utf8)
        let yaml = """
            name: generic-replay
            horizon: 1h
            replications: 2
            prices:
              gpt-4o: { input: 2.50, output: 10.00 }
              gpt-4o-mini: { input: 0.15, output: 0.60 }
            pools:
              - id: team
                grants: [ { amount: 100 } ]
            identities:
              - id: svc
                pool: team
                workload:
                  replay: { trace: trace.csv, format: generic, resample: \(resample)\(replay) }
              - id: later
                pool: team
            \(extra)
            """
        try yaml.write(toFile: dir + "/replay.yaml", atomically: true, encoding: .utf8)
        return dir + "/replay.yaml"
    }

    @Test func aReplayWhoseTraceNamesAModelOnEveryRowNeedsNoModel() throws {
        let scenario = try Scenario.load(path: try Self.replayScenario(trace: Self.genericTrace, replay: ""))
        let data = try RunData.run(scenario, replications: 1, threads: 1)
        let run = data.variants[0].records[0].run
        #expect(run["requests_total"] == 5)
        // Each row at its own model's rates (credits per Mtok), rounded up to the micro-credit.
        let rows: [(Double, Double, Double, Double)] = [(1000, 200, 2.5, 10), (2000, 100, 0.15, 0.6), (500, 50, 0.15, 0.6),
                                                        (100, 10, 2.5, 10), (300, 30, 2.5, 10)]
        let expected = rows.map { (($0.0 * $0.2 + $0.1 * $0.3)).rounded(.up) / 1_000_000 }.reduce(0, +)
        #expect(abs(run["spend_credits"]! - expected) < 1e-9, "spend \(run["spend_credits"]!) vs \(expected)")
    }

    @Test func aReplayRowWithoutAModelIsNamedByItsLine() throws {
        let trace = Self.genericTrace.replacingOccurrences(of: "bot-b,gpt-4o,100", with: "bot-b,,100")
        let path = try Self.replayScenario(trace: trace, replay: "")
        do {
            _ = try Scenario.load(path: path)
            Issue.record("a trace row without a model must be refused when the replay has none")
        } catch {
            #expect(error.description.contains("replay.yaml:14:15: workload of 'svc' needs a 'model' (or a fixed 'cost'): the request on "), "\(error)")
            #expect(error.description.contains("trace.csv:5 names no model"), "\(error)")
        }
        // With a model for such rows it loads.
        _ = try Scenario.load(path: try Self.replayScenario(trace: trace, replay: ", model: gpt-4o-mini"))
    }

    @Test func aReplayRowWithAnUnpricedModelIsNamedByItsLine() throws {
        let trace = Self.genericTrace.replacingOccurrences(of: "bot-a,gpt-4o-mini,500", with: "bot-a,claude-x,500")
        let path = try Self.replayScenario(trace: trace, replay: "")
        do {
            _ = try Scenario.load(path: path)
            Issue.record("a trace row that no model prices must be refused")
        } catch {
            #expect(error.description.contains("trace.csv:4 names model 'claude-x', which is not in prices"), "\(error)")
        }
    }

    @Test func aReplayMayMapATraceIdentityToOneDeclaredLaterInTheFile() throws {
        let scenario = try Scenario.load(path: try Self.replayScenario(trace: Self.genericTrace, replay: ", identities: { bot-b: later }"))
        guard case .replay(let source) = scenario.base.workloads[0].arrivals else { Issue.record("not a replay"); return }
        #expect(source.trace.identityNames == ["bot-a", "bot-b"])
        #expect(source.identityMap == [-1, 1])
        let data = try RunData.run(scenario, replications: 1, threads: 1)
        #expect(data.variants[0].records[0].identities.map { $0["requests_total"] } == [3, 2])
    }

    @Test func aBootstrapBlockOfZeroIsAnErrorNotACrash() throws {
        let path = try Self.replayScenario(trace: Self.genericTrace, replay: "", resample: "{ block: 0s }")
        do {
            _ = try Scenario.load(path: path)
            Issue.record("a block of 0s must be refused")
        } catch {
            #expect(error.description.contains("the block length must be positive"), "\(error)")
        }
    }

    @Test func aRunawayOfAReplayPricedByItsTraceDrawsFromTheTracesModels() throws {
        let path = try Self.replayScenario(trace: Self.genericTrace, replay: "",
                                           extra: "faults: [ { runaway: { identity: svc, at: 10s, rate: 60/m, until: 20s } } ]")
        let scenario = try Scenario.load(path: path)
        let runaway = try #require(scenario.base.workloads.last)
        #expect(runaway.name == "svc/runaway")
        // gpt-4o on 3 of the 5 rows, gpt-4o-mini on 2 (price-table indices 0 and 1).
        #expect(runaway.models == [0, 1] && runaway.modelWeights == [3, 2])
        let data = try RunData.run(scenario, replications: 1, threads: 1)
        #expect(data.variants[0].records[0].run["requests_total"]! > 5)
    }

    // MARK: What `burnrate fit` prints

    /// A fixture of the simulation tests: BurstGPT_3's first 200 rows in the generic layout.
    static func simulationFixture(_ name: String) -> String {
        var url = URL(fileURLWithPath: #filePath)
        url.deleteLastPathComponent()
        url.deleteLastPathComponent()
        return url.appendingPathComponent("SimulationTests/Fixtures/\(name)").path
    }

    static let fittedHeader = """
        name: fitted
        horizon: 1d
        replications: 2
        prices:
          ChatGPT: { input: 0.50, output: 1.50 }
          GPT-4: { input: 30, output: 60 }
        pools:
          - id: team
            grants: [ { amount: 1000 } ]

        """

    @Test func aFitOfATraceWithIdentitiesAndModelsLoadsAndRuns() throws {
        let fit = try TraceFit.fit(path: Self.simulationFixture("burstgpt3_generic.csv"), format: .generic)
        let scenario = try Scenario.parse(yaml: Self.fittedHeader + fit.yaml(pool: "team"), file: "fitted.yaml")
        #expect(scenario.identityNames == ["Conversation-log", "API-log"])
        #expect(scenario.base.workloads.map(\.models) == [[0, 1], [0, 1]])
        #expect(scenario.base.workloads.map(\.modelWeights) == [[0.690722, 0.309278], [0.5, 0.5]])
        let data = try RunData.run(scenario, replications: 2, threads: 1)
        // 194 + 6 requests in 10.1 h: about 470 a day.
        for record in data.variants[0].records {
            #expect((300...700).contains(record.run["requests_total"]!), "\(record.run["requests_total"]!)")
            #expect(record.identities.allSatisfy { $0["requests_total"]! > 0 })
        }
    }

    @Test func aFitKeepsNamesThatAreNotPlainYAMLWords() throws {
        let dir = temporaryDirectory()
        let trace = dir + "/names.csv"
        try """
            timestamp,identity,model,input_tokens,output_tokens
            0,ops team/ü,"vendor: x#1",100,10
            60,ops team/ü,"vendor: x#1",120,12
            120,true,gpt-4o,80,8
            180,,gpt-4o,90,9

            """.write(toFile: trace, atomically: true, encoding: .utf8)
        let fit = try TraceFit.fit(path: trace, format: .generic)
        let header = """
            name: names
            horizon: 1h
            prices:
              "vendor: x#1": { input: 1, output: 1 }
              gpt-4o: { input: 2.5, output: 10 }
            pools: [ { id: p, grants: [ { amount: 10 } ] } ]

            """
        let scenario = try Scenario.parse(yaml: header + fit.yaml(pool: "p"), file: "names.yaml")
        #expect(scenario.identityNames == ["ops-team--", "true", "unnamed"])
        #expect(scenario.base.workloads.map(\.models) == [[0], [1], [1]])
        _ = try RunData.run(scenario, replications: 1, threads: 1)
    }
}
