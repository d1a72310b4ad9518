import Ledger
import Stochastic

/// How a workload's input tokens split over the cache classes (DESIGN.md, "Prices and token
/// classes").
public enum CacheModel: Sendable {
    /// A synthetic workload: of a request's input tokens I, `floor(I × R)` are cache reads and
    /// `floor(I × W)` cache writes (5-minute), the rest uncached; R and W are drawn per request
    /// and clipped to [0, 1], and W to 1 − R, so that the classes never exceed I.
    case shares(read: Sampler, write: Sampler)
    /// A prefix cache over a replayed trace's block hashes (Mooncake `hash_ids`, 512 tokens a
    /// block): see ``PrefixCache``.
    case prefix(ttlMs: Int64, writeNewBlocks: Bool)
}

/// A prefix cache over block hashes. A block is warm at time t when an earlier request (earlier
/// in time, or earlier in the file at the same time) contained it at a time ≥ t − ttl; a
/// request's cached tokens are `min(input, 512 × k)`, k its number of leading warm blocks; then
/// every block of the request is refreshed to the request's time.
public struct PrefixCache: Sendable {
    /// Tokens per block of Mooncake's `hash_ids`.
    public static let blockTokens: Int64 = 512
    public let ttlMs: Int64
    /// When each block was last seen.
    private var lastSeenMs: [Int64: Int64] = [:]

    public init(ttlMs: Int64) { self.ttlMs = ttlMs }

    /// The cached input tokens of a request at `timeMs` with `inputTokens` and these blocks, and
    /// the blocks refreshed. Requests must come in time order, ties in file order.
    /// - Complexity: O(blocks) expected (hashing).
    public mutating func admit<Blocks: Collection<Int64>>(timeMs: Int64, inputTokens: Int64, blocks: Blocks) -> Int64 {
        // Two passes: a block that repeats within the request is not warmed by itself.
        var warm: Int64 = 0
        for b in blocks {
            guard let t = lastSeenMs[b], t >= timeMs - ttlMs else { break }
            warm += 1
        }
        for b in blocks { lastSeenMs[b] = timeMs }
        return min(inputTokens, Self.blockTokens * warm)
    }
}

/// Input and output tokens of served requests by token class, bucketed by (model, long-context
/// tier, batch), so that their exact list cost by class is computed once at the horizon.
public struct TokenClassBooks: Sendable, Hashable, Codable {
    /// Five counts (``TokenClass/allCases`` order) per bucket `((model × 2 + long) × 2 + batch)`.
    public var tokens: [Int64]

    public init(models: Int) { tokens = Array(repeating: 0, count: models * 4 * 5) }

    /// Where a bucket's five counts start.
    @inline(__always)
    static func base(model: Int, long: Bool, batch: Bool) -> Int { ((model * 2 + (long ? 1 : 0)) * 2 + (batch ? 1 : 0)) * 5 }

    /// What the books come to, at `prices` (the same price table, in order).
    public func summary(_ prices: [ModelPrice]) -> TokenClassSummary {
        var s = TokenClassSummary()
        for m in prices.indices {
            for long in [false, true] {
                for batch in [false, true] {
                    let base = Self.base(model: m, long: long, batch: batch)
                    // Credits per token: the rate per million tokens in micro-credits is, divided by
                    // 10^12, credits per token (the batch multiplier is in parts per million too).
                    let scale = batch ? Double(prices[m].batchMultiplierPartsPerMillion ?? 1_000_000) / 1e6 : 1
                    let inputRate = Double(prices[m].rate(.input, longContext: long))
                    for (k, c) in TokenClass.allCases.enumerated() {
                        let n = Double(tokens[base + k])
                        s.tokens[k] += n
                        s.spendCredits[k] += n * Double(prices[m].rate(c, longContext: long)) * scale / 1e12
                        if c.isInput && c != .input {
                            s.savedCredits += n * (inputRate - Double(prices[m].rate(c, longContext: long))) * scale / 1e12
                        }
                    }
                }
            }
        }
        return s
    }
}

/// Served requests' tokens and list cost by token class (before the per-request rounding up,
/// which adds less than a micro-credit per request), and what caching saved against the same
/// tokens all billed as uncached input.
public struct TokenClassSummary: Sendable, Hashable, Codable {
    /// In ``TokenClass/allCases`` order.
    public var tokens: [Double] = Array(repeating: 0, count: 5)
    public var spendCredits: [Double] = Array(repeating: 0, count: 5)
    /// Negative when cache writes (dearer than input) outweigh the reads' discount.
    public var savedCredits: Double = 0

    public init() {}

    /// Cache reads over all input tokens; 0 when there were none.
    public var cachedInputShare: Double {
        let input = tokens[0] + tokens[1] + tokens[2] + tokens[3]
        return input > 0 ? tokens[1] / input : 0
    }
}

