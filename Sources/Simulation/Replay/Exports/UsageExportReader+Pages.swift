/// The aggregated exports: pages of the OpenAI Usage API (`/v1/organization/usage/completions`)
/// and of the Anthropic Admin API usage report (`/v1/organizations/usage_report/messages`). A
/// file holds one page, or several one after the other; `data` is walked bucket by bucket.
extension UsageExportReader {
    /// A bucket is read whole (its results, each at most ``JSONPull/maxValueBytes``): it holds at
    /// most this many results (a page of the APIs holds far fewer).
    static let maxResultsPerBucket = 100_000

    func nextBucketResult() throws(TraceError) -> ExportBucketResult? {
        do {
            while true {
                if pendingIndex < pendingResults.count {
                    pendingIndex += 1
                    return pendingResults[pendingIndex - 1]
                }
                switch pages {
                case .done:
                    return nil
                case .betweenDocuments:
                    guard pull.peekByte() != nil else {
                        if source.failed { throw source.readError() }
                        pages = .done
                        return nil
                    }
                    guard pull.peekByte() == 123 else { throw JSONSyntax(message: "a usage page is a JSON object", line: pull.line) }
                    try pull.beginObject()
                    pageSawData = false
                    pages = .inDocument
                case .inDocument:
                    guard let key = try pull.nextKey() else {
                        guard pageSawData else { throw JSONSyntax(message: "a usage page without 'data'", line: pull.line) }
                        pages = .betweenDocuments
                        continue
                    }
                    switch key {
                    case "data":
                        guard !pageSawData else { throw JSONSyntax(message: "duplicate key 'data'", line: pull.line) }
                        pageSawData = true
                        guard pull.peekByte() == 91 else { throw JSONSyntax(message: "'data' is a list of buckets", line: pull.line) }
                        try pull.beginArray()
                        pages = .inData
                    case "object" where format == .openaiUsage:
                        let line = pull.line
                        let v = try pull.value()
                        guard v == .string("page") else { throw error(line, "field 'object' of an OpenAI usage page is \"page\", got \(excerpt(describe(v)))") }
                    default:
                        try pull.skip()
                    }
                case .inData:
                    guard try pull.nextElement() else { pages = .inDocument; continue }
                    pendingResults = try bucket()
                    pendingIndex = 0
                }
            }
        } catch let e as JSONSyntax {
            throw syntax(e)
        } catch let e as TraceError {
            throw e
        } catch {
            fatalError("unreachable: \(error)")
        }
    }

    private func describe(_ v: JSONItem) -> String {
        if case .string(let s) = v { return "\"\(s)\"" }
        return v.kind
    }

    /// The results of the bucket at the parser's position.
    private func bucket() throws -> [ExportBucketResult] {
        let line = pull.line
        lineNumber = line
        guard pull.peekByte() == 123 else { throw JSONSyntax(message: "a bucket is a JSON object", line: line) }
        let (startKey, endKey) = format == .openaiUsage ? ("start_time", "end_time") : ("starting_at", "ending_at")
        var start: (JSONItem, Int)? = nil, end: (JSONItem, Int)? = nil
        var raw: [(JSONItem, Int)] = []
        var sawResults = false
        try pull.beginObject()
        while let key = try pull.nextKey() {
            switch key {
            case startKey, endKey:
                let at = pull.line
                let v = try pull.value()
                if key == startKey {
                    guard start == nil else { throw JSONSyntax(message: "duplicate key '\(key)'", line: at) }
                    start = (v, at)
                } else {
                    guard end == nil else { throw JSONSyntax(message: "duplicate key '\(key)'", line: at) }
                    end = (v, at)
                }
            case "results":
                guard !sawResults else { throw JSONSyntax(message: "duplicate key 'results'", line: pull.line) }
                sawResults = true
                guard pull.peekByte() == 91 else { throw error(pull.line, "field 'results' of a bucket is a list") }
                try pull.beginArray()
                while try pull.nextElement() {
                    guard raw.count < Self.maxResultsPerBucket else { throw error(pull.line, "a bucket with more than \(Self.maxResultsPerBucket) results") }
                    let at = pull.line
                    raw.append((try pull.value(), at))
                }
            default:
                try pull.skip()
            }
        }
        func time(_ v: (JSONItem, Int)?, _ field: String) throws(TraceError) -> Int64 {
            guard let (item, at) = v else { throw error(line, "a bucket without '\(field)'") }
            if format == .openaiUsage {
                guard let t = StrictTime.unixSecondsMs(item) else { throw error(at, "field '\(field)' must be whole Unix seconds, got \(excerpt(describe(item)))") }
                return t
            }
            guard case .string(let s) = item, let t = StrictTime.ms(s, .rfc3339) else {
                throw error(at, "field '\(field)' must be an RFC 3339 date-time with a zone, got \(excerpt(describe(item)))")
            }
            return t
        }
        let startMs = try time(start, startKey), endMs = try time(end, endKey)
        guard endMs > startMs else { throw error(end!.1, "a bucket must end after it starts ('\(endKey)' ≤ '\(startKey)')") }
        windowStartMs = min(windowStartMs ?? startMs, startMs)
        windowEndMs = max(windowEndMs ?? endMs, endMs)
        var results: [ExportBucketResult] = []
        for (item, at) in raw {
            guard case .object = item else { throw error(at, "a result of a bucket is a JSON object, got \(item.kind)") }
            results.append(format == .openaiUsage ? try openAIResult(item, startMs, endMs, line: at) : try anthropicResult(item, startMs, endMs, line: at))
        }
        return results
    }

