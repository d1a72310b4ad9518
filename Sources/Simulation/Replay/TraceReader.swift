#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Ledger

/// The trace layouts Burnrate reads (see `shared/data/traces/README.md`).
public enum TraceFormat: String, Sendable, CaseIterable {
    /// Azure LLM inference trace 2023: `TIMESTAMP,ContextTokens,GeneratedTokens`.
    case azureLLM = "azure-llm"
    /// BurstGPT v1 or v3, columns found by header name: `Timestamp` (s), `Model`,
    /// `Request tokens`, `Response tokens`. Rows with 0 response tokens are failed requests.
    case burstGPT = "burstgpt"
    /// Mooncake FAST'25: `timestamp_ms,input_length,output_length,hash_ids`.
    case mooncake
    /// `timestamp,identity,model,input_tokens,output_tokens`; the timestamp is ISO 8601 or
    /// decimal seconds; empty identity or model take the scenario's mapping.
    case generic
    /// LiteLLM proxy `LiteLLM_SpendLogs`, CSV with a header or JSON lines (``UsageExportReader``).
    case litellmSpendLogs = "litellm-spend-logs"
    /// Amazon Bedrock model invocation logs, JSON lines.
    case bedrockInvocations = "bedrock-invocations"
    /// Pages of the OpenAI Usage API `/v1/organization/usage/completions`.
    case openaiUsage = "openai-usage"
    /// Pages of the Anthropic Admin API usage report `/v1/organizations/usage_report/messages`.
    case anthropicUsage = "anthropic-usage"
}

/// A trace that cannot be read, located at a line and (when known) a column.
public struct TraceError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var line: Int
    public var column: Int?
    public var message: String

    public var description: String {
        "\(path):\(line)\(column.map { ":\($0)" } ?? ""): \(message)"
    }
}

/// One request of a trace.
public struct TraceRow: Sendable, Equatable {
    /// Milliseconds in the trace's own epoch.
    public var timeMs: Int64
    public var inputTokens: Int64
    public var outputTokens: Int64
    public var identity: String?
    public var model: String?
    /// The trace marks the request as failed (BurstGPT: no response tokens).
    public var failed: Bool
    /// Of ``inputTokens``, those a usage export records as read from or written to the
    /// provider's prompt cache (5-minute and 1-hour writes); 0 for a research trace.
    public var cachedInputTokens: Int64 = 0
    public var cacheWriteTokens: Int64 = 0
    public var cacheWrite1hTokens: Int64 = 0
}

/// Reads a trace row by row in constant memory, whatever the file size.
public final class TraceReader {
    public let path: String
    public let format: TraceFormat
    public private(set) var lineNumber = 0
    private let file: UnsafeMutablePointer<FILE>
    private var buffer: UnsafeMutablePointer<CChar>? = nil
    private var capacity = 0
    private var columns: [String: Int] = [:]
    private let timeColumn: Int, inputColumn: Int, outputColumn: Int
    private let identityColumn: Int?, modelColumn: Int?
    /// The `hash_ids` column, when the reader was asked for block hashes.
    private let blocksColumn: Int?
    /// The block hashes of the row ``next()`` last returned (when asked for them).
    public private(set) var lastBlocks: [Int64] = []

