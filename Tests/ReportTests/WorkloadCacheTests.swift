import Foundation
import Simulation
import Testing
@testable import Reports
@testable import Scenario

/// `cache:` and `batch:` on workloads (DESIGN.md, "Prices and token classes").
@Suite("Workload cache keys")
struct WorkloadCacheTests {
    static func scenario(workload: String, prices: String = "  claude: { input: 3, cached_input: 0.3, cache_write: 3.75, output: 15, batch: 0.5 }") -> String {
        """
        name: cache
        horizon: 1d
        prices:
        \(prices)
        pools:
          - id: eng
            grants: [ { amount: 1000 } ]
        identities:
          - id: bot
            pool: eng
            workload:
        \(workload)
        """
    }

    @Test func sharesAndBatchAreRead() throws {
        let s = try Scenario.parse(yaml: Self.scenario(workload: """
                  arrivals: { poisson: { rate: 10/h } }
                  model: claude
                  input_tokens: 1000
                  cache: { read: 0.6, write: { uniform: { min: 0, max: 0.2 } } }
                  batch: true
            """), file: "c.yaml")
        let w = s.base.workloads[0]
        #expect(w.batch)
        guard case .shares(.constant(0.6), .uniform)? = w.cache else { Issue.record("\(String(describing: w.cache))"); return }
    }

    @Test func badCacheKeysAreReportedAtTheirLineAndColumn() {
        let e = errors(Self.scenario(workload: """
                  arrivals: { poisson: { rate: 10/h } }
                  model: claude
                  cache: { read: 0.8, write: 0.3 }
            """))
        #expect(e.contains("bad.yaml:14:14: cache read + write must be at most 1 (shares of the same input tokens), they come to 1.1"), "\(e)")
        let f = errors(Self.scenario(workload: """
                  arrivals: { poisson: { rate: 10/h } }
                  model: claude
                  cache: { read: 1.5, raed: 0 }
                  batch: yes please
            """))
        #expect(f.contains("bad.yaml:14:22: cache.read must be at most 1, got 1.5"), "\(f)")
        #expect(f.contains { $0.hasPrefix("bad.yaml:14:27: cache: unknown key 'raed' (did you mean 'read'?)") }, "\(f)")
        #expect(f.contains("bad.yaml:15:14: batch must be true or false"), "\(f)")
        let g = errors(Self.scenario(workload: """
                  arrivals: { poisson: { rate: 10/h } }
                  model: claude
                  cache: { prefix_ttl: 5m }
            """))
        #expect(g.contains { $0.hasPrefix("bad.yaml:14:14: a prefix cache (prefix_ttl) reads a replayed trace's hash_ids") }, "\(g)")
        let h = errors(Self.scenario(workload: """
                  arrivals: { poisson: { rate: 10/h } }
                  cost: { fixed: 0.01 }
                  cache: { read: 0.5 }
            """))
        #expect(h.contains { $0.hasPrefix("bad.yaml:14:14: cache and batch price tokens") }, "\(h)")
        let i = errors(Self.scenario(workload: """
                  arrivals: { poisson: { rate: 10/h } }
                  model: claude
                  cache: { read: 0.5, prefix_ttl: 5m }
            """))
        #expect(i.contains { $0.hasPrefix("bad.yaml:14:14: cache is either { read, write }") }, "\(i)")
    }

    @Test func aPrefixCacheNeedsHashIdsInTheTrace() throws {
        let dir = temporaryDirectory()
        try "timestamp_ms,input_length,output_length\n0,10,1\n5,10,1\n".write(toFile: dir + "/t.csv", atomically: true, encoding: .utf8)
        let e = errors(Self.scenario(workload: """
                  replay: { trace: t.csv, format: mooncake, resample: none }
                  model: claude
                  cache: { prefix_ttl: 5m }
            """), directory: dir)
        #expect(e.contains { $0.contains("the mooncake layout needs a column 'hash_ids'") }, "\(e)")
    }

    /// The whole path: scenario, runner, summary.json and report.md.
    @Test func aCachedRunReportsItsTokenClassMetrics() throws {
        let dir = temporaryDirectory()
        try """
            timestamp_ms,input_length,output_length,hash_ids
            0,1500,10,1 2 3
            1000,1100,10,1 2 9
            2000,700,10,1 4
            """.write(toFile: dir + "/t.csv", atomically: true, encoding: .utf8)
        let yaml = Self.scenario(workload: """
                  replay: { trace: t.csv, format: mooncake, resample: none }
                  model: claude
                  cache: { prefix_ttl: 5m, write_new_blocks: true }
            """)
        let s = try Scenario.parse(yaml: yaml, file: "c.yaml", directory: dir)
        let data = try RunData.run(s, replications: 2, threads: 1)
        let run = data.variants[0].records[0].run
        // 1,024 + 512 cached of 3,300 input.
        #expect(run[Metric.cachedInputShare.name] == 1_536.0 / 3_300)
        #expect(run[Metric.cachedInputSpendCredits.name]! > 0)
        let summary = Summary(data)
        let json = summary.text
        for m in [Metric.cachedInputShare, .cacheSavingsCredits, .inputSpendCredits, .cacheWriteSpendCredits, .outputSpendCredits] {
            #expect(json.contains("\"\(m.name)\""), "\(m.name) missing from summary.json")
        }
        let report = MarkdownReport.render(summary, charts: [])
        #expect(report.contains("## Token classes"), "\(report)")
        #expect(report.contains("| as written | 46.5% |"), "\(report)")
    }

    @Test func aCachedRunsSummaryIsTheSameOnAnyThreadCount() throws {
        let s = try Scenario.parse(yaml: Self.scenario(workload: """
                  arrivals: { poisson: { rate: 200/h } }
                  model: claude
                  input_tokens: { lognormal: { median: 20000, sigma: 1 } }
                  output_tokens: 300
                  cache: { read: { uniform: { min: 0.5, max: 0.95 } }, write: 0.05 }
            """), file: "c.yaml")
        let one = Summary(try RunData.run(s, replications: 6, threads: 1)).text
        let three = Summary(try RunData.run(s, replications: 6, threads: 3)).text
        #expect(one == three)
        #expect(one.contains("\"cached_input_share\""))
    }
}
