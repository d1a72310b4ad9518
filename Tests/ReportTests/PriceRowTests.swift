import Foundation
import Ledger
import Testing
@testable import Scenario

/// `prices:` rows with token classes, a long-context tier and a batch multiplier; the price CSV's
/// cache columns (DESIGN.md, "Prices and token classes").
@Suite("Price rows")
struct PriceRowTests {
    static func scenario(prices: String) -> String {
        """
        name: prices
        horizon: 1d
        prices:
        \(prices)
        pools:
          - id: eng
            grants: [ { amount: 100 } ]
        identities:
          - id: bot
            pool: eng
            workload:
              arrivals: { poisson: { rate: 1/h } }
              model: gpt-4o
        """
    }

    @Test func aRowTakesARatePerClassALongContextTierAndABatchMultiplier() throws {
        let s = try Scenario.parse(yaml: Self.scenario(prices: """
              gpt-4o: { input: 2.50, cached_input: 1.25, output: 10.00, batch: 0.5 }
              claude: { input: 3.00, cached_input: 0.30, cache_write: 3.75, cache_write_1h: 6.00, output: 15.00,
                        long_context: { above_input_tokens: 200000, input: 6.00, output: 22.50 } }
            """), file: "p.yaml")
        let gpt = try #require(s.base.prices["gpt-4o"])
        #expect(gpt.cachedInputMicrocreditsPerMillionTokens == 1_250_000 && gpt.cacheWriteMicrocreditsPerMillionTokens == nil)
        #expect(gpt.batchMultiplierPartsPerMillion == 500_000 && gpt.longContext == nil)
        let claude = try #require(s.base.prices["claude"])
        #expect(claude.rate(.cacheWrite) == 3_750_000 && claude.rate(.cacheWrite1h) == 6_000_000 && claude.rate(.cachedInput) == 300_000)
        #expect(claude.longContext == LongContextPrice(aboveInputTokens: 200_000, inputMicrocreditsPerMillionTokens: 6_000_000,
                                                       outputMicrocreditsPerMillionTokens: 22_500_000))
        #expect(claude.batchMultiplierPartsPerMillion == nil)
    }

    @Test func aRowWithOnlyInputAndOutputIsTheRowItAlwaysWas() throws {
        let s = try Scenario.parse(yaml: Self.scenario(prices: "  gpt-4o: { input: 2.50, output: 10.00 }"), file: "p.yaml")
        #expect(s.base.prices["gpt-4o"] == ModelPrice(model: "gpt-4o", tier: 0, inputMicrocreditsPerMillionTokens: 2_500_000,
                                                       outputMicrocreditsPerMillionTokens: 10_000_000))
    }

    @Test func badRowsAreReportedAtTheirLineAndColumn() {
        let e = errors(Self.scenario(prices: """
              gpt-4o: { input: 2.50, cache_read: 1.25, output: -10, cached_input: .inf, batch: 50 }
              claude: { input: 3, long_context: { input: 6, outptu: 9 } }
              mini: { input: 0.15, batch: half }
            """))
        #expect(e.contains { $0.hasPrefix("bad.yaml:4:26: price of gpt-4o: unknown key 'cache_read'") }, "\(e)")
        #expect(e.contains("bad.yaml:4:52: gpt-4o.output must not be negative, got -10"), "\(e)")
        #expect(e.contains("bad.yaml:4:71: gpt-4o.cached_input must be an amount of credits (a decimal number), got '.inf'"), "\(e)")
        #expect(e.contains("bad.yaml:4:84: gpt-4o.batch must be between 0 and 1 (a multiplier on every rate), got 50"), "\(e)")
        #expect(e.contains { $0.hasPrefix("bad.yaml:5:49: claude.long_context: unknown key 'outptu' (did you mean 'output'?)") }, "\(e)")
        #expect(e.contains { $0.hasPrefix("bad.yaml:5:37: claude.long_context needs above_input_tokens") }, "\(e)")
        #expect(e.contains { $0.hasPrefix("bad.yaml:6:31: mini.batch must be a multiplier such as 0.5") }, "\(e)")
    }

    @Test func thePriceCSVReadsTheCacheColumnsAndAnEmptyCellIsBilledAsInput() throws {
        let dir = temporaryDirectory()
        try FileManager.default.copyItem(atPath: fixturePath("model_prices.csv"), toPath: dir + "/model_prices.csv")
        let s = try Scenario.parse(yaml: Self.scenario(prices: "  file: model_prices.csv"), file: "p.yaml", directory: dir)
        // claude-sonnet-4.6,3.00,0.30,3.75,6.00,15.00 (USD per Mtok; one credit = one dollar).
        let sonnet = try #require(s.base.prices["claude-sonnet-4.6"])
        #expect([sonnet.rate(.input), sonnet.rate(.cachedInput), sonnet.rate(.cacheWrite), sonnet.rate(.cacheWrite1h), sonnet.rate(.output)]
                == [3_000_000, 300_000, 3_750_000, 6_000_000, 15_000_000])
        // gpt-4o,2.50,1.25,,,10.00: no cache-write columns filled, so writes are billed at input.
        let gpt = try #require(s.base.prices["gpt-4o"])
        #expect(gpt.cachedInputMicrocreditsPerMillionTokens == 1_250_000 && gpt.cacheWriteMicrocreditsPerMillionTokens == nil)
        #expect(gpt.rate(.cacheWrite) == 2_500_000)
        // together's Llama row has no cached_input either.
        #expect(s.base.prices["meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo"]?.rate(.cachedInput) == 880_000)
        #expect(s.base.prices.models.count == 14)
    }

    /// The shared table has CRLF line ends; read by "\n" it was one header line and no rows,
    /// without an error.
    @Test func aPriceCSVWithCRLFLineEndsIsReadAndOneWithoutRowsIsAnError() throws {
        let dir = temporaryDirectory()
        try "model,input_usd_per_mtok,output_usd_per_mtok\r\ngpt-4o,2.50,10.00\r\n".write(toFile: dir + "/crlf.csv", atomically: true, encoding: .utf8)
        try "model,input_usd_per_mtok,output_usd_per_mtok\r\n".write(toFile: dir + "/empty.csv", atomically: true, encoding: .utf8)
        let s = try Scenario.parse(yaml: Self.scenario(prices: "  file: crlf.csv"), file: "p.yaml", directory: dir)
        #expect(s.base.prices["gpt-4o"]?.rate(.output) == 10_000_000)
        let e = errors(Self.scenario(prices: "  file: empty.csv"), directory: dir)
        #expect(e.contains("bad.yaml:4:9: the price table 'empty.csv' has a header but no rows"), "\(e)")
    }

    @Test func aPriceCSVWithABadCacheCellNamesTheLineAndColumn() throws {
        let dir = temporaryDirectory()
        try """
            model,input_usd_per_mtok,cached_input_usd_per_mtok,output_usd_per_mtok
            gpt-4o,2.50,1.25,10.00
            m,1,-0.5,2
            n,1,,inf
            """.write(toFile: dir + "/p.csv", atomically: true, encoding: .utf8)
        let e = errors(Self.scenario(prices: "  file: p.csv"), directory: dir)
        #expect(e.contains { $0.hasSuffix("'p.csv' line 3, column cached_input_usd_per_mtok: a rate must be a non-negative number of US dollars per million tokens, got '-0.5'") }, "\(e)")
        #expect(e.contains { $0.hasSuffix("'p.csv' line 4, column output_usd_per_mtok: a rate must be a non-negative number of US dollars per million tokens, got 'inf'") }, "\(e)")
        #expect(e.count == 2)
    }
}
