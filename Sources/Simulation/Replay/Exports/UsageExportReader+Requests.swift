/// The per-request exports: LiteLLM spend logs (CSV with a header, or JSON lines) and Bedrock
/// model invocation logs (JSON lines).
extension UsageExportReader {
    /// A CSV record is at most this many bytes (a spend log row may quote a whole prompt).
    static let maxRecordBytes = 16 << 20

    static let cacheReadPath = ["metadata", "additional_usage_values", "cache_read_input_tokens"]
    static let cacheCreationPath = ["metadata", "additional_usage_values", "cache_creation_input_tokens"]

    static let cacheReadField = cacheReadPath.joined(separator: ".")
    static let cacheCreationField = cacheCreationPath.joined(separator: ".")
    static let metadataPaths = [Array(cacheReadPath.dropFirst()), Array(cacheCreationPath.dropFirst())]

    /// Reads the next CSV record into ``record`` and ``fieldBounds`` (quotes removed, `""`
    /// unescaped; a quoted field may span lines); its field count and the line it starts on,
    /// nil at the end of the file. Blank lines are skipped.
    func csvRecord() throws(TraceError) -> (fields: Int, line: Int)? {
        while let b = source.peek(), b == 10 || b == 13 { source.advance() }
        guard source.peek() != nil else {
            if source.failed { throw source.readError() }
            return nil
        }
        let line = source.line
        record.removeAll(keepingCapacity: true)
        fieldBounds.removeAll(keepingCapacity: true)
        fieldBounds.append(0)
        var fieldStart = 0
        var bytes = 0
        var quoted = false, wasQuoted = false
        while let b = source.peek() {
            source.advance()
            bytes += 1
            guard bytes <= Self.maxRecordBytes else { throw error(line, "a CSV record longer than \(Self.maxRecordBytes >> 20) MiB") }
            if quoted {
                if b == 34 {
                    if source.peek() == 34 { source.advance(); record.append(34) } else { quoted = false }
                } else { record.append(b) }
                continue
            }
            switch b {
            case 34 where record.count == fieldStart && !wasQuoted: quoted = true; wasQuoted = true
            case 44: fieldBounds.append(record.count); fieldStart = record.count; wasQuoted = false
            case 10: fieldBounds.append(record.count); return (fieldBounds.count - 1, line)
            case 13 where source.peek() == 10 || source.peek() == nil: continue
            default:
                if wasQuoted { throw error(source.line, "text after a quoted field's closing quote (field \(fieldBounds.count))") }
                record.append(b)
            }
        }
        if source.failed { throw source.readError() }
        if quoted { throw error(line, "a quoted field that is never closed") }
        fieldBounds.append(record.count)
        return (fieldBounds.count - 1, line)
    }

    /// Field `i` of the current record.
    func field(_ i: Int) -> ArraySlice<UInt8> { record[fieldBounds[i]..<fieldBounds[i + 1]] }

    func readCSVHeader() throws(TraceError) {
        guard let (count, _) = try csvRecord() else { return }
        let header = (0..<count).map { String(decoding: field($0), as: UTF8.self) }
        var columns: [String: Int] = [:]
        for (i, raw) in header.enumerated() {
            var name = raw.trimmedSpaces()
            if name.hasPrefix("\u{FEFF}") { name.removeFirst() }
            guard columns[name] == nil else { throw error(1, "the header names column '\(excerpt(name))' twice") }
            columns[name] = i
        }
        var needed = ["startTime", "model", "prompt_tokens", "completion_tokens"]
        if rate != nil { needed.append("spend") }
        if let f = options.identityField { needed.append(f) }
        for name in needed where columns[name] == nil {
            throw error(1, "the litellm-spend-logs header needs a column '\(name)'; it has "
                        + header.prefix(8).map { "'" + excerpt($0, limit: 24) + "'" }.joined(separator: ", ")
                        + (header.count > 8 ? ", …" : ""))
        }
        csvColumns = LiteLLMColumns(startTime: columns["startTime"]!, model: columns["model"]!, prompt: columns["prompt_tokens"]!,
                                    completion: columns["completion_tokens"]!, spend: columns["spend"], status: columns["status"],
                                    metadata: columns["metadata"], identity: options.identityField.flatMap { columns[$0] })
    }

