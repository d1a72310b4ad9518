import Ledger
import Simulation
import Stochastic
import Yams

extension ModelBuilder {
    static let topKeys = ["name", "description", "horizon", "seed", "replications", "generator", "credit", "prices", "pools",
                          "identities", "faults", "variants", "expect", "plans", "sample_every", "hold_timeout",
                          "precision"]

    func scenario(_ root: Node) -> Scenario? {
        let top = fields(root, "scenario", allowed: Self.topKeys)
        guard let name = validName(top["name"], "name") else {
            if top["name"] == nil { d.error(root, "the scenario needs a 'name'") }
            return nil
        }
        let replications = integer(top["replications"], "replications", min: 1) ?? 100
        guard let base = model(root, top: top, name: name) else { return nil }
        var variants: [(name: String?, model: SimulationModel)] = [(nil, base.model)]
        var work = [base.work]
        if let v = top["variants"] {
            for (k, overrides) in v.mapping ?? [:] {
                guard let variantName = validName(k, "variant name") else { continue }
                guard let changed = applyOverrides(root, overrides, variant: variantName) else { continue }
                let changedTop = fields(changed, "variant '\(variantName)'", allowed: Self.topKeys)
                if let m = model(changed, top: changedTop, name: name) { variants.append((variantName, m.model)); work.append(m.work) }
            }
            if v.mapping == nil { d.error(v, "variants must be a mapping of variant names to overrides") }
        }
        let expectations = expect(top["expect"], pools: base.model.pools.map(\.spec.name),
                                  identities: base.model.identities.map(\.spec.name))
        let plans = plans(top["plans"])
        let precision = precision(top["precision"])
        var scenario = Scenario(name: name, description: string(top["description"], "description"), file: d.file,
                        replications: replications, variants: variants, expectations: expectations,
                        poolNames: base.model.pools.map(\.spec.name), identityNames: base.model.identities.map(\.spec.name),
                        initialFundingMicrocredits: base.funding, plans: plans, work: work,
                        replicationsLine: top["replications"]?.mark?.line, replicationsColumn: top["replications"]?.mark?.column)
        scenario.precision = precision
        scenario.sources = base.sources
        return scenario
    }

    /// `precision: { continuity: 0.002 }`: per metric, the 95% half-width to stop at.
    func precision(_ node: Node?) -> [String: Double] {
        guard let node else { return [:] }
        guard let m = node.mapping else { d.error(node, "precision must be a mapping such as 'continuity: 0.002'"); return [:] }
        var out: [String: Double] = [:]
        for (k, v) in m {
            guard let name = k.string else { d.error(k, "a precision key is a metric name"); continue }
            if let problem = Metric.precisionProblem(name) { d.error(k, problem); continue }
            guard let width = number(v, "precision of \(name)", min: 0), width > 0 else {
                if v.string.flatMap(Double.init).map({ $0 <= 0 }) ?? false { d.error(v, "a precision is a positive half-width") }
                continue
            }
            out[name] = width
        }
        return out
    }

    // MARK: Variants

    /// Applies `{ "eng.policies": [...], "seed": 3 }`: a key `<id>.<field>[.<field>…]` replaces a
    /// field of the pool or identity with that id; a plain key replaces a top-level field.
    func applyOverrides(_ root: Node, _ overrides: Node, variant: String) -> Node? {
        guard let mapping = overrides.mapping else {
            d.error(overrides, "variant '\(variant)' must be a mapping of overrides such as 'eng.policies: [...]'")
            return nil
        }
        var node = root
        for (k, value) in mapping {
            guard let path = k.string else { continue }
            let parts = path.split(separator: ".").map(String.init)
            if parts.count == 1 {
                // `procure` prices every variant with the scenario's one list of plans (its
                // variant-by-plan matrix), so a variant's own `plans:` would be silently unused.
                if parts[0] == "plans" {
                    d.error(k, "variant '\(variant)': plans are shared by every variant (procure prices each variant's demand with the scenario's plans); add the plan to the scenario's 'plans:' instead")
                    continue
                }
                node = set(node, [parts[0]], value)
                continue
            }
            var found = false
            node = overrideEntity(node, id: parts[0], path: Array(parts.dropFirst()), value: value, found: &found)
            if !found {
                let ids = entityIDs(root)
                let hint = suggestion(for: parts[0], among: ids).map { " (did you mean '\($0)'?)" } ?? ""
                d.error(k, "variant '\(variant)': no pool or identity '\(parts[0])'\(hint)")
            }
        }
        return node
    }

