import Foundation
import Testing
@testable import Reports
@testable import Scenario
@testable import Simulation

/// What the simulator reports is what happened: a runaway that ends on its own, alerts.
@Suite("Fidelity of reported outcomes")
struct FidelityTests {
    func run(_ yaml: String, replications: Int = 4) throws -> Summary {
        Summary(try RunData.run(try Scenario.parse(yaml: yaml, file: "fidelity.yaml"), replications: replications, threads: 2))
    }

    /// Reproduction: a runaway that ends at its `until:` reported `time_to_stop_minutes` = the
    /// whole horizon. Nothing stops this one: it runs its 90 minutes, to its `until:`.
    @Test func aRunawayThatEndsAtItsUntilRanForItsOwnDuration() throws {
        let yaml = """
            name: until
            horizon: 1d
            pools:
              - id: eng
                grants: [ { amount: 1000000 } ]
            identities:
              - id: bot
                pool: eng
                workload:
                  arrivals: { poisson: { rate: 1/h } }
                  cost: { fixed: 0.01 }
            faults:
              - runaway: { identity: bot, at: 2h, rate: 10/m, until: 210m }
            """
        let s = try run(yaml)
        let run = try #require(s.run[0][Metric.timeToStopMinutes.name])
        #expect(run.mean == 90 && run.sd == 0)
        #expect(s.run[0][Metric.runawayStopped.name]?.mean == 0)
        let bot = try #require(s.identities[0].first)
        #expect(bot[Metric.timeToStopMinutes.name]?.mean == 90)
        // 10/m for 90 minutes at 0.01 credits: about 9 credits, all of it the runaway's.
        let spend = try #require(bot[Metric.runawaySpendCredits.name]?.mean)
        #expect(spend > 7 && spend < 11)
        let report = MarkdownReport.render(s, charts: [])
        #expect(report.contains("nothing stopped it: it ran its whole 90 min"))
    }

    /// A runaway that a daily cap stops reports the time to the refusal, and `runaway_stopped` 1.
    @Test func aRunawayStoppedByACapReportsWhenItWasStopped() throws {
        let yaml = """
            name: capped
            horizon: 1d
            pools:
              - id: eng
                grants: [ { amount: 1000000 } ]
            identities:
              - id: bot
                pool: eng
                caps: { per_day: 1 }
                workload:
                  arrivals: { periodic: { rate: 1/h } }
                  cost: { fixed: 0.01 }
            faults:
              - runaway: { identity: bot, at: 2h, rate: 1/m, until: 20h }
            """
        let s = try run(yaml, replications: 2)
        #expect(s.run[0][Metric.runawayStopped.name]?.mean == 1)
        let stop = try #require(s.run[0][Metric.timeToStopMinutes.name]?.mean)
        #expect(stop > 60 && stop < 120)  // about 98 draws of 0.01 credits fill the cap
    }

    /// Reproduction: configured `alerts` never appeared in any output. 100 credits, one credit a
    /// minute: the 50% alert fires when available falls below 50, at the 51st draw.
    @Test func alertsAreReportedWithWhenTheyFired() throws {
        let yaml = """
            name: alerts
            horizon: 4h
            pools:
              - id: eng
                grants: [ { amount: 100 } ]
                policies: [ { alerts: [0.5, 0.9, 0.999] }, { hard_stop: {} } ]
            identities:
              - id: bot
                pool: eng
                workload:
                  arrivals: { periodic: { rate: 60/h } }
                  cost: { fixed: 1 }
            """
        let s = try run(yaml, replications: 3)
        let alerts = s.alerts(variant: 0, pool: 0)
        #expect(alerts.map(\.belowCredits) == [50, 10, 0.1])
        #expect(alerts.map(\.fired.mean) == [1, 1, 1])
        let first = alerts.map { $0.firstAtHours?.mean ?? -1 }
        // Draw k (k = 1, 2, …) leaves 100 − k; the first arrival's time fixes the offset.
        #expect(abs((first[1] - first[0]) * 60 - 40) < 1e-9)
        #expect(abs((first[2] - first[0]) * 60 - 49) < 1e-9)
        let json = s.text
        #expect(json.contains("\"alerts\""))
        #expect(json.contains("\"first_fired_hours\""))
        #expect(json.contains("\"budget_used\": 0.5"))
        let report = MarkdownReport.render(s, charts: [])
        #expect(report.contains("## Alerts (as written)"))
        #expect(report.contains("| eng | 50% used (below 50 credits) | 100% |"))
    }

    /// `time_to_exhaustion_hours` has one meaning everywhere: censored at the horizon.
    @Test func timeToExhaustionIsCensoredAtTheHorizon() throws {
        let yaml = """
            name: never
            horizon: 10h
            pools:
              - id: eng
                grants: [ { amount: 1000 } ]
            identities:
              - id: bot
                pool: eng
                workload:
                  arrivals: { periodic: { rate: 1/h } }
                  cost: { fixed: 1 }
            """
        let s = try run(yaml, replications: 2)
        #expect(s.run[0][Metric.timeToExhaustionHours.name]?.mean == 10)
        #expect(s.pools[0][0][Metric.timeToExhaustionHours.name]?.mean == 10)
        #expect(s.run[0][Metric.exhaustionProbability.name]?.mean == 0)
    }

    /// The registry spells every metric once and covers what the runner produces.
    @Test func everyProducedMetricIsRegistered() throws {
        let s = try run(try String(contentsOfFile: fixturePath("small.yaml"), encoding: .utf8))
        var produced = Set<String>()
        for scope in [s.run[0]] + s.pools[0] + s.identities[0] { produced.formUnion(scope.keys) }
        #expect(produced.isSubset(of: Set(Metric.names)), "\(produced.subtracting(Metric.names))")
        #expect(Set(Metric.names).count == Metric.all.count)
    }
}

@Suite("Metric docs")
struct MetricDocTests {
    /// docs/metrics.md carries the registry's table: the contract has one home, and its docs follow.
    @Test func metricDocsMatchTheRegistry() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/metrics.md").standardized.path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let begin = try #require(text.range(of: "<!-- begin metrics -->\n")), end = try #require(text.range(of: "<!-- end metrics -->"))
        let current = String(text[begin.upperBound..<end.lowerBound])
        if ProcessInfo.processInfo.environment["BURNRATE_UPDATE_GOLDEN"] == "1" {
            try (String(text[..<begin.upperBound]) + Metric.markdownTable + String(text[end.lowerBound...]))
                .write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        #expect(current == Metric.markdownTable, "docs/metrics.md is stale: BURNRATE_UPDATE_GOLDEN=1 swift test --filter metricDocs")
    }
}
