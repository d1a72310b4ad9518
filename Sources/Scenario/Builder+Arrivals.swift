import Ledger
import Simulation
import Stochastic
import Yams

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a workload's requests arrive: the arrival process with its profile and growth, the demand
/// uncertainty drawn per replication, and agent chains (tasks that delegate down a tree).
extension ModelBuilder {
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
}