    /// With `blocks`, the file needs a `hash_ids` column (space-separated whole numbers, as in
    /// Mooncake) and each row's are in ``lastBlocks``.
    public init(path: String, format: TraceFormat, blocks: Bool = false) throws(TraceError) {
        self.path = path
        self.format = format
        let f = try Self.openRegularFile(path, what: "trace")
        file = f
        // Header.
        var header: [String] = []
        var line = 0
        if let bytes = Self.readLine(f, &buffer, &capacity) {
            line = 1
            // A CSV trace is text. Anything else (/proc/self/environ is NUL-separated) is refused
            // without quoting a byte of it: what it holds may be secrets.
            if let bad = bytes.firstIndex(where: { $0 < 0x20 && $0 != 9 && $0 != 13 || $0 == 0x7F }) {
                fclose(f)
                throw TraceError(path: path, line: 1, column: bad + 1,
                                 message: "the trace is not CSV text (control character 0x\(String(bytes[bad], radix: 16, uppercase: true)))")
            }
            header = Self.split(bytes).map { String(decoding: $0.bytes, as: UTF8.self).trimmedSpaces() }
        }
        lineNumber = line
        for (i, name) in header.enumerated() where columns[name] == nil { columns[name] = i }
        let cols = columns
        func need(_ name: String) throws(TraceError) -> Int {
            guard let i = cols[name] else {
                fclose(f)
                throw TraceError(path: path, line: 1, column: nil,
                                 message: "the \(format.rawValue) layout needs a column '\(name)'; the header has \(header.count) column(s): "
                                    + header.prefix(8).map { "'" + excerpt($0, limit: 24) + "'" }.joined(separator: ", ") + (header.count > 8 ? ", …" : ""))
            }
            return i
        }
        // Before the last stored property is set: a throw after that would run deinit, which
        // closes the file that `need` already closed.
        blocksColumn = blocks ? try need("hash_ids") : nil
        switch format {
        case .azureLLM:
            timeColumn = try need("TIMESTAMP"); inputColumn = try need("ContextTokens"); outputColumn = try need("GeneratedTokens")
            identityColumn = nil; modelColumn = nil
        case .burstGPT:
            timeColumn = try need("Timestamp"); inputColumn = try need("Request tokens"); outputColumn = try need("Response tokens")
            identityColumn = nil; modelColumn = try need("Model")
        case .mooncake:
            timeColumn = try need("timestamp_ms"); inputColumn = try need("input_length"); outputColumn = try need("output_length")
            identityColumn = nil; modelColumn = nil
        case .generic:
            timeColumn = try need("timestamp"); inputColumn = try need("input_tokens"); outputColumn = try need("output_tokens")
            identityColumn = try need("identity"); modelColumn = try need("model")
        case .litellmSpendLogs, .bedrockInvocations, .openaiUsage, .anthropicUsage:
            fclose(f)
            throw TraceError(path: path, line: 0, column: nil, message: "\(format.rawValue) is a usage export, read by UsageExportReader")
        }
    }

    deinit {
        fclose(file)
        free(buffer)
    }

    /// The next row, or nil at the end of the file. Blank lines are skipped.
    public func next() throws(TraceError) -> TraceRow? {
        while let bytes = Self.readLine(file, &buffer, &capacity) {
            lineNumber += 1
            if bytes.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { continue }
            let fields = Self.split(bytes)
            func field(_ i: Int, _ name: String) throws(TraceError) -> Field {
                guard i < fields.count else {
                    throw TraceError(path: path, line: lineNumber, column: bytes.count + 1,
                                     message: "missing field '\(name)' (the row has \(fields.count) fields)")
                }
                return fields[i]
            }
            let t = try field(timeColumn, "timestamp")
            guard let timeMs = parseTime(t.bytes) else {
                throw TraceError(path: path, line: lineNumber, column: t.column,
                                 message: "cannot read the timestamp '\(excerpt(t.text))'")
            }
            let i = try field(inputColumn, "input tokens")
            let o = try field(outputColumn, "output tokens")
            guard let input = Self.parseCount(i.bytes) else {
                throw TraceError(path: path, line: lineNumber, column: i.column, message: "input tokens must be a whole number ≥ 0, got '\(excerpt(i.text))'")
            }
            guard let output = Self.parseCount(o.bytes) else {
                throw TraceError(path: path, line: lineNumber, column: o.column, message: "output tokens must be a whole number ≥ 0, got '\(excerpt(o.text))'")
            }
            let identity = try identityColumn.map { (c) throws(TraceError) in try field(c, "identity").text }
            let model = try modelColumn.map { (c) throws(TraceError) in try field(c, "model").text }
            if let c = blocksColumn { try readBlocks(try field(c, "hash_ids")) }
            return TraceRow(timeMs: timeMs, inputTokens: input, outputTokens: output, identity: identity, model: model,
                            failed: format == .burstGPT && output == 0)
        }
        if ferror(file) != 0 {
            throw TraceError(path: path, line: lineNumber, column: nil, message: "read error: \(String(cString: strerror(errno)))")
        }
        return nil
    }

