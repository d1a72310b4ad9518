import Ledger

/// How a replayed usage export's request is charged: its recorded token split priced by class,
/// or the cost the export logged.
extension ReplicationRun {
    /// Row `row`'s tokens by class as the export recorded them, with `output` output tokens
    /// (uncached input = input − cache reads − writes); all input uncached when it recorded none.
    func recordedSplit(_ source: borrowing ReplaySource, row: Int, output: Int64) -> TokenCounts {
        let t = source.trace
        let input = Int64(t.inputTokens[row])
        guard t.hasCacheSplit else { return TokenCounts(input: input, output: output) }
        let read = Int64(t.cachedInputTokens[row]), write = Int64(t.cacheWriteTokens[row]), write1h = Int64(t.cacheWrite1hTokens[row])
        return TokenCounts(input: input - read - write - write1h, cachedInput: read, cacheWrite: write, cacheWrite1h: write1h, output: output)
    }

    /// The cost of row `row` of workload `w`'s replayed export at `price` with `tokens`: its
    /// logged cost when the export logged one and `logged` allows it (a hold for
    /// `max_output_tokens` prices tokens), else the tokens priced by class
    /// (``PriceTable/cost(_:tokens:batch:)``: one rounding up per request), batched when the
    /// workload is or the export marks the row so (OpenAI's `batch: true`). nil on overflow.
    func replayCost(_ w: Int, row: Int, price: ModelPrice, _ tokens: TokenCounts, logged: Bool) -> Int64? {
        let trace = replays[w]!.trace
        if logged, !trace.loggedCostsMicrocredits.isEmpty { return trace.loggedCostsMicrocredits[row] }
        let batch = model.workloads[w].batch || (!trace.batched.isEmpty && trace.batched[row])
        return PriceTable.cost(price, tokens: tokens, batch: batch)
    }
}
