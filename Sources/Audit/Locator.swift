import Scenario

/// Where a finding about a pool, an identity or a policy entry points.
public struct Locator: Sendable {
    public let file: String
    let sources: ScenarioSources?

    /// Findings in a scenario point at the YAML node at fault, by the marks the scenario kept.
    public init(scenario: Scenario) {
        file = scenario.file
        sources = scenario.sources
    }

    /// Findings in a ledger database name the file and the pool or identity (a database has no lines).
    public init(database file: String) {
        self.file = file
        sources = nil
    }

    func at(_ mark: SourceMark?, _ subject: String) -> Location {
        Location(file: file, line: mark?.line, column: mark?.column, subject: subject)
    }

    func identity(_ name: String) -> Location { at(sources?.identities[name], "identity '\(name)'") }

    func pool(_ name: String) -> Location { at(sources?.pools[name]?.mark, "pool '\(name)'") }

    /// The `index`-th entry of the pool's policy list (its mapping in a scenario).
    func policy(pool name: String, index: Int, kind: String) -> Location {
        let entries = sources?.pools[name]?.policies
        let mark = entries.flatMap { index < $0.count ? $0[index].mark : nil } ?? sources?.pools[name]?.mark
        return at(mark, "pool '\(name)', policy \(index + 1) (\(kind))")
    }

    /// The bounding field the `index`-th policy entry of the pool left to a default, if any.
    func unstatedBound(pool name: String, index: Int) -> String? {
        guard let entries = sources?.pools[name]?.policies, index < entries.count else { return nil }
        return entries[index].unstatedBound
    }
}
