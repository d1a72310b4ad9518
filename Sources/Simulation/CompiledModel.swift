import Ledger
import Stochastic

/// A model made ready to run many replications: the starting ledger (built once, copied per
/// replication), the alias tables of model mixes, thinning bounds.
public final class CompiledModel: Sendable {
    public let model: SimulationModel
    let ledger: Ledger
    let poolIDs: [PoolID]
    let identityIDs: [IdentityID]
    let mixes: [Categorical?]
    let poissonMaxPerMs: [Double]
    let tierModel: [Int]
    let prices: [ModelPrice]
    let streamNames: [[String]]
    let hot: [HotWorkload]
    let profiles: [Profile]
    /// The journal of the set-up commands (pools, grants, identities, entitlements), for
    /// replications that record their journal.
    let setupJournal: [JournalRecord]

    /// Compiles `model`, building its starting ledger from its pools, grants, identities and
    /// entitlements.
    public convenience init(_ model: SimulationModel) throws(SetupError) {
        let (ledger, journal, pools, identities) = try Self.setUp(model)
        try self.init(model, ledger: ledger, setupJournal: journal, pools: pools, identities: identities)
    }

    /// Compiles `model` to run forward from `ledger` as it is (a live ledger's state, for a
    /// forecast): its balances, grants and their expiry, holds, policies and entitlements.
    /// `model.pools` and `model.identities` then only name the ledger's `pools` and
    /// `identities`, in the same order (their grants and entitlements are not applied again).
    public convenience init(_ model: SimulationModel, startingFrom ledger: Ledger, pools: [PoolID], identities: [IdentityID]) throws(SetupError) {
        guard pools.count == model.pools.count, identities.count == model.identities.count else {
            throw SetupError(message: "the model names \(model.pools.count) pools and \(model.identities.count) identities, the ledger's lists have \(pools.count) and \(identities.count)")
        }
        for p in pools where ledger.balance(of: p) == nil { throw SetupError(message: "no pool #\(p.index) in the ledger") }
        guard ledger.nowMs <= model.startMs else {
            throw SetupError(message: "the ledger's clock (\(ledger.nowMs) ms) is after the run's start (\(model.startMs) ms)")
        }
        try self.init(model, ledger: ledger, setupJournal: [], pools: pools, identities: identities)
    }

    /// The starting ledger of a scenario's model, and the journal of its set-up.
    static func setUp(_ model: SimulationModel) throws(SetupError) -> (Ledger, [JournalRecord], [PoolID], [IdentityID]) {
        var ledger = Ledger(config: model.ledgerConfig)
        var setupSink = RecordingSink()
        var pools: [PoolID] = []
        for (i, p) in model.pools.enumerated() {
            var spec = p.spec
            if let parent = spec.parent { spec.parent = pools[Int(parent.index)] }
            guard let id = ledger.apply(Request(atMs: 0, .createPool(spec)), sink: &setupSink).acceptance?.pool else {
                throw SetupError(message: "pool '\(p.spec.name)' (#\(i)) was refused by the ledger")
            }
            pools.append(id)
        }
        for (i, p) in model.pools.enumerated() {
            for g in p.grants {
                let out = ledger.apply(Request(atMs: 0, .fund(pool: pools[i], g)), sink: &setupSink)
                if let r = out.refusal { throw SetupError(message: "grant for pool '\(p.spec.name)' refused: \(r)") }
            }
        }
        var identities: [IdentityID] = []
        for d in model.identities {
            guard let id = ledger.apply(Request(atMs: 0, .createIdentity(d.spec)), sink: &setupSink).acceptance?.identity else {
                throw SetupError(message: "identity '\(d.spec.name)' was refused by the ledger")
            }
            identities.append(id)
            for e in d.entitlements {
                guard e.pool >= 0 && e.pool < pools.count else { throw SetupError(message: "identity '\(d.spec.name)': no pool #\(e.pool)") }
                let out = ledger.apply(Request(atMs: 0, .entitle(identity: id, pool: pools[e.pool], e.entitlement)), sink: &setupSink)
                if let r = out.refusal { throw SetupError(message: "entitlement of '\(d.spec.name)' refused: \(r)") }
            }
        }
        return (ledger, setupSink.records, pools, identities)
    }