    private func openAIResult(_ r: JSONItem, _ startMs: Int64, _ endMs: Int64, line: Int) throws(TraceError) -> ExportBucketResult {
        // `input_tokens` includes the cached ones (OpenAI Usage API reference).
        let input = try count(r["input_tokens"], "input_tokens", line: line)
        let cached = try count(r["input_cached_tokens"], "input_cached_tokens", line: line, optional: true)
        guard cached <= input else { throw error(line, "field 'input_cached_tokens' (\(cached)) exceeds 'input_tokens' (\(input)), which include them") }
        let output = try count(r["output_tokens"], "output_tokens", line: line)
        let requests = try count(r["num_model_requests"], "num_model_requests", line: line)
        let who = try options.identityField.flatMap { (f) throws(TraceError) in try text(r[f], f, line: line, optional: true) }
        let name = try text(r["model"], "model", line: line, optional: true)
        let batch: Bool
        switch r["batch"] {
        case nil, .null?, .bool(false)?: batch = false
        case .bool(true)?: batch = true
        case let other?: throw error(line, "field 'batch' must be true, false or null, got \(other.kind)")
        }
        return ExportBucketResult(startMs: startMs, endMs: endMs, requests: requests, uncachedInputTokens: input - cached,
                                  cachedInputTokens: cached, cacheWriteTokens: 0, cacheWrite1hTokens: 0, outputTokens: output,
                                  identity: who.flatMap { $0.isEmpty ? nil : $0 },
                                  model: try model(name, "model", line: line), batch: batch, line: line)
    }

    private func anthropicResult(_ r: JSONItem, _ startMs: Int64, _ endMs: Int64, line: Int) throws(TraceError) -> ExportBucketResult {
        let uncached = try count(r["uncached_input_tokens"], "uncached_input_tokens", line: line)
        let read = try count(r["cache_read_input_tokens"], "cache_read_input_tokens", line: line, optional: true)
        var write5m: Int64 = 0, write1h: Int64 = 0
        switch r["cache_creation"] {
        case nil, .null?: break
        case .object?:
            write5m = try count(r["cache_creation"]?["ephemeral_5m_input_tokens"], "cache_creation.ephemeral_5m_input_tokens", line: line, optional: true)
            write1h = try count(r["cache_creation"]?["ephemeral_1h_input_tokens"], "cache_creation.ephemeral_1h_input_tokens", line: line, optional: true)
        case let other?: throw error(line, "field 'cache_creation' must be an object, got \(other.kind)")
        }
        let output = try count(r["output_tokens"], "output_tokens", line: line)
        let who = try options.identityField.flatMap { (f) throws(TraceError) in try text(r[f], f, line: line, optional: true) }
        let name = try text(r["model"], "model", line: line, optional: true)
        return ExportBucketResult(startMs: startMs, endMs: endMs, requests: nil, uncachedInputTokens: uncached,
                                  cachedInputTokens: read, cacheWriteTokens: write5m, cacheWrite1hTokens: write1h, outputTokens: output,
                                  identity: who.flatMap { $0.isEmpty ? nil : $0 },
                                  model: try model(name, "model", line: line), line: line)
    }
}
