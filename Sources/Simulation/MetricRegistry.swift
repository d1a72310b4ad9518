/// One metric of `summary.json`: DESIGN.md's contract, defined once.
///
/// Every tool reads a metric through its definition here: the runner computes its per-replication
/// value, `summary.json` and `report.md` summarise it, `check` knows which way is better and how
/// noisy it is, `size` and `compare` know what a replication without a value means. A metric's
/// name is spelled as a string only in this file; elsewhere use the static members
/// (`Metric.continuity.name`).
public struct Metric: Sendable, Hashable, CustomStringConvertible {
    /// What a per-replication value is, which decides how it aggregates.
    public enum Kind: Sendable, Hashable {
        /// 0 or 1 per replication (did a pool run dry?): its mean is a probability, with a
        /// Wilson interval and no percentiles.
        case proportion
        /// A share in [0, 1] per replication (continuity): Student-t interval on its mean.
        case ratio
        /// A count, an amount of credits or a duration per replication.
        case quantity
        /// One value computed from the distribution across replications (`spend_cv`), not per
        /// replication: it has no sd, interval or percentiles of its own.
        case acrossReplications
    }

    /// Which way is better: what `check` calls a regression.
    public enum Better: Sendable, Hashable {
        case higher, lower
        /// Describes the workload, not its outcome (a runaway raises `requests_served`, which is
        /// not better): never a regression, and `check` refuses a tolerance for it.
        case neither
    }

    /// What a replication without a value means.
    public enum Missing: Sendable, Hashable {
        /// The metric does not apply to that replication (no runaway started): it is left out of
        /// the sample, and the summary's `n` says how many replications it covers.
        case notApplicable
        /// The event did not happen before the horizon (a pool that never ran dry): the value is
        /// censored, counted as the horizon ("at least this long"), in every tool alike.
        case horizon
    }

