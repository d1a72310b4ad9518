import Ledger
import Stochastic

/// Runs one replication of a model: turns its workloads into requests, sends every request
/// through `Ledger`, and measures what happened. It never reimplements a ledger rule: every
/// draw, hold, expiry and policy decision is a call into `Ledger`.
public enum Engine {
    /// Runs replication `replication` of `compiled`.
    public static func run(_ compiled: CompiledModel, replication: Int) throws(ConservationError) -> ReplicationResult {
        var run = ReplicationRun(compiled, replication: replication)
        return try run.execute()
    }

    /// Runs replication `replication` of `compiled` and also says why each rejected request was
    /// rejected. The result is the one ``run(_:replication:)`` gives.
    public static func runTallyingRejections(_ compiled: CompiledModel, replication: Int) throws(ConservationError) -> (ReplicationResult, RejectionTally) {
        var run = ReplicationRun(compiled, replication: replication)
        let result = try run.execute()
        return (result, run.rejections)
    }
}

struct ReplicationRun {
    let compiled: CompiledModel
    let model: SimulationModel
    let replication: Int
    var ledger: Ledger
    var queue = EventQueue()
    let hot: [HotWorkload]
    let profiles: [Profile]
    let prices: [ModelPrice]
    /// Each row's plain rates (nil with a long-context tier) and tier: read per request without
    /// copying the row.
    let plainPrices: [PlainPrice?]
    let priceTiers: [Int32]
    let poolIDs: [PoolID]
    let identityIDs: [IdentityID]
    let inputSamplers: [Sampler]
    let outputSamplers: [Sampler]
    let latencySamplers: [Sampler]
    let replays: [ReplaySource?]
    /// Streams per workload, flattened: see ``StreamSlot``.
    let streams: [RandomStream]
    /// The same streams, unretained, for the hot path: `streams` keeps them alive for the whole
    /// run, so borrowing them through `_withUnsafeGuaranteedRef` skips a retain/release pair per
    /// draw (measured: about 10% of case a of `burnrate bench sim`).
    let fastStreams: [Unmanaged<RandomStream>]
    /// Model indexes of each workload's mix, and its alias table (unretained: `compiled` keeps
    /// the tables alive).
    let mixModels: [[Int32]]
    let mixes: [Unmanaged<Categorical>?]
    var arrivalState: [ArrivalState]
    var stopped: [Bool]
    var slots: [Pending] = []
    var freeSlots: [Int32] = []
    var result: ReplicationResult
    /// The run's counters (totals, per pool, per identity), copied into `result` at the horizon.
    let counts: CountTable
    var downSince: [Int64?]
    /// Set when the model asks for the journal (tests, audits); nil on the fast path.
    var journal: RecordingSink?
    /// Rejected requests by the refusal that ended them (see ``Engine/runTallyingRejections``).
    var rejections: RejectionTally
    /// Caches and batch pricing (Cache.swift); nil when no workload has them, so that a request
    /// of such a model takes one branch more than before.
    let tokenClasses: TokenClassRun?
    var now: Int64 = 0
    /// What the starting ledger already holds (zero for a scenario's fresh ledger): the
    /// conservation laws are checked on what the run added.
    var opening = OpeningBooks()
    /// Per workload, its agent chain (nil: none), and the spend by depth; `agentBooks` is nil
    /// when no workload has agents.
    let agentPlans: [AgentPlan?]
    var agentBooks: AgentBooks?

