/// Where a finding points: a file (a scenario, or a ledger database), and in a scenario the line
/// and column of the node at fault.
public struct Location: Sendable, Hashable, Comparable {
    /// The file as the user named it.
    public var file: String
    public var line: Int?
    public var column: Int?
    /// What the finding is about, as a reader names it: `identity 'svc'`, `pool 'eng'`, `pool 'eng', policy 2 (auto_top_up)`.
    public var subject: String

    public init(file: String, line: Int? = nil, column: Int? = nil, subject: String) {
        self.file = file
        self.line = line
        self.column = column
        self.subject = subject
    }

    /// `FILE:LINE:COLUMN` (or `FILE` without a position), as compilers print it.
    public var description: String {
        guard let line else { return file }
        return "\(file):\(line):\(column ?? 1)"
    }

    public static func < (a: Self, b: Self) -> Bool {
        (a.file, a.line ?? 0, a.column ?? 0, a.subject) < (b.file, b.line ?? 0, b.column ?? 0, b.subject)
    }
}

/// One rule broken by one pool, identity or policy.
public struct Finding: Sendable, Hashable {
    public var rule: Rule
    public var message: String
    public var location: Location

    public var level: Level { rule.level }

    public init(rule: Rule, message: String, location: Location) {
        self.rule = rule
        self.message = message
        self.location = location
    }
}

/// Findings of one or more audited files, in a stable order (file, position, rule).
public struct AuditReport: Sendable {
    public var findings: [Finding]
    /// The files audited, in the order given.
    public var files: [String]

    public init(findings: [Finding], files: [String]) {
        self.findings = findings.sorted { ($0.location, $0.rule.id, $0.message) < ($1.location, $1.rule.id, $1.message) }
        self.files = files
    }

    public func count(_ level: Level) -> Int { findings.filter { $0.level == level }.count }

    /// Whether a finding is at or above `threshold` (the `--fail-on` gate).
    public func fails(at threshold: Level) -> Bool { findings.contains { $0.level >= threshold } }
}
