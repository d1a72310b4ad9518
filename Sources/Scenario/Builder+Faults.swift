import Ledger
import Simulation
import Yams

extension ModelBuilder {
    /// `faults:`: each fault becomes a workload of its identity, imitating its own work (model and
    /// token laws) unless `model`, `input_tokens`, `output_tokens` or `cost` say otherwise.
    ///
    /// - `runaway: { identity, at, rate, until }`: a loop stopped by its first refusal.
    /// - `leaked_key: { identity, at, rate, detected_after }`: an attacker's fixed-rate loop on the
    ///   identity's credential, refused only by what the ledger checks for that identity, until
    ///   detection (a duration or a law of durations, drawn per replication) revokes the identity.
    func faults(_ node: Node?, identities: [IdentitySetup], identityIndex: [String: Int], workloads: [Workload],
                workloadOf: [Int: Int], prices: PriceTable) -> [(workload: Workload, node: Node)] {
        var out: [(workload: Workload, node: Node)] = []
        var leaked: Set<Int> = []
        for node in list(node, "faults") {
            guard let (kind, body) = single(node, "fault", allowed: ["runaway", "leaked_key"]) else { continue }
            let leak = kind == "leaked_key"
            let allowed = ["identity", "at", "rate", leak ? "detected_after" : "until", "model", "input_tokens", "output_tokens", "cost"]
            let f = fields(body, kind, allowed: allowed)
            let what = leak ? "a leaked_key" : "a runaway"
            guard let who = string(f["identity"], "\(kind) identity") else { d.error(body, "\(what) needs an 'identity'"); continue }
            guard let i = identityIndex[who] else { unknownIdentity(f["identity"], who, Array(identityIndex.keys)); continue }
            guard let perHour = rate(f["rate"], "\(kind) rate") else { if f["rate"] == nil { d.error(body, "\(what) needs a 'rate'") }; continue }
            guard perHour > 0 else { d.error(f["rate"], "\(what)'s rate must be positive"); continue }
            var w: Workload
            if let existing = workloadOf[i] {
                w = workloads[existing]
                if case .replay(let source) = w.arrivals {
                    w.inputTokens = .constant(1_000); w.outputTokens = .constant(500)
                    // A replay priced by its trace's own models: the loop draws from their mix.
                    if w.models.isEmpty { (w.models, w.modelWeights) = source.pricedModelMix }
                }
            } else {
                guard let pool = identities[i].entitlements.first?.pool else { continue }
                w = Workload(name: who, identity: i, pool: pool, arrivals: .periodic(intervalMs: 1_000), models: prices.models.isEmpty ? [] : [0])
            }
            w.name = "\(who)/\(leak ? "leak" : "runaway")"
            w.arrivals = .periodic(intervalMs: max(1, Int64((3_600_000 / perHour).rounded())))
            w.startMs = duration(f["at"], "at") ?? 0
            w.latencyMs = nil
            w.reserve = .actual
            // A fault's loop is plain requests on the identity's credential: no agent chain.
            w.agents = nil
            if leak {
                guard leaked.insert(i).inserted else { d.error(body, "identity '\(who)' has a leaked_key already (one per identity)"); continue }
                guard let detection = f["detected_after"] else {
                    d.error(body, "a leaked_key needs 'detected_after' (a duration, or a law such as { lognormal: { median: 20d, sigma: 1 } })")
                    continue
                }
                guard let law = sampler(detection, "detected_after", durations: true) else { continue }
                w.leak = Leak(detectedAfterMs: law)
                w.stopMs = nil
                w.stopsAtFirstRefusal = false
                // A fixed-rate loop: each request is sent once, whatever the answer (an attacker
                // does not back off or wait out a throttle).
                w.retry = RetryPolicy(maxRetries: 0, maxThrottleWaits: 0)
            } else {
                w.stopMs = duration(f["until"], "until")
                w.stopsAtFirstRefusal = true
                w.retry = RetryPolicy()
            }
            if let m = f["model"], let name = string(m, "model") {
                if let idx = prices.index(of: name) { w.models = [idx]; w.modelWeights = [1] } else { unknownModel(m, name, prices) }
            }
            if let t = f["input_tokens"], let s = sampler(t, "input_tokens") { w.inputTokens = s }
            if let t = f["output_tokens"], let s = sampler(t, "output_tokens") { w.outputTokens = s }
            if let c = f["cost"] { w.fixedCostMicrocredits = fixedCost(c) }
            out.append((w, f["rate"] ?? body))
        }
        return out
    }
}