    init(_ compiled: CompiledModel, replication: Int) {
        self.compiled = compiled
        self.model = compiled.model
        self.replication = replication
        self.ledger = compiled.ledger
        self.streams = compiled.streamNames.flatMap { names in
            names.map { RandomStream(seed: compiled.model.seed, replication: replication, name: $0, generator: compiled.model.generator) }
        }
        self.fastStreams = self.streams.map { Unmanaged.passUnretained($0) }
        self.mixModels = compiled.model.workloads.map { $0.models.map(Int32.init) }
        self.mixes = compiled.mixes.map { $0.map { Unmanaged.passUnretained($0) } }
        self.hot = DemandUncertainty.hotWorkloads(compiled, replication: replication)
        self.profiles = compiled.profiles
        self.prices = compiled.prices
        self.plainPrices = compiled.prices.map { PlainPrice($0) }
        self.priceTiers = compiled.prices.map { Int32($0.tier) }
        self.poolIDs = compiled.poolIDs
        self.identityIDs = compiled.identityIDs
        self.inputSamplers = compiled.model.workloads.map(\.inputTokens)
        self.outputSamplers = compiled.model.workloads.map(\.outputTokens)
        self.latencySamplers = compiled.model.workloads.map { $0.latencyMs ?? .constant(0) }
        self.replays = compiled.model.workloads.map { w in
            guard case .replay(var r) = w.arrivals else { return nil }
            if let buckets = r.trace.buckets {
                // An aggregated export's requests are drawn anew in each replication, from a
                // stream of their own (common random numbers for the rest of the model).
                let stream = RandomStream(seed: compiled.model.seed, replication: replication,
                                          name: "workload/\(w.name)/disaggregate", generator: compiled.model.generator)
                r.trace = buckets.expanded(stream: stream, template: r.trace)
            }
            return r
        }
        self.arrivalState = Array(repeating: ArrivalState(), count: compiled.model.workloads.count)
        self.stopped = Array(repeating: false, count: compiled.model.workloads.count)
        self.result = ReplicationResult(replication: replication, horizonMs: compiled.model.horizonMs,
                                        pools: compiled.model.pools.map { pool in
                                            var o = PoolOutcome(name: pool.spec.name)
                                            for case .alerts(let thresholds) in pool.spec.policies {
                                                o.alerts += thresholds.map(AlertOutcome.init(thresholdMicrocredits:))
                                            }
                                            return o
                                        },
                                        identities: compiled.model.identities.map { IdentityOutcome(name: $0.spec.name) })
        self.counts = CountTable(pools: compiled.model.pools.count, identities: compiled.model.identities.count)
        self.downSince = Array(repeating: nil, count: compiled.model.pools.count)
        self.journal = compiled.model.recordsJournal ? RecordingSink() : nil
        self.rejections = RejectionTally(pools: compiled.model.pools.count, identities: compiled.model.identities.count)
        self.now = compiled.model.startMs
        self.opening = OpeningBooks(compiled.ledger, pools: compiled.poolIDs)
        self.agentPlans = compiled.model.workloads.map { w in
            w.agents.map { AgentPlan($0, identity: compiled.model.identities[w.identity].spec.name) }
        }
        self.agentBooks = AgentBooks(compiled.model)
        self.tokenClasses = TokenClassRun.needed(compiled.model) ? TokenClassRun(compiled.model, replication: replication) : nil
    }

    /// Every ledger command of a replication goes through here, or through the three below, which
    /// skip building a request value and an `Outcome` when no journal is kept (the ledger's
    /// unkeyed entry points run the same rule code as `apply`).
    @inline(__always)
    mutating func apply(_ request: Request) -> Outcome {
        let o = journal != nil ? ledger.apply(request, sink: &journal!) : ledger.apply(request)
        if ledger.tookDecisions { noteAlerts(ledger.lastDecisions) }
        return o
    }

    @inline(__always)
    mutating func authorize(_ identity: IdentityID, _ pool: PoolID, tier: Int32, _ amount: Int64, expiresAtMs: Int64) -> Placement {
        guard journal == nil else {
            switch apply(Request(atMs: now, .authorize(identity: identity, pool: pool, tier: Int(tier),
                                                       amountMicrocredits: amount, expiresAtMs: expiresAtMs))) {
            case .accepted(let a): return .placed(a.hold!)
            case .refused(let r): return .refused(r)
            }
        }
        let o = ledger.placeHold(atMs: now, identity: identity, pool: pool, tier: Int(tier), amountMicrocredits: amount, expiresAtMs: expiresAtMs)
        if ledger.tookDecisions { noteAlerts(ledger.lastDecisions) }
        return o
    }