/// A replication's token-class state, present only when some workload of the model has a cache
/// or batch pricing: a run without them never enters this code (one branch per request).
final class TokenClassRun {
    /// Per workload: its cache model, batch flag, and the stream its cache shares are drawn from
    /// (nil when they are constants, so no draw is made).
    let cache: [CacheModel?]
    let batch: [Bool]
    let streams: [RandomStream?]
    var prefixes: [PrefixCache?]
    /// The replayed traces of workloads with a prefix cache (their block hashes), held here so
    /// that a request reads its blocks without copying the workload's replay source.
    let traces: [Trace?]
    /// The books' counts (``TokenClassBooks/tokens``) in a buffer the run owns, as `CountTable`
    /// does: a request's update then skips the exclusivity and uniqueness checks of an array
    /// held in a class.
    let books: UnsafeMutableBufferPointer<Int64>

    init(_ model: SimulationModel, replication: Int) {
        cache = model.workloads.map(\.cache)
        batch = model.workloads.map(\.batch)
        streams = model.workloads.map { w in
            guard case .shares(let r, let wr) = w.cache, !(r.isConstant && wr.isConstant) else { return nil }
            // Its own stream, so that adding a cache to a workload leaves its arrivals and token
            // draws (common random numbers) as they were.
            return RandomStream(seed: model.seed, replication: replication, name: "workload/\(w.name)/cache", generator: model.generator)
        }
        prefixes = model.workloads.map { if case .prefix(let ttl, _) = $0.cache { PrefixCache(ttlMs: ttl) } else { nil } }
        traces = model.workloads.map { w in
            guard case .prefix? = w.cache, case .replay(let source) = w.arrivals else { return nil }
            return source.trace
        }
        books = .allocate(capacity: model.prices.models.count * 4 * 5)
        books.initialize(repeating: 0)
    }

    deinit { books.deallocate() }

    /// Adds a served request's tokens to its bucket.
    @inline(__always)
    func add(_ t: TokenCounts, model: Int, long: Bool, batch: Bool) {
        let base = TokenClassBooks.base(model: model, long: long, batch: batch)
        precondition(base >= 0 && base + 5 <= books.count, "no books for model \(model)")
        books[base] &+= t.input
        books[base + 1] &+= t.cachedInput
        books[base + 2] &+= t.cacheWrite
        books[base + 3] &+= t.cacheWrite1h
        books[base + 4] &+= t.output
    }

    /// The books as a value, at the horizon.
    var value: TokenClassBooks {
        var b = TokenClassBooks(models: books.count / 20)
        b.tokens = Array(books)
        return b
    }

    /// Whether any workload of `model` needs token classes.
    static func needed(_ model: SimulationModel) -> Bool {
        model.workloads.contains { $0.fixedCostMicrocredits == nil && ($0.cache != nil || $0.batch || $0.replaysRecordedClasses) }
    }

    /// Splits a request's `input` tokens of workload `w` (trace row `row`, −1 for a synthetic
    /// arrival) at `timeMs` into classes.
    func split(_ w: Int, input: Int64, output: Int64, row: Int, timeMs: Int64) -> TokenCounts {
        switch cache[w] {
        case nil:
            return TokenCounts(input: input, output: output)
        case .shares(let r, let wr)?:
            let read = Self.clip(Self.draw(r, streams[w]))
            let write = min(1 - read, Self.clip(Self.draw(wr, streams[w])))
            let cached = Int64((Double(input) * read).rounded(.down))
            let written = min(input - cached, Int64((Double(input) * write).rounded(.down)))
            return TokenCounts(input: input - cached - written, cachedInput: cached, cacheWrite: written, output: output)
        case .prefix(_, let writeNew)?:
            guard row >= 0, let trace = traces[w], trace.hasBlocks else { return TokenCounts(input: input, output: output) }
            let cached = prefixes[w]!.admit(timeMs: timeMs, inputTokens: input, blocks: trace.blocks(ofRow: row))
            return writeNew ? TokenCounts(cachedInput: cached, cacheWrite: input - cached, output: output)
                            : TokenCounts(input: input - cached, cachedInput: cached, output: output)
        }
    }

    /// A constant reads no stream (the workload then has none).
    static func draw(_ s: Sampler, _ stream: RandomStream?) -> Double {
        if case .constant(let v) = s { return v }
        return s.sample(stream!)
    }

    static func clip(_ x: Double) -> Double { x.isNaN ? 0 : min(1, max(0, x)) }
}

extension Workload {
    /// A replay of a usage export that records a cache split or batched requests: its tokens
    /// are booked by class.
    var replaysRecordedClasses: Bool {
        guard case .replay(let s) = arrivals else { return false }
        return s.trace.hasCacheSplit || s.trace.buckets != nil || !s.trace.batched.isEmpty
    }
}

extension Sampler {
    var isConstant: Bool { if case .constant = self { true } else { false } }
}

extension ReplicationRun {
    /// The cost of a request of workload `w` with these tokens at model `m`, batched as its
    /// workload says; `.max` (refused) on overflow, as every cost.
    func classCost(_ w: Int, model m: Int, _ t: TokenCounts) -> Int64 {
        PriceTable.cost(prices[m], tokens: t, batch: tokenClasses!.batch[w]) ?? .max
    }

    /// Books a served request's tokens by class.
    func bookClasses(_ w: Int, model m: Int, _ t: TokenCounts) {
        // A fixed-cost request has no tokens priced.
        guard m >= 0, hot[w].fixedCost == nil else { return }
        tokenClasses!.add(t, model: m, long: prices[m].isLongContext(t), batch: tokenClasses!.batch[w])
    }
}
