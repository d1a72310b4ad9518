import Stochastic

/// The requests `burnrate fit` reads, in file order, from a trace layout (``TraceReader``) or a
/// usage export (``UsageExportReader``), one file after another; streamed, so memory stays
/// bounded by the fit's reservoirs whatever the files' size.
///
/// An aggregated export (OpenAI, Anthropic) is disaggregated bucket by bucket as a replay does
/// it, from a fixed stream (`fit/disaggregate`), so a fit is reproducible: only one bucket's
/// requests are held at a time.
final class FitRows {
    let paths: [String]
    let format: TraceFormat
    let options: ExportOptions
    let requestsPerBucket: Int64?
    private var fileIndex = -1
    private var traceReader: TraceReader? = nil
    private var exportReader: UsageExportReader? = nil
    /// Rows the export marks as not successful (LiteLLM `status`), over every file.
    private(set) var skippedNotSuccess = 0
    private var skippedBefore = 0
    /// An aggregated export's window: the first bucket's start and the last one's end (a replay
    /// places the first bucket's start at its time zero).
    private(set) var bucketsStartMs: Int64? = nil
    private(set) var bucketsEndMs: Int64? = nil
    private let stream = RandomStream(seed: 0, replication: 0, name: "fit/disaggregate")
    /// A bucket read ahead (the first result of the next window), and the current bucket's rows.
    private var lookahead: ExportBucketResult? = nil
    private var queued: [TraceRow] = []
    private var queuedIndex = 0

    init(paths: [String], format: TraceFormat, options: ExportOptions, requestsPerBucket: Int64?) throws(TraceError) {
        precondition(!paths.isEmpty)
        if !format.isUsageExport && paths.count > 1 {
            throw TraceError(path: paths[1], line: 0, column: nil, message: "a list of files is for usage exports (pages of one export)")
        }
        self.paths = paths
        self.format = format
        self.options = options
        self.requestsPerBucket = requestsPerBucket
        try openNext()
    }

    var path: String { paths[min(max(fileIndex, 0), paths.count - 1)] }
    var lineNumber: Int { traceReader?.lineNumber ?? exportReader?.lineNumber ?? 0 }

    private func openNext() throws(TraceError) {
        if let r = exportReader { skippedBefore += r.skippedNotSuccess }
        fileIndex += 1
        traceReader = nil
        exportReader = nil
        guard fileIndex < paths.count else { return }
        if format.isUsageExport {
            exportReader = try UsageExportReader(path: paths[fileIndex], format: format, options: options)
        } else {
            traceReader = try TraceReader(path: paths[fileIndex], format: format)
        }
    }

    /// The next request, nil after the last file's last one.
    func next() throws(TraceError) -> TraceRow? {
        while true {
            if queuedIndex < queued.count { queuedIndex += 1; return queued[queuedIndex - 1] }
            if let t = traceReader {
                if let row = try t.next() { return row }
                try openNext()
                continue
            }
            guard let e = exportReader else {
                if lookahead != nil { try disaggregateBucket(); continue }
                return nil
            }
            let item = try e.next()
            skippedNotSuccess = skippedBefore + e.skippedNotSuccess
            switch item {
            case .request(let r)?:
                return TraceRow(timeMs: r.timeMs, inputTokens: r.inputTokens, outputTokens: r.outputTokens,
                                identity: options.identityField == nil ? nil : r.identity ?? "", model: r.model, failed: false,
                                cachedInputTokens: r.cachedInputTokens, cacheWriteTokens: r.cacheWriteTokens,
                                cacheWrite1hTokens: r.cacheWrite1hTokens)
            case .bucket(let b)?:
                bucketsStartMs = min(bucketsStartMs ?? .max, b.startMs)
                bucketsEndMs = max(bucketsEndMs ?? .min, b.endMs)
                if let first = lookahead, first.startMs != b.startMs || first.endMs != b.endMs { try disaggregateBucket() }
                pending.append(b)
                pendingPath = path
                lookahead = pending[0]
            case nil:
                try openNext()
            }
        }
    }

    private var pending: [ExportBucketResult] = []
    /// The most requests one bucket may hold (its requests are expanded in memory, ~80 bytes each).
    static let maxRequestsPerBucket: Int64 = 10_000_000
    /// The file the pending bucket was read from (for its errors).
    private var pendingPath = ""

    /// Turns the results of the pending bucket into requests (``UsageBuckets/expanded``).
    private func disaggregateBucket() throws(TraceError) {
        var buckets = UsageBuckets()
        var bucketRequests: Int64 = 0
        var template = Trace()
        for b in pending {
            let n = b.requests ?? (b.totalTokens == 0 ? 0 : requestsPerBucket ?? 0)
            if b.requests == nil && requestsPerBucket == nil && b.totalTokens > 0 {
                throw TraceError(path: pendingPath, line: b.line, column: nil, message: "the report records no request count: fit it with --requests-per-bucket N")
            }
            if n == 0 {
                guard b.totalTokens == 0 else { throw TraceError(path: pendingPath, line: b.line, column: nil, message: "\(b.totalTokens) tokens over 0 requests (num_model_requests)") }
                continue
            }
            // One bucket's requests are held at a time: bound them, and each request's tokens as a
            // replay does (a count per request fits 32 bits).
            guard n <= Self.maxRequestsPerBucket - bucketRequests else {
                throw TraceError(path: pendingPath, line: b.line, column: nil,
                                 message: "more than \(Self.maxRequestsPerBucket) requests in one bucket (num_model_requests \(n)): fit holds one bucket's requests in memory")
            }
            bucketRequests += n
            for (v, what) in [(b.uncachedInputTokens + b.cachedInputTokens + b.cacheWriteTokens + b.cacheWrite1hTokens, "input"),
                              (b.outputTokens, "output")] where (v + n - 1) / n > Int64(Int32.max) {
                throw TraceError(path: pendingPath, line: b.line, column: nil, message: "\(v) \(what) tokens over \(n) requests: more than \(Int32.max) a request")
            }
            buckets.startMs.append(b.startMs); buckets.endMs.append(b.endMs); buckets.requests.append(n)
            buckets.uncachedInputTokens.append(b.uncachedInputTokens); buckets.cachedInputTokens.append(b.cachedInputTokens)
            buckets.cacheWriteTokens.append(b.cacheWriteTokens); buckets.cacheWrite1hTokens.append(b.cacheWrite1hTokens)
            buckets.outputTokens.append(b.outputTokens); buckets.batch.append(b.batch)
            buckets.totalRequests += n
            template.identities.append(Int32(template.identityNames.count)); template.identityNames.append(b.identity ?? "")
            template.models.append(Int32(template.modelNames.count)); template.modelNames.append(b.model)
        }
        pending = []
        lookahead = nil
        let expanded = buckets.expanded(stream: stream, template: template)
        queued = []
        queued.reserveCapacity(expanded.count)
        for i in 0..<expanded.count {
            let identity: String? = options.identityField == nil ? nil : expanded.identityNames[Int(expanded.identities[i])]
            var row = TraceRow(timeMs: expanded.timesMs[i], inputTokens: Int64(expanded.inputTokens[i]),
                               outputTokens: Int64(expanded.outputTokens[i]), identity: identity,
                               model: expanded.modelNames[Int(expanded.models[i])], failed: false)
            row.cachedInputTokens = Int64(expanded.cachedInputTokens[i])
            row.cacheWriteTokens = Int64(expanded.cacheWriteTokens[i])
            row.cacheWrite1hTokens = Int64(expanded.cacheWrite1hTokens[i])
            queued.append(row)
        }
        queuedIndex = 0
    }
}