    func entityIDs(_ node: Node) -> [String] {
        var ids: [String] = []
        if let m = node.mapping {
            if let id = m["id"]?.string { ids.append(id) }
            for (_, v) in m { ids += entityIDs(v) }
        } else if let s = node.sequence {
            for v in s { ids += entityIDs(v) }
        }
        return ids
    }

    func overrideEntity(_ node: Node, id: String, path: [String], value: Node, found: inout Bool) -> Node {
        if let m = node.mapping {
            if m["id"]?.string == id {
                found = true
                return set(node, path, value)
            }
            let pairs = m.map { (k, v) in (k, overrideEntity(v, id: id, path: path, value: value, found: &found)) }
            return .mapping(Node.Mapping(pairs, m.tag, m.style, m.mark))
        }
        if let s = node.sequence {
            return .sequence(Node.Sequence(s.map { overrideEntity($0, id: id, path: path, value: value, found: &found) }, s.tag, s.style, s.mark))
        }
        return node
    }

    /// `node` with `path` set to `value` (intermediate mappings created as needed).
    func set(_ node: Node, _ path: [String], _ value: Node) -> Node {
        guard let key = path.first else { return value }
        let m = node.mapping ?? Node.Mapping([])
        var pairs = Array(m.map { ($0.key, $0.value) })
        if let i = pairs.firstIndex(where: { $0.0.string == key }) {
            pairs[i].1 = set(pairs[i].1, Array(path.dropFirst()), value)
        } else {
            pairs.append((Node(key), set(Node.Mapping([]).node, Array(path.dropFirst()), value)))
        }
        return .mapping(Node.Mapping(pairs, m.tag, m.style, m.mark))
    }

    // MARK: Expectations

    func expect(_ node: Node?, pools: [String], identities: [String]) -> [Expectation] {
        guard let node else { return [] }
        guard let m = node.mapping else { d.error(node, "expect must be a mapping such as 'continuity.p05: \">= 0.99\"'"); return [] }
        var out: [Expectation] = []
        for (k, v) in m {
            guard let key = k.string, let text = v.string else { d.error(v, "an expectation is '[pool or identity.]metric[.statistic]: \"op value\"'"); continue }
            guard let e = Expectation(key: key, condition: text) else {
                d.error(key.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) ? k : v,
                        key.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty)
                            ? "'\(key)' has an empty part: an expectation is '[pool or identity.]metric[.statistic]'"
                            : "an expectation reads 'op value' with op one of >= <= > < == and a finite number, got '\(text)'")
                continue
            }
            guard let metric = Metric.named(e.metric) else {
                let hint = suggestion(for: e.metric, among: Metric.names).map { " (did you mean '\($0)'?)" } ?? ""
                d.error(k, "unknown metric '\(e.metric)'\(hint)")
                continue
            }
            guard MetricSummary.statistics.contains(e.statistic) else {
                d.error(k, "unknown statistic '\(e.statistic)'; expected one of \(MetricSummary.statistics.joined(separator: ", "))")
                continue
            }
            if metric.kind == .proportion && e.statistic != "mean" {
                d.error(k, "\(metric.name) is 0 or 1 per replication: expect its mean (a probability), not its \(e.statistic)")
                continue
            }
            if metric.kind == .acrossReplications && e.statistic != "mean" {
                d.error(k, "\(metric.name) is one value across replications: it has no \(e.statistic)")
                continue
            }
            if let scope = e.scope {
                let isPool = pools.contains(scope), isIdentity = identities.contains(scope)
                guard isPool || isIdentity else {
                    let hint = suggestion(for: scope, among: pools + identities).map { " (did you mean '\($0)'?)" } ?? ""
                    d.error(k, "'\(scope)' in '\(key)' is neither a pool nor an identity\(hint)")
                    continue
                }
                guard !(isPool && isIdentity) else {
                    d.error(k, "'\(scope)' names both a pool and an identity: rename one to check it")
                    continue
                }
                guard metric.scopes.contains(isPool ? .pool : .identity) else {
                    d.error(k, "\(metric.name) is not measured per \(isPool ? "pool" : "identity")")
                    continue
                }
            } else if !metric.scopes.contains(.run) {
                d.error(k, "\(metric.name) is not measured for the whole run")
                continue
            }
            out.append(e)
        }
        return out
    }
}
