import Ledger
import Yams

/// The shared layout of `burnrate size --layout shared|both`: the departments (the pools an
/// identity draws on directly) become one pool, and nothing else changes, so that the shared
/// and split answers differ only by pooling.
///
/// - Pools no identity draws on (an `org` parent) stay as written, with their funding, in both
///   layouts; the shared pool takes the departments' place under their parent, so a `borrow`
///   still reaches it.
/// - The departments must agree on what one pool cannot hold twice: their period, whether they
///   refill (and the rollover fraction), the fields of their first grant other than its amount
///   (size funds a pool as one grant like its first), and their policies, kind by kind in order.
/// - What is per pool and absolute is summed, so that the two layouts have the same credit
///   exposure: grants, refill amounts, rollover caps, overdraft limits, borrow caps, top-up
///   amounts and caps, throttle rates, and thresholds written in credits (above 1). Thresholds
///   written as fractions (at most 1) are kept: they follow the pooled budget.
///
/// When the departments disagree, the edit is refused with the pool and the key that differ.
/// Copying the first pool's policies, period and refill (as this did before) compared the split
/// layout with a pool that had other rules: under a parent `org`, the shared pool took org's
/// (no refill, no policies), and per-department overdrafts counted once instead of once per
/// department, so split came out cheaper.
extension ModelBuilder {
    /// The departments: ids of the pools some identity names in `pool:` or `pools:`, in pool order.
    func departmentIDs(_ root: Node) -> [String] {
        var named: Set<String> = []
        for identity in root.mapping?["identities"]?.sequence.map(Array.init) ?? [] {
            guard let m = identity.mapping else { continue }
            if let p = m["pool"]?.string { named.insert(p) }
            for p in m["pools"]?.sequence.map(Array.init) ?? [] { if let s = p.string { named.insert(s) } }
        }
        return poolIDs(root).filter(named.contains)
    }

