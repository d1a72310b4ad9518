import Stochastic

/// A trace held in compact columns (about 24 bytes per request), sorted by time, with times
/// relative to its first request. Built from a streaming ``TraceReader``.
public struct Trace: Sendable {
    public var timesMs: [Int64] = []
    public var inputTokens: [Int32] = []
    public var outputTokens: [Int32] = []
    /// Index into ``identityNames`` (−1: none given in the trace).
    public var identities: [Int32] = []
    /// Index into ``modelNames`` (−1: none given).
    public var models: [Int32] = []
    public var identityNames: [String] = []
    public var modelNames: [String] = []
    /// The first timestamp of the trace, in its own epoch ms (for reports).
    public var originMs: Int64 = 0
    /// The file line where each of ``modelNames`` first appears (for error messages).
    public var modelFirstLines: [Int] = []
    /// The first file line of a request that names no model, nil when every one names one.
    public var firstLineWithoutModel: Int? = nil
    /// Block hashes (Mooncake `hash_ids`) of every request, concatenated in request order, and
    /// where each request's start (`count + 1` offsets); both empty when not read.
    public var blockHashes: [Int64] = []
    public var blockOffsets: [Int] = []

    // Usage exports (``UsageExport``) fill these; a research trace leaves them empty.

    /// Of each request's ``inputTokens``, the cache reads, cache writes (5-minute or default
    /// retention) and 1-hour cache writes the export recorded; all three empty when it recorded
    /// none (every input token is then uncached).
    public var cachedInputTokens: [Int32] = []
    public var cacheWriteTokens: [Int32] = []
    public var cacheWrite1hTokens: [Int32] = []
    /// Each request's cost as the export logged it, in micro-credits (`cost: logged`); empty
    /// when tokens are priced.
    public var loggedCostsMicrocredits: [Int64] = []
    /// Whether each request was batched (OpenAI's `batch: true`: the price row's `batch`
    /// multiplier applies); empty when none was.
    public var batched: [Bool] = []
    /// The files read, in order; ``modelFirstFiles`` indexes them.
    public var files: [String] = []
    /// The file (index into ``files``) where each of ``modelNames`` first appears.
    public var modelFirstFiles: [Int] = []
    /// Rows skipped because the export marks them as not successful (LiteLLM `status`).
    public var skippedNotSuccess = 0
    /// An aggregated export's buckets, disaggregated into requests per replication
    /// (``UsageBuckets/expanded(stream:)``); the columns above then hold one row per result.
    public var buckets: UsageBuckets? = nil
    /// The span of a disaggregated export: from its first bucket's start to its last one's end.
    public var spanOverrideMs: Int64? = nil

    public init() {}

    /// Whether the trace's block hashes were read.
    public var hasBlocks: Bool { !blockOffsets.isEmpty }

    /// The block hashes of request `row` (empty when the trace has none).
    public func blocks(ofRow row: Int) -> ArraySlice<Int64> {
        guard hasBlocks else { return [] }
        return blockHashes[blockOffsets[row]..<blockOffsets[row + 1]]
    }

    public var count: Int { timesMs.count }

    /// Whether the requests carry a recorded cache split.
    public var hasCacheSplit: Bool { !cachedInputTokens.isEmpty }

    /// From the first to the last request, plus one mean gap, so that a looped trace keeps its
    /// rate across the seam (a disaggregated export: its buckets' window).
    public var spanMs: Int64 {
        if let s = spanOverrideMs { return s }
        guard count > 1 else { return 1 }
        let last = timesMs[count - 1]
        return max(1, last + last / Int64(count - 1))
    }

    public var ratePerHour: Double { Double(buckets?.totalRequests ?? Int64(count)) / Double(spanMs) * 3_600_000 }

    /// Reads a whole trace file.
    /// With `blocks`, also reads each request's block hashes (Mooncake `hash_ids`).
    public static func load(path: String, format: TraceFormat, skipFailed: Bool = true, blocks: Bool = false) throws(TraceError) -> Trace {
        let reader = try TraceReader(path: path, format: format, blocks: blocks)
        var trace = Trace()
        var identityIndex: [String: Int32] = [:]
        var modelIndex: [String: Int32] = [:]
        var rows: [(Int64, Int32, Int32, Int32, Int32)] = []
        var hashes: [Int64] = [], starts: [Int] = []
        while let row = try reader.next() {
            if skipFailed && row.failed { continue }
            var who: Int32 = -1
            if let name = row.identity, !name.isEmpty {
                if let i = identityIndex[name] { who = i } else {
                    who = Int32(trace.identityNames.count)
                    identityIndex[name] = who
                    trace.identityNames.append(name)
                }
            }
            var model: Int32 = -1
            if let name = row.model, !name.isEmpty {
                if let i = modelIndex[name] { model = i } else {
                    model = Int32(trace.modelNames.count)
                    modelIndex[name] = model
                    trace.modelNames.append(name)
                    trace.modelFirstLines.append(reader.lineNumber)
                }
            } else if trace.firstLineWithoutModel == nil {
                trace.firstLineWithoutModel = reader.lineNumber
            }
            rows.append((row.timeMs, Int32(clamping: row.inputTokens), Int32(clamping: row.outputTokens), who, model))
            if blocks {
                starts.append(hashes.count)
                hashes += reader.lastBlocks
            }
        }
        starts.append(hashes.count)
        guard !rows.isEmpty else { throw TraceError(path: path, line: reader.lineNumber, column: nil, message: "the trace has no requests") }
        // Stable sort by time: a trace's own order breaks ties.
        let order = rows.indices.sorted { (rows[$0].0, $0) < (rows[$1].0, $1) }
        trace.originMs = rows[order[0]].0
        trace.timesMs.reserveCapacity(rows.count)
        for i in order {
            let r = rows[i]
            trace.timesMs.append(r.0 - trace.originMs)
            trace.inputTokens.append(r.1)
            trace.outputTokens.append(r.2)
            trace.identities.append(r.3)
            trace.models.append(r.4)
        }
        if blocks {
            trace.blockOffsets.reserveCapacity(rows.count + 1)
            trace.blockOffsets.append(0)
            for i in order {
                trace.blockHashes += hashes[starts[i]..<starts[i + 1]]
                trace.blockOffsets.append(trace.blockHashes.count)
            }
        }
        return trace
    }
}

