import Ledger
import Simulation
import Yams

extension ModelBuilder {
    /// `cache:` of a workload: `{ read: R, write: W }` (numbers in [0, 1] or distributions clipped
    /// to it, drawn per request) or, on a replay of a trace with block hashes,
    /// `{ prefix_ttl: 5m, write_new_blocks: false }`.
    func cache(_ node: Node) -> CacheModel? {
        let f = fields(node, "cache", allowed: ["read", "write", "prefix_ttl", "write_new_blocks"])
        guard node.mapping != nil else { return nil }
        let shares = f["read"] != nil || f["write"] != nil
        let prefix = f["prefix_ttl"] != nil || f["write_new_blocks"] != nil
        if shares && prefix {
            d.error(node, "cache is either { read, write } (shares of each request's input) or { prefix_ttl, write_new_blocks } (a prefix cache over a trace's hash_ids), not both")
            return nil
        }
        if prefix {
            guard let ttlNode = f["prefix_ttl"] else { d.error(node, "a prefix cache needs prefix_ttl (how long a block stays warm, e.g. 5m)"); return nil }
            guard let ttl = duration(ttlNode, "prefix_ttl") else { return nil }
            return .prefix(ttlMs: ttl, writeNewBlocks: bool(f["write_new_blocks"], "write_new_blocks") ?? false)
        }
        guard shares else { d.error(node, "cache needs read and write (shares of input tokens), or prefix_ttl"); return nil }
        let read = f["read"].map { share($0, "cache.read") } ?? .constant(0)
        let write = f["write"].map { share($0, "cache.write") } ?? .constant(0)
        guard let read, let write else { return nil }
        // Exact for numbers; for distributions (clipped to [0, 1], and W to 1 − R, per draw) the
        // means are what can be checked before a draw.
        let sum = Self.clippedMean(read) + Self.clippedMean(write)
        if sum > 1 + 1e-12 {
            d.error(node, "cache read + write must be at most 1 (shares of the same input tokens), they come to \(format((sum * 1e6).rounded() / 1e6))")
            return nil
        }
        return .shares(read: read, write: write)
    }

    /// A share: a number in [0, 1] or a distribution (clipped to [0, 1] when drawn).
    func share(_ node: Node, _ context: String) -> Sampler? {
        if node.mapping == nil {
            return number(node, context, min: 0, max: 1).map { .constant($0) }
        }
        return sampler(node, context)
    }

    static func clippedMean(_ s: Sampler) -> Double {
        let m = s.mean
        return m.isFinite ? min(1, max(0, m)) : 1
    }
}
