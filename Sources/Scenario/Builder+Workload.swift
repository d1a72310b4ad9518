import Ledger
import Simulation
import Stochastic
import Yams

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ModelBuilder {
    func workload(_ node: Node, name: String, identity: Int, pool: Int, prices: PriceTable,
                  identityIndex: [String: Int]) -> Workload? {
        let f = fields(node, "workload", allowed: ["arrivals", "model", "input_tokens", "output_tokens", "cost", "latency",
                                                   "reserve", "on_reject", "replay", "uncertainty", "cache", "batch", "agents"])
        var w = Workload(name: name, identity: identity, pool: pool, arrivals: .periodic(intervalMs: Millis.hour), models: [])
        // Model mix.
        if let m = f["model"] {
            if let single = m.string {
                if let i = prices.index(of: single) { w.models = [i]; w.modelWeights = [1] } else { unknownModel(m, single, prices) }
            } else if let mix = m.mapping {
                var total = 0.0
                for (k, v) in mix {
                    guard let name = k.string else { continue }
                    guard let p = number(v, "share of \(name)", min: 0, max: 1) else { continue }
                    guard let i = prices.index(of: name) else { total += p; unknownModel(k, name, prices); continue }
                    w.models.append(i)
                    w.modelWeights.append(p)
                    total += p
                }
                if abs(total - 1) > 1e-6 && !w.models.isEmpty {
                    d.error(m, "model shares must sum to 1, they sum to \(format((total * 1e6).rounded() / 1e6))")
                }
            } else {
                d.error(m, "model is a model name or a mapping of models to shares")
            }
        }
        if let c = f["cost"] { w.fixedCostMicrocredits = fixedCost(c) }
        if let t = f["input_tokens"], let s = sampler(t, "input_tokens") { w.inputTokens = s }
        if let t = f["output_tokens"], let s = sampler(t, "output_tokens") { w.outputTokens = s }
        if let l = f["latency"] { w.latencyMs = sampler(l, "latency", durations: true) }
        if let r = f["reserve"] {
            if let s = r.string {
                switch s {
                case "actual": w.reserve = .actual
                case "none": w.reserve = .none
                default: d.error(r, "reserve is actual, none or { max_output_tokens: N }, got '\(s)'")
                }
            } else {
                let rf = fields(r, "reserve", allowed: ["max_output_tokens"])
                if let n = integer(rf["max_output_tokens"], "max_output_tokens", min: 0) { w.reserve = .maxOutputTokens(Int64(n)) }
            }
        }
        if let o = f["on_reject"] {
            let of = fields(o, "on_reject", allowed: ["retry", "give_up"])
            if let r = of["retry"] {
                let rf = fields(r, "retry", allowed: ["max", "backoff", "multiplier", "max_throttle_waits"])
                w.retry = RetryPolicy(maxRetries: integer(rf["max"], "retry max", min: 0) ?? 1,
                                      backoffMs: duration(rf["backoff"], "backoff") ?? 1_000,
                                      multiplier: number(rf["multiplier"], "multiplier", min: 1) ?? 2,
                                      maxThrottleWaits: integer(rf["max_throttle_waits"], "max_throttle_waits", min: 0) ?? 10)
            }
        }
        if let c = f["cache"] { w.cache = cache(c) }
        w.batch = bool(f["batch"], "batch") ?? false
        if w.fixedCostMicrocredits != nil, let k = f["cache"] ?? (w.batch ? f["batch"] : nil) {
            d.error(k, "cache and batch price tokens: a workload with a fixed cost has no tokens to price")
        }
        var prefixCache = false
        if case .prefix? = w.cache { prefixCache = true }
        if prefixCache, f["replay"] == nil {
            d.error(f["cache"], "a prefix cache (prefix_ttl) reads a replayed trace's hash_ids; a synthetic workload takes cache: { read, write }")
        }
        if let c = f["cache"], let name = f["replay"]?.mapping?["format"]?.string, TraceFormat(rawValue: name)?.isUsageExport == true {
            d.error(c, "a \(name) export records its cache split, which is priced by token class: 'cache:' does not apply to it")
            return nil
        }
        if let r = f["replay"] {
            guard let source = replay(r, prices: prices, identityIndex: identityIndex, workload: &w, blocks: prefixCache) else { return nil }
            w.arrivals = .replay(source)
            if f["arrivals"] != nil { d.error(f["arrivals"], "a workload has either arrivals or a replay, not both") }
        } else if let a = f["arrivals"] {
            guard let arrivals = arrivals(a) else { return nil }
            w.arrivals = arrivals
        } else {
            d.error(node, "workload of '\(name)' needs 'arrivals' or 'replay'")
            return nil
        }
        if let u = f["uncertainty"] { w.uncertainty = uncertainty(u, arrivals: w.arrivals) }
        if let a = f["agents"] {
            if case .replay = w.arrivals {
                d.error(a, "agents spawn sub-agents from synthetic requests; a replayed trace's requests are the ones it recorded")
            } else {
                w.agents = agents(a, identityName: name)
            }
        }
        if w.models.isEmpty && w.fixedCostMicrocredits == nil {
            // A replay whose every request names a priced model needs no model of its own.
            if case .replay(let source) = w.arrivals, source.pricesEveryRequest { return w }
            if prices.models.count == 1 { w.models = [0]; w.modelWeights = [1] } else {
                var why = ""
                if case .replay(let source) = w.arrivals, let row = unpricedRow(source, shownPath: f["replay"]?.mapping?["trace"]?.string ?? "") {
                    why = ": \(row)"
                }
                d.error(f["replay"] ?? node, prices.models.isEmpty ? "workload of '\(name)' needs a fixed 'cost', or a 'prices' table and a 'model'\(why)"
                                                                   : "workload of '\(name)' needs a 'model' (or a fixed 'cost')\(why)")
                return nil
            }
        }
        return w
    }

    /// The first request of a replayed trace that no model prices, as a reader can find it:
    /// the file and line, and the model it names when it names one.
    func unpricedRow(_ source: ReplaySource, shownPath: String) -> String? {
        let trace = source.trace
        var first: (line: Int, model: String?)? = trace.firstLineWithoutModel.map { ($0, nil) }
        for (m, name) in trace.modelNames.enumerated() where m < source.modelMap.count && source.modelMap[m] < 0 {
            let line = m < trace.modelFirstLines.count ? trace.modelFirstLines[m] : 0
            if first == nil || line < first!.line { first = (line, name) }
        }
        guard let first else { return nil }
        let at = "\(excerpt(resolve(shownPath, relativeTo: directory), limit: 120)):\(first.line)"
        guard let model = first.model else { return "the request on \(at) names no model" }
        return "the request on \(at) names model \(quoted(excerpt(model, limit: 60))), which is not in prices (map it under the replay's 'models')"
    }

    func fixedCost(_ node: Node) -> Int64? {
        let f = fields(node, "cost", allowed: ["fixed"])
        guard let c = credits(f["fixed"], "cost.fixed") else { d.error(node, "cost needs 'fixed' (credits per request)"); return nil }
        return c
    }

    /// A distribution: `{ lognormal: { median, sigma } }`, `{ lognormal: { mean, sd } }`,
    /// `{ gamma: { shape, scale } }`, `{ gamma: { mean, cv } }`, `{ weibull: { shape, scale } }`,
    /// `{ exponential: { mean } }`, `{ normal: { mean, sd } }`, `{ uniform: { min, max } }`,
    /// `{ pareto: { shape, min } }`, `{ constant: N }` or a bare number, `{ empirical: [..] }`.
    /// With `durations`, location parameters are durations (`4s`) and the result is in ms.
    /// A number or a distribution; a plain number must be at least zero unless `allowNegative`
    /// (then at least −0.99, the bound of a growth rate).
    func sampler(_ node: Node, _ context: String, durations: Bool = false, allowNegative: Bool = false) -> Sampler? {
        func value(_ n: Node?, _ what: String) -> Double? {
            guard let n else { d.error(node, "\(context): missing '\(what)'"); return nil }
            if durations, let s = n.string, Double(s) == nil { return duration(n, "\(context).\(what)").map(Double.init) }
            return number(n, "\(context).\(what)")
        }
        if node.string != nil, node.mapping == nil {
            guard let v = durations ? duration(node, context).map(Double.init) : number(node, context, min: allowNegative ? -0.99 : 0) else { return nil }
            return .constant(v)
        }
        let kinds = ["lognormal", "gamma", "weibull", "exponential", "normal", "uniform", "pareto", "constant", "empirical"]
        guard let (kind, body) = single(node, context, allowed: kinds) else { return nil }
        do {
            switch kind {
            case "constant":
                return value(body, "constant").map { .constant($0) }
            case "empirical":
                let xs = list(body, "\(context).empirical").compactMap { value($0, "empirical value") }
                return .empirical(try Empirical(samples: xs))
            default:
                break
            }
            let keys: [String: [String]] = ["lognormal": ["median", "sigma", "mean", "sd"], "gamma": ["shape", "scale", "mean", "cv"],
                                            "weibull": ["shape", "scale"], "exponential": ["mean"], "normal": ["mean", "sd"],
                                            "uniform": ["min", "max"], "pareto": ["shape", "min"]]
            let f = fields(body, "\(context).\(kind)", allowed: keys[kind]!)
            switch kind {
            case "lognormal":
                if f["median"] != nil || f["sigma"] != nil {
                    guard let m = value(f["median"], "median"), let s = number(f["sigma"], "\(context).sigma") else { return nil }
                    return .lognormal(try LogNormal(median: m, sigma: s))
                }
                guard let m = value(f["mean"], "mean"), let s = value(f["sd"], "sd") else { return nil }
                return .lognormal(try LogNormal(mean: m, sd: s))
            case "gamma":
                if f["mean"] != nil {
                    guard let m = value(f["mean"], "mean"), let cv = number(f["cv"], "\(context).cv") else { return nil }
                    return .gamma(try Gamma(mean: m, cv: cv))
                }
                guard let k = number(f["shape"], "\(context).shape"), let s = value(f["scale"], "scale") else { return nil }
                return .gamma(try Gamma(shape: k, scale: s))
            case "weibull":
                guard let k = number(f["shape"], "\(context).shape"), let s = value(f["scale"], "scale") else { return nil }
                return .weibull(try Weibull(shape: k, scale: s))
            case "exponential":
                guard let m = value(f["mean"], "mean") else { return nil }
                return .exponential(try Exponential(mean: m))
            case "normal":
                guard let m = value(f["mean"], "mean"), let s = value(f["sd"], "sd") else { return nil }
                return .normal(try Normal(mean: m, sd: s))
            case "uniform":
                guard let a = value(f["min"], "min"), let b = value(f["max"], "max") else { return nil }
                return .uniform(try Uniform(lower: a, upper: b))
            default:
                guard let k = number(f["shape"], "\(context).shape"), let m = value(f["min"], "min") else { return nil }
                return .pareto(try Pareto(shape: k, minimum: m))
            }
        } catch {
            // The distributions' initialisers throw only `DistributionError` (typed throws).
            d.error(body, "\(context): \(error.parameter) must be \(error.requirement), got \(format(error.value))")
            return nil
        }
    }

    /// A replay's `time_scale`: the trace's times are multiplied by it, so its span × scale must
    /// stay a 64-bit number of milliseconds (bounded here at 1e15 ms, 31,000 years).
    func timeScale(_ node: Node?, trace: Trace) -> Double {
        guard let scale = number(node, "time_scale", min: 1e-6, max: 1e6) else { return 1 }
        if Double(trace.spanMs) * scale > 1e15 {
            d.error(node, "time_scale \(format(scale)) stretches the trace's span beyond 31,000 years")
            return 1
        }
        return scale
    }

    /// With `blocks` (a prefix cache), the trace's `hash_ids` are read too.
    func replay(_ node: Node, prices: PriceTable, identityIndex: [String: Int], workload: inout Workload, blocks: Bool = false) -> ReplaySource? {
        // The format decides which keys the replay takes: a usage export has keys of its own.
        if let name = node.mapping?["format"]?.string, let format = TraceFormat(rawValue: name), format.isUsageExport {
            return exportReplay(node, format: format, prices: prices, identityIndex: identityIndex, workload: &workload)
        }
        let f = fields(node, "replay", allowed: ["trace", "format", "model", "models", "identities", "resample", "loop", "time_scale", "start"])
        if let t = f["trace"], t.sequence != nil {
            d.error(t, "a list of files is for usage exports (pages of one export); a trace is one CSV file")
            return nil
        }
        guard let path = string(f["trace"], "trace") else { d.error(node, "replay needs a 'trace' (a CSV file)"); return nil }
        let formatName = string(f["format"], "format") ?? "generic"
        guard let format = TraceFormat(rawValue: formatName) else {
            d.error(f["format"], "unknown trace format '\(formatName)'; expected \(TraceFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        if let m = f["model"], let name = string(m, "model") {
            if let i = prices.index(of: name) { workload.models = [i]; workload.modelWeights = [1] } else { unknownModel(m, name, prices) }
        }
        guard let readable = readablePath(path, f["trace"], what: "trace") else { return nil }
        let trace: Trace
        do {
            trace = try Trace.load(path: readable, format: format, blocks: blocks)
        } catch {
            // The error names the file as the scenario wrote it, and quotes at most an excerpt.
            var shown = error
            shown.path = excerpt(resolve(path, relativeTo: directory), limit: 120)
            d.error(f["trace"], "cannot replay the trace: \(shown)")
            return nil
        }
        var modelMap = Array(repeating: -1, count: trace.modelNames.count)
        if let mm = f["models"] {
            for (k, v) in mm.mapping ?? [:] {
                guard let traceName = k.string, let priced = string(v, "model") else { continue }
                guard let i = trace.modelNames.firstIndex(of: traceName) else { d.error(k, "the trace has no model '\(traceName)'"); continue }
                if let p = prices.index(of: priced) { modelMap[i] = p } else { unknownModel(v, priced, prices) }
            }
        }
        for (i, name) in trace.modelNames.enumerated() where modelMap[i] < 0 {
            if let p = prices.index(of: name) { modelMap[i] = p }
        }
        var identityMap = Array(repeating: -1, count: trace.identityNames.count)
        if let im = f["identities"] {
            for (k, v) in im.mapping ?? [:] {
                guard let traceName = k.string, let who = string(v, "identity") else { continue }
                guard let i = trace.identityNames.firstIndex(of: traceName) else { d.error(k, "the trace has no identity '\(traceName)'"); continue }
                if let id = identityIndex[who] { identityMap[i] = id } else { unknownIdentity(v, who, Array(identityIndex.keys)) }
            }
        }
        return replayTiming(f, node, trace: trace, identityMap: identityMap, modelMap: modelMap)
    }

    /// The keys a trace and an export share: `resample`, `loop`, `time_scale`, `start`.
    func replayTiming(_ f: [String: Node], _ node: Node, trace: Trace, identityMap: [Int], modelMap: [Int]) -> ReplaySource? {
        var block: Int64? = nil
        if let r = f["resample"] {
            if r.string == "none" { block = nil } else {
                let rf = fields(r, "resample", allowed: ["block"])
                block = duration(rf["block"], "resample block")
                if let b = block, b <= 0 { d.error(rf["block"], "the block length must be positive"); block = nil }
            }
        } else {
            block = 5 * Millis.minute
        }
        let loop = bool(f["loop"], "loop") ?? false
        // A trace whose requests all fall at one instant has no length to repeat: looped or
        // resampled, it would replay every request once a millisecond for the whole horizon.
        if (loop || block != nil), trace.buckets == nil, trace.count > 0, trace.timesMs[trace.count - 1] == trace.timesMs[0] {
            d.error(f["trace"] ?? node, "the trace's \(trace.count) request(s) all fall at one instant: it spans no time to "
                    + (loop ? "loop" : "resample in blocks") + "; replay it once with 'resample: none'")
            return nil
        }
        return ReplaySource(trace: trace, identityMap: identityMap, modelMap: modelMap,
                            timeScale: timeScale(f["time_scale"], trace: trace),
                            startMs: duration(f["start"], "start") ?? 0, loop: loop, blockMs: block)
    }
}