    /// `hash_ids`: whole numbers separated by spaces (Mooncake writes them so inside one CSV
    /// field, optionally in brackets); an empty field is a request with no blocks.
    private func readBlocks(_ f: Field) throws(TraceError) {
        lastBlocks.removeAll(keepingCapacity: true)
        var start: Int? = nil
        let bytes = f.bytes
        // One step past the end, read as a separator, closes the last number.
        for i in bytes.startIndex...bytes.endIndex {
            let c: UInt8 = i < bytes.endIndex ? bytes[i] : 32
            let separator = c == 32 || c == 91 || c == 93 || c == 44 || c == 9  // space [ ] , tab
            if !separator {
                if start == nil { start = i }
                continue
            }
            guard let s = start else { continue }
            start = nil
            guard let v = Self.parseCount(bytes[s..<i]) else {
                throw TraceError(path: path, line: lineNumber, column: f.column + (s - bytes.startIndex),
                                 message: "hash_ids must be whole numbers ≥ 0 separated by spaces, got '\(excerpt(String(decoding: bytes[s..<i], as: UTF8.self)))'")
            }
            lastBlocks.append(v)
        }
    }

    func parseTime(_ b: ArraySlice<UInt8>) -> Int64? {
        switch format {
        case .azureLLM: return TimeParsing.dateTimeMs(b)
        case .burstGPT: return TimeParsing.decimalSecondsMs(b)
        case .mooncake: return Self.parseCount(b)
        case .generic: return TimeParsing.dateTimeMs(b) ?? TimeParsing.decimalSecondsMs(b)
        case .litellmSpendLogs, .bedrockInvocations, .openaiUsage, .anthropicUsage: return nil
        }
    }

    struct Field {
        var bytes: ArraySlice<UInt8>
        /// 1-based column of the field's first character.
        var column: Int
        var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    static func readLine(_ f: UnsafeMutablePointer<FILE>, _ buffer: inout UnsafeMutablePointer<CChar>?,
                         _ capacity: inout Int) -> [UInt8]? {
        let n = getline(&buffer, &capacity, f)
        guard n >= 0, let buffer else { return nil }
        var count = n
        while count > 0 && (buffer[count - 1] == 10 || buffer[count - 1] == 13) { count -= 1 }
        return buffer.withMemoryRebound(to: UInt8.self, capacity: count) { Array(UnsafeBufferPointer(start: $0, count: count)) }
    }

    /// Splits a CSV line into fields; a field in double quotes may hold commas and `""`.
    static func split(_ line: [UInt8]) -> [Field] {
        var fields: [Field] = []
        var i = 0
        let n = line.count
        while true {
            let start = i
            if i < n && line[i] == 34 {  // quoted
                var j = i + 1
                while j < n {
                    if line[j] == 34 { if j + 1 < n && line[j + 1] == 34 { j += 2; continue } else { break } }
                    j += 1
                }
                fields.append(Field(bytes: line[(i + 1)..<min(j, n)], column: start + 1))
                i = min(j + 1, n)
                while i < n && line[i] != 44 { i += 1 }
            } else {
                while i < n && line[i] != 44 { i += 1 }
                fields.append(Field(bytes: line[start..<i], column: start + 1))
            }
            if i >= n { break }
            i += 1  // the comma
        }
        return fields
    }

