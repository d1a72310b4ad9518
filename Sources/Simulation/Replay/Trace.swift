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

    public init() {}

    public var count: Int { timesMs.count }

    /// From the first to the last request, plus one mean gap, so that a looped trace keeps its
    /// rate across the seam.
    public var spanMs: Int64 {
        guard count > 1 else { return 1 }
        let last = timesMs[count - 1]
        return max(1, last + last / Int64(count - 1))
    }

    public var ratePerHour: Double { Double(count) / Double(spanMs) * 3_600_000 }

    /// Reads a whole trace file.
    public static func load(path: String, format: TraceFormat, skipFailed: Bool = true) throws(TraceError) -> Trace {
        let reader = try TraceReader(path: path, format: format)
        var trace = Trace()
        var identityIndex: [String: Int32] = [:]
        var modelIndex: [String: Int32] = [:]
        var rows: [(Int64, Int32, Int32, Int32, Int32)] = []
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
                }
            }
            rows.append((row.timeMs, Int32(clamping: row.inputTokens), Int32(clamping: row.outputTokens), who, model))
        }
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
    /// Block length of the block bootstrap across replications; nil replays the trace as is.
    public var blockMs: Int64?

    public init(trace: Trace, identityMap: [Int]? = nil, modelMap: [Int]? = nil, timeScale: Double = 1, startMs: Int64 = 0,
                loop: Bool = false, blockMs: Int64? = nil) {
        self.trace = trace
        self.identityMap = identityMap ?? Array(repeating: -1, count: trace.identityNames.count)
        self.modelMap = modelMap ?? Array(repeating: -1, count: trace.modelNames.count)
        self.timeScale = timeScale
        self.startMs = startMs
        self.loop = loop
        self.blockMs = blockMs
        self.blockStarts = []
        if let blockMs {
            // blockStarts[b] = first row with time ≥ b × blockMs; one extra entry closes the last block.
            let blocks = Int((trace.spanMs + blockMs - 1) / blockMs)
            var row = 0
            for b in 0...blocks {
                while row < trace.count && trace.timesMs[row] < Int64(b) * blockMs { row += 1 }
                blockStarts.append(row)
            }
        }
    }

    /// Row index where each bootstrap block starts (count = blocks + 1).
    var blockStarts: [Int]

    var timeScaleInverse: Double { 1 / timeScale }
    var blockCount: Int { max(blockStarts.count - 1, 0) }
}
