/// What a usage export reader is asked for besides the file and the format.
public struct ExportOptions: Sendable, Equatable {
    /// The export field that names the spender (`team_id`, `api_key`, `identity.arn`, …); nil:
    /// every request is the workload's own identity.
    public var identityField: String?
    /// Read the export's own cost (`cost: logged`) at this many credits per USD, a decimal as
    /// written (`"1"`, `"100"`, `"0.5"`); nil prices tokens instead.
    public var loggedCreditsPerUSD: String?

    public init(identityField: String? = nil, loggedCreditsPerUSD: String? = nil) {
        self.identityField = identityField
        self.loggedCreditsPerUSD = loggedCreditsPerUSD
    }
}

/// One request of a per-request export (LiteLLM, Bedrock), its tokens by class.
public struct ExportRequest: Sendable, Equatable {
    public var timeMs: Int64
    /// Every input token, of all classes (uncached = input − cached − writes).
    public var inputTokens: Int64
    public var cachedInputTokens: Int64
    public var cacheWriteTokens: Int64
    public var cacheWrite1hTokens: Int64
    public var outputTokens: Int64
    public var identity: String?
    public var model: String
    /// The export's own cost in micro-credits (with ``ExportOptions/loggedCreditsPerUSD``).
    public var loggedCostMicrocredits: Int64?
    /// The line the request starts on.
    public var line: Int
}

/// One result of a bucket of an aggregated export (OpenAI, Anthropic): token totals by class
/// over `requests` requests in [startMs, endMs).
public struct ExportBucketResult: Sendable, Equatable {
    public var startMs: Int64
    public var endMs: Int64
    /// nil: the export does not say (Anthropic); the scenario's `requests_per_bucket` does.
    public var requests: Int64?
    public var uncachedInputTokens: Int64
    public var cachedInputTokens: Int64
    public var cacheWriteTokens: Int64
    public var cacheWrite1hTokens: Int64
    public var outputTokens: Int64
    public var identity: String?
    public var model: String
    /// Batch API use (OpenAI's `batch`), priced at the row's batch multiplier.
    public var batch: Bool = false
    public var line: Int

    public var totalTokens: Int64 { uncachedInputTokens + cachedInputTokens + cacheWriteTokens + cacheWrite1hTokens + outputTokens }
}

/// An item of a usage export.
public enum ExportItem: Sendable, Equatable {
    case request(ExportRequest)
    case bucket(ExportBucketResult)
}

extension TraceFormat {
    /// A usage export of a gateway or provider (not a research trace).
    public var isUsageExport: Bool {
        switch self {
        case .litellmSpendLogs, .bedrockInvocations, .openaiUsage, .anthropicUsage: true
        default: false
        }
    }

    /// An export of token totals per time bucket, disaggregated into requests at replay.
    public var isBucketed: Bool { self == .openaiUsage || self == .anthropicUsage }

    /// Whether the export records a cost of its own (`cost: logged`).
    public var recordsCost: Bool { self == .litellmSpendLogs }

    /// The fields `identity_field:` may name.
    public var identityFields: [String] {
        switch self {
        case .litellmSpendLogs: ["team_id", "api_key", "user", "end_user"]
        case .bedrockInvocations: ["identity.arn"]
        case .openaiUsage: ["project_id", "api_key_id", "user_id"]
        case .anthropicUsage: ["api_key_id", "workspace_id"]
        default: []
        }
    }
}

