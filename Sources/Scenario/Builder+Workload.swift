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

    /// `uncertainty: { rate: DIST, growth: DIST }` (DESIGN.md, "Demand uncertainty"): `rate`
    /// multiplies a synthetic process's rate, `growth` replaces its growth per month; each drawn
    /// once per replication.
    func uncertainty(_ node: Node, arrivals: ArrivalProcess) -> DemandUncertainty? {
        let f = fields(node, "uncertainty", allowed: ["rate", "growth"])
        guard f["rate"] != nil || f["growth"] != nil else {
            d.error(node, "uncertainty needs 'rate' (a multiplier of the rate) or 'growth' (the growth per month), each a number or a distribution")
            return nil
        }
        if case .replay = arrivals {
            d.error(node, "uncertainty applies to synthetic arrivals; a replayed trace is the demand it recorded")
            return nil
        }
        var u = DemandUncertainty()
        if let r = f["rate"] {
            u.rate = sampler(r, "uncertainty.rate")
            if let rate = u.rate, !(rate.mean > 0) {
                d.error(r, "uncertainty.rate multiplies the rate: its mean must be positive (mean 1 keeps the rate on average)")
            }
        }
        if let g = f["growth"] {
            switch arrivals {
            case .poisson, .renewal: u.growthPerMonth = sampler(g, "uncertainty.growth", allowNegative: true)
            default: d.error(g, "uncertainty.growth replaces growth.per_month, which only poisson and renewal arrivals have")
            }
        }
        return u
    }

    /// `agents: { delegate: CREDITS | [CREDITS per level], depth: N, children: N, requests: N,
    /// close: after | never }` (docs/scenario-format.md, "Agent chains"): each request is a task
    /// whose sub-agents draw through delegations, at most the ledger's maximum depth (4) below the
    /// identity.
    func agents(_ node: Node, identityName: String) -> AgentChain? {
        let f = fields(node, "agents", allowed: ["delegate", "depth", "children", "requests", "close"])
        let maxDepth = LedgerConfig().maxDelegationDepth
        guard let amountNode = f["delegate"] else {
            d.error(node, "agents need 'delegate': the credits handed to each sub-agent (or a list, one amount per level)")
            return nil
        }
        var amounts: [Int64] = []
        var ok = true
        if amountNode.sequence != nil {
            for n in list(amountNode, "agents.delegate") {
                guard let c = credits(n, "agents.delegate") else { ok = false; continue }
                if c == 0 { d.error(n, "agents.delegate must be positive: a delegation of nothing is refused"); ok = false }
                amounts.append(c)
            }
            if amounts.isEmpty && ok { d.error(amountNode, "agents.delegate lists one amount per level, at least one"); ok = false }
        } else if let c = credits(amountNode, "agents.delegate") {
            if c == 0 { d.error(amountNode, "agents.delegate must be positive: a delegation of nothing is refused"); ok = false }
            amounts = [c]
        } else {
            ok = false
        }
        var depth = amountNode.sequence != nil ? amounts.count : 1
        if let dn = f["depth"] {
            guard let v = integer(dn, "agents.depth", min: 1) else { return nil }
            guard v <= maxDepth else {
                d.error(dn, "agents.depth is at most \(maxDepth), the ledger's max_delegation_depth (got \(v))")
                return nil
            }
            if amountNode.sequence != nil, ok, v != amounts.count {
                d.error(dn, "agents.depth \(v) differs from the \(amounts.count) amount(s) listed in 'delegate' (one per level)")
                return nil
            }
            depth = v
        } else if depth > maxDepth {
            d.error(amountNode, "agents.delegate lists \(depth) levels; the ledger's max_delegation_depth is \(maxDepth)")
            return nil
        }
        let children = f["children"].flatMap { integer($0, "agents.children", min: 1) } ?? 1
        let requests = f["requests"].flatMap { integer($0, "agents.requests", min: 0) } ?? 1
        var closesAfter = true
        if let c = f["close"], let s = string(c, "agents.close") {
            switch s {
            case "after": closesAfter = true
            case "never": closesAfter = false
            default: d.error(c, "agents.close is after (the task closes its delegations once its sub-agents are done) or never, got \(quoted(s))")
            }
        }
        guard ok else { return nil }
        if amounts.count == 1 && depth > 1 { amounts = Array(repeating: amounts[0], count: depth) }
        let chain = AgentChain(delegateMicrocredits: amounts, children: children, requests: requests, closesAfter: closesAfter)
        // A task's tree runs at one instant: bound it, and the names the ledger gives its agents.
        guard children <= 1_000, chain.agentsPerTask <= 10_000, chain.agentsPerTask * max(requests, 1) <= 100_000 else {
            d.error(f["children"] ?? node, "a task's agent tree is at most 10,000 sub-agents and 100,000 requests (children^1 + … + children^depth sub-agents, each making 'requests')")
            return nil
        }
        let longest = identityName.utf8.count + ":sub-".utf8.count + String(children).utf8.count * depth + (depth - 1)
        if longest > LedgerName.maxLength {
            d.error(node, "the sub-agents of '\(excerpt(identityName, limit: 60))' would have names of \(longest) characters; a name is at most \(LedgerName.maxLength)")
            return nil
        }
        return chain
    }

    func fixedCost(_ node: Node) -> Int64? {
        let f = fields(node, "cost", allowed: ["fixed"])
        guard let c = credits(f["fixed"], "cost.fixed") else { d.error(node, "cost needs 'fixed' (credits per request)"); return nil }
        return c
    }

    func arrivals(_ node: Node) -> ArrivalProcess? {
        let f = fields(node, "arrivals", allowed: ["poisson", "renewal", "bursty", "periodic", "profile", "growth"])
        var profile = Profile.flat
        if let p = f["profile"] {
            if let name = p.string {
                if let named = Profile.named[name] { profile = named } else {
                    let hint = suggestion(for: name, among: Array(Profile.named.keys)).map { " (did you mean '\($0)'?)" } ?? ""
                    d.error(p, "unknown profile '\(name)'\(hint); expected flat, business-hours, follow-the-sun or 24/168 hourly factors")
                }
            } else {
                let factors = list(p, "profile").compactMap { number($0, "profile factor", min: 0) }
                if let pr = Profile(factors: factors) { profile = pr } else { d.error(p, "a profile lists 24 or 168 non-negative factors, not all zero (got \(factors.count))") }
            }
        }
        var growth = 0.0
        if let g = f["growth"] {
            let gf = fields(g, "growth", allowed: ["per_day", "per_week", "per_month"])
            if let v = number(gf["per_day"], "growth per_day", min: -0.99) { growth = v }
            if let v = number(gf["per_week"], "growth per_week", min: -0.99) { growth = pow(1 + v, 1.0 / 7) - 1 }
            if let v = number(gf["per_month"], "growth per_month", min: -0.99) { growth = pow(1 + v, 1.0 / 30) - 1 }
        }
        let processes = ["poisson", "renewal", "bursty", "periodic"].filter { f[$0] != nil }
        guard processes.count == 1 else {
            d.error(node, "arrivals need exactly one of poisson, renewal, bursty, periodic")
            return nil
        }
        switch processes[0] {
        case "poisson":
            let pf = fields(f["poisson"]!, "poisson", allowed: ["rate"])
            guard let r = rate(pf["rate"], "poisson rate") else { if pf["rate"] == nil { d.error(f["poisson"], "poisson needs a 'rate'") }; return nil }
            return .poisson(ratePerHour: r, profile: profile, growthPerDay: growth)
        case "periodic":
            // A scheduled job: exactly one request every 1/rate from the start, no randomness.
            let pf = fields(f["periodic"]!, "periodic", allowed: ["rate"])
            guard let r = rate(pf["rate"], "periodic rate") else { if pf["rate"] == nil { d.error(f["periodic"], "periodic needs a 'rate'") }; return nil }
            guard r > 0 else { d.error(pf["rate"], "a periodic rate must be positive"); return nil }
            // The clock counts whole milliseconds: a gap below 1 ms cannot be kept.
            guard r <= 3_600_000 else { d.error(pf["rate"], "a periodic rate is at most 1000/s (one request a millisecond, the clock's resolution)"); return nil }
            if f["profile"] != nil || f["growth"] != nil { d.error(node, "periodic arrivals take no profile or growth") }
            return .periodic(intervalMs: max(1, Int64((3_600_000 / r).rounded())))
        case "renewal":
            let rf = fields(f["renewal"]!, "renewal", allowed: ["rate", "cv", "gaps"])
            guard let r = rate(rf["rate"], "renewal rate") else { if rf["rate"] == nil { d.error(f["renewal"], "renewal needs a 'rate'") }; return nil }
            guard r > 0 else { d.error(rf["rate"], "a renewal rate must be positive"); return nil }
            // Gaps are whole milliseconds: above one a millisecond they would round to none.
            guard r <= 3_600_000 else { d.error(rf["rate"], "a renewal rate is at most 1000/s (gaps are whole milliseconds; use poisson above that)"); return nil }
            // Above 10 a gamma's shape (1/cv²) is below 0.01 and a Weibull's has no root in the
            // solver's range: nearly every gap is zero and the rare rest overflow the clock.
            guard let cv = number(rf["cv"], "cv", min: 0.01, max: 10) else { if rf["cv"] == nil { d.error(f["renewal"], "renewal needs a 'cv'") }; return nil }
            let gaps = string(rf["gaps"], "gaps") ?? "gamma"
            switch gaps {
            case "gamma": return .renewal(ratePerHour: r, family: .gamma(cv: cv), profile: profile, growthPerDay: growth)
            case "weibull": return .renewal(ratePerHour: r, family: .weibull(shape: GapFamily.weibullShape(forCV: cv)), profile: profile, growthPerDay: growth)
            default: d.error(rf["gaps"], "gaps are gamma or weibull, got '\(gaps)'"); return nil
            }
        default:
            let bf = fields(f["bursty"]!, "bursty", allowed: ["base", "burst", "burst_every", "burst_length"])
            guard let base = rate(bf["base"], "base rate"), let burst = rate(bf["burst"], "burst rate"),
                  let every = duration(bf["burst_every"], "burst_every"), let length = duration(bf["burst_length"], "burst_length")
            else { d.error(f["bursty"], "bursty needs base, burst (rates), burst_every and burst_length (durations)"); return nil }
            // The two rates are the process: a profile or growth would be silently ignored.
            if f["profile"] != nil || f["growth"] != nil { d.error(node, "bursty arrivals take no profile or growth (their base and burst rates are the shape)") }
            return .markovModulated(ratesPerHour: [base, burst], meanSojournMs: [Double(max(every, 1)), Double(max(length, 1))])
        }
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