    /// The scopes a metric is measured on.
    public struct Scopes: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let run = Scopes(rawValue: 1)
        public static let pool = Scopes(rawValue: 2)
        public static let identity = Scopes(rawValue: 4)
        public static let all: Scopes = [.run, .pool, .identity]
    }

    public let name: String
    public let kind: Kind
    /// `requests`, `credits`, `hours`, `minutes`, or `share` for a ratio or proportion.
    public let unit: String
    public let better: Better
    public let missing: Missing
    public let scopes: Scopes
    /// One line for docs and `--help`.
    public let meaning: String

    public var description: String { name }

    init(_ name: String, _ kind: Kind, unit: String, better: Better, missing: Missing = .notApplicable,
         scopes: Scopes = .all, _ meaning: String) {
        self.name = name
        self.kind = kind
        self.unit = unit
        self.better = better
        self.missing = missing
        self.scopes = scopes
        self.meaning = meaning
    }

    // MARK: Continuity

    public static let requestsTotal = Metric("requests_total", .quantity, unit: "requests", better: .neither,
                                             "requests the workload made (retries are not new requests)")
    public static let requestsServed = Metric("requests_served", .quantity, unit: "requests", better: .neither,
                                              "requests served at the model asked for (a workload count: continuity judges it)")
    public static let requestsDegraded = Metric("requests_degraded", .quantity, unit: "requests", better: .neither,
                                                "requests served at a cheaper model after a degrade policy")
    public static let requestsRejected = Metric("requests_rejected", .quantity, unit: "requests", better: .neither,
                                                "requests refused for good (a workload count: continuity judges it)")
    public static let continuity = Metric("continuity", .ratio, unit: "share", better: .higher,
                                          "(served + degraded) / total; 1 when nothing was asked")
    public static let fullService = Metric("full_service", .ratio, unit: "share", better: .higher,
                                           "served / total: requests answered at the model asked for")
    public static let exhaustionProbability = Metric("exhaustion_probability", .proportion, unit: "share", better: .lower,
                                                     scopes: [.run, .pool],
                                                     "share of replications in which a pool refused a request for lack of credit")
    public static let timeToExhaustionHours = Metric("time_to_exhaustion_hours", .quantity, unit: "hours", better: .higher,
                                                     missing: .horizon, scopes: [.run, .pool],
                                                     "when a pool first refused for lack of credit; the horizon when it never did")
    public static let downtimeHours = Metric("downtime_hours", .quantity, unit: "hours", better: .lower, scopes: [.run, .pool],
                                             "time during which a pool's latest draw was refused for lack of credit")

    // MARK: Spend

    public static let spendCredits = Metric("spend_credits", .quantity, unit: "credits", better: .lower,
                                            "credits actually charged")
    public static let overageCredits = Metric("overage_credits", .quantity, unit: "credits", better: .lower,
                                              "credits charged beyond prepaid funding (an overdraft)")
    public static let unusedCredits = Metric("unused_credits", .quantity, unit: "credits", better: .neither, scopes: [.run, .pool],
                                             "credits expired or left at the horizon (follows the funding chosen: adding funding to fix continuity raises it, so it is not a regression)")
    public static let spendCV = Metric("spend_cv", .acrossReplications, unit: "share", better: .lower,
                                       "coefficient of variation of spend across replications")
    public static let budgetUtilisation = Metric("budget_utilisation", .quantity, unit: "share", better: .neither,
                                                 scopes: [.run, .pool], "spend / funding")
    public static let overshootCredits = Metric("overshoot_credits", .quantity, unit: "credits", better: .lower,
                                                "spent beyond what a hard stop allowed, from unreserved concurrent requests")

    // MARK: Security

    public static let runawaySpendCredits = Metric("runaway_spend_credits", .quantity, unit: "credits", better: .lower,
                                                   scopes: [.run, .identity],
                                                   "spent by a runaway loop (replications in which one started)")
    public static let timeToStopMinutes = Metric("time_to_stop_minutes", .quantity, unit: "minutes", better: .lower,
                                                 scopes: [.run, .identity],
                                                 "from a runaway's start to the refusal that stopped it; when nothing stopped it, how long it ran (to its until: or the horizon)")
    public static let runawayStopped = Metric("runaway_stopped", .proportion, unit: "share", better: .higher,
                                              scopes: [.run, .identity],
                                              "share of replications in which a control (a stop condition, a cap, exhaustion) stopped the runaway")

    // MARK: Token classes (runs in which some workload has a cache or batch pricing)

    public static let cachedInputShare = Metric("cached_input_share", .ratio, unit: "share", better: .neither, scopes: [.run],
                                                "cache reads / all input tokens of served requests (describes the workload)")
    public static let cacheSavingsCredits = Metric("cache_savings_credits", .quantity, unit: "credits", better: .neither, scopes: [.run],
                                                   "list cost of served requests' input all billed as uncached, minus its cost by class (negative when cache writes cost more than reads save)")
    public static let inputSpendCredits = Metric("input_spend_credits", .quantity, unit: "credits", better: .neither, scopes: [.run],
                                                 "list cost of served requests' uncached input tokens (before the per-request rounding up)")
    public static let cachedInputSpendCredits = Metric("cached_input_spend_credits", .quantity, unit: "credits", better: .neither, scopes: [.run],
                                                       "list cost of served requests' cache reads")
    public static let cacheWriteSpendCredits = Metric("cache_write_spend_credits", .quantity, unit: "credits", better: .neither, scopes: [.run],
                                                      "list cost of served requests' cache writes (5-minute)")
    public static let cacheWrite1hSpendCredits = Metric("cache_write_1h_spend_credits", .quantity, unit: "credits", better: .neither, scopes: [.run],
                                                        "list cost of served requests' cache writes (1-hour)")
    public static let outputSpendCredits = Metric("output_spend_credits", .quantity, unit: "credits", better: .neither, scopes: [.run],
                                                  "list cost of served requests' output tokens")
    /// Spend by token class, in ``TokenClass/allCases`` order.
    public static let spendByTokenClass: [Metric] = [inputSpendCredits, cachedInputSpendCredits, cacheWriteSpendCredits,
                                                     cacheWrite1hSpendCredits, outputSpendCredits]

    // MARK: A leaked credential (DESIGN.md, "Faults: a leaked credential")

    public static let leakSpendCredits = Metric("leak_spend_credits", .quantity, unit: "credits", better: .lower,
                                                scopes: [.run, .identity],
                                                "spent through a leaked credential before detection revoked it (replications in which a leak started)")
    public static let leakRequestsServed = Metric("leak_requests_served", .quantity, unit: "requests", better: .lower,
                                                  scopes: [.run, .identity],
                                                  "the attacker's requests the ledger served on a leaked credential")
    public static let timeToRevokeHours = Metric("time_to_revoke_hours", .quantity, unit: "hours", better: .lower,
                                                 scopes: [.run, .identity],
                                                 "from a leak's start to the revocation its detection made; when detection falls after the horizon, the time to the horizon")

    // MARK: Agent chains (runs in which some workload has `agents:`)

    /// Spend by delegation depth: index 0 is the identities' own requests, index d what
    /// sub-agents spent through delegations of depth d (DESIGN.md, "Delegation: budgets down an
    /// agent chain"); up to the ledger's maximum depth, 4.
    public static let spendByDepth: [Metric] = (0...4).map { d in
        Metric("depth_\(d)_spend_credits", .quantity, unit: "credits", better: .neither, scopes: [.run, .identity],
               d == 0 ? "spent by the identities' own requests, not through a delegation (runs with agent chains)"
                      : "spent by sub-agents through delegations of depth \(d) (runs with agent chains)")
    }

    /// Every metric, in the order reports list them.
    public static let all: [Metric] = [
        requestsTotal, requestsServed, requestsDegraded, requestsRejected, continuity, fullService,
        exhaustionProbability, timeToExhaustionHours, downtimeHours,
        spendCredits, overageCredits, unusedCredits, spendCV, budgetUtilisation, overshootCredits,
        runawaySpendCredits, timeToStopMinutes, runawayStopped,
        cachedInputShare, cacheSavingsCredits, leakSpendCredits, leakRequestsServed, timeToRevokeHours,
    ] + spendByTokenClass + spendByDepth

    static let byName: [String: Metric] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// The metric called `name`, or nil.
    public static func named(_ name: String) -> Metric? { byName[name] }

    /// Every metric's name.
    public static var names: [String] { all.map(\.name) }
}