    private init(_ model: SimulationModel, ledger: Ledger, setupJournal: [JournalRecord], pools: [PoolID], identities: [IdentityID]) throws(SetupError) {
        self.model = model
        self.ledger = ledger
        self.setupJournal = setupJournal
        self.poolIDs = pools
        self.identityIDs = identities
        self.prices = model.prices.models
        var mixes: [Categorical?] = []
        var bounds: [Double] = []
        var names: [[String]] = []
        for w in model.workloads {
            guard w.identity >= 0 && w.identity < identities.count else { throw SetupError(message: "workload '\(w.name)': no identity #\(w.identity)") }
            guard w.pool >= 0 && w.pool < pools.count else { throw SetupError(message: "workload '\(w.name)': no pool #\(w.pool)") }
            var tracePricesEveryRequest = false
            if case .replay(let source) = w.arrivals { tracePricesEveryRequest = source.pricesEveryRequest }
            guard w.fixedCostMicrocredits != nil || !w.models.isEmpty || tracePricesEveryRequest else {
                throw SetupError(message: "workload '\(w.name)' names no model and no fixed cost")
            }
            for m in w.models where m < 0 || m >= model.prices.models.count {
                throw SetupError(message: "workload '\(w.name)': no model #\(m) in the price table")
            }
            if w.models.count > 1 {
                do { mixes.append(try Categorical(weights: w.modelWeights)) } catch {
                    throw SetupError(message: "workload '\(w.name)': model weights: \(error)")
                }
            } else {
                mixes.append(nil)
            }
            switch w.arrivals {
            case .poisson(let rate, let profile, let growth):
                let g = growth > 0 ? growthFactor(log1p(growth) / 86_400_000, atMs: model.horizonMs) : 1
                bounds.append(rate / 3_600_000 * profile.maximum * g)
            default:
                bounds.append(0)
            }
            if let chain = w.agents {
                if case .replay = w.arrivals { throw SetupError(message: "workload '\(w.name)': agents need synthetic arrivals, not a replay") }
                guard w.leak == nil, !w.stopsAtFirstRefusal else { throw SetupError(message: "workload '\(w.name)': a fault's loop has no agents") }
                guard chain.depth >= 1, chain.depth <= model.ledgerConfig.maxDelegationDepth else {
                    throw SetupError(message: "workload '\(w.name)': agents' depth \(chain.depth) is not within 1…\(model.ledgerConfig.maxDelegationDepth)")
                }
                guard chain.children >= 1, chain.requests >= 0, chain.delegateMicrocredits.allSatisfy({ $0 > 0 }) else {
                    throw SetupError(message: "workload '\(w.name)': agents need children ≥ 1, requests ≥ 0 and positive delegations")
                }
            }
            names.append(StreamSlot.allCases.map { "workload/\(w.name)/\($0.name)" })
        }
        self.mixes = mixes
        self.poissonMaxPerMs = bounds
        self.streamNames = names
        var hot: [HotWorkload] = []
        var profiles: [Profile] = []
        for (w, workload) in model.workloads.enumerated() {
            var h = HotWorkload(identity: Int32(workload.identity), pool: Int32(workload.pool), arrival: .periodic, ratePerMs: 0,
                                logGrowthPerMs: 0, peakPerMs: bounds[w], gapIsGamma: true, gapParameter: 1, intervalMs: 0,
                                startMs: workload.startMs, stopMs: min(model.horizonMs, workload.stopMs ?? .max),
                                fixedCost: workload.fixedCostMicrocredits,
                                singleModel: workload.models.count == 1 ? Int32(workload.models[0]) : -1,
                                hasLatency: workload.latencyMs != nil, reserve: workload.reserve,
                                stopsAtFirstRefusal: workload.stopsAtFirstRefusal, retry: workload.retry, tokensFromTrace: false)
            var profile = Profile.flat
            switch workload.arrivals {
            case .poisson(let rate, let p, let growth):
                h.arrival = .poisson; h.ratePerMs = rate / 3_600_000; h.logGrowthPerMs = log1p(growth) / 86_400_000; profile = p
                h.constantRate = growth == 0 && p.factors.allSatisfy { $0 == 1 }
            case .renewal(let rate, let family, let p, let growth):
                h.arrival = .renewal; h.ratePerMs = rate / 3_600_000; h.logGrowthPerMs = log1p(growth) / 86_400_000; profile = p
                switch family {
                case .gamma(let cv): h.gapIsGamma = true; h.gapParameter = cv
                case .weibull(let shape): h.gapIsGamma = false; h.gapParameter = shape
                }
            case .markovModulated: h.arrival = .markov
            case .periodic(let interval): h.arrival = .periodic; h.intervalMs = max(1, interval)
            case .replay(let source):
                h.arrival = .replay; h.tokensFromTrace = true
                h.tracePricedByClass = source.trace.hasCacheSplit || source.trace.buckets != nil || !source.trace.loggedCostsMicrocredits.isEmpty
            }
            h.leaks = workload.leak != nil
            h.agents = workload.agents != nil
            if case .actual = h.reserve { h.instantDebit = !h.hasLatency && !h.stopsAtFirstRefusal && !h.leaks }
            hot.append(h)
            profiles.append(profile)
        }
        self.hot = hot
        self.profiles = profiles
        var tierModel = Array(repeating: -1, count: 64)
        for (t, m) in model.modelForTier where t >= 0 && t < 64 { tierModel[t] = m }
        self.tierModel = tierModel
    }
}

