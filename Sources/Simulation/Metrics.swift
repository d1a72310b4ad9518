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

    public init(name: String) { self.name = name }
}

/// What happened to one identity in one replication.
public struct IdentityOutcome: Sendable, Hashable, Codable {
    public var name: String
    public var counts = Counts()
    /// Spend by runaway loops of this identity, and when the first one was stopped.
    public var runawaySpendMicrocredits: Int64 = 0
    public var runawayStoppedAfterMs: Int64?
    public var runawayStarted = false

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

    /// `(served + degraded) / total`; 1 when nothing was asked.
    public static func continuity(_ c: Counts) -> Double {
        c.requestsTotal == 0 ? 1 : Double(c.requestsServed + c.requestsDegraded) / Double(c.requestsTotal)
    }

    /// The metrics of DESIGN.md for one scope, as numbers (credits, hours, minutes, ratios).
    /// A metric that does not apply (time to exhaustion of a pool that never ran dry) is absent.
    public static func metrics(_ c: Counts, funded: Int64?, unused: Int64?, exhaustedAtMs: Int64??, downtimeMs: Int64?,
                               runawaySpend: Int64? = nil, runawayStopMs: Int64?? = nil) -> [String: Double] {
        var m: [String: Double] = [
            "requests_total": Double(c.requestsTotal),
            "requests_served": Double(c.requestsServed),
            "requests_degraded": Double(c.requestsDegraded),
            "requests_rejected": Double(c.requestsRejected),
            "continuity": continuity(c),
            "full_service": c.requestsTotal == 0 ? 1 : Double(c.requestsServed) / Double(c.requestsTotal),
            "spend_credits": credits(c.spendMicrocredits),
            "overage_credits": credits(c.overageMicrocredits),
            "overshoot_credits": credits(c.overshootMicrocredits),
        ]
        if let funded {
            m["budget_utilisation"] = funded > 0 ? Double(c.spendMicrocredits) / Double(funded) : 0
        }
        if let unused { m["unused_credits"] = credits(unused) }
        if let exhaustedAtMs {
            m["exhaustion_probability"] = exhaustedAtMs == nil ? 0 : 1
            if let t = exhaustedAtMs ?? nil { m["time_to_exhaustion_hours"] = Double(t) / 3_600_000 }
        }
        if let downtimeMs { m["downtime_hours"] = Double(downtimeMs) / 3_600_000 }
        if let runawaySpend { m["runaway_spend_credits"] = credits(runawaySpend) }
        if let stop = runawayStopMs, let t = stop { m["time_to_stop_minutes"] = Double(t) / 60_000 }
        return m
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
        let runaway = identities.reduce(Int64(0)) { $0 + $1.runawaySpendMicrocredits }
        let started = identities.contains { $0.runawayStarted }
        let stop: Int64?? = started ? .some(identities.compactMap(\.runawayStoppedAfterMs).max() ?? horizonMs) : .none
        return Self.metrics(totals, funded: fundedMicrocredits, unused: unused, exhaustedAtMs: .some(earliest),
                            downtimeMs: downtime, runawaySpend: started ? runaway : nil, runawayStopMs: stop)
    }

    public func poolMetrics(_ i: Int) -> [String: Double] {
        let p = pools[i]
        return Self.metrics(p.counts, funded: p.fundedMicrocredits,
                            unused: p.expiredMicrocredits + max(p.endBalanceMicrocredits, 0),
                            exhaustedAtMs: .some(p.exhaustedAtMs), downtimeMs: p.downtimeMs)
    }

    public func identityMetrics(_ i: Int) -> [String: Double] {
        let d = identities[i]
        return Self.metrics(d.counts, funded: nil, unused: nil, exhaustedAtMs: .none, downtimeMs: nil,
                            runawaySpend: d.runawayStarted ? d.runawaySpendMicrocredits : nil,
                            runawayStopMs: d.runawayStarted ? .some(d.runawayStoppedAfterMs ?? horizonMs) : .none)
    }
}

/// A broken conservation law: a bug in the simulator or the ledger, never a metric.
public struct ConservationError: Error, CustomStringConvertible, Sendable {
    public var replication: Int
    public var message: String
    public var description: String { "replication \(replication): conservation violated: \(message)" }
}
