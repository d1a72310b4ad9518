import Ledger

/// Request and credit counts for one scope (the whole run, a pool, or an identity) in one
/// replication. Names follow DESIGN.md's metric contract once converted by ``metrics``.
public struct Counts: Sendable, Hashable, Codable {
    public var requestsTotal: Int64 = 0
    public var requestsServed: Int64 = 0
    public var requestsDegraded: Int64 = 0
    public var requestsRejected: Int64 = 0
    public var requestsInFlight: Int64 = 0
    /// Rejections for lack of credit (a pool refused), a subset of `requestsRejected`.
    public var rejectedForCredit: Int64 = 0
    public var spendMicrocredits: Int64 = 0
    public var overageMicrocredits: Int64 = 0
    public var overshootMicrocredits: Int64 = 0

    public init() {}
}

/// What happened to one pool in one replication.
public struct PoolOutcome: Sendable, Hashable, Codable {
    public var name: String
    public var counts = Counts()
    public var fundedMicrocredits: Int64 = 0
    public var expiredMicrocredits: Int64 = 0
    /// The pool's account balance at the horizon (negative within an overdraft).
    public var endBalanceMicrocredits: Int64 = 0
    /// When the pool first refused a request for lack of credit.
    public var exhaustedAtMs: Int64?
    /// Total time during which the pool's most recent draw was refused for lack of credit.
    public var downtimeMs: Int64 = 0
    /// Available credits at each sample time.
    public var availableSeries: [Int64] = []
    /// The pool's alert thresholds, in the order its policies list them, and when each fired.
    public var alerts: [AlertOutcome] = []

    public init(name: String) { self.name = name }
}

/// One alert threshold of a pool in one replication: when available credits first fell below it
/// (nil: never) and how many times it fired (once per crossing per period).
public struct AlertOutcome: Sendable, Hashable, Codable {
    public var thresholdMicrocredits: Int64
    public var firstAtMs: Int64?
    public var count: Int = 0

    public init(thresholdMicrocredits: Int64) { self.thresholdMicrocredits = thresholdMicrocredits }
}

/// What happened to one identity in one replication.
public struct IdentityOutcome: Sendable, Hashable, Codable {
    public var name: String
    public var counts = Counts()
    /// Spend by runaway loops of this identity, and how long after its start the first one was
    /// stopped by a control (nil: nothing stopped it).
    public var runawaySpendMicrocredits: Int64 = 0
    public var runawayStoppedAfterMs: Int64?
    public var runawayStarted = false
    /// How long the longest runaway of this identity would run unstopped: from its start to its
    /// `until:` or the horizon, whichever comes first.
    public var runawayExposureMs: Int64 = 0
    /// A leaked credential of this identity, when one started before the horizon.
    public var leak: LeakOutcome?
    /// Spend by delegation depth (index 0: not through a delegation), when a workload of this
    /// identity has agents (nil otherwise); as many entries as its deepest chain has levels, plus one.
    public var spendByDepthMicrocredits: [Int64]?

    public init(name: String) { self.name = name }
}

/// The result of one replication: everything later aggregated across replications.
public struct ReplicationResult: Sendable, Hashable, Codable {
    public var replication: Int
    public var horizonMs: Int64
    public var totals = Counts()
    public var pools: [PoolOutcome]
    public var identities: [IdentityOutcome]
    /// Sample times for the pools' `availableSeries` and the run's cumulative series.
    public var sampleTimesMs: [Int64] = []
    /// Credits spent so far (all pools) at each sample time: the demand curve `procure` prices.
    public var spendSeries: [Int64] = []
    /// Requests served so far (served or degraded) at each sample time.
    public var servedSeries: [Int64] = []
    /// Events the kernel processed (arrivals, completions, retries, samples).
    public var events: Int64 = 0
    public var fundedMicrocredits: Int64 = 0
    public var expiredMicrocredits: Int64 = 0
    /// A digest of the final ledger state (equal runs have equal digests).
    public var ledgerDigest: UInt64 = 0
    /// The ledger journal, set-up included, when the model records it.
    public var journal: [JournalRecord]?
    /// Served requests' tokens and spend by class, when some workload has a cache or batch
    /// pricing (nil otherwise, and the run has no token-class metrics).
    public var tokenClasses: TokenClassSummary?
    /// Spend by delegation depth over the run (index 0: not through a delegation), when some
    /// workload has agents (nil otherwise, and the run has no depth metrics); as many entries as
    /// the deepest chain has levels, plus one.
    public var spendByDepthMicrocredits: [Int64]?

    /// `(served + degraded) / total`; 1 when nothing was asked.
    public static func continuity(_ c: Counts) -> Double {
        c.requestsTotal == 0 ? 1 : Double(c.requestsServed + c.requestsDegraded) / Double(c.requestsTotal)
    }