/// A model that cannot be set up (a bug in the caller: the scenario layer validates first).
public struct SetupError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

/// A workload's figures flattened for the hot path: plain values only, so reading one copies no
/// reference (the `Workload` value holds arrays, samplers and traces).
struct HotWorkload {
    enum Arrival: UInt8 { case poisson, renewal, markov, periodic, replay }
    var identity: Int32
    var pool: Int32
    var arrival: Arrival
    var ratePerMs: Double
    /// log1p(growth per day) / ms per day (see `growthFactor`).
    var logGrowthPerMs: Double
    var peakPerMs: Double
    var gapIsGamma: Bool
    var gapParameter: Double
    var intervalMs: Int64
    var startMs: Int64
    var stopMs: Int64
    var fixedCost: Int64?
    var singleModel: Int32
    var hasLatency: Bool
    var reserve: Reserve
    var stopsAtFirstRefusal: Bool
    var retry: RetryPolicy
    var tokensFromTrace: Bool
    /// A flat profile and no growth: the rate never changes, so thinning accepts every candidate.
    var constantRate: Bool = false
    /// No latency, reserve actual, not a runaway or a leak: the request is one debit at arrival.
    var instantDebit: Bool = false
    /// The attacker's loop of a leaked credential (its spend and outcomes are booked apart).
    var leaks: Bool = false
    /// This replication's draw of `uncertainty.rate` (1 without one); the processes whose rate is
    /// held elsewhere (Markov-modulated) multiply by it.
    var rateFactor: Double = 1
    /// A replayed usage export that records a cache split or its own cost: requests are priced
    /// by ``ReplicationRun/replayCost(_:row:price:outputTokens:logged:)``.
    var tracePricedByClass: Bool = false
    /// Each request is a task that runs an agent chain first (Agents.swift).
    var agents: Bool = false
}

/// The random streams of one workload, in the order they are laid out: a workload's streams are
/// consecutive in ``ReplicationRun/streams``, so slot `k` of workload `w` is at
/// `w * StreamSlot.count + k`. The names are part of what seeds each stream (common random
/// numbers): renaming one changes every result.
enum StreamSlot: Int, CaseIterable {
    case arrivals, mix, tokens, latency, bootstrap

    static let count = allCases.count

    /// The name the stream is derived from, under `workload/<name>/`.
    var name: String {
        switch self {
        case .arrivals: "arrivals"
        case .mix: "mix"
        case .tokens: "tokens"
        case .latency: "latency"
        case .bootstrap: "bootstrap"
        }
    }

    /// The index of this slot of workload `w`.
    @inline(__always)
    func index(_ w: Int) -> Int { w &* StreamSlot.count &+ rawValue }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