    /// `root` with its departments merged into one pool `id` (see the extension's comment); nil
    /// when they cannot be merged, with the reason reported. `notes` says what was summed.
    func sharingOnePool(_ root: Node, id: String, notes: inout [String]) -> Node? {
        let departments = departmentIDs(root)
        guard !departments.isEmpty else { return root }   // the builder reports the missing identities
        let isDepartment = Set(departments)
        var parentOf: [String: String?] = [:]   // nearest pool above that is not a department
        var nodeOf: [String: Node] = [:]
        var problems = false
        func walk(_ list: Node?, above: String?) {
            for p in list?.sequence.map(Array.init) ?? [] {
                guard let pid = p.mapping?["id"]?.string else { continue }
                nodeOf[pid] = p
                if isDepartment.contains(pid) {
                    parentOf[pid] = above
                    for child in p.mapping?["children"]?.sequence.map(Array.init) ?? [] {
                        if let cid = child.mapping?["id"]?.string, !isDepartment.contains(cid) {
                            d.error(child, "pool '\(cid)' lies under department '\(pid)' but no identity draws on it: the shared layout merges departments and would drop it")
                            problems = true
                        }
                    }
                    walk(p.mapping?["children"], above: above)
                } else {
                    walk(p.mapping?["children"], above: pid)
                }
            }
        }
        walk(root.mapping?["pools"], above: nil)
        if nodeOf[id] != nil && !isDepartment.contains(id) {
            d.error(nodeOf[id], "the shared pool's id '\(id)' is already a pool's that no identity draws on")
            return nil
        }
        let pools = departments.compactMap { nodeOf[$0] }
        let parents = Set(departments.map { parentOf[$0] ?? nil })
        let placement: String? = parents.count == 1 ? parents.first! : nil

        var pairs: [(Node, Node)] = [(Node("id"), Node(id))]
        var grants: [Node] = []
        for p in pools { grants += p.mapping?["grants"]?.sequence.map(Array.init) ?? [] }
        if !grants.isEmpty { pairs.append((Node("grants"), .sequence(Node.Sequence(grants)))) }
        guard agreeOnFirstGrant(pools, departments) else { return nil }

        // Period: one value (the default where none is written).
        let periods = pools.map { $0.mapping?["period"].flatMap { $0.string.flatMap(Units.durationMs) } ?? 30 * Millis.day }
        if let i = periods.firstIndex(where: { $0 != periods[0] }) {
            d.error(pools[i].mapping?["period"] ?? pools[i], "departments '\(departments[0])' and '\(departments[i])' have different periods: one shared pool has one period")
            return nil
        }
        if let period = pools[0].mapping?["period"] { pairs.append((Node("period"), period)) }

        // Refill: all or none.
        let refills = pools.map { $0.mapping?["refill"] }
        if let i = refills.firstIndex(where: { ($0 == nil) != (refills[0] == nil) }) {
            let (with, without) = refills[0] == nil ? (i, 0) : (0, i)
            d.error(pools[i], "department '\(departments[with])' refills and '\(departments[without])' does not: one shared pool either refills or not")
            return nil
        }
        if refills[0] != nil {
            let rule: [String: Merge] = ["amount": .sum, "rollover_cap": .sum, "rollover": .same, "cost_per_credit": .same]
            // Pooled like the grants (the first note says so): no note per sum.
            var pooled: [String] = []
            guard let r = merged(refills.map { $0! }, departments, context: "refill", rules: rule, notes: &pooled) else { return nil }
            pairs.append((Node("refill"), r))
        }

        // Policies: the same kinds in the same order, merged field by field.
        let lists = pools.map { $0.mapping?["policies"]?.sequence.map(Array.init) ?? [] }
        if let i = lists.firstIndex(where: { policyKinds($0) != policyKinds(lists[0]) }) {
            d.error(pools[i].mapping?["policies"] ?? pools[i],
                    "departments '\(departments[0])' (\(describe(policyKinds(lists[0])))) and '\(departments[i])' (\(describe(policyKinds(lists[i])))) have different policies: one shared pool has one list")
            return nil
        }
        if pools[0].mapping?["policies"] != nil {
            var merged: [Node] = []
            for (k, kind) in policyKinds(lists[0]).enumerated() {
                let bodies = lists.map { $0[k].mapping?.first?.value ?? Node("") }
                guard let body = mergedPolicy(kind, bodies, departments, notes: &notes) else { return nil }
                merged.append(.mapping(Node.Mapping([(Node(kind), body)])))
            }
            pairs.append((Node("policies"), .sequence(Node.Sequence(merged))))
        }
        if placement == nil, policyKinds(lists[0]).contains("borrow") {
            d.error(pools[0], "the departments lie under different parents (\(parents.map { $0 ?? "top level" }.sorted().joined(separator: ", "))) and borrow from them: one shared pool has one parent")
            return nil
        }
        guard !problems else { return nil }

        // The tree without the departments, the shared pool where the first of them was (under
        // their common parent), or at the top level when their parents differ.
        let shared = Node.mapping(Node.Mapping(pairs))
        var placed = false
        func rebuilt(_ list: Node?, owner: String?) -> Node {
            var out: [Node] = []
            for p in list?.sequence.map(Array.init) ?? [] {
                guard let m = p.mapping, let pid = m["id"]?.string else { out.append(p); continue }
                if isDepartment.contains(pid) {
                    if !placed && owner == placement { out.append(shared); placed = true }
                    continue
                }
                if m["children"] != nil {
                    out.append(set(p, ["children"], rebuilt(m["children"], owner: pid)))
                } else {
                    out.append(p)
                }
            }
            if !placed && owner == placement && owner == nil { out.append(shared); placed = true }
            return .sequence(Node.Sequence(out))
        }
        let node = set(root, ["pools"], rebuilt(root.mapping?["pools"], owner: nil))
        notes.insert("the shared pool \(id) stands for \(departments.joined(separator: ", "))\(placement.map { " under \($0)" } ?? ""): their grants and refills pooled, their policies kept", at: 0)
        let others = poolIDs(root).filter { !isDepartment.contains($0) }
        if !others.isEmpty {
            notes.append("\(others.joined(separator: ", ")) not sized: no identity draws on \(others.count == 1 ? "it" : "them"); kept as written")
        }

        guard let identities = node.mapping?["identities"]?.sequence else { return node }
        let rewritten = identities.map { identity -> Node in
            guard let m = identity.mapping else { return identity }
            let kept = m.filter { $0.key.string != "pool" && $0.key.string != "pools" }.map { ($0.key, $0.value) }
            return .mapping(Node.Mapping([(Node("pool"), Node(id))] + kept, m.tag, m.style, m.mark))
        }
        return set(node, ["identities"], .sequence(Node.Sequence(rewritten, identities.tag, identities.style, identities.mark)))
    }

    enum Merge { case sum, sumRate, threshold, same }

    static let policyRules: [String: [String: Merge]] = [
        "overdraft": ["limit": .sum],
        "degrade": ["below": .threshold, "to": .same],
        "throttle": ["rate": .sumRate, "below": .threshold],
        "auto_top_up": ["below": .threshold, "amount": .sum, "max_per_period": .sum, "cost_per_credit": .same],
        "borrow": ["cap": .sum],
    ]

    func policyKinds(_ list: [Node]) -> [String] { list.map { $0.mapping?.first?.key.string ?? "?" } }

    func describe(_ kinds: [String]) -> String { kinds.isEmpty ? "none written: a hard stop" : kinds.joined(separator: ", ") }

    func mergedPolicy(_ kind: String, _ bodies: [Node], _ departments: [String], notes: inout [String]) -> Node? {
        if kind == "alerts" {
            let lists = bodies.map { $0.sequence.map(Array.init) ?? [] }
            if let i = lists.firstIndex(where: { $0.count != lists[0].count }) {
                d.error(bodies[i], "departments '\(departments[0])' and '\(departments[i])' have different numbers of alerts")
                return nil
            }
            var out: [Node] = []
            for k in lists[0].indices {
                guard let v = mergedValue(lists.map { $0[k] }, .threshold, departments, context: "alerts[\(k)]", notes: &notes) else { return nil }
                out.append(v)
            }
            return .sequence(Node.Sequence(out))
        }
        guard let rules = Self.policyRules[kind] else { return bodies[0] }   // hard_stop, or an unknown kind the builder reports
        return merged(bodies, departments, context: kind, rules: rules, notes: &notes)
    }

