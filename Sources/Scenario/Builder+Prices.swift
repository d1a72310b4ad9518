import Ledger
import Yams

extension ModelBuilder {
    /// The keys of a price row that are rates per million tokens, by token class.
    static let rateKeys = TokenClass.allCases.map(\.rawValue)

    /// `prices:` maps a model to a row of rates in credits per million tokens, one per token class
    /// (`input`, `cached_input`, `cache_write`, `cache_write_1h`, `output`), with an optional
    /// `fixed` cost per call, `long_context: { above_input_tokens, <rates> }` and `batch` (a
    /// multiplier in [0, 1]); or it names a CSV (`{ file: model_prices.csv }`) of US dollars.
    func priceTable(_ node: Node?, creditUSD: Double) -> PriceTable {
        var table = PriceTable()
        // No table is needed when every workload has a fixed cost; a workload that needs one says so.
        guard let node else { return table }
        guard let m = node.mapping else { d.error(node, "prices must map model names to { input, output }"); return table }
        for (k, v) in m {
            guard let model = k.string else { continue }
            if model == "file", let path = v.string {
                if let readable = readablePath(path, v, what: "price table") { loadPriceCSV(readable, shown: path, node: v, creditUSD: creditUSD, into: &table) }
                continue
            }
            let f = fields(v, "price of \(model)", allowed: Self.rateKeys + ["fixed", "long_context", "batch"])
            if f.isEmpty { d.error(v, "price of \(model) needs input and output (credits per million tokens) or fixed") }
            var price = ModelPrice(model: model, tier: table.models.count,
                                   inputMicrocreditsPerMillionTokens: credits(f["input"], "\(model).input") ?? 0,
                                   outputMicrocreditsPerMillionTokens: credits(f["output"], "\(model).output") ?? 0,
                                   fixedMicrocredits: credits(f["fixed"], "\(model).fixed") ?? 0,
                                   cachedInputMicrocreditsPerMillionTokens: credits(f["cached_input"], "\(model).cached_input"),
                                   cacheWriteMicrocreditsPerMillionTokens: credits(f["cache_write"], "\(model).cache_write"),
                                   cacheWrite1hMicrocreditsPerMillionTokens: credits(f["cache_write_1h"], "\(model).cache_write_1h"))
            if let lc = f["long_context"] { price.longContext = longContext(lc, model: model) }
            if let b = f["batch"] { price.batchMultiplierPartsPerMillion = batchMultiplier(b, model: model) }
            table.add(price)
        }
        return table
    }

    /// `long_context: { above_input_tokens: N, input: …, output: … }`: the threshold is required;
    /// the rates it omits are the base row's.
    func longContext(_ node: Node, model: String) -> LongContextPrice? {
        let context = "\(model).long_context"
        let f = fields(node, context, allowed: ["above_input_tokens"] + Self.rateKeys)
        guard node.mapping != nil else { return nil }
        guard let thresholdNode = f["above_input_tokens"] else {
            d.error(node, "\(context) needs above_input_tokens (the input tokens, all classes together, above which its rates apply)")
            return nil
        }
        guard let threshold = integer(thresholdNode, "\(context).above_input_tokens", min: 0) else { return nil }
        func r(_ key: String) -> Int64? { credits(f[key], "\(context).\(key)") }
        return LongContextPrice(aboveInputTokens: Int64(threshold), inputMicrocreditsPerMillionTokens: r("input"),
                                cachedInputMicrocreditsPerMillionTokens: r("cached_input"),
                                cacheWriteMicrocreditsPerMillionTokens: r("cache_write"),
                                cacheWrite1hMicrocreditsPerMillionTokens: r("cache_write_1h"),
                                outputMicrocreditsPerMillionTokens: r("output"))
    }

