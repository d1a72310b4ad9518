import Ledger

/// How a replayed usage export's request is charged.
extension ReplicationRun {
    /// The cost of row `row` of a replayed export at `price` with `outputTokens` output tokens:
    /// its logged cost when the export logged one and `logged` allows it (a hold for
    /// `max_output_tokens` prices tokens), else its tokens priced by class
    /// (``ExportPricing/cost(_:inputTokens:cachedInputTokens:cacheWriteTokens:cacheWrite1hTokens:outputTokens:)``).
    func replayCost(_ source: borrowing ReplaySource, row: Int, price: ModelPrice, outputTokens: Int64, logged: Bool) -> Int64? {
        let trace = source.trace
        if logged, !trace.loggedCostsMicrocredits.isEmpty { return trace.loggedCostsMicrocredits[row] }
        let batch = !trace.batched.isEmpty && trace.batched[row]
        guard trace.hasCacheSplit else {
            return PriceTable.cost(price, tokens: TokenCounts(input: Int64(trace.inputTokens[row]), output: outputTokens), batch: batch)
        }
        return ExportPricing.cost(price, inputTokens: Int64(trace.inputTokens[row]), cachedInputTokens: Int64(trace.cachedInputTokens[row]),
                                  cacheWriteTokens: Int64(trace.cacheWriteTokens[row]), cacheWrite1hTokens: Int64(trace.cacheWrite1hTokens[row]),
                                  outputTokens: outputTokens, batch: batch)
    }
}

/// Prices a request whose tokens an export recorded by class.
public enum ExportPricing {
    /// The cost at `price` of `inputTokens` input tokens of all classes, of which
    /// `cachedInputTokens` cache reads, `cacheWriteTokens` 5-minute and `cacheWrite1hTokens`
    /// 1-hour cache writes, and `outputTokens` output tokens, each class at its rate
    /// (``PriceTable/cost(_:tokens:batch:)``: one rounding up per request); `batch` for the
    /// requests an export marks as batched (OpenAI's `batch: true`). nil on overflow.
    public static func cost(_ price: ModelPrice, inputTokens: Int64, cachedInputTokens: Int64, cacheWriteTokens: Int64,
                            cacheWrite1hTokens: Int64, outputTokens: Int64, batch: Bool = false) -> Int64? {
        let uncached = inputTokens - cachedInputTokens - cacheWriteTokens - cacheWrite1hTokens
        return PriceTable.cost(price, tokens: TokenCounts(input: uncached, cachedInput: cachedInputTokens, cacheWrite: cacheWriteTokens,
                                                          cacheWrite1h: cacheWrite1hTokens, output: outputTokens), batch: batch)
    }
}
