import Ledger
import Stochastic

/// Everything a simulation needs, already validated: the ledger set-up (pools, grants,
/// identities, entitlements), prices, workloads, faults, horizon and seed. The `Scenario` module
/// builds one from a YAML file; tests and benchmarks build them in code.
public struct SimulationModel: Sendable {
    public var name: String
    public var seed: UInt64
    public var horizonMs: Int64
    public var generator: Generator
    public var pools: [PoolSetup]
    public var identities: [IdentitySetup]
    public var prices: PriceTable
    /// The model a request is re-priced at when a `degrade` policy answers "tier t".
    public var modelForTier: [Int: Int]
    public var workloads: [Workload]
    /// How often pool balances are sampled for the time series (fan charts).
    public var sampleEveryMs: Int64
    /// How long a hold lives when nothing captures it (the ledger releases it then).
    public var holdTimeoutMs: Int64
    public var ledgerConfig: LedgerConfig
    /// Keep each replication's ledger journal in its result (for audits and for replaying a run
    /// into a durable store); off by default, as it costs memory and time.
    public var recordsJournal = false
    /// When the run starts: 0 for a scenario; a live ledger's clock for a forecast that runs
    /// forward from it (then `horizonMs` is absolute too, and workloads start here).
    public var startMs: Int64 = 0

    public init(name: String, seed: UInt64, horizonMs: Int64, generator: Generator = .taus2, pools: [PoolSetup],
                identities: [IdentitySetup], prices: PriceTable, modelForTier: [Int: Int] = [:], workloads: [Workload],
                sampleEveryMs: Int64? = nil, holdTimeoutMs: Int64 = Millis.hour, ledgerConfig: LedgerConfig = LedgerConfig()) {
        self.name = name
        self.seed = seed
        self.horizonMs = horizonMs
        self.generator = generator
        self.pools = pools
        self.identities = identities
        self.prices = prices
        self.modelForTier = modelForTier
        self.workloads = workloads
        // About 240 samples over the horizon, on whole minutes.
        self.sampleEveryMs = sampleEveryMs ?? max(Millis.minute, horizonMs / 240 / Millis.minute * Millis.minute)
        self.holdTimeoutMs = holdTimeoutMs
        self.ledgerConfig = ledgerConfig
    }
}

/// A pool and the grants it starts with.
public struct PoolSetup: Sendable {
    public var spec: PoolSpec
    /// Grants funded at time zero (their own effective and expiry times apply).
    public var grants: [GrantSpec]

    public init(_ spec: PoolSpec, grants: [GrantSpec] = []) {
        self.spec = spec
        self.grants = grants
    }
}

/// An identity and its entitlements (pool indexes into ``SimulationModel/pools``).
public struct IdentitySetup: Sendable {
    public var spec: IdentitySpec
    public var entitlements: [(pool: Int, entitlement: Entitlement)]

    public init(_ spec: IdentitySpec, entitlements: [(pool: Int, entitlement: Entitlement)]) {
        self.spec = spec
        self.entitlements = entitlements
    }
}

/// One source of requests: who sends them, to which pool, when, for which model, at what size.
public struct Workload: Sendable {
    public var name: String
    /// Index into ``SimulationModel/identities``.
    public var identity: Int
    /// Index into ``SimulationModel/pools``.
    public var pool: Int
    public var arrivals: ArrivalProcess
    /// Model indexes (into the price table) and their weights.
    public var models: [Int]
    public var modelWeights: [Double]
    public var inputTokens: Sampler
    public var outputTokens: Sampler
    /// A fixed cost per request instead of token pricing.
    public var fixedCostMicrocredits: Int64?
    /// Time from arrival to completion, in ms; nil = zero latency (capture at arrival).
    public var latencyMs: Sampler?
    public var reserve: Reserve
    public var retry: RetryPolicy
    /// A runaway fault: the loop stops at its first refusal (a stop condition, a cap, exhaustion).
    public var stopsAtFirstRefusal: Bool
    /// No arrival before this time (a fault's start) or from this time on.
    public var startMs: Int64
    public var stopMs: Int64?
    /// A leaked credential: this workload is the attacker's loop on the identity's credential,
    /// until detection revokes the identity (see ``Leak``).
    public var leak: Leak? = nil
    /// Demand uncertainty between periods: parameters drawn once per replication (nil: none).
    public var uncertainty: DemandUncertainty?
    /// How the input tokens split over the cache classes; nil: all uncached.
    public var cache: CacheModel? = nil
    /// Priced with the model's batch multiplier.
    public var batch = false
    /// Each request is a task that spawns sub-agents drawing through delegations (nil: none).
    public var agents: AgentChain? = nil