    func nextCSVRow() throws(TraceError) -> Row? {
        guard let (fieldCount, line) = try csvRecord() else { return nil }
        lineNumber = line
        let c = csvColumns!
        func value(_ column: Int?, _ name: @autoclosure () -> String) throws(TraceError) -> ArraySlice<UInt8>? {
            guard let column else { return nil }
            guard column < fieldCount else { throw error(line, "missing field '\(name())' (the row has \(fieldCount) fields)") }
            return field(column)
        }
        func text(_ column: Int?, _ name: @autoclosure () -> String) throws(TraceError) -> String? {
            try value(column, name()).map { String(decoding: $0, as: UTF8.self) }
        }
        func number(_ column: Int, _ name: String) throws(TraceError) -> Int64 {
            let bytes = try value(column, name)!
            guard let n = Self.wholeNumber(bytes) else {
                throw error(line, "field '\(name)' must be a whole number ≥ 0, got '\(excerpt(String(decoding: bytes, as: UTF8.self)))'")
            }
            return n
        }
        // A row that did not succeed is skipped before anything else of it is read.
        if let status = try value(c.status, "status"), !status.elementsEqual("success".utf8) { return Row(request: nil) }
        var cacheRead: Int64 = 0, cacheCreation: Int64 = 0
        if let meta = try value(c.metadata, "metadata"), !meta.isEmpty {
            var pull = JSONPull(MemoryBytes(Array(meta), line: line))
            var out: [String: JSONItem] = [:]
            do throws(JSONSyntax) {
                guard pull.peekByte() == 123 else { throw JSONSyntax(message: "metadata is a JSON object", line: line) }
                try Self.collect(&pull, paths: Self.metadataPaths, into: &out)
                guard pull.peekByte() == nil else { throw JSONSyntax(message: "text after the metadata object", line: line) }
            } catch { throw self.error(line, "field 'metadata' is not JSON: \(error.message)") }
            cacheRead = try count(out["additional_usage_values.cache_read_input_tokens"], Self.cacheReadField, line: line, optional: true)
            cacheCreation = try count(out["additional_usage_values.cache_creation_input_tokens"], Self.cacheCreationField, line: line, optional: true)
        }
        return try litellm(line: line, startTime: try text(c.startTime, "startTime")!, model: try text(c.model, "model"),
                           prompt: try number(c.prompt, "prompt_tokens"), completion: try number(c.completion, "completion_tokens"),
                           spend: try text(c.spend, "spend"),
                           cacheRead: cacheRead, cacheCreation: cacheCreation,
                           identity: try text(c.identity, options.identityField ?? ""))
    }

    /// One JSON line of LiteLLM or Bedrock.
    func nextJSONLine() throws(TraceError) -> Row? {
        if format == .bedrockInvocations { return try nextBedrock() }
        var paths = [["startTime"], ["model"], ["prompt_tokens"], ["completion_tokens"], ["spend"], ["status"], ["metadata"]]
        if let f = options.identityField { paths.append([f]) }
        guard let (f, line) = try jsonLine(paths: paths) else { return nil }
        // A row that did not succeed is skipped before anything else of it is read (as in CSV).
        if let status = try text(f["status"], "status", line: line, optional: true), status != "success" { return Row(request: nil) }
        var cacheRead: Int64 = 0, cacheCreation: Int64 = 0
        var metadata = f["metadata"]
        if case .string(let text)? = metadata {
            // Some exports write the JSON column as a JSON string holding JSON.
            var pull = JSONPull(MemoryBytes(Array(text.utf8), line: line))
            do throws(JSONSyntax) { metadata = try pull.value() } catch { throw self.error(line, "field 'metadata' is not JSON: \(error.message)") }
        }
        switch metadata {
        case nil, .null?: break
        case .object?:
            let usage = metadata?["additional_usage_values"]
            cacheRead = try count(usage?["cache_read_input_tokens"], Self.cacheReadField, line: line, optional: true)
            cacheCreation = try count(usage?["cache_creation_input_tokens"], Self.cacheCreationField, line: line, optional: true)
        case let other?: throw error(line, "field 'metadata' must be an object, got \(other.kind)")
        }
        var spend: String? = nil
        switch f["spend"] {
        case .number(let t)?, .string(let t)?: spend = t
        case nil, .null?: spend = nil
        case let other?: throw error(line, "field 'spend' must be a number, got \(other.kind)")
        }
        return try litellm(line: line, startTime: try text(f["startTime"], "startTime", line: line)!,
                           model: try text(f["model"], "model", line: line, optional: true),
                           prompt: try count(f["prompt_tokens"], "prompt_tokens", line: line),
                           completion: try count(f["completion_tokens"], "completion_tokens", line: line),
                           spend: spend,
                           cacheRead: cacheRead, cacheCreation: cacheCreation,
                           identity: try options.identityField.flatMap { (k) throws(TraceError) in try text(f[k], k, line: line, optional: true) })
    }

