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

    @Test func pricedRowsPayTheirTokensEveryRowAtItsOwnModel() throws {
        let trace = try UsageExport.load(paths: [try exportFixture("litellm_spend_logs.csv")], format: .litellmSpendLogs)
        let r = try run(trace, prices: [Self.gpt4o, Self.sonnet])
        // Every input class at its model's rate (the split is priced by class once the price
        // table has class rates): gpt-4o ⌈(1000 × 2.5 + 46 × 10) 10⁶ / 10⁶⌉ µ, and so on.
        let expected = PriceTable.cost(Self.gpt4o, inputTokens: 1000, outputTokens: 46)!
            + PriceTable.cost(Self.sonnet, inputTokens: 1200, outputTokens: 99)!
            + PriceTable.cost(Self.gpt4o, inputTokens: 250, outputTokens: 50)!
        #expect(r.totals.spendMicrocredits == expected)
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
