import Ledger

/// The governance audit: rules over a ledger's configuration that treat credits as a spend
/// bound, not a security boundary (DESIGN.md, "Governance audit").
///
/// It reads a ``Ledger``'s state (``Ledger/poolConfigurations``, ``Ledger/identityConfigurations``),
/// so a scenario (whose model is set up as a ledger first, see ``ScenarioAudit``) and a live
/// database are judged by the same code. Where the findings point is the ``Locator``'s business.
public enum Audit {
    /// Runs every rule over `ledger`'s configuration.
    /// - Complexity: O(pools × policies + identities × entitlements).
    public static func findings(in ledger: Ledger, locator: Locator) -> [Finding] {
        let view = ConfigurationView(ledger)
        var out: [Finding] = []
        for identity in view.identities where identity.status != .revoked {
            out += identityFindings(identity, view, locator)
        }
        for pool in view.pools {
            out += poolFindings(pool, view, locator)
        }
        return out
    }

    // MARK: Identities: BR001, BR002, BR003, BR004 (entitlements), BR006

    static func identityFindings(_ d: IdentityConfiguration, _ view: ConfigurationView, _ locator: Locator) -> [Finding] {
        let here = locator.identity(d.name)
        let who = "identity '\(d.name)'"
        var out: [Finding] = []
        let entitlements = d.entitlements
        guard !entitlements.isEmpty else { return [] }  // draws nothing: nothing to bound
        let poolNames = { (list: [EntitlementConfiguration]) in list.map { "'\(view.name($0.pool))'" }.joined(separator: ", ") }

        // BR001: on some pool, nothing but the balance bounds it.
        let bare = entitlements.filter {
            $0.entitlement.capPerPeriodMicrocredits == nil && $0.entitlement.rateMaxDraws == nil && $0.entitlement.allowedTiers == .max
        }
        if d.stopCondition == nil && !bare.isEmpty {
            out.append(Finding(rule: .creditsOnlyControl,
                               message: "\(who) is bounded only by the balance of \(poolNames(bare)): no spend cap, no rate cap, no stop condition, every model tier",
                               location: here))
        }
        let unrated = entitlements.filter { $0.entitlement.rateMaxDraws == nil }
        if !unrated.isEmpty {
            out.append(Finding(rule: .noRateCap, message: "\(who) has no rate cap on \(poolNames(unrated))", location: here))
        }
        if d.stopCondition == nil {
            out.append(Finding(rule: .noStopCondition, message: "\(who) has no stop condition (stop:)", location: here))
        }

        // BR004: one identity across environments.
        let sandbox = entitlements.filter { view.environment(of: $0.pool) == Environment.sandbox }
        let production = entitlements.filter { view.environment(of: $0.pool) == Environment.production }
        if !sandbox.isEmpty && !production.isEmpty {
            out.append(Finding(rule: .sandboxReachesProduction,
                               message: "\(who) may draw from sandbox \(poolNames(sandbox)) and from production \(poolNames(production))",
                               location: here))
        } else if d.environment == Environment.sandbox && !production.isEmpty {
            out.append(Finding(rule: .sandboxReachesProduction,
                               message: "\(who) is in the sandbox environment but may draw from production \(poolNames(production))",
                               location: here))
        }

        // BR006: uncapped on a pool others draw from too.
        for e in entitlements where e.entitlement.capPerPeriodMicrocredits == nil {
            let others = view.drawers(of: e.pool).filter { $0 != d.name }
            guard !others.isEmpty else { continue }
            out.append(Finding(rule: .sharedPoolUncappedIdentity,
                               message: "\(who) has no spend cap on pool '\(view.name(e.pool))', which it shares with \(others.map { "'\($0)'" }.joined(separator: ", ")): it can spend their credits",
                               location: here))
        }
        return out
    }

    // MARK: Pools: BR004 (borrow), BR005, BR007

