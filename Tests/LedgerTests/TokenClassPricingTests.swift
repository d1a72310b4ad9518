import PropertyBased
import Testing
@testable import Ledger

/// Prices by token class: cache reads and writes, the long-context tier, the batch multiplier, and
/// the one rounding rule (the exact sum over classes, rounded up once per call).
@Suite("Token-class pricing")
struct TokenClassPricingTests {
    /// Sonnet-like row, in micro-credits per million tokens: input 3, cache read 0.30, 5-minute
    /// write 3.75, 1-hour write 6, output 15; above 200k input tokens: input 6, output 22.5.
    static let sonnet = ModelPrice(
        model: "sonnet", tier: 0, inputMicrocreditsPerMillionTokens: 3_000_000,
        outputMicrocreditsPerMillionTokens: 15_000_000,
        cachedInputMicrocreditsPerMillionTokens: 300_000,
        cacheWriteMicrocreditsPerMillionTokens: 3_750_000,
        cacheWrite1hMicrocreditsPerMillionTokens: 6_000_000,
        longContext: LongContextPrice(aboveInputTokens: 200_000, inputMicrocreditsPerMillionTokens: 6_000_000,
                                      outputMicrocreditsPerMillionTokens: 22_500_000))
    /// gpt-4o-like row: cached input at half, no cache-write rates, batch × 0.5.
    static let gpt4o = ModelPrice(
        model: "gpt-4o", tier: 1, inputMicrocreditsPerMillionTokens: 2_500_000,
        outputMicrocreditsPerMillionTokens: 10_000_000,
        cachedInputMicrocreditsPerMillionTokens: 1_250_000, batchMultiplierPartsPerMillion: 500_000)

    @Test func eachClassIsBilledAtItsOwnRate() {
        // 1,000 × 3 + 10,000 × 0.30 + 2,000 × 3.75 + 500 × 6 + 400 × 15 (micro-credits per token
        // ÷ 1,000,000 per Mtok) = 3,000 + 3,000 + 7,500 + 3,000 + 6,000 = 22,500 µcr.
        let t = TokenCounts(input: 1_000, cachedInput: 10_000, cacheWrite: 2_000, cacheWrite1h: 500, output: 400)
        #expect(PriceTable.cost(Self.sonnet, tokens: t) == 22_500)
    }

    @Test func aCacheClassWithoutARateIsBilledAtInput() {
        // gpt-4o has no cache-write rates: 100 writes of each retention pay input (2.5 µcr/token).
        let t = TokenCounts(cacheWrite: 100, cacheWrite1h: 100)
        #expect(PriceTable.cost(Self.gpt4o, tokens: t) == 500)
        let bare = ModelPrice(model: "m", tier: 0, inputMicrocreditsPerMillionTokens: 2_000_000, outputMicrocreditsPerMillionTokens: 0)
        #expect(bare.rate(.cachedInput) == 2_000_000)
        #expect(PriceTable.cost(bare, tokens: TokenCounts(cachedInput: 10)) == 20)
    }

    @Test func theSumOverClassesIsRoundedUpOnceNotPerClass() {
        // gpt-4o-mini-like: input 0.15, cached 0.075 µcr/token. 1 input + 1 cached = 0.225 → 1 µcr;
        // rounding each class up first would give 2.
        let mini = ModelPrice(model: "mini", tier: 0, inputMicrocreditsPerMillionTokens: 150_000,
                              outputMicrocreditsPerMillionTokens: 600_000, cachedInputMicrocreditsPerMillionTokens: 75_000)
        #expect(PriceTable.cost(mini, tokens: TokenCounts(input: 1, cachedInput: 1)) == 1)
        // 5 input + 6 cached + 1 output = 0.75 + 0.45 + 0.6 = 1.8 → 2.
        #expect(PriceTable.cost(mini, tokens: TokenCounts(input: 5, cachedInput: 6, output: 1)) == 2)
        #expect(PriceTable.cost(mini, tokens: TokenCounts()) == 0)
    }

    @Test func theLongContextTierAppliesToAllTokensOnceTotalInputExceedsItsThreshold() {
        // 150k uncached + 50k cached = 200k: not above the threshold, base rates:
        // 150,000 × 3 + 50,000 × 0.3 + 1,000 × 15 = 450,000 + 15,000 + 15,000.
        let at = TokenCounts(input: 150_000, cachedInput: 50_000, output: 1_000)
        #expect(PriceTable.cost(Self.sonnet, tokens: at) == 480_000)
        // One more cached token: the tier's input 6 and output 22.5 on all tokens; the tier omits
        // cached_input, so the base row's 0.30 applies.
        let above = TokenCounts(input: 150_000, cachedInput: 50_001, output: 1_000)
        // 150,000 × 6 + 50,001 × 0.3 + 1,000 × 22.5 = 900,000 + 15,000.3 + 22,500 → 937,501.
        #expect(PriceTable.cost(Self.sonnet, tokens: above) == 937_501)
        #expect(Self.sonnet.rate(.cacheWrite, longContext: true) == 3_750_000)
    }

