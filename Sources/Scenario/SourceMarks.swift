import Yams

/// A place in a scenario file: 1-based line and column, as errors print them.
public struct SourceMark: Hashable, Sendable, Comparable {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    init(_ mark: Mark?) { self.init(line: mark?.line ?? 1, column: mark?.column ?? 1) }

    public static func < (a: Self, b: Self) -> Bool { (a.line, a.column) < (b.line, b.column) }
}

/// Where the base model's pools, identities and policies are written: the marks that let a rule
/// about the configuration (the governance audit) point at the node at fault, as an error does.
public struct ScenarioSources: Sendable, Hashable {
    /// A pool's mapping and its policy entries, in the order of the pool's policy list.
    public struct Pool: Sendable, Hashable {
        public var mark: SourceMark
        public var policies: [Policy]
    }

    /// One entry of a pool's `policies:` list.
    public struct Policy: Sendable, Hashable {
        public var mark: SourceMark
        /// The bounding field the entry leaves out, so that the scenario format filled it in
        /// (`max_per_period` of an `auto_top_up`, defaulted to 10 × amount): a bound nobody chose.
        public var unstatedBound: String?
    }

    /// By pool id.
    public var pools: [String: Pool] = [:]
    /// An identity's mapping, by identity id.
    public var identities: [String: SourceMark] = [:]

    public init() {}
}
