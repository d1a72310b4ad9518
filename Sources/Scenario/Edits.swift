import Ledger
import Yams

/// Changes the decision tools make to a scenario before it is built: pick one variant, set a
/// pool's funding, or merge every pool into one shared pool. The edited file is validated like a
/// written one, so fractional policy thresholds follow the new funding.
public struct ScenarioEdits: Sendable, Hashable {
    /// Apply this variant's overrides and drop `variants:` (nil: the scenario as written).
    public var variant: String?
    /// Pool id → prepaid credits. The pool's grants become one grant of that amount (keeping the
    /// first grant's other fields, such as `expires`); a pool with a `refill:` is refilled with the
    /// same amount each period.
    public var funding: [String: Double]
    /// Merge the departments (the pools an identity draws on) into one pool with this id, every
    /// identity drawing on it; other pools stay as written (see `sharingOnePool`, which refuses
    /// departments whose rules one pool cannot hold). Applied before `funding`.
    /// Any edit drops `variants:`: the edited scenario is its base alone.
    public var sharedPool: String?

    public init(variant: String? = nil, funding: [String: Double] = [:], sharedPool: String? = nil) {
        self.variant = variant
        self.funding = funding
        self.sharedPool = sharedPool
    }

    public var isEmpty: Bool { variant == nil && funding.isEmpty && sharedPool == nil }
}

extension Scenario {
    /// Reads a scenario file with `edits` applied (see ``ScenarioEdits``).
    /// With `confined`, its traces and price tables must lie in its own folder tree (see `load(path:displayPath:confined:)`).
    public static func load(path: String, edits: ScenarioEdits, displayPath: String? = nil, confined: Bool = false) throws(ScenarioErrors) -> Scenario {
        let shown = displayPath ?? path
        guard let text = readFile(path) else {
            throw ScenarioErrors(errors: [ScenarioError(file: shown, line: 1, column: 1, message: "cannot read the scenario file (a regular UTF-8 text file of at most 16 MiB)")])
        }
        let folder = directory(of: path)
        var within: String? = nil
        if confined {
            guard let real = realPath(folder) else {
                throw ScenarioErrors(errors: [ScenarioError(file: shown, line: 1, column: 1, message: "cannot resolve the scenario's folder")])
            }
            within = real
        }
        return try parse(yaml: text, file: shown, directory: folder, edits: edits, filesWithin: within)
    }
}

extension ModelBuilder {
    /// `root` with `edits` applied; problems (an unknown variant or pool) are reported.
    func edited(_ root: Node, _ edits: ScenarioEdits) -> Node? {
        guard !edits.isEmpty else { return root }
        var node = root
        let top = root.mapping ?? Node.Mapping([])
        if let name = edits.variant {
            let variants = top["variants"]?.mapping
            guard let overrides = variants?.first(where: { $0.key.string == name })?.value else {
                let names = variants?.compactMap { $0.key.string } ?? []
                let hint = suggestion(for: name, among: names).map { " (did you mean '\($0)'?)" } ?? ""
                d.error(top["variants"] ?? root, names.isEmpty ? "the scenario has no variants (asked for '\(name)')"
                        : "no variant '\(name)'\(hint); the variants are \(names.joined(separator: ", "))")
                return nil
            }
            guard let changed = applyOverrides(root, overrides, variant: name) else { return nil }
            node = changed
        }
        node = removing(node, key: "variants")
        if let shared = edits.sharedPool {
            guard let merged = sharingOnePool(node, id: shared, notes: &editNotes) else { return nil }
            node = merged
        }
        for (pool, credits) in edits.funding.sorted(by: { $0.key < $1.key }) {
            var found = false
            node = funded(node, pool: pool, credits: credits, inPools: false, found: &found)
            if !found {
                let ids = poolIDs(node)
                let hint = suggestion(for: pool, among: ids).map { " (did you mean '\($0)'?)" } ?? ""
                d.error(top["pools"] ?? root, "no pool '\(pool)'\(hint); the pools are \(ids.joined(separator: ", "))")
            }
        }
        return d.hasErrors ? nil : node
    }

    func removing(_ node: Node, key: String) -> Node {
        guard let m = node.mapping else { return node }
        return .mapping(Node.Mapping(m.filter { $0.key.string != key }.map { ($0.key, $0.value) }, m.tag, m.style, m.mark))
    }

    /// Every pool node, depth first.
    func poolNodes(_ node: Node) -> [Node] {
        var out: [Node] = []
        func walk(_ list: Node?) {
            for p in list?.sequence.map(Array.init) ?? [] {
                out.append(p)
                walk(p.mapping?["children"])
            }
        }
        walk(node.mapping?["pools"])
        return out
    }

    func poolIDs(_ node: Node) -> [String] { poolNodes(node).compactMap { $0.mapping?["id"]?.string } }

    /// Sets the funding of the pool with id `pool` (searched under `pools:` only).
    func funded(_ node: Node, pool: String, credits: Double, inPools: Bool, found: inout Bool) -> Node {
        if let m = node.mapping {
            if inPools, m["id"]?.string == pool {
                found = true
                var grant = m["grants"]?.sequence?.first?.mapping.map { Node.Mapping($0.filter { $0.key.string != "amount" }.map { ($0.key, $0.value) }) } ?? Node.Mapping([])
                let amount = Node(amountText(credits))
                grant = Node.Mapping([(Node("amount"), amount)] + grant.map { ($0.key, $0.value) })
                var out = set(node, ["grants"], .sequence(Node.Sequence([.mapping(grant)])))
                if m["refill"]?.mapping != nil { out = set(out, ["refill", "amount"], amount) }
                return out
            }
            let pairs = m.map { (k, v) in
                (k, funded(v, pool: pool, credits: credits, inPools: inPools || k.string == "pools" || k.string == "children", found: &found))
            }
            return .mapping(Node.Mapping(pairs, m.tag, m.style, m.mark))
        }
        if let s = node.sequence {
            return .sequence(Node.Sequence(s.map { funded($0, pool: pool, credits: credits, inPools: inPools, found: &found) }, s.tag, s.style, s.mark))
        }
        return node
    }
}

/// Credits as YAML text, rounded to the micro-credit.
func amountText(_ credits: Double) -> String { Money.formatCredits(Int64((credits * 1_000_000).rounded())) }