    /// A whole number (a trailing `.0` is accepted, as some traces write counts as floats).
    static func parseCount(_ b: ArraySlice<UInt8>) -> Int64? {
        var s = b
        while let f = s.first, f == 32 { s = s.dropFirst() }
        while let l = s.last, l == 32 { s = s.dropLast() }
        if let dot = s.firstIndex(of: 46) {
            guard s[(dot + 1)...].allSatisfy({ $0 == 48 }) else { return nil }
            s = s[..<dot]
        }
        guard !s.isEmpty, s.count <= 18 else { return nil }
        var v: Int64 = 0
        for c in s {
            guard c >= 48 && c <= 57 else { return nil }
            v = v * 10 + Int64(c - 48)
        }
        return v
    }
}

/// Timestamp parsing without Foundation (fast, and the same on every platform).
enum TimeParsing {
    /// `YYYY-MM-DD[T ]hh:mm:ss[.fffffff][Z|±hh:mm]` → ms since 1970-01-01 UTC (no zone = UTC).
    /// Sub-millisecond digits are truncated, which keeps the order of the rows.
    static func dateTimeMs(_ b: ArraySlice<UInt8>) -> Int64? {
        let s = Array(b.drop { $0 == 32 })
        func digits(_ at: Int, _ count: Int) -> Int64? {
            guard at + count <= s.count else { return nil }
            var v: Int64 = 0
            for k in at..<(at + count) {
                guard s[k] >= 48 && s[k] <= 57 else { return nil }
                v = v * 10 + Int64(s[k] - 48)
            }
            return v
        }
        guard s.count >= 19, s[4] == 45, s[7] == 45, s[10] == 84 || s[10] == 32 || s[10] == 116, s[13] == 58, s[16] == 58,
              let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2),
              let hour = digits(11, 2), let minute = digits(14, 2), let second = digits(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        var ms: Int64 = 0
        if i < s.count && s[i] == 46 {
            i += 1
            var scale: Int64 = 100
            let start = i
            while i < s.count && s[i] >= 48 && s[i] <= 57 {
                if scale > 0 { ms += Int64(s[i] - 48) * scale; scale /= 10 }
                i += 1
            }
            if i == start { return nil }
        }
        var offsetMs: Int64 = 0
        if i < s.count {
            if s[i] == 90 || s[i] == 122 { i += 1 } else if s[i] == 43 || s[i] == 45 {
                guard let oh = digits(i + 1, 2) else { return nil }
                var j = i + 3
                if j < s.count && s[j] == 58 { j += 1 }
                guard let om = digits(j, 2) else { return nil }
                offsetMs = (oh * 60 + om) * 60_000 * (s[i] == 43 ? 1 : -1)
                i = j + 2
            }
            while i < s.count && s[i] == 32 { i += 1 }
            guard i == s.count else { return nil }
        }
        let days = CivilCalendar.days(year: year, month: month, day: day)
        return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1_000 + ms - offsetMs
    }

    /// Decimal seconds (`19440110.0`, `5`, `1712.25`) → ms, rounded to the nearest ms.
    static func decimalSecondsMs(_ b: ArraySlice<UInt8>) -> Int64? {
        var s = b
        while let f = s.first, f == 32 { s = s.dropFirst() }
        while let l = s.last, l == 32 { s = s.dropLast() }
        guard !s.isEmpty else { return nil }
        var whole: Int64 = 0
        var frac: Int64 = 0
        var scale: Int64 = 100
        var seenDot = false, seenDigit = false
        var roundUp = false
        for c in s {
            if c == 46 { guard !seenDot else { return nil }; seenDot = true; continue }
            guard c >= 48 && c <= 57 else { return nil }
            seenDigit = true
            if !seenDot {
                guard whole < 100_000_000_000_000 else { return nil }
                whole = whole * 10 + Int64(c - 48)
            } else if scale > 0 {
                frac += Int64(c - 48) * scale
                scale /= 10
            } else if scale == 0 {
                roundUp = c >= 53
                scale = -1
            }
        }
        guard seenDigit else { return nil }
        return whole * 1_000 + frac + (roundUp ? 1 : 0)
    }
}

extension String {
    func trimmedSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\u{FEFF}" { s = s.dropFirst() }
        while let l = s.last, l == " " { s = s.dropLast() }
        return String(s)
    }
}

extension TraceReader {
    /// Opens `path` for reading if it is a regular file: a device (/dev/zero, /dev/stdin) or a
    /// FIFO never ends, or blocks. Checked before opening too (opening a FIFO blocks until a
    /// writer comes) and again on the open descriptor. `what` names the file in errors
    /// ("trace", "export").
    static func openRegularFile(_ path: String, what: String) throws(TraceError) -> UnsafeMutablePointer<FILE> {
        let notRegular = "a\(what.first.map { "aeiou".contains($0) } == true ? "n" : "") \(what) is a regular file (not a device, a FIFO or a folder)"
        var before = stat()
        if stat(path, &before) == 0, before.st_mode & S_IFMT != S_IFREG {
            throw TraceError(path: path, line: 0, column: nil, message: notRegular)
        }
        guard let f = fopen(path, "r") else {
            throw TraceError(path: path, line: 0, column: nil, message: "cannot open the \(what): \(String(cString: strerror(errno)))")
        }
        var st = stat()
        guard fstat(fileno(f), &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            fclose(f)
            throw TraceError(path: path, line: 0, column: nil, message: notRegular)
        }
        return f
    }
}
