import Ledger
import Simulation
import Yams

/// A scenario file, read and validated: the simulation model of each variant, and what the
/// runner and the decision tools need besides.
public struct Scenario: Sendable {
    public var name: String
    public var description: String?
    public var file: String
    public var replications: Int
    /// The base model first, then one per variant (in file order), all with the same seed: variants
    /// run with common random numbers.
    public var variants: [(name: String?, model: SimulationModel)]
    public var expectations: [Expectation]
    /// Pool and identity names in model order (for reports).
    public var poolNames: [String]
    public var identityNames: [String]
    /// Prepaid funding at time zero per pool, in micro-credits (for "budget" figures).
    public var initialFundingMicrocredits: [Int64]
    /// Ways to buy the usage (`plans:`), for `burnrate procure`.
    public var plans: [Plan] = []
    /// `precision:`: metric name → the 95% half-width at which `run` may stop early (sequential
    /// stopping, with `replications` as the cap). Empty: run every replication.
    public var precision: [String: Double] = [:]
    /// The work of each model in `variants` (same order), estimated before running.
    public var work: [WorkEstimate] = []
    /// What the edits changed that an answer should state (the shared layout: which pools it
    /// merged, what it summed); empty for a scenario as written.
    public var editNotes: [String] = []
    /// Where the base model's pools, identities and policies are written (for the audit's findings).
    public var sources = ScenarioSources()
    /// Where `replications:` is written, if it is.
    var replicationsLine: Int? = nil
    var replicationsColumn: Int? = nil

    public var base: SimulationModel { variants[0].model }
}

/// An `expect:` assertion: `[scope.]metric[.statistic] op value`, where the scope is a pool or an
/// identity (`eng.continuity.p05 >= 0.99`), absent for the whole run.
public struct Expectation: Sendable, Hashable {
    public enum Op: String, Sendable, CaseIterable { case ge = ">=", le = "<=", gt = ">", lt = "<", eq = "==" }
    /// A pool or identity name, or nil for the run.
    public var scope: String?
    public var metric: String
    public var statistic: String
    public var op: Op
    public var value: Double
    public var text: String

    /// Reads `[scope.]metric[.statistic]` and `op value` (as in `expect:`); nil when either is
    /// malformed. The statistic defaults to the mean. The metric is the rightmost part that names
    /// a ``Metric`` (so a scope may itself contain dots); when no part does, it is the part before
    /// a statistic, or the last part. Metric and scope names are not checked here.
    public init?(key: String, condition: String) {
        var parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !parts.isEmpty, !parts.contains(where: \.isEmpty) else { return nil }
        let t = condition.trimmingCharacters()
        guard let op = Op.allCases.sorted(by: { $0.rawValue.count > $1.rawValue.count }).first(where: { t.hasPrefix($0.rawValue) })
        else { return nil }
        let valueText = String(t.dropFirst(op.rawValue.count)).trimmingCharacters()
        guard let value = Double(valueText), value.isFinite else { return nil }
        let metricIndex: Int
        if let known = parts.lastIndex(where: { Metric.named($0) != nil }) {
            metricIndex = known
        } else if parts.count > 1, MetricSummary.statistics.contains(parts[parts.count - 1]) {
            metricIndex = parts.count - 2
        } else {
            metricIndex = parts.count - 1
        }
        let statistic = parts[(metricIndex + 1)...].joined(separator: ".")
        let metric = parts[metricIndex]
        parts.removeSubrange(metricIndex...)
        self.init(scope: parts.isEmpty ? nil : parts.joined(separator: "."), metric: metric,
                  statistic: statistic.isEmpty ? "mean" : statistic, op: op, value: value,
                  text: "\(key) \(op.rawValue) \(valueText)")
    }

    /// Reads `[scope.]metric[.statistic] op value`, with or without spaces around the operator.
    public init?(text: String) {
        guard let start = text.firstIndex(where: { "<>=".contains($0) }) else { return nil }
        let key = String(text[..<start]).trimmingCharacters()
        guard !key.isEmpty, !key.contains(" ") else { return nil }
        self.init(key: key, condition: String(text[start...]))
    }

    public init(scope: String? = nil, metric: String, statistic: String, op: Op, value: Double, text: String) {
        self.scope = scope
        self.metric = metric
        self.statistic = statistic
        self.op = op
        self.value = value
        self.text = text
    }

    public func holds(_ actual: Double) -> Bool {
        switch op {
        case .ge: actual >= value
        case .le: actual <= value
        case .gt: actual > value
        case .lt: actual < value
        case .eq: actual == value
        }
    }
}
