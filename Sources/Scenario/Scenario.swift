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

    public var base: SimulationModel { variants[0].model }
}

/// An `expect:` assertion: `metric[.statistic] op value`.
public struct Expectation: Sendable, Hashable {
    public enum Op: String, Sendable, CaseIterable { case ge = ">=", le = "<=", gt = ">", lt = "<", eq = "==" }
    public var metric: String
    public var statistic: String
    public var op: Op
    public var value: Double
    public var text: String

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