    /// `batch: 0.5`, read as an exact decimal of at most six places (parts per million). At most 1:
    /// a batch discount never raises a price, and `batch: 50` (meant as 50 %) is a typo to catch.
    func batchMultiplier(_ node: Node, model: String) -> Int64? {
        guard case .scalar(let s) = node, let ppm = Money.parseCredits(s.string) else {
            d.error(node, "\(model).batch must be a multiplier such as 0.5 (at most six decimals), got \(node.string.map(quoted) ?? "a \(kind(node))")")
            return nil
        }
        guard ppm >= 0, ppm <= Money.microcreditsPerCredit else {
            d.error(node, "\(model).batch must be between 0 and 1 (a multiplier on every rate), got \(s.string)")
            return nil
        }
        return ppm
    }

    /// A price CSV is in US dollars: its figures are divided by the value of a credit (`credit:`,
    /// default 1 USD) and rounded up to the micro-credit, never under-charging. `model`,
    /// `input_usd_per_mtok` and `output_usd_per_mtok` are required columns;
    /// `cached_input_usd_per_mtok`, `cache_write_usd_per_mtok` and `cache_write_1h_usd_per_mtok`
    /// are optional, and an empty cell there means the class is billed as uncached input.
    func loadPriceCSV(_ file: String, shown path: String, node: Node, creditUSD: Double, into table: inout PriceTable) {
        guard let text = readFile(file) else { d.error(node, "cannot read the price table \(quoted(path))"); return }
        // By `isNewline`, so that CRLF line ends (the shared model_prices.csv has them) split too:
        // a String's "\r\n" is one Character, which splitting on "\n" never finds.
        var lines = text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline)
        guard !lines.isEmpty else { d.error(node, "the price table \(quoted(path)) is empty"); return }
        let header = lines.removeFirst().split(separator: ",").map { $0.trimmingCharacters() }
        guard let mi = header.firstIndex(of: "model"), let ii = header.firstIndex(of: "input_usd_per_mtok"),
              let oi = header.firstIndex(of: "output_usd_per_mtok")
        else { d.error(node, "the price table \(quoted(path)) needs columns model, input_usd_per_mtok, output_usd_per_mtok"); return }
        let cacheColumns = [TokenClass.cachedInput, .cacheWrite, .cacheWrite1h].map { ($0, header.firstIndex(of: "\($0.rawValue)_usd_per_mtok")) }
        if lines.isEmpty { d.error(node, "the price table \(quoted(path)) has a header but no rows") }
        let width = max(mi, ii, oi, cacheColumns.compactMap(\.1).max() ?? 0)
        rows: for (n, line) in lines.enumerated() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters() }
            guard f.count > width else {
                d.error(node, "\(quoted(path)) line \(n + 2): cannot read this price row (\(f.count) fields, expected at least \(width + 1))")
                continue
            }
            // A cell in micro-credits per Mtok; nil and reported when it is not a finite,
            // non-negative number that fits.
            func rate(_ column: Int) -> Int64? {
                let credits = Double(f[column]).map { $0 / creditUSD * 1_000_000 }
                guard let credits, credits.isFinite, credits >= 0, credits < 9e18 else {
                    d.error(node, "\(quoted(path)) line \(n + 2), column \(header[column]): a rate must be a non-negative number of US dollars per million tokens, got \(quoted(f[column]))")
                    return nil
                }
                return Int64(credits.rounded(.up))
            }
            guard let input = rate(ii), let output = rate(oi) else { continue }
            var price = ModelPrice(model: f[mi], tier: table.models.count,
                                   inputMicrocreditsPerMillionTokens: input, outputMicrocreditsPerMillionTokens: output)
            for (c, column) in cacheColumns {
                guard let column, !f[column].isEmpty else { continue }
                guard let r = rate(column) else { continue rows }
                switch c {
                case .cachedInput: price.cachedInputMicrocreditsPerMillionTokens = r
                case .cacheWrite: price.cacheWriteMicrocreditsPerMillionTokens = r
                default: price.cacheWrite1hMicrocreditsPerMillionTokens = r
                }
            }
            table.add(price)
        }
    }
}
