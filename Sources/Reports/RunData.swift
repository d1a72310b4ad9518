import Scenario
import Simulation

/// One replication, reduced to what the reports need: metric values per scope and the pools'
/// balance series. Shards write these; `merge` concatenates them.
public struct ReplicationRecord: Codable, Sendable, Equatable {
    public var replication: Int
    public var run: [String: Double]
    public var pools: [[String: Double]]
    public var identities: [[String: Double]]
    /// Available credits per pool at each sample time, in credits.
    public var series: [[Double]]
    public var exhaustedAtHours: [Double?]
    /// Per pool, its alert thresholds and when each first fired (absent in partial files written
    /// before alerts were recorded).
    public var alerts: [[AlertRecord]]?
    /// What bounded the replication's leaked credentials (``LeakBound``), when one started
    /// (absent in partial files written before leaks were simulated).
    public var leakBound: String?

    public init(_ r: ReplicationResult) {
        replication = r.replication
        run = r.runMetrics
        pools = r.pools.indices.map { r.poolMetrics($0) }
        identities = r.identities.indices.map { r.identityMetrics($0) }
        series = r.pools.map { $0.availableSeries.map { Double($0) / 1_000_000 } }
        exhaustedAtHours = r.pools.map { $0.exhaustedAtMs.map { Double($0) / 3_600_000 } }
        let alerts = r.pools.map { $0.alerts.map(AlertRecord.init) }
        self.alerts = alerts.allSatisfy(\.isEmpty) ? nil : alerts
        leakBound = r.runLeak?.bound.rawValue
    }
}

/// One alert threshold of a pool in one replication, in credits and hours.
public struct AlertRecord: Codable, Sendable, Equatable {
    /// The alert fires when available credits fall below this.
    public var belowCredits: Double
    /// When it first fired (nil: never).
    public var firstAtHours: Double?
    /// How many times it fired (once per crossing per period).
    public var count: Int

    public init(_ a: AlertOutcome) {
        belowCredits = Double(a.thresholdMicrocredits) / 1_000_000
        firstAtHours = a.firstAtMs.map { Double($0) / 3_600_000 }
        count = a.count
    }
}

/// The records of one variant (nil name: the scenario as written).
public struct VariantRecords: Codable, Sendable, Equatable {
    public var name: String?
    public var records: [ReplicationRecord]
}

/// Everything a run produced, before summarising: a whole run or one shard of it.
public struct RunData: Codable, Sendable, Equatable {
    public var schema = "burnrate.partial/1"
    public var scenario: String
    public var description: String?
    public var seed: UInt64
    public var horizonHours: Double
    public var replications: Int
    /// `I/N` for a shard, nil for a whole run.
    public var shard: String?
    public var poolNames: [String]
    public var identityNames: [String]
    public var poolFundingCredits: [Double]
    public var sampleTimesHours: [Double]
    public var variants: [VariantRecords]
    public var expectations: [String]
    /// Sequential stopping: why the run stopped (`precision` or `cap`), and its targets; nil when
    /// every replication asked for was run.
    public var stoppedBy: String?
    public var precision: [String: Double]?
    /// Per workload that replays a usage export: the rows it skipped because the export marks
    /// them as not successful (LiteLLM `status`); nil when no workload replays an export.
    public var replayRowsSkipped: [String: Int]?

    /// Runs `scenario` (all variants, common random numbers) for the replications of the given
    /// shard (`index` of `count`: replications r with r mod count == index).
    public static func run(_ scenario: Scenario, replications: Int, threads: Int?, shard: (index: Int, count: Int)? = nil,
                           progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> RunData {
        let all = Array(0..<replications)
        let mine = shard.map { s in all.filter { $0 % s.count == s.index } } ?? all
        return try run(scenario, numbers: mine, replications: replications, threads: threads,
                       shard: shard.map { "\($0.index)/\($0.count)" }, progress: progress)
    }

    /// Runs the given replication numbers of `scenario` (every variant, common random numbers).
    static func run(_ scenario: Scenario, numbers mine: [Int], replications: Int, threads: Int?, shard: String?,
                    progress: (@Sendable (Int, Int) -> Void)?) throws -> RunData {
        var variants: [VariantRecords] = []
        var sampleTimes: [Double] = []
        let total = mine.count * scenario.variants.count
        for (v, variant) in scenario.variants.enumerated() {
            let compiled = try CompiledModel(variant.model)
            let done = v * mine.count
            let results = try MonteCarlo.run(compiled, replicationNumbers: mine, threads: threads,
                                             progress: progress.map { p in { @Sendable n in p(done + n, total) } })
            if sampleTimes.isEmpty, let first = results.first { sampleTimes = first.sampleTimesMs.map { Double($0) / 3_600_000 } }
            let records = results.map(ReplicationRecord.init)
            variants.append(VariantRecords(name: variant.name, records: records))
        }
        return RunData(scenario: scenario.name, description: scenario.description, seed: scenario.base.seed,
                       horizonHours: Double(scenario.base.horizonMs) / 3_600_000, replications: replications,
                       shard: shard, poolNames: scenario.poolNames,
                       identityNames: scenario.identityNames,
                       poolFundingCredits: scenario.initialFundingMicrocredits.map { Double($0) / 1_000_000 },
                       sampleTimesHours: sampleTimes, variants: variants, expectations: scenario.expectations.map(\.text),
                       replayRowsSkipped: Self.replayRowsSkipped(scenario))
    }

    /// ``replayRowsSkipped`` of a scenario's base model.
    static func replayRowsSkipped(_ scenario: Scenario) -> [String: Int]? {
        var out: [String: Int] = [:]
        for w in scenario.base.workloads {
            guard case .replay(let r) = w.arrivals, !r.trace.files.isEmpty else { continue }
            out[w.name] = r.trace.skippedNotSuccess
        }
        return out.isEmpty ? nil : out
    }

    /// Combines shards of one run into the data of the whole run. Fails when the parts do not
    /// belong together or replications are missing or repeated.
    public static func merge(_ parts: [RunData]) throws(MergeError) -> RunData {
        guard var merged = parts.first else { throw MergeError(message: "no parts to merge") }
        for p in parts.dropFirst() {
            guard p.scenario == merged.scenario, p.seed == merged.seed, p.replications == merged.replications,
                  p.variants.map(\.name) == merged.variants.map(\.name), p.horizonHours == merged.horizonHours
            else { throw MergeError(message: "part of shard \(p.shard ?? "?") is from a different run (scenario, seed, replications or variants differ)") }
            for v in merged.variants.indices { merged.variants[v].records += p.variants[v].records }
            if merged.sampleTimesHours.isEmpty { merged.sampleTimesHours = p.sampleTimesHours }
        }
        for v in merged.variants.indices {
            merged.variants[v].records.sort { $0.replication < $1.replication }
            let numbers = merged.variants[v].records.map(\.replication)
            guard numbers == Array(0..<merged.replications) else {
                let missing = Set(0..<merged.replications).subtracting(numbers).sorted()
                throw MergeError(message: missing.isEmpty ? "some replications appear in more than one part"
                                 : "replications missing from the parts: \(missing.prefix(10).map(String.init).joined(separator: ", "))")
            }
        }
        merged.shard = nil
        return merged
    }
}

public struct MergeError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
