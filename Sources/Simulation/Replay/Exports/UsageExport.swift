import Stochastic

/// An aggregated export's results, one per (bucket, result), sorted by bucket, with times
/// relative to the first bucket's start. Each replication turns them into requests
/// (``expanded(stream:)``).
public struct UsageBuckets: Sendable {
    public var startMs: [Int64] = []
    public var endMs: [Int64] = []
    public var requests: [Int64] = []
    public var uncachedInputTokens: [Int64] = []
    public var cachedInputTokens: [Int64] = []
    public var cacheWriteTokens: [Int64] = []
    public var cacheWrite1hTokens: [Int64] = []
    public var outputTokens: [Int64] = []
    public var batch: [Bool] = []
    public var totalRequests: Int64 = 0

    public var count: Int { startMs.count }

    /// The share of `total` that the `k`-th of `n` requests takes: `total / n`, one more for the
    /// first `total % n`, so the shares sum to `total` exactly.
    @inline(__always)
    static func share(_ total: Int64, _ n: Int64, _ k: Int64) -> Int64 { total / n + (k < total % n ? 1 : 0) }

    /// The requests of every result: the `n` requests of a result arrive at times drawn
    /// uniformly in its bucket from `stream`, and each token class's total is split over them
    /// (``share(_:_:_:)``, by draw order), so every class's total over the result is kept
    /// exactly. A trace of those requests, sorted by time (ties: draw order), with the name
    /// tables, origin and span of `template`.
    /// - Complexity: O(R log B) for R requests and at most B of them in one bucket.
    public func expanded(stream: RandomStream, template: Trace) -> Trace {
        var out = Trace()
        out.identityNames = template.identityNames
        out.modelNames = template.modelNames
        out.modelFirstLines = template.modelFirstLines
        out.modelFirstFiles = template.modelFirstFiles
        out.files = template.files
        out.originMs = template.originMs
        out.spanOverrideMs = template.spanOverrideMs
        out.skippedNotSuccess = template.skippedNotSuccess
        let n = Int(totalRequests)
        out.timesMs.reserveCapacity(n)
        out.inputTokens.reserveCapacity(n); out.outputTokens.reserveCapacity(n)
        out.cachedInputTokens.reserveCapacity(n); out.cacheWriteTokens.reserveCapacity(n); out.cacheWrite1hTokens.reserveCapacity(n)
        out.identities.reserveCapacity(n); out.models.reserveCapacity(n)
        let anyBatch = batch.contains(true)
        if anyBatch { out.batched.reserveCapacity(n) }
        var draws: [(timeMs: Int64, result: Int32, k: Int64)] = []
        var r = 0
        while r < count {
            // One bucket: the results that share its window.
            var end = r
            while end < count && startMs[end] == startMs[r] && endMs[end] == endMs[r] { end += 1 }
            draws.removeAll(keepingCapacity: true)
            let width = Double(endMs[r] - startMs[r])
            for i in r..<end {
                for k in 0..<requests[i] {
                    let offset = min(Int64(stream.uniform() * width), endMs[r] - startMs[r] - 1)
                    draws.append((startMs[r] + offset, Int32(i), k))
                }
            }
            // A stable sort keeps the draw order among equal times.
            let order = draws.indices.sorted { (draws[$0].timeMs, $0) < (draws[$1].timeMs, $1) }
            for j in order {
                let (t, i32, k) = draws[j]
                let i = Int(i32), m = requests[i]
                let cached = Self.share(cachedInputTokens[i], m, k), write = Self.share(cacheWriteTokens[i], m, k)
                let write1h = Self.share(cacheWrite1hTokens[i], m, k)
                let input = Self.share(uncachedInputTokens[i], m, k) + cached + write + write1h
                out.timesMs.append(t)
                out.inputTokens.append(Int32(input))
                out.cachedInputTokens.append(Int32(cached))
                out.cacheWriteTokens.append(Int32(write))
                out.cacheWrite1hTokens.append(Int32(write1h))
                out.outputTokens.append(Int32(Self.share(outputTokens[i], m, k)))
                out.identities.append(template.identities[i])
                out.models.append(template.models[i])
                if anyBatch { out.batched.append(batch[i]) }
            }
            r = end
        }
        return out
    }
}

