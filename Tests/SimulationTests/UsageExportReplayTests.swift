import Foundation
import Ledger
import Stochastic
import Testing
@testable import Simulation

/// Usage exports replayed through the engine: what the ledger is charged.
@Suite("Usage export replay")
struct UsageExportReplayTests {
    // From shared/data/prices/model_prices.csv, USD per Mtok, one credit = $1.
    static let gpt4o = ModelPrice(model: "gpt-4o", tier: 0, inputMicrocreditsPerMillionTokens: 2_500_000, outputMicrocreditsPerMillionTokens: 10_000_000)
    static let sonnet = ModelPrice(model: "claude-sonnet-4-5", tier: 0, inputMicrocreditsPerMillionTokens: 3_000_000,
                                   outputMicrocreditsPerMillionTokens: 15_000_000)

    func run(_ trace: Trace, prices: [ModelPrice], replication: Int = 0) throws -> ReplicationResult {
        let source = ReplaySource(trace: trace, modelMap: trace.modelNames.map { name in prices.firstIndex { $0.model == name } ?? -1 })
        let model = singlePoolModel(horizonHours: 24 * 30, ratePerHour: 0, fundingMicrocredits: credits(1_000_000),
                                    prices: prices, models: [], arrivals: .replay(source))
        return try Engine.run(try CompiledModel(model), replication: replication)
    }

    @Test func aLoggedCostIsChargedAsLoggedWhateverThePrices() throws {
        let trace = try UsageExport.load(paths: [try exportFixture("litellm_spend_logs.csv")], format: .litellmSpendLogs,
                                         options: ExportOptions(loggedCreditsPerUSD: "1"))
        let r = try run(trace, prices: [Self.gpt4o, Self.sonnet])
        #expect(r.totals.requestsTotal == 3)
        #expect(r.totals.spendMicrocredits == 1615 + 3748 + 1250)
    }

    @Test func theRecordedCacheSplitIsPricedByTokenClass() throws {
        let trace = try UsageExport.load(paths: [try exportFixture("litellm_spend_logs.csv")], format: .litellmSpendLogs)
        // Cache reads $1.25 (gpt-4o) and writes $3.75 (Sonnet) per Mtok, from the price CSV.
        var gpt4o = Self.gpt4o, sonnet = Self.sonnet
        gpt4o.cachedInputMicrocreditsPerMillionTokens = 1_250_000
        sonnet.cacheWriteMicrocreditsPerMillionTokens = 3_750_000
        let r = try run(trace, prices: [gpt4o, sonnet])
        // gpt-4o: 400 uncached × 2.5 + 600 cached × 1.25 + 46 × 10 = 2210 µ;
        // Sonnet: 400 × 3 + 800 written × 3.75 + 99 × 15 = 5685 µ; gpt-4o: 250 × 2.5 + 50 × 10 = 1125 µ.
        #expect(r.totals.spendMicrocredits == 2210 + 5685 + 1125)
        // Without class rates every input token is billed at input: 2960 + 5085 + 1125.
        #expect(try run(trace, prices: [Self.gpt4o, Self.sonnet]).totals.spendMicrocredits == 2960 + 5085 + 1125)
    }

    @Test func oneHourCacheWritesPayTheirOwnRate() throws {
        let trace = try UsageExport.load(paths: [try exportFixture("anthropic_usage.json")], format: .anthropicUsage, requestsPerBucket: 1)
        // 1 µ a token of every class but 1-hour writes at 2 µ: 1001 + 5003 + 202 + 2 × 97 + 333.
        let sonnet = ModelPrice(model: "claude-sonnet-4-5-20250929", tier: 0, inputMicrocreditsPerMillionTokens: 1_000_000,
                                outputMicrocreditsPerMillionTokens: 1_000_000, cacheWrite1hMicrocreditsPerMillionTokens: 2_000_000)
        let r = try run(trace, prices: [sonnet, ModelPrice(model: "claude-haiku-4-5-20251001", tier: 1, inputMicrocreditsPerMillionTokens: 0,
                                                           outputMicrocreditsPerMillionTokens: 0)])
        #expect(r.totals.spendMicrocredits == 1001 + 5003 + 202 + 2 * 97 + 333)
    }

    @Test func openAIBatchResultsPayTheBatchMultiplier() throws {
        let page = #"{"object": "page", "data": [{"start_time": 0, "end_time": 60, "results": [{"input_tokens": 1000, "output_tokens": 0, "num_model_requests": 1, "model": "m", "batch": true}, {"input_tokens": 1000, "output_tokens": 0, "num_model_requests": 1, "model": "m", "batch": false}]}]}"#
        let trace = try UsageExport.load(paths: [temporaryExport(page)], format: .openaiUsage)
        let m = ModelPrice(model: "m", tier: 0, inputMicrocreditsPerMillionTokens: 2_000_000, outputMicrocreditsPerMillionTokens: 0,
                           batchMultiplierPartsPerMillion: 500_000)
        // 1000 × 2 µ = 2000 µ at list price, 1000 µ batched.
        #expect(try run(trace, prices: [m]).totals.spendMicrocredits == 3000)
    }

    @Test func aDisaggregatedExportChargesItsTotalsInEveryReplication() throws {
        let trace = try UsageExport.load(paths: [try exportFixture("anthropic_usage.json")], format: .anthropicUsage, requestsPerBucket: 5)
        let sonnet = ModelPrice(model: "claude-sonnet-4-5-20250929", tier: 0, inputMicrocreditsPerMillionTokens: 1_000_000,
                                outputMicrocreditsPerMillionTokens: 1_000_000)
        for replication in 0..<3 {
            let r = try run(trace, prices: [sonnet, ModelPrice(model: "claude-haiku-4-5-20251001", tier: 1, inputMicrocreditsPerMillionTokens: 0,
                                                               outputMicrocreditsPerMillionTokens: 0)], replication: replication)
            #expect(r.totals.requestsTotal == 5)
            // At 1 µ a token, each request pays its tokens exactly: the total is every token.
            #expect(r.totals.spendMicrocredits == 1001 + 5003 + 202 + 97 + 333)
        }
    }
}
