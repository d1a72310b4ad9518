import Foundation
import Ledger
import Stochastic
import Testing
@testable import Simulation

/// A fixture under `Fixtures/exports/` (see `Fixtures/README.md` for the schema each follows).
func exportFixture(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    try #require(Bundle.module.path(forResource: name, ofType: nil, inDirectory: "Fixtures/exports"),
                 "missing fixture Fixtures/exports/\(name)", sourceLocation: sourceLocation)
}

/// Writes `text` to a new file in a fresh temporary folder; returns its path.
func temporaryExport(_ text: String, name: String = "export.txt") -> String {
    let dir = NSTemporaryDirectory() + "burnrate-export-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let path = dir + "/" + name
    try! text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

@Suite("Usage exports")
struct UsageExportTests {
    static let epoch0900 = Int64(1_772_442_000_000)  // 2026-03-02T09:00:00Z

    @Test func litellmCSVKeepsEachSuccessfulRowItsCacheSplitAndItsTeam() throws {
        let trace = try UsageExport.load(paths: [try exportFixture("litellm_spend_logs.csv")], format: .litellmSpendLogs,
                                         options: ExportOptions(identityField: "team_id"))
        #expect(trace.count == 3)
        #expect(trace.skippedNotSuccess == 1)
        #expect(trace.originMs == Self.epoch0900)
        #expect(trace.timesMs == [0, 30_500, 120_000])
        #expect(trace.inputTokens == [1000, 1200, 250])
        #expect(trace.outputTokens == [46, 99, 50])
        #expect(trace.cachedInputTokens == [600, 0, 0])
        #expect(trace.cacheWriteTokens == [0, 800, 0])
        #expect(trace.identityNames == ["team-search", "team-ads"])
        // The last row has no team: the workload's own identity.
        #expect(trace.identities == [0, 1, -1])
        #expect(trace.modelNames == ["gpt-4o", "claude-sonnet-4-5"])
        #expect(trace.loggedCostsMicrocredits.isEmpty)
    }

    @Test func litellmJSONLinesReadAsTheCSVDoes() throws {
        let csv = try UsageExport.load(paths: [try exportFixture("litellm_spend_logs.csv")], format: .litellmSpendLogs,
                                       options: ExportOptions(identityField: "team_id", loggedCreditsPerUSD: "1"))
        let jsonl = try UsageExport.load(paths: [try exportFixture("litellm_spend_logs.jsonl")], format: .litellmSpendLogs,
                                         options: ExportOptions(identityField: "team_id", loggedCreditsPerUSD: "1"))
        #expect(jsonl.count == 2)
        #expect(jsonl.skippedNotSuccess == 1)
        #expect(Array(csv.timesMs.prefix(2)) == jsonl.timesMs)
        #expect(Array(csv.cachedInputTokens.prefix(2)) == jsonl.cachedInputTokens)
        #expect(Array(csv.cacheWriteTokens.prefix(2)) == jsonl.cacheWriteTokens)
        #expect(Array(csv.loggedCostsMicrocredits.prefix(2)) == jsonl.loggedCostsMicrocredits)
        #expect(jsonl.identityNames == ["team-search", "team-ads"])
    }

    @Test func aLoggedCostIsTheDecimalAsWrittenRoundedToTheNearestMicrocredit() throws {
        let trace = try UsageExport.load(paths: [try exportFixture("litellm_spend_logs.csv")], format: .litellmSpendLogs,
                                         options: ExportOptions(loggedCreditsPerUSD: "1"))
        // 0.0016150000000000001 USD → 1615.0000000000001 µ → 1615; 3.7483499999999997e-03 →
        // 3748.3499999999997 µ → 3748; 0.00125 → 1250.
        #expect(trace.loggedCostsMicrocredits == [1615, 3748, 1250])
        let hundred = try UsageExport.load(paths: [try exportFixture("litellm_spend_logs.csv")], format: .litellmSpendLogs,
                                           options: ExportOptions(loggedCreditsPerUSD: "100"))
        #expect(hundred.loggedCostsMicrocredits == [161_500, 374_835, 125_000])
    }

    @Test(arguments: [
        ("0.0016150000000000001", "1", Int64(1615)),
        ("3.7483499999999997e-03", "1", 3748),
        // A half goes away from zero; through a Double, 0.0000025 × 10⁶ is 2.4999999999999996.
        ("0.0000025", "1", 3),
        ("0.0016155", "1", 1616),
        ("-0.0000005", "1", -1),
        ("0.00000049999999999999999", "1", 0),
        ("1E-6", "1", 1),
        ("2.5e-7", "2", 1),
        ("0.37483499999999997", "0.01", 3748),
        ("0", "100", 0),
        ("12", "1", 12_000_000),
    ])
    func decimalsRoundHalfAwayFromZeroExactly(text: String, rate: String, micro: Int64) throws {
        let d = try #require(DecimalText(text))
        let r = try #require(DecimalText(rate))
        #expect(d.times(r).microUnitsRounded == micro)
    }

    @Test(arguments: ["", "1.", ".5", "1e", "--1", "0x10", "1,5", "NaN", "1e999", " 1"])
    func aDecimalIsJSONNumberTextOrNothing(text: String) {
        #expect(DecimalText(text) == nil)
    }

    @Test func bedrockCountsCacheReadsAndWritesBesideUncachedInput() throws {
        let trace = try UsageExport.load(paths: [try exportFixture("bedrock_invocations.jsonl")], format: .bedrockInvocations,
                                         options: ExportOptions(identityField: "identity.arn"))
        // 09:00:05.250+01:00 is 08:00:05.250Z: it comes first.
        #expect(trace.originMs == Self.epoch0900 - 3_600_000 + 5_250)
        #expect(trace.timesMs == [0, 3_594_750])
        #expect(trace.inputTokens == [50, 1600])
        #expect(trace.cachedInputTokens == [0, 1000])
        #expect(trace.cacheWriteTokens == [0, 200])
        #expect(trace.outputTokens == [10, 120])
        #expect(trace.identityNames == ["arn:aws:sts::123456789012:assumed-role/search-agent/session-1",
                                        "arn:aws:sts::123456789012:assumed-role/ads-agent/session-9"])
        #expect(trace.identities == [1, 0])
    }

    @Test func openAIPagesConcatenateInOrderAndKeepEachResultsTotals() throws {
        let trace = try UsageExport.load(paths: [try exportFixture("openai_usage_page1.json"), try exportFixture("openai_usage_page2.json")],
                                         format: .openaiUsage, options: ExportOptions(identityField: "project_id"))
        let buckets = try #require(trace.buckets)
        #expect(buckets.count == 3)
        #expect(buckets.totalRequests == 12)
        #expect(buckets.requests == [7, 3, 2])
        // input_tokens include the cached ones.
        #expect(buckets.uncachedInputTokens == [602, 10, 50])
        #expect(buckets.cachedInputTokens == [401, 0, 0])
        #expect(trace.spanOverrideMs == Int64(3 * 3_600_000))
        #expect(trace.identityNames == ["proj_search", "proj_ads"])
        #expect(trace.modelNames == ["gpt-4o-2024-08-06", "gpt-4o-mini"])
        #expect(abs(trace.ratePerHour - 4) < 1e-9)
    }

    /// The totals of every class over the requests of each result, from an expansion.
    func totals(_ t: Trace, results: Int, result: (Int) -> Int) -> [[Int64]] {
        var out = Array(repeating: [Int64](repeating: 0, count: 6), count: results)
        for i in 0..<t.count {
            let r = result(i)
            let cached = Int64(t.cachedInputTokens[i]), w = Int64(t.cacheWriteTokens[i]), w1 = Int64(t.cacheWrite1hTokens[i])
            out[r][0] += Int64(t.inputTokens[i]) - cached - w - w1
            out[r][1] += cached; out[r][2] += w; out[r][3] += w1
            out[r][4] += Int64(t.outputTokens[i]); out[r][5] += 1
        }
        return out
    }

    @Test func disaggregatedOpenAIRequestsKeepEveryClassTotalExactlyAndFallInTheirBucket() throws {
        let trace = try UsageExport.load(paths: [try exportFixture("openai_usage_page1.json"), try exportFixture("openai_usage_page2.json")],
                                         format: .openaiUsage, options: ExportOptions(identityField: "project_id"))
        let buckets = try #require(trace.buckets)
        let stream = RandomStream(seed: 7, replication: 3, name: "test/disaggregate")
        let expanded = buckets.expanded(stream: stream, template: trace)
        #expect(expanded.count == 12)
        #expect(expanded.timesMs == expanded.timesMs.sorted())
        // Results are told apart by (identity, model, hour): proj_search/gpt-4o in hours 0 and 1.
        let t = totals(expanded, results: 3) { i in expanded.models[i] == 1 ? 1 : (expanded.timesMs[i] < 3_600_000 ? 0 : 2) }
        #expect(t[0] == [602, 401, 0, 0, 507, 7])
        #expect(t[1] == [10, 0, 0, 0, 3, 3])
        #expect(t[2] == [50, 0, 0, 0, 20, 2])
        #expect(expanded.timesMs.allSatisfy { $0 >= 0 && $0 < 2 * 3_600_000 })
        #expect(expanded.timesMs.filter { $0 >= 3_600_000 }.count == 2)
    }

    @Test func anthropicBucketsSplitRequestsPerBucketAndKeepTheOneHourWrites() throws {
        let path = try exportFixture("anthropic_usage.json")
        #expect(throws: TraceError.self) { try UsageExport.load(paths: [path], format: .anthropicUsage) }
        let trace = try UsageExport.load(paths: [path], format: .anthropicUsage, options: ExportOptions(identityField: "workspace_id"),
                                         requestsPerBucket: 4)
        let buckets = try #require(trace.buckets)
        // The result with no tokens at all is a grouping with no use: no requests.
        #expect(buckets.count == 1)
        #expect(buckets.totalRequests == 4)
        let expanded = buckets.expanded(stream: RandomStream(seed: 1, replication: 0, name: "x"), template: trace)
        #expect(totals(expanded, results: 1) { _ in 0 }[0] == [1001, 5003, 202, 97, 333, 4])
        // 333 output tokens over 4 requests: 84, 83, 83, 83 by draw order.
        #expect(expanded.outputTokens.sorted() == [83, 83, 83, 84])
        #expect(expanded.identities.allSatisfy { $0 == 0 })
    }

    @Test func sharesSumToTheTotalForAnyCountOfRequests() {
        let stream = RandomStream(seed: 11, replication: 0, name: "shares")
        for _ in 0..<2_000 {
            let n = Int64(stream.uniformInt(below: 50) + 1)
            let total = Int64(stream.uniformInt(below: 1_000_000))
            let shares = (0..<n).map { UsageBuckets.share(total, n, $0) }
            #expect(shares.reduce(0, +) == total)
            #expect(shares.max()! - shares.min()! <= 1)
        }
    }

    @Test func aReplicationDrawsTheSameArrivalsAgainAndAnotherDrawsOthers() throws {
        let trace = try UsageExport.load(paths: [try exportFixture("openai_usage_page1.json")], format: .openaiUsage)
        let b = try #require(trace.buckets)
        let a1 = b.expanded(stream: RandomStream(seed: 5, replication: 0, name: "d"), template: trace)
        let a2 = b.expanded(stream: RandomStream(seed: 5, replication: 0, name: "d"), template: trace)
        let other = b.expanded(stream: RandomStream(seed: 5, replication: 1, name: "d"), template: trace)
        #expect(a1.timesMs == a2.timesMs && a1.outputTokens == a2.outputTokens)
        #expect(a1.timesMs != other.timesMs)
    }
}