/// How a workload replays a trace.
public struct ReplaySource: Sendable {
    public var trace: Trace
    /// Trace identity index → model identity index (−1: use the workload's identity).
    public var identityMap: [Int]
    /// Trace model index → price-table model index (−1: use the workload's model mix).
    public var modelMap: [Int]
    /// Time is multiplied by this (0.5 replays twice as fast).
    public var timeScale: Double
    /// The trace's first request happens at this simulation time.
    public var startMs: Int64
    /// Start again from the beginning at the end of the trace (otherwise stop).
    public var loop: Bool
    /// Block length of the block bootstrap across replications, in trace milliseconds; nil
    /// replays the trace as is.
    ///
    /// The bootstrap is *circular* (Politis & Romano 1992): the trace is read as a circle of
    /// length ``Trace/spanMs`` (the last request is followed, one mean gap later, by the
    /// first), and each output block of `blockMs` replays the arc that starts at a uniformly
    /// drawn millisecond of that circle, wrapping past the end as often as it needs. So every
    /// instant of the output sees a uniformly random instant of the trace, and the expected
    /// number of requests in any stretch of output is the trace's rate times its length,
    /// exactly, whatever the block length: one that does not divide the trace, one longer than
    /// it, and a horizon that cuts the last block short.
    ///
    /// Why not cut the trace into fixed blocks and trim or weight the partial last one: a
    /// partial block replayed in a whole block's slot leaves the rest of the slot empty (over
    /// its own 29-minute window, a trace in 7- or 20-minute blocks lost 16% of its requests,
    /// `ReplayTests`); trimming it throws away up to one block of real demand (all of it when
    /// the trace is shorter than a block) and still mis-states the rate when the trimmed part
    /// was busier or quieter than the rest; and no weighting of whole blocks fills a slot that
    /// the partial block leaves half empty.
    /// The price of the circle is one seam per wrap, where the end of the trace meets its
    /// start, as in a looped replay.
    public var blockMs: Int64?

    public init(trace: Trace, identityMap: [Int]? = nil, modelMap: [Int]? = nil, timeScale: Double = 1, startMs: Int64 = 0,
                loop: Bool = false, blockMs: Int64? = nil) {
        precondition(blockMs.map { $0 > 0 } ?? true, "a bootstrap block is at least 1 ms")
        self.trace = trace
        self.identityMap = identityMap ?? Array(repeating: -1, count: trace.identityNames.count)
        self.modelMap = modelMap ?? Array(repeating: -1, count: trace.modelNames.count)
        self.timeScale = timeScale
        self.startMs = startMs
        self.loop = loop
        self.blockMs = blockMs
    }

    var timeScaleInverse: Double { 1 / timeScale }

    /// Whether every request of the trace names a model that ``modelMap`` prices, so that the
    /// workload needs no model of its own.
    /// - Complexity: O(count).
    public var pricesEveryRequest: Bool {
        trace.models.allSatisfy { $0 >= 0 && Int($0) < modelMap.count && modelMap[Int($0)] >= 0 }
    }

    /// The priced models of the trace's requests and how many requests each has: the trace's
    /// own model mix (for a loop that imitates this workload, such as a runaway).
    public var pricedModelMix: (models: [Int], requests: [Double]) {
        var counts: [Int: Double] = [:]
        for (row, m) in trace.models.enumerated() where m >= 0 && Int(m) < modelMap.count && modelMap[Int(m)] >= 0 {
            // A disaggregated export's rows are its results, each weighing its requests.
            counts[modelMap[Int(m)], default: 0] += trace.buckets.map { Double($0.requests[row]) } ?? 1
        }
        let models = counts.keys.sorted()
        return (models, models.map { counts[$0]! })
    }

    /// Where a bootstrap block starts on the trace's circle: a uniform millisecond of
    /// [0, spanMs). The generators draw integers below 2^32 − 1 (49.7 days of trace); a longer
    /// span joins two 31-bit draws, keeps as many low bits as the span needs and rejects what
    /// is beyond it, so it stays uniform (each try succeeds with probability above 1/2).
    func blockStartMs(_ stream: RandomStream) -> Int64 {
        let span = trace.spanMs
        if span < 1 << 32 - 1 { return Int64(stream.uniformInt(below: Int(span))) }
        let bits = 64 - (span - 1).leadingZeroBitCount
        while true {
            let s = (Int64(stream.uniformInt(below: 1 << 31)) << 31 | Int64(stream.uniformInt(below: 1 << 31))) & (1 << bits - 1)
            if s < span { return s }
        }
    }

    /// The first row at or after `timeMs` (trace time), `trace.count` if none.
    /// - Complexity: O(log(count)).
    func firstRow(atOrAfterMs timeMs: Int64) -> Int {
        var low = 0, high = trace.count
        while low < high {
            let mid = (low + high) / 2
            if trace.timesMs[mid] < timeMs { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
