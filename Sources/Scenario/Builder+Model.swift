import Ledger
import Simulation
import Stochastic
import Yams

extension ModelBuilder {
    struct Built {
        var model: SimulationModel
        var funding: [Int64]
        var work: WorkEstimate
        var sources = ScenarioSources()
    }

    /// Pool being assembled (policies need the pool's funding, which is known after its grants).
    struct PoolDraft {
        var id: String
        var parent: Int?
        var node: Node
        var fields: [String: Node]
    }

    func model(_ root: Node, top: [String: Node], name: String) -> Built? {
        let errorsBefore = d.errorCount
        guard let horizonNode = top["horizon"] else { d.error(root, "the scenario needs a 'horizon' (e.g. 30d)"); return nil }
        let horizon = duration(horizonNode, "horizon") ?? 0
        if horizon <= 0 && d.errorCount == errorsBefore { d.error(horizonNode, "horizon must be positive") }
        let seed = integer(top["seed"], "seed", min: 0) ?? 1
        var generator = Generator.taus2
        if let g = string(top["generator"], "generator") {
            if let gen = Generator(rawValue: g) { generator = gen } else {
                d.error(top["generator"], "unknown generator '\(g)'; expected one of \(Generator.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        let creditUSD = number(top["credit"], "credit (US dollars per credit)", min: 1e-9) ?? 1
        let prices = priceTable(top["prices"], creditUSD: creditUSD)

        // Pools, depth first.
        var drafts: [PoolDraft] = []
        func collect(_ list: Node?, parent: Int?) {
            for p in self.list(list, "pools") {
                let f = fields(p, "pool", allowed: ["id", "children", "grants", "policies", "period", "refill", "environment"])
                guard let id = validName(f["id"], "pool id") else { if f["id"] == nil { d.error(p, "a pool needs an 'id'") }; continue }
                if drafts.contains(where: { $0.id == id }) { d.error(f["id"], "pool '\(id)' is defined twice") }
                drafts.append(PoolDraft(id: id, parent: parent, node: p, fields: f))
                collect(f["children"], parent: drafts.count - 1)
            }
        }
        if let pools = top["pools"] { collect(pools, parent: nil) } else { d.error(root, "the scenario needs 'pools'") }
        let poolIndex = Dictionary(drafts.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        var pools: [PoolSetup] = []
        var funding: [Int64] = []
        var sources = ScenarioSources()
        for draft in drafts {
            let grants = list(draft.fields["grants"], "grants").compactMap { grant($0) }
            // Checked: a sum that wraps would fund a pool with a negative budget.
            var total: Int64 = 0
            for g in grants {
                let (sum, overflow) = total.addingReportingOverflow(g.amountMicrocredits)
                if overflow { d.error(draft.fields["grants"], "the grants of pool '\(draft.id)' sum to more than \(Money.formatCredits(.max)) credits"); break }
                total = sum
            }
            var periodMs = duration(draft.fields["period"], "period") ?? 30 * Millis.day
            if periodMs <= 0 { d.error(draft.fields["period"], "period must be positive, got \(quoted(draft.fields["period"]?.string ?? ""))"); periodMs = Millis.day }
            var refill: Refill? = nil
            if let r = draft.fields["refill"] {
                let rf = fields(r, "refill", allowed: ["amount", "rollover", "rollover_cap", "cost_per_credit"])
                if let amount = credits(rf["amount"], "refill amount") {
                    refill = Refill(amountMicrocredits: amount,
                                    rolloverPartsPerMillion: Int64(((number(rf["rollover"], "rollover", min: 0, max: 1) ?? 0) * 1_000_000).rounded()),
                                    rolloverCapMicrocredits: credits(rf["rollover_cap"], "rollover_cap"),
                                    priceMicrocreditsPerCredit: credits(rf["cost_per_credit"], "cost_per_credit") ?? Money.microcreditsPerCredit)
                } else if rf["amount"] == nil { d.error(r, "refill needs an 'amount'") }
            }
            let (budget, budgetOverflow) = total.addingReportingOverflow(refill?.amountMicrocredits ?? 0)
            if budgetOverflow { d.error(draft.fields["refill"], "the grants and refill of pool '\(draft.id)' sum to more than \(Money.formatCredits(.max)) credits") }
            var policies: [Policy] = []
            var policyMarks: [ScenarioSources.Policy] = []
            for node in list(draft.fields["policies"], "policies") {
                guard let p = policy(node, budget: budget, prices: prices) else { continue }
                policies.append(p)
                policyMarks.append(ScenarioSources.Policy(mark: SourceMark(node.mark), unstatedBound: unstatedBound(node)))
            }
            sources.pools[draft.id] = ScenarioSources.Pool(mark: SourceMark(draft.node.mark), policies: policyMarks)
            pools.append(PoolSetup(PoolSpec(name: draft.id, parent: draft.parent.map { PoolID(Int32($0)) }, policies: policies,
                                            periodMs: periodMs, refill: refill,
                                            environment: validName(draft.fields["environment"], "pool environment")),
                                   grants: grants))
            funding.append(budget)
        }

        // Identities and their workloads.
        var identities: [IdentitySetup] = []
        var workloads: [Workload] = []
        var identityIndex: [String: Int] = [:]
        var workloadOf: [Int: Int] = [:]
        var workloadNodes: [Node] = []
        // Workloads are read once every identity is known: a replay may map a trace identity to
        // one declared further down the file.
        var pendingWorkloads: [(node: Node, name: String, identity: Int, pool: Int)] = []
        for node in list(top["identities"], "identities") {
            let f = fields(node, "identity", allowed: ["id", "pool", "pools", "models", "caps", "rate_cap", "stop", "workload", "environment"])
            guard let id = validName(f["id"], "identity id") else { if f["id"] == nil { d.error(node, "an identity needs an 'id'") }; continue }
            if identityIndex[id] != nil { d.error(f["id"], "identity '\(id)' is defined twice") }
            var poolNames: [(String, Node)] = []
            if let p = f["pool"], let s = string(p, "pool") { poolNames.append((s, p)) }
            for p in list(f["pools"], "pools") { if let s = string(p, "pool") { poolNames.append((s, p)) } }
            if poolNames.isEmpty { d.error(node, "identity '\(id)' needs a 'pool'") }
            var entitlement = Entitlement()
            if let models = f["models"] {
                var mask: UInt64 = 0
                for m in list(models, "models") {
                    guard let name = string(m, "model") else { continue }
                    if let i = prices.index(of: name), i < 64 { mask |= 1 << UInt64(i) } else { unknownModel(m, name, prices) }
                }
                entitlement.allowedTiers = mask
            }
            if let caps = f["caps"] {
                let cf = fields(caps, "caps", allowed: ["per_hour", "per_day", "per_week", "per_month"])
                if cf.count > 1 { d.error(caps, "give one spend cap (per_hour, per_day, per_week or per_month)") }
                for (key, period) in [("per_hour", Millis.hour), ("per_day", Millis.day), ("per_week", 7 * Millis.day), ("per_month", 30 * Millis.day)] {
                    if let c = credits(cf[key], "caps.\(key)") { entitlement.capPerPeriodMicrocredits = c; entitlement.capPeriodMs = period }
                }
            }
            if let r = f["rate_cap"], let perHour = rate(r, "rate_cap") {
                // Expressed per minute when at least one a minute, else per hour.
                if perHour <= 0 { d.error(r, "rate_cap must be positive (to stop an identity, suspend it or give it no pool), got \(quoted(r.string ?? ""))") }
                else if perHour > Self.maxDrawsPerHour { d.error(r, "rate_cap is at most 1e9/m, got \(quoted(r.string ?? ""))") }
                else if perHour >= 60 { entitlement.rateMaxDraws = max(1, Int(perHour / 60)); entitlement.rateWindowMs = Millis.minute }
                else { entitlement.rateMaxDraws = max(1, Int(perHour)); entitlement.rateWindowMs = Millis.hour }
            }
            var entitlements: [(pool: Int, entitlement: Entitlement)] = []
            for (p, pNode) in poolNames {
                if let i = poolIndex[p] { entitlements.append((i, entitlement)) } else { unknownPool(pNode, p, Array(poolIndex.keys)) }
            }
            let index = identities.count
            identityIndex[id] = index
            sources.identities[id] = SourceMark(node.mark)
            let spec = IdentitySpec(name: id, stopCondition: stop(f["stop"]),
                                    environment: validName(f["environment"], "identity environment"))
            identities.append(IdentitySetup(spec, entitlements: entitlements))
            if let w = f["workload"] {
                // With an unknown pool the workload is still read, so that its own problems are
                // reported too (the model is discarded anyway).
                pendingWorkloads.append((w, id, index, entitlements.first?.pool ?? 0))
            }
        }
        if top["identities"] == nil { d.error(root, "the scenario needs 'identities'") }
        for p in pendingWorkloads {
            if let workload = workload(p.node, name: p.name, identity: p.identity, pool: p.pool, prices: prices, identityIndex: identityIndex) {
                workloadOf[p.identity] = workloads.count
                workloads.append(workload)
                workloadNodes.append(p.node.mapping?["arrivals"] ?? p.node.mapping?["replay"] ?? p.node)
            }
        }

        for fault in faults(top["faults"], identities: identities, identityIndex: identityIndex, workloads: workloads,
                            workloadOf: workloadOf, prices: prices) {
            workloads.append(fault.workload)
            workloadNodes.append(fault.node)
        }

        guard d.errorCount == errorsBefore else { return nil }
        var tiers: [Int: Int] = [:]
        for i in prices.models.indices { tiers[i] = i }
        let model = SimulationModel(name: name, seed: UInt64(seed), horizonMs: horizon, generator: generator, pools: pools,
                                    identities: identities, prices: prices, modelForTier: tiers, workloads: workloads,
                                    sampleEveryMs: duration(top["sample_every"], "sample_every"),
                                    holdTimeoutMs: duration(top["hold_timeout"], "hold_timeout") ?? Millis.hour)
        return Built(model: model, funding: funding,
                     work: estimate(model, workloadNodes: workloadNodes, poolNodes: drafts.map(\.node), sampleNode: top["sample_every"]),
                     sources: sources)
    }

    // MARK: Grants and policies

    func grant(_ node: Node) -> GrantSpec? {
        let f = fields(node, "grant", allowed: ["amount", "expires", "effective", "priority", "category", "cost_per_credit"])
        guard let amount = credits(f["amount"], "grant amount") else {
            if f["amount"] == nil { d.error(node, "a grant needs an 'amount' (credits)") }
            return nil
        }
        if amount == 0 { d.error(f["amount"], "a grant's amount must be positive") }
        var spec = GrantSpec(amountMicrocredits: amount)
        spec.expiresAtMs = duration(f["expires"], "expires")
        spec.effectiveAtMs = duration(f["effective"], "effective")
        if let e = spec.expiresAtMs, e <= (spec.effectiveAtMs ?? 0) { d.error(f["expires"], "the grant expires before it becomes effective") }
        spec.priority = Int32(clamping: integer(f["priority"], "priority") ?? 0)
        if let c = string(f["category"], "category") {
            if let cat = GrantCategory(rawValue: c) { spec.category = cat } else {
                d.error(f["category"], "unknown category '\(c)'; expected paid, promotional or rollover")
            }
        }
        spec.priceMicrocreditsPerCredit = credits(f["cost_per_credit"], "cost_per_credit") ?? Money.microcreditsPerCredit
        return spec
    }

    /// A threshold given as a fraction of the pool's budget (≤ 1) or in credits (> 1).
    func threshold(_ node: Node?, _ context: String, budget: Int64) -> Int64? {
        guard let v = number(node, context, min: 0) else { return nil }
        return v <= 1 ? Int64((Double(budget) * v).rounded()) : credits(node, context)
    }

    func policy(_ node: Node, budget: Int64, prices: PriceTable) -> Policy? {
        let kinds = ["hard_stop", "overdraft", "degrade", "throttle", "auto_top_up", "borrow", "alerts"]
        guard let (kind, body) = single(node, "policy", allowed: kinds) else { return nil }
        switch kind {
        case "hard_stop":
            _ = fields(body.mapping == nil && body.string == "" ? Node.Mapping([]).node : body, "hard_stop", allowed: [])
            return .hardStop
        case "overdraft":
            let f = fields(body, "overdraft", allowed: ["limit"])
            guard let limit = credits(f["limit"], "overdraft limit") else { if f["limit"] == nil { d.error(body, "overdraft needs a 'limit'") }; return nil }
            return .overdraft(limitMicrocredits: limit)
        case "degrade":
            let f = fields(body, "degrade", allowed: ["below", "to"])
            guard let to = string(f["to"], "degrade to") else { d.error(body, "degrade needs 'to' (a model)"); return nil }
            guard let tier = prices.index(of: to) else { unknownModel(f["to"], to, prices); return nil }
            return .degrade(toTier: tier, belowMicrocredits: threshold(f["below"], "degrade below", budget: budget) ?? 0)
        case "throttle":
            let f = fields(body, "throttle", allowed: ["rate", "below"])
            guard let perHour = rate(f["rate"], "throttle rate") else { if f["rate"] == nil { d.error(body, "throttle needs a 'rate'") }; return nil }
            guard perHour > 0 else { d.error(f["rate"], "a throttle's rate must be positive (use hard_stop to refuse every request)"); return nil }
            guard perHour <= Self.maxDrawsPerHour else { d.error(f["rate"], "a throttle's rate is at most 1e9/m"); return nil }
            let (maxDraws, window) = perHour >= 60 ? (max(1, Int(perHour / 60)), Millis.minute) : (max(1, Int(perHour)), Millis.hour)
            return .throttle(maxDraws: maxDraws, windowMs: window, belowMicrocredits: threshold(f["below"], "throttle below", budget: budget) ?? .max)
        case "auto_top_up":
            let f = fields(body, "auto_top_up", allowed: ["below", "amount", "max_per_period", "cost_per_credit"])
            guard let amount = credits(f["amount"], "top-up amount"), amount > 0 else { d.error(body, "auto_top_up needs a positive 'amount'"); return nil }
            // The default cap is ten top-ups a period: checked, as an amount near the 64-bit
            // limit would otherwise wrap it.
            var cap = credits(f["max_per_period"], "max_per_period")
            if cap == nil {
                let (tenfold, overflow) = amount.multipliedReportingOverflow(by: 10)
                if overflow {
                    d.error(f["amount"], "auto_top_up amount is too large for the default max_per_period (10 × amount); give 'max_per_period'")
                    return nil
                }
                cap = tenfold
            }
            return .autoTopUp(belowMicrocredits: threshold(f["below"], "top-up below", budget: budget) ?? 0, amountMicrocredits: amount,
                              maxPerPeriodMicrocredits: cap!,
                              priceMicrocreditsPerCredit: credits(f["cost_per_credit"], "cost_per_credit") ?? Money.microcreditsPerCredit)
        case "borrow":
            let f = fields(body, "borrow", allowed: ["cap"])
            guard let cap = credits(f["cap"], "borrow cap") else { d.error(body, "borrow needs a 'cap' (credits per period)"); return nil }
            return .borrow(capPerPeriodMicrocredits: cap)
        default:  // alerts: fractions of the budget used
            var thresholds: [Int64] = []
            for t in list(body, "alerts") {
                guard let used = number(t, "alert threshold", min: 0, max: 1) else { continue }
                thresholds.append(Int64((Double(budget) * (1 - used)).rounded()))
            }
            return .alerts(thresholdsMicrocredits: thresholds)
        }
    }

    /// The bounding field a policy entry leaves for the format to fill in (see
    /// ``ScenarioSources/Policy/unstatedBound``).
    func unstatedBound(_ node: Node) -> String? {
        guard let (kind, body) = node.mapping?.first, kind.string == "auto_top_up" else { return nil }
        return body.mapping?["max_per_period"] == nil ? "max_per_period" : nil
    }

    func stop(_ node: Node?) -> StopCondition? {
        guard let node else { return nil }
        let f = fields(node, "stop", allowed: ["spend_rate_over", "window", "baseline_windows", "min_spend"])
        guard let over = string(f["spend_rate_over"], "spend_rate_over") else { d.error(node, "stop needs 'spend_rate_over' (e.g. 5x)"); return nil }
        guard over.hasSuffix("x"), let factor = Double(over.dropLast()), factor > 0, factor <= 1_000_000 else {
            d.error(f["spend_rate_over"], "spend_rate_over is a factor such as 5x (above 0, at most 1000000x), got \(quoted(over))")
            return nil
        }
        var window = duration(f["window"], "window") ?? Millis.hour
        if window < Millis.second {
            d.error(f["window"], "a stop window is at least 1s, got \(quoted(f["window"]?.string ?? ""))")
            window = Millis.hour
        }
        // The default baseline is a week of windows: shorter ones mistake a Monday morning after
        // a quiet weekend for an anomaly.
        return StopCondition(windowMs: window,
                             baselineWindows: integer(f["baseline_windows"], "baseline_windows", min: 1) ?? Int(max(1, 7 * Millis.day / window)),
                             factorPercent: Int64((factor * 100).rounded()),
                             minSpendMicrocredits: credits(f["min_spend"], "min_spend") ?? Money.microcreditsPerCredit)
    }

    /// Rate caps and throttles count draws per minute in an `Int`; beyond 1e9 a minute they
    /// mean "no cap" anyway.
    static let maxDrawsPerHour = 6e10

    func unknownModel(_ node: Node?, _ name: String, _ prices: PriceTable) {
        let hint = suggestion(for: name, among: prices.models.map(\.model)).map { " (did you mean '\($0)'?)" } ?? ""
        d.error(node, "model '\(name)' is not in prices\(hint)")
    }

    func unknownPool(_ node: Node?, _ name: String, _ pools: [String]) {
        let hint = suggestion(for: name, among: pools).map { " (did you mean '\($0)'?)" } ?? ""
        d.error(node, "no pool '\(name)'\(hint)")
    }

    func unknownIdentity(_ node: Node?, _ name: String, _ ids: [String]) {
        let hint = suggestion(for: name, among: ids).map { " (did you mean '\($0)'?)" } ?? ""
        d.error(node, "no identity '\(name)'\(hint)")
    }
}

extension Node.Mapping {
    var node: Node { .mapping(self) }
}
