import Dispatch
import Stochastic
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs replications in parallel on all cores. Each replication is independent (its own ledger
/// copy and its own random streams, derived from (seed, replication, name)), so the results do
/// not depend on the number of threads or on scheduling: they are returned in replication order.
public enum MonteCarlo {
    /// Runs `replications` of `compiled` on `threads` threads (default: every core).
    /// `progress`, if given, is called after each finished replication with the count so far.
    public static func run(_ compiled: CompiledModel, replications: Range<Int>, threads: Int? = nil,
                           progress: (@Sendable (Int) -> Void)? = nil) throws(ConservationError) -> [ReplicationResult] {
        try run(compiled, replicationNumbers: Array(replications), threads: threads, progress: progress)
    }

    /// Runs the given replication numbers (any set: a shard's slice, say), results in that order.
    public static func run(_ compiled: CompiledModel, replicationNumbers: [Int], threads: Int? = nil,
                           progress: (@Sendable (Int) -> Void)? = nil) throws(ConservationError) -> [ReplicationResult] {
        try map(replicationNumbers, threads: threads, progress: progress) { r throws(ConservationError) in
            try Engine.run(compiled, replication: r)
        }
    }

    /// As ``run(_:replicationNumbers:threads:progress:)``, with each replication's rejections by
    /// reason (``Engine/runTallyingRejections(_:replication:)``).
    public static func runTallyingRejections(_ compiled: CompiledModel, replicationNumbers: [Int], threads: Int? = nil)
        throws(ConservationError) -> [(result: ReplicationResult, rejections: RejectionTally)] {
        try map(replicationNumbers, threads: threads, progress: nil) { r throws(ConservationError) in
            let (result, rejections) = try Engine.runTallyingRejections(compiled, replication: r)
            return (result: result, rejections: rejections)
        }
    }

    /// `body` for each replication number, in parallel, answers in the given order.
    static func map<T: Sendable>(_ replicationNumbers: [Int], threads: Int?, progress: (@Sendable (Int) -> Void)?,
                                 _ body: @Sendable (Int) throws(ConservationError) -> T) throws(ConservationError) -> [T] {
        let count = replicationNumbers.count
        guard count > 0 else { return [] }
        let workers = max(1, min(threads ?? ProcessInfoLite.activeProcessorCount, count))
        let state = Mutex(Shared<T>(results: Array(repeating: nil, count: count)))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let index: Int? = state.withLock { s in
                    guard s.next < count, s.error == nil else { return nil }
                    defer { s.next += 1 }
                    return s.next
                }
                guard let index else { return }
                do throws(ConservationError) {
                    let r = try body(replicationNumbers[index])
                    let done = state.withLock { s in
                        s.results[index] = r
                        s.done += 1
                        return s.done
                    }
                    progress?(done)
                } catch {
                    state.withLock { s in if s.error == nil { s.error = error } }
                    return
                }
            }
        }
        let shared = state.withLock { $0 }
        if let error = shared.error { throw error }
        return shared.results.map { $0! }
    }

    struct Shared<T: Sendable>: Sendable {
        var results: [T?]
        var next = 0
        var done = 0
        var error: ConservationError?
    }
}

/// The processor count without Foundation.
enum ProcessInfoLite {
    static var activeProcessorCount: Int {
        #if canImport(Glibc)
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        return 1
        #endif
    }
}

/// One metric across replications: DESIGN.md's statistics.
public struct MetricSummary: Sendable, Hashable, Codable {
    public var n: Int
    public var mean: Double
    public var sd: Double
    public var ci95: [Double]
    public var p05: Double
    public var p50: Double
    public var p95: Double
    public var p99: Double

    /// The statistics an expectation may name.
    public static let statistics = ["mean", "sd", "p05", "p50", "p95", "p99"]

    /// The statistic called `name` (one of ``statistics``), or nil.
    public func value(of name: String) -> Double? {
        switch name {
        case "mean": mean
        case "sd": sd
        case "p05": p05
        case "p50": p50
        case "p95": p95
        case "p99": p99
        default: nil
        }
    }

    /// Summarises per-replication values. A proportion (values in {0, 1}, such as
    /// `exhaustion_probability`) gets a Wilson interval; anything else a Student-t interval.
    public init?(_ values: [Double], proportion: Bool = false) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        n = values.count
        mean = Statistics.mean(values)
        sd = values.count > 1 ? Statistics.standardDeviation(values) : 0
        if proportion {
            let successes = values.reduce(0) { $0 + ($1 >= 0.5 ? 1 : 0) }
            let ci = Statistics.wilsonInterval(successes: successes, trials: n)!
            ci95 = [ci.lowerBound, ci.upperBound]
        } else {
            let ci = Statistics.meanConfidenceInterval(values)!
            ci95 = [ci.lowerBound, ci.upperBound]
        }
        p05 = Statistics.quantile(sorted: sorted, 0.05)
        p50 = Statistics.quantile(sorted: sorted, 0.5)
        p95 = Statistics.quantile(sorted: sorted, 0.95)
        p99 = Statistics.quantile(sorted: sorted, 0.99)
    }
}

/// Aggregates a metric dictionary per replication into summaries, name by name (sorted), as each
/// metric's ``Metric/Kind`` says: a Wilson interval for a proportion, Student t otherwise.
/// ``Metric/spendCV`` (across replications) is added when spend is present.
public func summarize(_ perReplication: [[String: Double]]) -> [String: MetricSummary] {
    var names = Set<String>()
    for m in perReplication { names.formUnion(m.keys) }
    var out: [String: MetricSummary] = [:]
    for name in names.sorted() {
        let values = perReplication.compactMap { $0[name] }
        let proportion = Metric.named(name)?.kind == .proportion
        if let s = MetricSummary(values, proportion: proportion) { out[name] = s }
    }
    if let spend = out[Metric.spendCredits.name], spend.mean > 0 {
        out[Metric.spendCV.name] = MetricSummary([spend.sd / spend.mean])
    }
    return out
}