/// Reads a usage export item by item in constant memory, whatever the file size: the file is
/// walked through a fixed buffer, a CSV record or JSON line is read field by field and what is
/// not needed (prompts, responses, request bodies) is skipped without being kept. Every
/// malformed item is an error naming the file, the line and the field.
public final class UsageExportReader {
    public let path: String
    public let format: TraceFormat
    public let options: ExportOptions
    /// LiteLLM rows whose `status` is not `success`: skipped, and counted here.
    public internal(set) var skippedNotSuccess = 0
    let source: ByteSource
    var pull: JSONPull<ByteSource>
    let rate: DecimalText?
    /// LiteLLM as CSV: where the header put the columns read (nil for JSON lines).
    var csvColumns: LiteLLMColumns? = nil
    /// The current CSV record's bytes (quotes removed) and its fields' bounds: field `i` is
    /// `record[fieldBounds[i]..<fieldBounds[i + 1]]`. Reused from record to record.
    @exclusivity(unchecked) var record: [UInt8] = []
    @exclusivity(unchecked) var fieldBounds: [Int] = []
    var pages: PageState = .betweenDocuments
    var pendingResults: [ExportBucketResult] = []
    var pendingIndex = 0
    var pageSawData = false
    /// The earliest start and latest end of every bucket read, empty ones included: the time
    /// the export covers.
    public internal(set) var windowStartMs: Int64? = nil
    public internal(set) var windowEndMs: Int64? = nil

    /// The line of the last item read.
    public internal(set) var lineNumber = 0

    public init(path: String, format: TraceFormat, options: ExportOptions = ExportOptions()) throws(TraceError) {
        precondition(format.isUsageExport, "\(format.rawValue) is a trace layout, read by TraceReader")
        self.path = path
        self.format = format
        self.options = options
        source = try ByteSource(path: path)
        pull = JSONPull(source)
        if let r = options.loggedCreditsPerUSD {
            guard let d = DecimalText(r), !d.negative else {
                throw TraceError(path: path, line: 0, column: nil, message: "credits_per_usd must be a decimal ≥ 0, got '\(excerpt(r))'")
            }
            rate = d
        } else {
            rate = nil
        }
        if let field = options.identityField, !format.identityFields.contains(field) {
            throw TraceError(path: path, line: 0, column: nil, message: "the \(format.rawValue) format has no identity field '\(excerpt(field))'; "
                             + "expected one of \(format.identityFields.joined(separator: ", "))")
        }
        if format == .litellmSpendLogs {
            source.skipWhitespace()
            if let b = source.peek(), b != 123 { try readCSVHeader() }
        }
    }

    func error(_ line: Int, _ message: String) -> TraceError {
        TraceError(path: path, line: line, column: nil, message: message)
    }

    func syntax(_ e: JSONSyntax) -> TraceError { error(e.line, "not JSON: \(e.message)") }

    /// The next item, or nil at the end of the export.
    public func next() throws(TraceError) -> ExportItem? {
        switch format {
        case .litellmSpendLogs:
            while true {
                let row = try csvColumns != nil ? nextCSVRow() : nextJSONLine()
                guard let row else { return nil }
                if let r = row.request { return .request(r) }
                skippedNotSuccess += 1
            }
        case .bedrockInvocations:
            return try nextJSONLine()?.request.map(ExportItem.request)
        default:
            return try nextBucketResult().map(ExportItem.bucket)
        }
    }

    /// A request, or nil for a LiteLLM row that did not succeed.
    struct Row { var request: ExportRequest? }

    // MARK: Field readers shared by the formats

    /// A token count: a JSON integer ≥ 0 (`null` or absent is 0 only where `optional`).
    func count(_ v: JSONItem?, _ field: String, line: Int, optional: Bool = false) throws(TraceError) -> Int64 {
        switch v {
        case nil where optional, .null? where optional: return 0
        case nil: throw error(line, "missing field '\(field)'")
        case .number(let text)?:
            guard let n = Self.wholeNumber(Array(text.utf8)[...]) else {
                throw error(line, "field '\(field)' must be a whole number ≥ 0, got \(excerpt(text))")
            }
            return n
        case let other?: throw error(line, "field '\(field)' must be a whole number ≥ 0, got \(other.kind)")
        }
    }

    /// Digits only, at most 18 of them (no sign, no fraction, no exponent).
    static func wholeNumber(_ b: ArraySlice<UInt8>) -> Int64? {
        guard !b.isEmpty, b.count <= 18 else { return nil }
        var v: Int64 = 0
        for c in b {
            guard c >= 48 && c <= 57 else { return nil }
            v = v * 10 + Int64(c - 48)
        }
        return v
    }