    /// A capture answered as a ``Charge``: accepted, the whole amount was charged.
    @inline(__always)
    mutating func capture(_ hold: HoldID, _ amount: Int64) -> Charge {
        guard journal == nil else { return Self.charge(apply(Request(atMs: now, .capture(hold: hold, amountMicrocredits: amount)))) }
        let o = ledger.captureCharge(atMs: now, hold: hold, amountMicrocredits: amount)
        if ledger.tookDecisions { noteAlerts(ledger.lastDecisions) }
        return o
    }

    /// A debit answered as a ``Charge``, as ``capture(_:_:)`` is.
    @inline(__always)
    mutating func debitCharge(_ identity: IdentityID, _ pool: PoolID, tier: Int32, _ amount: Int64) -> Charge {
        guard journal == nil else {
            return Self.charge(apply(Request(atMs: now, .debit(identity: identity, pool: pool, tier: Int(tier), amountMicrocredits: amount))))
        }
        let o = ledger.charge(atMs: now, identity: identity, pool: pool, tier: Int(tier), amountMicrocredits: amount)
        if ledger.tookDecisions { noteAlerts(ledger.lastDecisions) }
        return o
    }

    /// The cost of `input` and `output` uncached tokens on model `m`: from its plain rates when the
    /// row has them (no copy of the row, its name and tiers), else from the row. Static, over the
    /// two arrays: a method would copy the whole run value first.
    @inline(__always)
    static func tokenCost(_ m: Int, _ plain: [PlainPrice?], _ prices: [ModelPrice], input: Int64, output: Int64) -> Int64? {
        if let p = plain[m] { return p.cost(inputTokens: input, outputTokens: output) }
        return PriceTable.cost(prices[m], inputTokens: input, outputTokens: output)
    }

    /// A debit's or a capture's outcome as a ``Charge`` (the amount charged is the amount asked).
    static func charge(_ o: Outcome) -> Charge {
        switch o {
        case .accepted(let a): .accepted(overageMicrocredits: a.overageMicrocredits)
        case .refused(let r): .refused(r)
        }
    }

    /// Books the alerts a command fired (the other decisions show in the ledger's state).
    mutating func noteAlerts(_ decisions: [Decision]) {
        for case .alert(let pool, let threshold) in decisions {
            guard let p = compiled.poolIDs.firstIndex(of: pool),
                  let k = result.pools[p].alerts.firstIndex(where: { $0.thresholdMicrocredits == threshold }) else { continue }
            if result.pools[p].alerts[k].firstAtMs == nil { result.pools[p].alerts[k].firstAtMs = now }
            result.pools[p].alerts[k].count += 1
        }
    }

    mutating func execute() throws(ConservationError) -> ReplicationResult {
        let horizon = model.horizonMs
        for w in model.workloads.indices {
            if let t = firstArrival(w) { queue.push(t, .arrival, Int32(w)) }
        }
        if model.sampleEveryMs > 0 { queue.push(model.startMs, .sample, 0, cls: 0) }
        scheduleLeakDetections()
        var events: Int64 = 0
        while let e = queue.min {
            if e.timeMs >= horizon { break }
            now = e.timeMs
            events += 1
            // An arrival stays at the head of the queue until it has scheduled its successor
            // (`arrive` replaces it); every other event leaves the queue first.
            if e.kind != .arrival { queue.removeMin() }
            switch e.kind {
            case .arrival: arrive(Int(e.index))
            case .attempt: attempt(Int(e.index))
            case .completion: complete(Int(e.index))
            case .sample: sample()
            case .revoke: revoke(Int(e.index))
            }
        }
        result.events = events
        return try closeBooks()
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
