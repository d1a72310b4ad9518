import CGSL

/// A distribution over real numbers that can be sampled from a ``RandomStream``.
///
/// Conforming types are small value types with validated parameters; ``mean`` and ``variance``
/// are the exact moments of the distribution (`.infinity` where they do not exist), used by the
/// tests and by analytic checks of the simulator.
public protocol ContinuousDistribution: Sendable {
    /// One draw. Advances `stream`.
    func sample(_ stream: RandomStream) -> Double
    /// The exact mean, or `.infinity` when it does not exist.
    var mean: Double { get }
    /// The exact variance, or `.infinity` when it does not exist.
    var variance: Double { get }
}

/// A distribution over integers that can be sampled from a ``RandomStream``.
public protocol DiscreteDistribution: Sendable {
    /// One draw. Advances `stream`.
    func sample(_ stream: RandomStream) -> Int
    /// The exact mean.
    var mean: Double { get }
    /// The exact variance.
    var variance: Double { get }
}

/// A parameter outside a distribution's domain. Carries the parameter's name so that the scenario
/// layer can point at the offending field.
public struct DistributionError: Error, Equatable, CustomStringConvertible, Sendable {
    public let distribution: String
    public let parameter: String
    public let value: Double
    public let requirement: String

    public init(_ distribution: String, _ parameter: String, _ value: Double, _ requirement: String) {
        self.distribution = distribution
        self.parameter = parameter
        self.value = value
        self.requirement = requirement
    }

    public var description: String {
        "\(distribution): \(parameter) must be \(requirement), got \(value)"
    }
}

@inline(__always)
func require(_ ok: Bool, _ d: String, _ p: String, _ v: Double, _ r: String) throws(DistributionError) {
    if !ok { throw DistributionError(d, p, v, r) }
}

@inline(__always)
func positiveFinite(_ v: Double) -> Bool { v > 0 && v.isFinite }