    /// Mappings merged key by key by `rules` (a key missing from one department must be missing
    /// from all; keys without a rule must be equal).
    func merged(_ bodies: [Node], _ departments: [String], context: String, rules: [String: Merge], notes: inout [String]) -> Node? {
        guard let first = bodies[0].mapping else { return bodies[0] }   // malformed: the builder reports it
        let keys = first.compactMap { $0.key.string }
        for (i, b) in bodies.enumerated() {
            let theirs = Set(b.mapping?.compactMap { $0.key.string } ?? [])
            if theirs != Set(keys) {
                d.error(b, "departments '\(departments[0])' and '\(departments[i])' write different fields in \(context) (\(keys.sorted().joined(separator: ", ")) against \(theirs.sorted().joined(separator: ", ")))")
                return nil
            }
        }
        var pairs: [(Node, Node)] = []
        for k in keys {
            let values = bodies.map { $0.mapping![k]! }
            guard let v = mergedValue(values, rules[k] ?? .same, departments, context: "\(context).\(k)", notes: &notes) else { return nil }
            pairs.append((Node(k), v))
        }
        return .mapping(Node.Mapping(pairs))
    }

    func mergedValue(_ values: [Node], _ rule: Merge, _ departments: [String], context: String, notes: inout [String]) -> Node? {
        let texts = values.map { $0.string?.trimmingCharacters() ?? "" }
        func differ(_ i: Int, _ why: String) -> Node? {
            d.error(values[i], "departments '\(departments[0])' and '\(departments[i])' differ in \(context) (\(texts[0]) against \(texts[i])): \(why)")
            return nil
        }
        switch rule {
        case .same:
            if let i = texts.firstIndex(where: { $0 != texts[0] }) { return differ(i, "one shared pool has one") }
            return values[0]
        case .threshold:
            let numbers = texts.map { Double($0) }
            guard numbers.allSatisfy({ $0 != nil }) else { return values[0] }   // the builder reports the bad one
            let fractions = numbers.map { $0! <= 1 }
            if let i = fractions.firstIndex(where: { $0 != fractions[0] }) { return differ(i, "a fraction of the budget against credits") }
            if fractions[0] {
                if let i = numbers.firstIndex(where: { $0 != numbers[0] }) { return differ(i, "one shared pool has one fraction") }
                return values[0]
            }
            return summedCredits(values, texts, context: context, notes: &notes)
        case .sum:
            return summedCredits(values, texts, context: context, notes: &notes)
        case .sumRate:
            let rates = texts.map(Units.ratePerHour)
            guard rates.allSatisfy({ $0 != nil }) else { return values[0] }
            let total = rates.reduce(0) { $0 + $1! }
            let text = total == total.rounded() && total < 1e15 ? "\(Int64(total))/h" : "\(total)/h"
            if values.count > 1 { notes.append("\(context): \(text) (\(texts.joined(separator: " + ")))") }
            return Node(text)
        }
    }

    func summedCredits(_ values: [Node], _ texts: [String], context: String, notes: inout [String]) -> Node? {
        var total: Int64 = 0
        for (i, t) in texts.enumerated() {
            guard let v = Money.parseCredits(t) else { return values[i] }   // the builder reports it where it is
            let (sum, overflow) = total.addingReportingOverflow(v)
            if overflow { d.error(values[i], "the departments' \(context) sum to more than \(Money.formatCredits(.max)) credits"); return nil }
            total = sum
        }
        let text = Money.formatCredits(total)
        if values.count > 1 { notes.append("\(context): \(text) credits (\(texts.joined(separator: " + ")))") }
        return Node(text)
    }

    /// Size funds a pool as one grant like its first (see `funded`): the departments' first grants
    /// must agree on everything but the amount.
    func agreeOnFirstGrant(_ pools: [Node], _ departments: [String]) -> Bool {
        func fields(_ p: Node) -> [String: String] {
            var out: [String: String] = [:]
            for (k, v) in p.mapping?["grants"]?.sequence?.first?.mapping ?? Node.Mapping([]) {
                if let key = k.string, key != "amount" { out[key] = v.string?.trimmingCharacters() ?? "" }
            }
            return out
        }
        let reference = fields(pools[0])
        for (i, p) in pools.enumerated().dropFirst() {
            let theirs = fields(p)
            if theirs != reference {
                let key = Set(reference.keys).union(theirs.keys).sorted().first { reference[$0] != theirs[$0] } ?? "?"
                d.error(p.mapping?["grants"] ?? p, "departments '\(departments[0])' and '\(departments[i])' fund differently (first grant's \(key): \(reference[key] ?? "none") against \(theirs[key] ?? "none")): size funds the shared pool as one grant like the first")
                return false
            }
        }
        return true
    }
}