    /// The metrics of DESIGN.md for one scope, as numbers (credits, hours, minutes, ratios), keyed
    /// by ``Metric`` name. A metric that does not apply (``Metric/Missing/notApplicable``) is
    /// absent; one censored at the horizon (``Metric/Missing/horizon``) takes `horizonMs`.
    public static func metrics(_ c: Counts, horizonMs: Int64, funded: Int64?, unused: Int64?, exhaustedAtMs: Int64??,
                               downtimeMs: Int64?, runaway: Runaway? = nil, leak: LeakOutcome? = nil) -> [String: Double] {
        var m: [String: Double] = [
            Metric.requestsTotal.name: Double(c.requestsTotal),
            Metric.requestsServed.name: Double(c.requestsServed),
            Metric.requestsDegraded.name: Double(c.requestsDegraded),
            Metric.requestsRejected.name: Double(c.requestsRejected),
            Metric.continuity.name: continuity(c),
            Metric.fullService.name: c.requestsTotal == 0 ? 1 : Double(c.requestsServed) / Double(c.requestsTotal),
            Metric.spendCredits.name: credits(c.spendMicrocredits),
            Metric.overageCredits.name: credits(c.overageMicrocredits),
            Metric.overshootCredits.name: credits(c.overshootMicrocredits),
        ]
        if let funded {
            m[Metric.budgetUtilisation.name] = funded > 0 ? Double(c.spendMicrocredits) / Double(funded) : 0
        }
        if let unused { m[Metric.unusedCredits.name] = credits(unused) }
        if let exhaustedAtMs {
            m[Metric.exhaustionProbability.name] = exhaustedAtMs == nil ? 0 : 1
            m[Metric.timeToExhaustionHours.name] = Double(exhaustedAtMs ?? horizonMs) / 3_600_000
        }
        if let downtimeMs { m[Metric.downtimeHours.name] = Double(downtimeMs) / 3_600_000 }
        if let runaway {
            m[Metric.runawaySpendCredits.name] = credits(runaway.spendMicrocredits)
            m[Metric.timeToStopMinutes.name] = Double(runaway.stoppedAfterMs ?? runaway.exposureMs) / 60_000
            m[Metric.runawayStopped.name] = runaway.stoppedAfterMs == nil ? 0 : 1
        }
        if let leak {
            m[Metric.leakSpendCredits.name] = credits(leak.spendMicrocredits)
            m[Metric.leakRequestsServed.name] = Double(leak.requestsServed)
            m[Metric.timeToRevokeHours.name] = Double(leak.revokeAfterMs) / 3_600_000
        }
        return m
    }

    /// A runaway's outcome in one scope: what it spent, when a control stopped it (nil: none did)
    /// and how long it would have run unstopped.
    public struct Runaway: Sendable, Hashable {
        public var spendMicrocredits: Int64
        public var stoppedAfterMs: Int64?
        public var exposureMs: Int64
    }

    @inline(__always)
    static func credits(_ micro: Int64) -> Double { Double(micro) / 1_000_000 }

    /// The run-level metrics of this replication.
    public var runMetrics: [String: Double] {
        var earliest: Int64? = nil
        var downtime: Int64 = 0
        var unused = expiredMicrocredits
        for p in pools {
            if let t = p.exhaustedAtMs { earliest = min(earliest ?? t, t) }
            downtime = max(downtime, p.downtimeMs)
            unused += max(p.endBalanceMicrocredits, 0)
        }
        // The run's runaway: all runaway spend; stopped once every runaway was stopped (at the
        // last stop); otherwise it ran as long as the longest unstopped one.
        var runaway: Runaway? = nil
        let started = identities.filter(\.runawayStarted)
        if !started.isEmpty {
            let spend = started.reduce(Int64(0)) { $0 + $1.runawaySpendMicrocredits }
            let unstopped = started.filter { $0.runawayStoppedAfterMs == nil }
            runaway = Runaway(spendMicrocredits: spend,
                              stoppedAfterMs: unstopped.isEmpty ? started.compactMap(\.runawayStoppedAfterMs).max() : nil,
                              exposureMs: unstopped.map(\.runawayExposureMs).max() ?? 0)
        }
        var m = Self.metrics(totals, horizonMs: horizonMs, funded: fundedMicrocredits, unused: unused, exhaustedAtMs: .some(earliest),
                             downtimeMs: downtime, runaway: runaway, leak: runLeak)
        if let t = tokenClasses {
            m[Metric.cachedInputShare.name] = t.cachedInputShare
            m[Metric.cacheSavingsCredits.name] = t.savedCredits
            for (k, metric) in Metric.spendByTokenClass.enumerated() { m[metric.name] = t.spendCredits[k] }
        }
        if let depths = spendByDepthMicrocredits {
            for (d, spend) in depths.enumerated() { m[Metric.spendByDepth[d].name] = Self.credits(spend) }
        }
        return m
    }

    /// Every leak of the run as one: spend and served requests summed, refusals summed (for
    /// its bound), revoked once the last one is, after the longest time to revoke.
    public var runLeak: LeakOutcome? {
        let leaks = identities.compactMap(\.leak)
        guard var run = leaks.first else { return nil }
        for l in leaks.dropFirst() {
            run.spendMicrocredits += l.spendMicrocredits
            run.requestsServed += l.requestsServed
            run.revokeAfterMs = max(run.revokeAfterMs, l.revokeAfterMs)
            run.revoked = run.revoked && l.revoked
            for k in run.refusedBy.indices { run.refusedBy[k] += l.refusedBy[k] }
        }
        return run
    }

    public func poolMetrics(_ i: Int) -> [String: Double] {
        let p = pools[i]
        return Self.metrics(p.counts, horizonMs: horizonMs, funded: p.fundedMicrocredits,
                            unused: p.expiredMicrocredits + max(p.endBalanceMicrocredits, 0),
                            exhaustedAtMs: .some(p.exhaustedAtMs), downtimeMs: p.downtimeMs)
    }

    public func identityMetrics(_ i: Int) -> [String: Double] {
        let d = identities[i]
        let runaway = d.runawayStarted
            ? Runaway(spendMicrocredits: d.runawaySpendMicrocredits, stoppedAfterMs: d.runawayStoppedAfterMs, exposureMs: d.runawayExposureMs)
            : nil
        var m = Self.metrics(d.counts, horizonMs: horizonMs, funded: nil, unused: nil, exhaustedAtMs: .none, downtimeMs: nil,
                             runaway: runaway, leak: d.leak)
        if let depths = d.spendByDepthMicrocredits {
            for (k, spend) in depths.enumerated() { m[Metric.spendByDepth[k].name] = Self.credits(spend) }
        }
        return m
    }
}