/// Loads usage exports (``TraceFormat/isUsageExport``) into a ``Trace``: one file or the pages
/// of one export, read in order, each streamed by ``UsageExportReader``.
public enum UsageExport {
    /// Reads every file of `paths` in order. Per-request exports give a request a row (sorted
    /// by time, ties in file order); aggregated ones give a result a row and ``Trace/buckets``.
    /// `requestsPerBucket` is the number of requests of each Anthropic result (it records none).
    /// `shownPaths` are the names errors give the files (default: `paths`).
    public static func load(paths: [String], format: TraceFormat, options: ExportOptions = ExportOptions(),
                            requestsPerBucket: Int64? = nil, shownPaths: [String]? = nil) throws(TraceError) -> Trace {
        precondition(format.isUsageExport && !paths.isEmpty)
        let shown = shownPaths ?? paths
        var trace = Trace()
        trace.files = shown
        var identityIndex: [String: Int32] = [:]
        var modelIndex: [String: Int32] = [:]
        var buckets = UsageBuckets()
        var inOrder = true
        var lastLine = 0
        var window: (start: Int64, end: Int64)? = nil
        func note(_ identity: String?, _ model: String, file: Int, line: Int) -> (Int32, Int32) {
            var who: Int32 = -1
            if let name = identity {
                if let i = identityIndex[name] { who = i } else {
                    who = Int32(trace.identityNames.count)
                    identityIndex[name] = who
                    trace.identityNames.append(name)
                }
            }
            if let m = modelIndex[model] { return (who, m) }
            let m = Int32(trace.modelNames.count)
            modelIndex[model] = m
            trace.modelNames.append(model)
            trace.modelFirstLines.append(line)
            trace.modelFirstFiles.append(file)
            return (who, m)
        }
        for (file, path) in paths.enumerated() {
            let reader: UsageExportReader
            do { reader = try UsageExportReader(path: path, format: format, options: options) } catch {
                var e = error; e.path = shown[file]; throw e
            }
            func fail(_ line: Int, _ message: String) -> TraceError { TraceError(path: shown[file], line: line, column: nil, message: message) }
            while true {
                let item: ExportItem?
                do { item = try reader.next() } catch { var e = error; e.path = shown[file]; throw e }
                guard let item else { break }
                switch item {
                case .request(let r):
                    for (v, what) in [(r.inputTokens, "input"), (r.outputTokens, "output")] where v > Int64(Int32.max) {
                        throw fail(r.line, "a request of \(v) \(what) tokens (at most \(Int32.max))")
                    }
                    let (who, m) = note(r.identity, r.model, file: file, line: r.line)
                    if let last = trace.timesMs.last, r.timeMs < last { inOrder = false }
                    trace.timesMs.append(r.timeMs)
                    trace.inputTokens.append(Int32(r.inputTokens))
                    trace.outputTokens.append(Int32(r.outputTokens))
                    trace.cachedInputTokens.append(Int32(r.cachedInputTokens))
                    trace.cacheWriteTokens.append(Int32(r.cacheWriteTokens))
                    trace.cacheWrite1hTokens.append(Int32(r.cacheWrite1hTokens))
                    if let c = r.loggedCostMicrocredits { trace.loggedCostsMicrocredits.append(c) }
                    trace.identities.append(who)
                    trace.models.append(m)
                case .bucket(var b):
                    if b.requests == nil {
                        guard let n = requestsPerBucket else { throw fail(b.line, "the report records no request count: the replay needs 'requests_per_bucket: N'") }
                        // A result with no tokens at all is a grouping with no use in the bucket.
                        b.requests = b.totalTokens == 0 ? 0 : n
                    }
                    let n = b.requests!
                    if n == 0 {
                        guard b.totalTokens == 0 else { throw fail(b.line, "\(b.totalTokens) tokens over 0 requests (num_model_requests)") }
                        continue
                    }
                    for (v, what) in [(b.uncachedInputTokens + b.cachedInputTokens + b.cacheWriteTokens + b.cacheWrite1hTokens, "input"),
                                      (b.outputTokens, "output")] where (v + n - 1) / n > Int64(Int32.max) {
                        throw fail(b.line, "\(v) \(what) tokens over \(n) requests: more than \(Int32.max) a request")
                    }
                    let (who, m) = note(b.identity, b.model, file: file, line: b.line)
                    if let last = buckets.startMs.last, b.startMs < last { inOrder = false }
                    buckets.startMs.append(b.startMs); buckets.endMs.append(b.endMs); buckets.requests.append(n)
                    buckets.uncachedInputTokens.append(b.uncachedInputTokens); buckets.cachedInputTokens.append(b.cachedInputTokens)
                    buckets.cacheWriteTokens.append(b.cacheWriteTokens); buckets.cacheWrite1hTokens.append(b.cacheWrite1hTokens)
                    buckets.outputTokens.append(b.outputTokens)
                    buckets.batch.append(b.batch)
                    buckets.totalRequests += n
                    trace.timesMs.append(b.startMs)
                    trace.inputTokens.append(0); trace.outputTokens.append(0)
                    trace.identities.append(who); trace.models.append(m)
                }
                lastLine = reader.lineNumber
            }
            trace.skippedNotSuccess += reader.skippedNotSuccess
            if let s = reader.windowStartMs, let e = reader.windowEndMs {
                window = (min(window?.start ?? s, s), max(window?.end ?? e, e))
            }
            lastLine = max(lastLine, reader.lineNumber)
        }
        guard !trace.timesMs.isEmpty else {
            throw TraceError(path: shown[shown.count - 1], line: lastLine, column: nil,
                             message: "the export has no requests" + (trace.skippedNotSuccess > 0 ? " (\(trace.skippedNotSuccess) rows not 'success' skipped)" : ""))
        }
        if !inOrder { sortByTime(&trace, &buckets, bucketed: format.isBucketed) }
        if format.isBucketed {
            try checkBuckets(buckets, trace: trace, shown: shown)
            // The export covers its buckets' window, empty buckets included (an hour of no use
            // is part of the history a looped or resampled replay repeats).
            trace.originMs = window!.start
            let origin = trace.originMs
            trace.spanOverrideMs = window!.end - origin
            for i in buckets.startMs.indices { buckets.startMs[i] -= origin; buckets.endMs[i] -= origin; trace.timesMs[i] -= origin }
            trace.buckets = buckets
        } else {
            trace.originMs = trace.timesMs[0]
            let origin = trace.originMs
            for i in trace.timesMs.indices { trace.timesMs[i] -= origin }
            // No split recorded anywhere: the columns go (every input token is uncached).
            if trace.cachedInputTokens.allSatisfy({ $0 == 0 }) && trace.cacheWriteTokens.allSatisfy({ $0 == 0 }) {
                trace.cachedInputTokens = []; trace.cacheWriteTokens = []; trace.cacheWrite1hTokens = []
            }
        }
        return trace
    }

