import Ledger
import Simulation
import Yams

/// `replay:` of a usage export (LiteLLM, Bedrock, OpenAI, Anthropic): DESIGN.md, "Usage
/// exports as replay sources".
extension ModelBuilder {
    func exportReplay(_ node: Node, format: TraceFormat, prices: PriceTable, identityIndex: [String: Int],
                      workload: inout Workload) -> ReplaySource? {
        var allowed = ["trace", "format", "models", "identities", "identity_field", "cost", "credits_per_usd",
                       "resample", "loop", "time_scale", "start", "cache"]
        if format == .anthropicUsage { allowed.append("requests_per_bucket") }
        let f = fields(node, "replay", allowed: allowed)
        if let c = f["cache"] {
            d.error(c, "a \(format.rawValue) export records its cache split, which is priced by token class: 'cache:' does not apply to it")
            return nil
        }
        // The files: one, or the pages of one export in order.
        var paths: [String] = []
        guard let t = f["trace"] else { d.error(node, "replay needs a 'trace' (the export's file, or a list of its pages)"); return nil }
        if let seq = t.sequence {
            for n in seq { if let p = string(n, "trace") { paths.append(p) } }
            guard !paths.isEmpty else { d.error(t, "the list of files is empty"); return nil }
        } else if let p = string(t, "trace") {
            paths = [p]
        } else { return nil }
        var rate: String? = nil
        if let c = f["cost"] {
            switch string(c, "cost") {
            case "priced"?: break
            case "logged"?:
                guard format.recordsCost else {
                    d.error(c, "a \(format.rawValue) export records no cost of its own: 'cost: logged' reads LiteLLM's 'spend'; use 'cost: priced'")
                    return nil
                }
                rate = "1"
            case let other?: d.error(c, "cost is priced (the scenario's prices) or logged (the export's own cost), got \(quoted(other))"); return nil
            case nil: return nil
            }
        }
        if let r = f["credits_per_usd"] {
            guard rate != nil else { d.error(r, "credits_per_usd converts a logged cost: it needs 'cost: logged'"); return nil }
            // Read as written: the decimal text, never a binary float.
            guard let text = string(r, "credits_per_usd"), let v = DecimalText(text.trimmingCharacters()), !v.negative, !v.isZero else {
                d.error(r, "credits_per_usd must be a decimal number above 0, got \(r.string.map(quoted) ?? "a \(kind(r))")")
                return nil
            }
            rate = text.trimmingCharacters()
        }
        var identityField: String? = nil
        if let i = f["identity_field"], let name = string(i, "identity_field") {
            guard format.identityFields.contains(name) else {
                let hint = suggestion(for: name, among: format.identityFields).map { " (did you mean '\($0)'?)" } ?? ""
                d.error(i, "the \(format.rawValue) export has no identity field '\(excerpt(name))'\(hint); expected \(format.identityFields.joined(separator: ", "))")
                return nil
            }
            identityField = name
        }
        if let im = f["identities"], identityField == nil {
            d.error(im, "identities map the values of 'identity_field', which the replay does not name")
            return nil
        }
        var perBucket: Int64? = nil
        if format == .anthropicUsage {
            guard let n = integer(f["requests_per_bucket"], "requests_per_bucket", min: 1) else {
                if f["requests_per_bucket"] == nil {
                    d.error(node, "the Anthropic usage report records no request count: the replay needs 'requests_per_bucket: N'")
                }
                return nil
            }
            perBucket = Int64(n)
        }
        var readable: [String] = []
        for (k, p) in paths.enumerated() {
            guard let r = readablePath(p, t.sequence.map { Array($0)[k] } ?? t, what: "export") else { return nil }
            readable.append(r)
        }
        let shown = paths.map { excerpt(resolve($0, relativeTo: directory), limit: 120) }
        let trace: Trace
        do {
            trace = try UsageExport.load(paths: readable, format: format,
                                         options: ExportOptions(identityField: identityField, loggedCreditsPerUSD: rate),
                                         requestsPerBucket: perBucket, shownPaths: shown)
        } catch {
            d.error(t, "cannot replay the export: \(error)")
            return nil
        }
        var modelMap = Array(repeating: -1, count: trace.modelNames.count)
        if let mm = f["models"] {
            for (k, v) in mm.mapping ?? [:] {
                guard let name = k.string, let priced = string(v, "model") else { continue }
                guard let i = trace.modelNames.firstIndex(of: name) else { d.error(k, "the export has no model '\(excerpt(name))'"); continue }
                if let p = prices.index(of: priced) { modelMap[i] = p } else { unknownModel(v, priced, prices) }
            }
        }
        var unknown = false
        for (i, name) in trace.modelNames.enumerated() where modelMap[i] < 0 {
            if let p = prices.index(of: name) { modelMap[i] = p; continue }
            // Every row of an export names its model: one the prices do not know is an error.
            if f["models"]?.mapping?[Node(name)] != nil { continue }
            let at = "\(trace.files[trace.modelFirstFiles[i]]):\(trace.modelFirstLines[i])"
            let hint = suggestion(for: name, among: prices.models.map(\.model)).map { " (did you mean '\($0)'?)" } ?? ""
            d.error(t, "the row on \(at) names model \(quoted(excerpt(name, limit: 60))), which is not in prices\(hint) (map it under the replay's 'models')")
            unknown = true
        }
        if unknown { return nil }
        var identityMap = Array(repeating: -1, count: trace.identityNames.count)
        if let im = f["identities"] {
            for (k, v) in im.mapping ?? [:] {
                guard let value = k.string, let who = string(v, "identity") else { continue }
                guard let i = trace.identityNames.firstIndex(of: value) else {
                    d.error(k, "no row of the export has \(identityField ?? "the identity field") \(quoted(value))"); continue
                }
                if let id = identityIndex[who] { identityMap[i] = id } else { unknownIdentity(v, who, Array(identityIndex.keys)) }
            }
        }
        return replayTiming(f, node, trace: trace, identityMap: identityMap, modelMap: modelMap)
    }
}
