import Scenario
import Simulation
import Stochastic

/// A problem with a decision tool's request (not with the scenario file, which reports its own).
public struct DecisionError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One funding level tried by the search, for one pool.
public struct SizePoint: Sendable, Equatable {
    public var fundingCredits: Double
    /// The target's statistic on the replications run, and its one-sided confidence bound.
    public var estimate: Double
    public var bound: Double
    public var replications: Int
    public var holds: Bool
    /// Rejected requests a replication, by the refusal that ended them (``RejectionReason/code``),
    /// in the pool, and per identity entitled to it.
    public var rejectionsPerReplication: [String: Double] = [:]
    public var identityRejectionsPerReplication: [String: [String: Double]] = [:]
}

/// Why no funding reached the target: what the simulation refused at the highest funding tried.
public struct Unreached: Sendable, Equatable {
    /// The highest funding tried, and the target's statistic and bound there.
    public var point: SizePoint
    /// The refusal code behind most rejections there (nil: nothing was rejected).
    public var binding: String?
}

/// The answer for one pool: the smallest funding found to meet the target, and every point tried.
public struct PoolSize: Sendable, Equatable {
    public var pool: String
    /// Nil when the target is not reached below the search's ceiling.
    public var fundingCredits: Double?
    public var point: SizePoint?
    public var curve: [SizePoint]
    /// Set when the target is not reached (``fundingCredits`` is nil).
    public var unreached: Unreached? {
        guard fundingCredits == nil, let top = curve.max(by: { $0.fundingCredits < $1.fundingCredits }) else { return nil }
        let binding = top.rejectionsPerReplication.filter { $0.value > 0 }
            .max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
        return Unreached(point: top, binding: binding)
    }
    /// The width of the final bracket (the answer less the largest funding known to fail below
    /// it): how finely the search pinned the answer. Nil when not reached or not bracketed.
    public var bracketCredits: Double? {
        guard let f = fundingCredits, let below = curve.filter({ !$0.holds && $0.fundingCredits < f }).map(\.fundingCredits).max() else { return nil }
        return f - below
    }
}

/// `burnrate size`: the smallest funding per pool such that a target (`continuity >= 0.999`,
/// `exhaustion_probability <= 0.05`, `continuity.p05 >= 0.99`, …) holds with a given confidence.
///
/// Candidates are compared with common random numbers: every candidate runs the same replication
/// numbers, so the workload is the same request for request and only the funding differs. The
/// search brackets the answer by doubling (or halving) from the scenario's own funding, then
/// bisects until the bracket is narrower than `resolution`. Where the confidence bound and the
/// estimate disagree about the target (the interval straddles it) the candidate is run again with
/// more replications, up to `maxReplications`. Pools are searched together, one simulation per
/// round, each pool's target read on that pool's own metrics: this assumes, as departments do,
/// that no identity draws on two of the pools being sized (departments that `borrow` from one
/// parent are coupled through it, which the parent's written funding bounds).
public struct Sizer: Sendable {
    public var path: String
    public var baseEdits: ScenarioEdits
    public var target: Expectation
    public var confidence: Double
    public var replications: Int
    public var maxReplications: Int
    public var threads: Int?
    /// Stop when the bracket is narrower than this (credits); nil: 0.2% of the first bracket.
    public var resolution: Double?
    public var progress: (@Sendable (String) -> Void)?
    /// The scenario's traces and price tables must lie in its folder tree (as in notebooks).
    public var confinedReads = false

    public init(path: String, baseEdits: ScenarioEdits = ScenarioEdits(), target: Expectation, confidence: Double = 0.95,
                replications: Int, maxReplications: Int? = nil, threads: Int? = nil, resolution: Double? = nil,
                progress: (@Sendable (String) -> Void)? = nil) {
        self.path = path
        self.baseEdits = baseEdits
        self.target = target
        self.confidence = confidence
        self.replications = replications
        self.maxReplications = maxReplications ?? 4 * replications
        self.threads = threads
        self.resolution = resolution
        self.progress = progress
    }

    /// Metrics a target may name: the registry's pool metrics with a value per replication.
    public static let sizableMetrics: Set<String> = Set(Metric.all.filter { $0.scopes.contains(.pool) && $0.kind != .acrossReplications && $0 != .requestsTotal }.map(\.name))