    /// Buckets of different windows must not overlap: a page set of two queries (say, `1h` and
    /// `1d` buckets of the same hours) would count the same use twice.
    static func checkBuckets(_ b: UsageBuckets, trace: Trace, shown: [String]) throws(TraceError) {
        var i = 0
        var previousEnd = Int64.min
        while i < b.count {
            guard b.startMs[i] >= previousEnd else {
                throw TraceError(path: shown[0], line: 0, column: nil,
                                 message: "buckets overlap: one starts at \(b.startMs[i] / 1000) s before the previous one ends at \(previousEnd / 1000) s (pages of two queries?)")
            }
            var j = i
            while j < b.count && b.startMs[j] == b.startMs[i] {
                guard b.endMs[j] == b.endMs[i] else {
                    throw TraceError(path: shown[0], line: 0, column: nil, message: "two buckets start at \(b.startMs[i] / 1000) s with different ends (pages of two queries?)")
                }
                j += 1
            }
            previousEnd = b.endMs[i]
            i = j
        }
    }

    /// A stable sort of every row column by time (the file order breaks ties).
    static func sortByTime(_ trace: inout Trace, _ buckets: inout UsageBuckets, bucketed: Bool) {
        let order = trace.timesMs.indices.sorted { (trace.timesMs[$0], $0) < (trace.timesMs[$1], $1) }
        func permute<T>(_ a: inout [T]) { if !a.isEmpty { a = order.map { a[$0] } } }
        permute(&trace.timesMs); permute(&trace.inputTokens); permute(&trace.outputTokens)
        permute(&trace.cachedInputTokens); permute(&trace.cacheWriteTokens); permute(&trace.cacheWrite1hTokens)
        permute(&trace.loggedCostsMicrocredits); permute(&trace.identities); permute(&trace.models)
        if bucketed {
            permute(&buckets.startMs); permute(&buckets.endMs); permute(&buckets.requests)
            permute(&buckets.uncachedInputTokens); permute(&buckets.cachedInputTokens); permute(&buckets.cacheWriteTokens)
            permute(&buckets.cacheWrite1hTokens); permute(&buckets.outputTokens); permute(&buckets.batch)
        }
    }
}