    public init(name: String, identity: Int, pool: Int, arrivals: ArrivalProcess, models: [Int], modelWeights: [Double]? = nil,
                inputTokens: Sampler = .constant(0), outputTokens: Sampler = .constant(0), fixedCostMicrocredits: Int64? = nil,
                latencyMs: Sampler? = nil, reserve: Reserve = .actual, retry: RetryPolicy = RetryPolicy(),
                stopsAtFirstRefusal: Bool = false, startMs: Int64 = 0, stopMs: Int64? = nil) {
        self.startMs = startMs
        self.stopMs = stopMs
        self.name = name
        self.identity = identity
        self.pool = pool
        self.arrivals = arrivals
        self.models = models
        self.modelWeights = modelWeights ?? Array(repeating: 1, count: models.count)
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.fixedCostMicrocredits = fixedCostMicrocredits
        self.latencyMs = latencyMs
        self.reserve = reserve
        self.retry = retry
        self.stopsAtFirstRefusal = stopsAtFirstRefusal
    }
}

/// An agent chain (DESIGN.md, "Delegation: budgets down an agent chain"): each request of the
/// workload is a task. At its arrival, before the task's own request (depth 0), the identity
/// delegates `delegateMicrocredits[0]` from the workload's pool to each of `children` sub-agents
/// (`<identity>:sub-1` … `<identity>:sub-N`, created by the ledger); each sub-agent makes
/// `requests` requests through its delegation (delegated debits, at the task's instant, priced by
/// the workload's model and token laws), then delegates `delegateMicrocredits[1]` from its own
/// delegation to each of its `children` sub-agents (`<identity>:sub-1.1` …), and so on down to
/// `depth` levels. With `closesAfter`, the task then closes each root delegation, which closes
/// its subtree and returns the unspent rest to the pool; otherwise the delegations stay open.
public struct AgentChain: Sendable, Hashable {
    /// The amount of each delegation, by level (index 0: depth 1); its count is the depth.
    public var delegateMicrocredits: [Int64]
    /// Sub-agents each agent spawns.
    public var children: Int
    /// Requests each sub-agent makes.
    public var requests: Int
    /// The task closes its delegations once its sub-agents are done.
    public var closesAfter: Bool

    public init(delegateMicrocredits: [Int64], children: Int = 1, requests: Int = 1, closesAfter: Bool = true) {
        self.delegateMicrocredits = delegateMicrocredits
        self.children = children
        self.requests = requests
        self.closesAfter = closesAfter
    }

    /// How many levels of delegation below the identity.
    public var depth: Int { delegateMicrocredits.count }

    /// The sub-agents of one task, in the order they act (depth first).
    public var agentsPerTask: Int {
        var total = 0, level = 1
        for _ in 0..<depth { level *= children; total += level }
        return total
    }
}

/// A leaked credential (DESIGN.md, "Faults: a leaked credential"): from the workload's start an
/// attacker uses the identity's credential at a fixed rate, subject to everything the ledger checks
/// for that identity, until the leak is detected `detectedAfterMs` later (drawn once per
/// replication from the stream `workload/<name>/detection`). Detection revokes the identity, which
/// also ends its legitimate work.
public struct Leak: Sendable {
    public var detectedAfterMs: Sampler

    public init(detectedAfterMs: Sampler) { self.detectedAfterMs = detectedAfterMs }
}