    @Test func aTierCacheClassWithARateNowhereIsBilledAtTheTiersInput() {
        let row = ModelPrice(model: "m", tier: 0, inputMicrocreditsPerMillionTokens: 1_000_000, outputMicrocreditsPerMillionTokens: 0,
                             longContext: LongContextPrice(aboveInputTokens: 10, inputMicrocreditsPerMillionTokens: 2_000_000))
        #expect(row.rate(.cachedInput, longContext: true) == 2_000_000)
        #expect(row.rate(.output, longContext: true) == 0)
        #expect(PriceTable.cost(row, tokens: TokenCounts(cachedInput: 11)) == 22)
        // The input/output entry point honours the tier too.
        #expect(PriceTable.cost(row, inputTokens: 11, outputTokens: 0) == 22)
        #expect(PriceTable.cost(row, inputTokens: 10, outputTokens: 0) == 10)
    }

    @Test func batchScalesEveryClassBeforeTheOneRoundingUp() {
        #expect(PriceTable.cost(Self.gpt4o, tokens: TokenCounts(input: 1_000_000, output: 1_000_000), batch: true) == 6_250_000)
        #expect(PriceTable.cost(Self.gpt4o, tokens: TokenCounts(input: 1_000_000, output: 1_000_000), batch: false) == 12_500_000)
        // 2 tokens at 3.1 µcr = 6.2 µcr, × 0.3 = 1.86 → 2; rounding before the multiplier would
        // give ⌈7 × 0.3⌉ = 3.
        let row = ModelPrice(model: "m", tier: 0, inputMicrocreditsPerMillionTokens: 3_100_000, outputMicrocreditsPerMillionTokens: 0,
                             batchMultiplierPartsPerMillion: 300_000)
        #expect(PriceTable.cost(row, tokens: TokenCounts(input: 2), batch: true) == 2)
        // A row without a multiplier pays list price for batched work.
        #expect(PriceTable.cost(Self.sonnet, tokens: TokenCounts(input: 1_000), batch: true) == 3_000)
    }

    @Test func theFixedCostIsAddedAfterRoundingAndIsNotBatched() {
        var row = Self.gpt4o
        row.fixedMicrocredits = 5_000
        #expect(PriceTable.cost(row, tokens: TokenCounts(input: 1), batch: true) == 5_002)
    }

    @Test func overflowAndNegativeCountsAreNil() {
        #expect(PriceTable.cost(Self.sonnet, tokens: TokenCounts(cachedInput: .max)) == nil)
        #expect(PriceTable.cost(Self.sonnet, tokens: TokenCounts(input: .max / 2, cachedInput: .max / 2 + 2)) == nil)  // total input overflows
        #expect(PriceTable.cost(Self.sonnet, tokens: TokenCounts(cacheWrite: -1)) == nil)
        // Each class's product fits, their sum does not.
        let big = Int64.max / 15_000_000
        #expect(PriceTable.cost(Self.sonnet, tokens: TokenCounts(output: big)) != nil)
        #expect(PriceTable.cost(Self.gpt4o, tokens: TokenCounts(input: Int64.max / 2_500_000, output: Int64.max / 10_000_000)) == nil)
        // The batch product is computed in 128 bits: a sum near Int64.max still prices.
        #expect(PriceTable.cost(Self.gpt4o, tokens: TokenCounts(output: Int64.max / 10_000_000), batch: true) != nil)
    }

    @Test func theTableLooksUpTheModel() {
        let table = PriceTable([Self.sonnet, Self.gpt4o])
        #expect(table.cost(model: "gpt-4o", tokens: TokenCounts(cachedInput: 1_000_000)) == 1_250_000)
        #expect(table.cost(model: "unknown", tokens: TokenCounts(input: 1)) == nil)
    }

    @Test func tokenCountsNameTheirClasses() {
        var t = TokenCounts(input: 1, cachedInput: 2, cacheWrite: 3, cacheWrite1h: 4, output: 5)
        #expect(TokenClass.allCases.map { t[$0] } == [1, 2, 3, 4, 5])
        #expect(t.totalInput == 10)
        t[.output] = 9
        #expect(t.output == 9)
        #expect(TokenClass.allCases.map(\.rawValue) == ["input", "cached_input", "cache_write", "cache_write_1h", "output"])
        #expect(!t.isUncachedOnly && TokenCounts(input: 7, output: 3).isUncachedOnly)
    }

    /// The compatibility promise: a request with only input and output is priced exactly as the
    /// two-rate rule always priced it, whatever the row's cache rates and batch multiplier.
    @Test func aRequestWithOnlyInputAndOutputPricesAsBefore() async {
        let rates = Gen.int64(in: 0...50_000_000)
        await propertyCheck(count: 500, input: rates, rates, Gen.int64(in: 0...10_000_000), Gen.int64(in: 0...10_000_000)) { inRate, outRate, i, o in
            let old = ModelPrice(model: "m", tier: 0, inputMicrocreditsPerMillionTokens: inRate, outputMicrocreditsPerMillionTokens: outRate)
            var new = old
            new.cachedInputMicrocreditsPerMillionTokens = inRate / 10
            new.cacheWriteMicrocreditsPerMillionTokens = inRate + 1
            new.batchMultiplierPartsPerMillion = 500_000
            let twoRate = PriceTable.cost(old, inputTokens: i, outputTokens: o)
            #expect(PriceTable.cost(new, tokens: TokenCounts(input: i, output: o)) == twoRate)
            #expect(PriceTable.cost(new, inputTokens: i, outputTokens: o) == twoRate)
        }
    }
}