    /// A successful LiteLLM row (its `status` checked by the caller: a spend log without a
    /// `status` column predates it, and every row then succeeded).
    func litellm(line: Int, startTime: String, model name: String?, prompt: Int64, completion: Int64, spend: String?,
                 cacheRead: Int64, cacheCreation: Int64, identity: String?) throws(TraceError) -> Row {
        guard let t = StrictTime.ms(startTime, .litellm) else {
            throw error(line, "field 'startTime' must be 'YYYY-MM-DD HH:MM:SS.mmm' (UTC) or ISO 8601 with a zone, got '\(excerpt(startTime))'")
        }
        guard cacheRead + cacheCreation <= prompt else {
            throw error(line, "field '\(Self.cacheReadField)' + cache_creation_input_tokens (\(cacheRead) + \(cacheCreation)) exceed prompt_tokens (\(prompt)), which include them")
        }
        var cost: Int64? = nil
        if rate != nil {
            guard let spend, !spend.isEmpty else { throw error(line, "missing field 'spend' (cost: logged reads it)") }
            cost = try loggedCost(spend, "spend", line: line)
        }
        return Row(request: ExportRequest(timeMs: t, inputTokens: prompt, cachedInputTokens: cacheRead, cacheWriteTokens: cacheCreation,
                                          cacheWrite1hTokens: 0, outputTokens: completion, identity: identity.flatMap { $0.isEmpty ? nil : $0 },
                                          model: try model(name, "model", line: line), loggedCostMicrocredits: cost, line: line))
    }

    /// A Bedrock model invocation log line.
    func nextBedrock() throws(TraceError) -> Row? {
        let paths = [["timestamp"], ["modelId"], ["identity", "arn"], ["input", "inputTokenCount"], ["input", "cacheReadInputTokenCount"],
                     ["input", "cacheWriteInputTokenCount"], ["output", "outputTokenCount"]]
        guard let (f, line) = try jsonLine(paths: paths) else { return nil }
        let stamp = try text(f["timestamp"], "timestamp", line: line)!
        guard let t = StrictTime.ms(stamp, .rfc3339) else {
            throw error(line, "field 'timestamp' must be ISO 8601 with a zone (2026-03-02T09:15:00Z), got '\(excerpt(stamp))'")
        }
        // Bedrock counts uncached input apart from cache reads and writes.
        let uncached = try count(f["input.inputTokenCount"], "input.inputTokenCount", line: line)
        let read = try count(f["input.cacheReadInputTokenCount"], "input.cacheReadInputTokenCount", line: line, optional: true)
        let write = try count(f["input.cacheWriteInputTokenCount"], "input.cacheWriteInputTokenCount", line: line, optional: true)
        let output = try count(f["output.outputTokenCount"], "output.outputTokenCount", line: line)
        let who = options.identityField != nil ? try text(f["identity.arn"], "identity.arn", line: line, optional: true) : nil
        return Row(request: ExportRequest(timeMs: t, inputTokens: uncached + read + write, cachedInputTokens: read, cacheWriteTokens: write,
                                          cacheWrite1hTokens: 0, outputTokens: output, identity: who.flatMap { $0.isEmpty ? nil : $0 },
                                          model: try model(try text(f["modelId"], "modelId", line: line, optional: true), "modelId", line: line),
                                          loggedCostMicrocredits: nil, line: line))
    }
}