    static func poolFindings(_ p: PoolConfiguration, _ view: ConfigurationView, _ locator: Locator) -> [Finding] {
        var out: [Finding] = []
        let what = "pool '\(p.name)'"
        for (n, policy) in p.policies.enumerated() {
            if case .borrow = policy, view.environment(of: p.pool) == Environment.sandbox, let parent = p.parent,
               view.environment(of: parent) == Environment.production {
                out.append(Finding(rule: .sandboxReachesProduction,
                                   message: "sandbox \(what) borrows from its parent, production pool '\(view.name(parent))'",
                                   location: locator.policy(pool: p.name, index: n, kind: "borrow")))
            }
            if let field = locator.unstatedBound(pool: p.name, index: n) {
                out.append(Finding(rule: .unboundedPolicy,
                                   message: "\(what): \(Self.kind(of: policy)) without '\(field)': the format's default is a bound nobody chose",
                                   location: locator.policy(pool: p.name, index: n, kind: Self.kind(of: policy))))
            }
        }

        // BR007 (for a pool someone draws from: a reserve that only lends stops no one's work):
        // the pool refuses once it is short — an explicit hard_stop, or no overdraft (the
        // ledger's default answer to a shortfall, after any borrow or top-up, is a hard stop) —
        // and no alert fires while credits are left.
        let index = p.policies.firstIndex(of: .hardStop)
        let overdraws = p.policies.contains { if case .overdraft = $0 { return true } else { return false } }
        let alerted = p.policies.contains { if case .alerts(let ts) = $0 { return ts.contains { $0 > 0 } } else { return false } }
        if !view.drawers(of: p.pool).isEmpty && (index != nil || !overdraws) && !alerted {
            let how = index != nil ? "hard_stop" : p.policies.isEmpty ? "no policies: the default hard stop" : "no overdraft: the default hard stop"
            out.append(Finding(rule: .silentExhaustion,
                               message: "\(what) stops when its credits run out (\(how)) with no alert before it",
                               location: index.map { locator.policy(pool: p.name, index: $0, kind: "hard_stop") } ?? locator.pool(p.name)))
        }
        return out
    }

    static func kind(of policy: Policy) -> String {
        switch policy {
        case .hardStop: "hard_stop"
        case .overdraft: "overdraft"
        case .degrade: "degrade"
        case .throttle: "throttle"
        case .autoTopUp: "auto_top_up"
        case .borrow: "borrow"
        case .alerts: "alerts"
        }
    }
}

/// The environment names the rules know; any other name is audited as neither.
public enum Environment {
    public static let production = "production"
    public static let sandbox = "sandbox"
}

/// The configuration with the lookups the rules need.
struct ConfigurationView {
    let pools: [PoolConfiguration]
    let identities: [IdentityConfiguration]
    /// Identity names entitled to each pool (revoked ones excluded), in creation order.
    let drawersByPool: [[String]]

    init(_ ledger: Ledger) {
        pools = ledger.poolConfigurations
        identities = ledger.identityConfigurations
        var drawers = Array(repeating: [String](), count: pools.count)
        for d in identities where d.status != .revoked {
            for e in d.entitlements where Int(e.pool.index) < drawers.count { drawers[Int(e.pool.index)].append(d.name) }
        }
        drawersByPool = drawers
    }

    func name(_ pool: PoolID) -> String { pools[Int(pool.index)].name }
    func drawers(of pool: PoolID) -> [String] { drawersByPool[Int(pool.index)] }

    /// A pool's environment: its own, else its nearest ancestor's (a team pool under a production
    /// department is production unless it says otherwise).
    func environment(of pool: PoolID) -> String? {
        var p: PoolID? = pool
        var steps = 0
        while let current = p, steps <= pools.count {
            if let e = pools[Int(current.index)].environment { return e }
            p = pools[Int(current.index)].parent
            steps += 1
        }
        return nil
    }
}