    /// The scenario with the given fundings (and the base edits).
    func scenario(_ funding: [String: Double]) throws -> Scenario {
        var edits = baseEdits
        for (k, v) in funding { edits.funding[k] = v }
        return try Scenario.load(path: path, edits: edits, confined: confinedReads)
    }

    /// Sizes `pools` (ids after the base edits). Throws ``DecisionError`` for a target it cannot
    /// evaluate, `ScenarioErrors` for a bad scenario.
    public func size(pools: [String]) throws -> [PoolSize] {
        guard Self.sizableMetrics.contains(target.metric) else {
            throw DecisionError("size cannot search on '\(target.metric)'; use one of \(Self.sizableMetrics.sorted().joined(separator: ", "))")
        }
        guard MetricSummary.statistics.contains(target.statistic), target.statistic != "sd" else {
            throw DecisionError("size needs the mean or a percentile (p05, p50, p95, p99) of '\(target.metric)', not '\(target.statistic)'")
        }
        guard confidence > 0.5, confidence < 1 else { throw DecisionError("--confidence must be between 0.5 and 1") }
        let base = try scenario([:])
        var index: [String: Int] = [:]
        for p in pools {
            guard let i = base.poolNames.firstIndex(of: p) else {
                throw DecisionError("no pool '\(p)'; the pools are \(base.poolNames.joined(separator: ", "))")
            }
            index[p] = i
        }
        let horizonHours = Double(base.base.horizonMs) / 3_600_000

        // Per pool: the search state.
        struct Search {
            var lo: Double? = nil      // largest funding known to fail
            var hi: Double? = nil      // smallest funding known to hold
            var next: Double
            var resolution: Double?
            var points: [SizePoint] = []
            var done = false
            var gaveUp = false
        }
        var searches: [String: Search] = [:]
        for p in pools {
            let written = Double(base.initialFundingMicrocredits[index[p]!]) / 1_000_000
            searches[p] = Search(next: written > 0 ? written : 100, resolution: resolution)
        }
        // The ledger refuses a grant that would take the total ever funded past 2^63 micro-credits
        // (9.2×10^12 credits; a refused refill leaves the pool dry). A candidate is funded once,
        // and again at each refill over the horizon, in every pool searched at once: the search
        // stops below that, with a factor 2 to spare for top-ups and the pools not searched.
        // Beyond it, a target held out of reach by a cap would read as a lack of credit.
        let fundings = pools.map { p -> Double in
            let spec = base.base.pools[index[p]!].spec
            return spec.refill == nil ? 1 : 1 + Double(base.base.horizonMs / max(spec.periodMs, 1))
        }
        let ceiling = min(1e12, Double(Int64.max) / 1_000_000 / Double(pools.count) / (fundings.max() ?? 1) / 2)
        var round = 0
        while searches.values.contains(where: { !$0.done }) {
            round += 1
            // Pools already done keep their answer while the others search.
            var funding: [String: Double] = [:]
            for (p, s) in searches { funding[p] = s.done ? (s.hi ?? s.next) : s.next }
            var reps = replications
            var verdicts: [String: SizePoint] = [:]
            var values: [String: Evaluation] = [:]
            var start = 0
            while true {
                let more = try evaluate(funding, replicationRange: start..<reps, index: index, horizonHours: horizonHours)
                for (p, v) in more { values[p, default: Evaluation()].add(v) }
                var straddles = false
                for p in pools where !searches[p]!.done {
                    let point = judge(values[p]!, funding: funding[p]!)
                    verdicts[p] = point
                    if (point.estimate.isNaN || target.holds(point.estimate)) != point.holds { straddles = true }
                }
                if !straddles || reps >= maxReplications { break }
                start = reps
                reps = min(maxReplications, reps * 2)
            }
            for p in pools {
                guard var s = searches[p], !s.done, let point = verdicts[p] else { continue }
                s.points.append(point)
                let x = funding[p]!
                if point.holds { s.hi = min(s.hi ?? x, x) } else { s.lo = max(s.lo ?? x, x) }
                switch (s.lo, s.hi) {
                case (nil, _?):
                    // Holds: halve until it fails (or funding is negligible).
                    if x < 1e-6 || (s.resolution.map { x <= $0 } ?? false) { s.done = true; s.hi = x }
                    else { s.next = x / 2 }
                case (_?, nil):
                    if x >= ceiling { s.done = true; s.gaveUp = true } else { s.next = min(x * 2, ceiling) }
                case (let lo?, let hi?):
                    if s.resolution == nil { s.resolution = max(1e-6, (hi - lo) * 0.002) }
                    if hi - lo <= s.resolution! { s.done = true } else { s.next = roundMicro((lo + hi) / 2) }
                default: break
                }
                searches[p] = s
            }
            progress?("round \(round): " + pools.map { p in
                let s = searches[p]!
                return "\(p) \(s.done ? "done" : "[\(SVGChart.label(s.lo ?? 0)), \(s.hi.map(SVGChart.label) ?? "?")]")"
            }.joined(separator: ", "))
        }
        return pools.map { p in
            let s = searches[p]!
            let curve = s.points.sorted { $0.fundingCredits < $1.fundingCredits }
            let answer = s.gaveUp ? nil : s.hi
            return PoolSize(pool: p, fundingCredits: answer, point: curve.first { $0.fundingCredits == answer }, curve: curve)
        }
    }