/// Demand that is uncertain from one period to the next far beyond Poisson noise (DESIGN.md,
/// "Demand uncertainty"): each parameter is drawn once per replication from the workload's own
/// stream (`workload/NAME/uncertainty`), so that variants of a scenario see the same draws
/// (common random numbers) and the workload's other streams are untouched.
public struct DemandUncertainty: Sendable {
    /// Multiplies the workload's arrival rate (a draw below zero counts as zero).
    public var rate: Sampler?
    /// Replaces the growth per month (a fraction: 0.10 is 10% a month; draws are clipped to
    /// −0.99 and above, the bound of `growth:`).
    public var growthPerMonth: Sampler?

    public init(rate: Sampler? = nil, growthPerMonth: Sampler? = nil) {
        self.rate = rate
        self.growthPerMonth = growthPerMonth
    }

    /// The stream the draws come from.
    public static func streamName(workload: String) -> String { "workload/\(workload)/uncertainty" }

    /// One replication's draws: the rate multiplier (≥ 0) and the growth per day that replaces
    /// the workload's (nil: keep it). Rate first, then growth, from one stream.
    public func draw(_ stream: RandomStream) -> (rateFactor: Double, growthPerDay: Double?) {
        let factor = rate.map { max(0, $0.sample(stream)) } ?? 1
        let growth = growthPerMonth.map { g -> Double in
            let perMonth = max(-0.99, g.sample(stream))
            return pow(1 + perMonth, 1.0 / 30) - 1
        }
        return (factor, growth)
    }
}

/// What is held at arrival (DESIGN.md, "Simulation semantics").
public enum Reserve: Sendable, Hashable {
    /// The request's own cost (the default).
    case actual
    /// Input cost plus this many output tokens, as proxies reserve before the answer is known.
    case maxOutputTokens(Int64)
    /// Nothing: ask the ledger at arrival whether it would accept the debit (the admission
    /// query: the debit's own rules), record after completion (concurrent requests may overshoot).
    case none
}

/// How an agent reacts to a refusal.
public struct RetryPolicy: Sendable, Hashable {
    /// Retries after a refusal for lack of credit or a cap (0 = give up at once, the default).
    public var maxRetries: Int
    /// Wait before the first retry; each further retry waits `multiplier` times longer.
    public var backoffMs: Int64
    public var multiplier: Double
    /// A throttled request waits as told, at most this many times, then gives up.
    public var maxThrottleWaits: Int

    public init(maxRetries: Int = 0, backoffMs: Int64 = 1_000, multiplier: Double = 2, maxThrottleWaits: Int = 10) {
        self.maxRetries = maxRetries
        self.backoffMs = backoffMs
        self.multiplier = multiplier
        self.maxThrottleWaits = maxThrottleWaits
    }
}

/// A distribution to draw token counts or latencies from, as a closed enum (no existential on the
/// hot path).
public enum Sampler: Sendable {
    case constant(Double)
    case exponential(Exponential)
    case normal(Normal)
    case lognormal(LogNormal)
    case gamma(Gamma)
    case weibull(Weibull)
    case pareto(Pareto)
    case uniform(Uniform)
    case empirical(Empirical)

    @inline(__always)
    public func sample(_ stream: RandomStream) -> Double {
        switch self {
        case .constant(let v): v
        case .exponential(let d): d.sample(stream)
        case .normal(let d): d.sample(stream)
        case .lognormal(let d): d.sample(stream)
        case .gamma(let d): d.sample(stream)
        case .weibull(let d): d.sample(stream)
        case .pareto(let d): d.sample(stream)
        case .uniform(let d): d.sample(stream)
        case .empirical(let d): d.sample(stream)
        }
    }

    /// A draw rounded to a whole, non-negative count.
    @inline(__always)
    public func count(_ stream: RandomStream) -> Int64 {
        let x = sample(stream)
        guard x > 0 else { return 0 }
        return x >= 1e15 ? 1_000_000_000_000_000 : Int64(x.rounded())
    }

    public var mean: Double {
        switch self {
        case .constant(let v): v
        case .exponential(let d): d.mean
        case .normal(let d): d.mean
        case .lognormal(let d): d.mean
        case .gamma(let d): d.mean
        case .weibull(let d): d.mean
        case .pareto(let d): d.mean
        case .uniform(let d): d.mean
        case .empirical(let d): d.mean
        }
    }

    var isZero: Bool {
        if case .constant(let v) = self { return v <= 0 }
        return false
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