    /// A string field; `null` and absent are nil where `optional`.
    func text(_ v: JSONItem?, _ field: String, line: Int, optional: Bool = false) throws(TraceError) -> String? {
        switch v {
        case .string(let s)?: return s
        case nil where optional, .null? where optional: return nil
        case nil: throw error(line, "missing field '\(field)'")
        case let other?: throw error(line, "field '\(field)' must be a string, got \(other.kind)")
        }
    }

    /// The model a row names; a row must name one.
    func model(_ name: String?, _ field: String, line: Int) throws(TraceError) -> String {
        guard let name, !name.isEmpty else { throw error(line, "field '\(field)' names no model") }
        return name
    }

    /// A logged USD cost (text as written) in micro-credits at the scenario's rate.
    func loggedCost(_ text: String, _ field: String, line: Int) throws(TraceError) -> Int64 {
        guard let usd = DecimalText(text), !usd.negative || usd.isZero else {
            throw error(line, "field '\(field)' must be a decimal number of USD ≥ 0, got '\(excerpt(text))'")
        }
        guard let micro = usd.times(rate!).microUnitsRounded else {
            throw error(line, "field '\(field)': \(excerpt(text)) USD is beyond what the ledger counts")
        }
        return micro
    }

    /// Walks the object at the parser's position, materialising the values at `paths` (dotted:
    /// `input.inputTokenCount`) and skipping everything else; a wanted key given twice is an
    /// error (the two would change the meaning).
    static func collect<I>(_ pull: inout JSONPull<I>, paths: [[String]], prefix: String = "",
                           into out: inout [String: JSONItem]) throws(JSONSyntax) {
        try pull.beginObject()
        while let key = try pull.nextKey() {
            // No allocation for the keys that are skipped (most of them, in a spend log's metadata).
            var whole = false, nested = false
            for p in paths where p[0] == key { if p.count == 1 { whole = true } else { nested = true } }
            if whole {
                let dotted = prefix + key
                guard out[dotted] == nil else { throw JSONSyntax(message: "duplicate key '\(excerpt(dotted))'", line: pull.line) }
                out[dotted] = try pull.value()
            } else if nested, pull.peekByte() == 123 {
                try collect(&pull, paths: paths.filter { $0[0] == key && $0.count > 1 }.map { Array($0.dropFirst()) },
                            prefix: prefix + key + ".", into: &out)
            } else {
                try pull.skip()
            }
        }
    }

    /// Reads one JSON line at the parser's position into `out`; nil at the end of the file.
    func jsonLine(paths: [[String]]) throws(TraceError) -> (fields: [String: JSONItem], line: Int)? {
        source.skipWhitespace()
        guard source.peek() != nil else {
            if source.failed { throw source.readError() }
            return nil
        }
        let line = source.line
        lineNumber = line
        var out: [String: JSONItem] = [:]
        do throws(JSONSyntax) {
            guard pull.peekByte() == 123 else { throw JSONSyntax(message: "a JSON line is an object", line: line) }
            try Self.collect(&pull, paths: paths, into: &out)
        } catch { throw syntax(error) }
        // One object a line: what follows it on its line is a syntax error.
        while let b = source.peek(), b == 32 || b == 9 || b == 13 { source.advance() }
        if let b = source.peek(), b != 10 { throw error(source.line, "more than one JSON value on a line (byte 0x\(String(b, radix: 16)))") }
        if source.failed { throw source.readError() }
        return (out, line)
    }
}

/// The columns of a LiteLLM CSV header that a reader reads.
struct LiteLLMColumns {
    var startTime: Int, model: Int, prompt: Int, completion: Int
    var spend: Int?, status: Int?, metadata: Int?, identity: Int?
}

/// Where a reader of JSON pages is.
enum PageState { case betweenDocuments, inDocument, inData, done }