    /// One pool at one funding: the target metric per replication, and the rejections by reason
    /// summed over those replications (in the pool, and per identity entitled to it).
    struct Evaluation {
        var values: [Double] = []
        var rejections: [String: Int64] = [:]
        var identityRejections: [String: [String: Int64]] = [:]

        mutating func add(_ other: Evaluation) {
            values += other.values
            rejections.merge(other.rejections, uniquingKeysWith: +)
            identityRejections.merge(other.identityRejections) { $0.merging($1, uniquingKeysWith: +) }
        }
    }

    /// Per pool, the target metric for each replication in `range` at the given fundings.
    func evaluate(_ funding: [String: Double], replicationRange: Range<Int>, index: [String: Int],
                  horizonHours: Double) throws -> [String: Evaluation] {
        let s = try scenario(funding)
        let compiled = try CompiledModel(s.base)
        let runs = try MonteCarlo.runTallyingRejections(compiled, replicationNumbers: Array(replicationRange), threads: threads)
        var out: [String: Evaluation] = [:]
        for (p, i) in index {
            var e = Evaluation()
            e.values = runs.map { run in
                let m = run.result.poolMetrics(i)
                // Every pool metric has a value in every replication (time to exhaustion is
                // censored at the horizon by the registry's rule); 0 only for a metric not measured.
                return m[target.metric] ?? 0
            }
            let entitled = s.base.identities.indices.filter { d in s.base.identities[d].entitlements.contains { $0.pool == i } }
            for run in runs {
                e.rejections.merge(run.rejections.pool(i), uniquingKeysWith: +)
                for d in entitled where !run.rejections.identity(d).isEmpty {
                    e.identityRejections[s.identityNames[d], default: [:]].merge(run.rejections.identity(d), uniquingKeysWith: +)
                }
            }
            out[p] = e
        }
        return out
    }

    func judge(_ evaluation: Evaluation, funding: Double) -> SizePoint {
        let values = evaluation.values
        let lower = target.op == .ge || target.op == .gt
        let e = ConfidenceBound.estimate(values, statistic: target.statistic, proportion: Metric.named(target.metric)?.kind == .proportion,
                                         confidence: confidence, lower: lower)
        let n = Double(max(values.count, 1))
        return SizePoint(fundingCredits: funding, estimate: e.value, bound: e.bound, replications: values.count,
                         holds: target.holds(e.bound),
                         rejectionsPerReplication: evaluation.rejections.mapValues { Double($0) / n },
                         identityRejectionsPerReplication: evaluation.identityRejections.mapValues { $0.mapValues { Double($0) / n } })
    }

    /// The pools a layout sizes: those some identity draws on directly (its departments), in
    /// model order. A pool nobody draws on (an `org` parent) has no workload of its own: its
    /// metrics hold at any funding, so sizing it would only halve its funding towards zero.
    public static func departments(of scenario: Scenario) -> [String] {
        let drawn = Set(scenario.base.identities.flatMap { $0.entitlements.map(\.pool) })
        return scenario.poolNames.indices.filter(drawn.contains).map { scenario.poolNames[$0] }
    }
}

func roundMicro(_ x: Double) -> Double { (x * 1_000_000).rounded() / 1_000_000 }
