/// How serious a finding is: SARIF's levels, in increasing order.
public enum Level: String, Sendable, Hashable, Comparable, CaseIterable {
    case note, warning, error

    public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
    var rank: Int { self == .note ? 0 : self == .warning ? 1 : 2 }
}

/// A governance rule: its stable id (`BR001`), its name, its level (fixed by DESIGN.md's table)
/// and the controls of the frameworks it serves.
public struct Rule: Sendable, Hashable {
    public var id: String
    public var name: String
    public var level: Level
    /// One sentence: what the rule finds.
    public var summary: String
    /// One sentence: how to fix a finding.
    public var fix: String
    /// OWASP Top 10 for Agentic Applications (2026) risks, e.g. `ASI03 Identity and Privilege Abuse`.
    public var owaspAgentic: [String]
    /// NIST Cybersecurity Framework 2.0 subcategories, e.g. `PR.AA-05`.
    public var nistCSF: [String]
    /// NIST SP 800-207 (Zero Trust Architecture) tenets of section 2.1.
    public var nist800207: [String]
}

extension Rule {
    // The framework entries each rule cites. OWASP ASI: the Top 10 for Agentic Applications of
    // December 2025; CSF 2.0: NIST CSWP 29 (February 2024); SP 800-207: section 2.1, "Tenets of
    // Zero Trust". docs/audit.md explains each choice.
    static let asi02 = "ASI02 Tool Misuse and Exploitation"
    static let asi03 = "ASI03 Identity and Privilege Abuse"
    static let asi08 = "ASI08 Cascading Failures"
    static let asi10 = "ASI10 Rogue Agents"
    static let tenet3 = "Tenet 3: access to each resource is granted per session, with least privilege"
    static let tenet4 = "Tenet 4: access is determined by dynamic policy, including behavioural attributes"
    static let tenet6 = "Tenet 6: authentication and authorization are dynamic and strictly enforced before access"
    static let tenet7 = "Tenet 7: the enterprise collects information on the state of assets and uses it to improve its posture"

    public static let creditsOnlyControl = Rule(
        id: "BR001", name: "credits-only-control", level: .error,
        summary: "An identity whose only bound is its pool's balance: no spend cap, no rate cap, no stop condition, every model tier.",
        fix: "Give the identity a spend cap (caps: { per_day: … }), a rate cap, a stop condition and the model tiers it needs.",
        owaspAgentic: [asi03, asi10], nistCSF: ["PR.AA-05"], nist800207: [tenet3, tenet6])
    public static let noRateCap = Rule(
        id: "BR002", name: "no-rate-cap", level: .warning,
        summary: "An identity without a rate cap: a runaway or a stolen key spends at machine speed.",
        fix: "Give the identity a rate_cap somewhat above its busiest legitimate rate.",
        owaspAgentic: [asi02, asi10], nistCSF: ["PR.AA-05", "PR.IR-04"], nist800207: [tenet4])
    public static let noStopCondition = Rule(
        id: "BR003", name: "no-stop-condition", level: .warning,
        summary: "An identity without an anomaly stop (stop:): nothing suspends it when its spend rate jumps.",
        fix: "Add stop: { spend_rate_over: 5x, window: 1h } (or a factor and window fitted to its history).",
        owaspAgentic: [asi10], nistCSF: ["DE.AE-02", "RS.MI-01"], nist800207: [tenet4, tenet7])
    public static let sandboxReachesProduction = Rule(
        id: "BR004", name: "sandbox-reaches-production", level: .error,
        summary: "A sandbox pool that can borrow from a production pool, or an identity that can draw from both environments.",
        fix: "Fund the sandbox on its own (no borrow from a production parent) and give sandbox identities sandbox pools only.",
        owaspAgentic: [asi03, asi08], nistCSF: ["PR.IR-01", "PR.AA-05"], nist800207: [tenet3])
    public static let unboundedPolicy = Rule(
        id: "BR005", name: "unbounded-policy", level: .error,
        summary: "An overdraft without a limit, an auto top-up without max_per_period or a borrow without a cap: prepaid turned back into open-ended billing.",
        fix: "State the bound: overdraft limit, auto_top_up max_per_period, borrow cap.",
        owaspAgentic: [asi08], nistCSF: ["GV.RM-02", "PR.IR-04"], nist800207: [tenet6])
    public static let sharedPoolUncappedIdentity = Rule(
        id: "BR006", name: "shared-pool-uncapped-identity", level: .warning,
        summary: "A pool drawn by two or more identities, one of which has no spend cap: one identity can starve the rest.",
        fix: "Cap every identity on a shared pool, or give the heavy one its own pool.",
        owaspAgentic: [asi08], nistCSF: ["PR.IR-04"], nist800207: [tenet3])
    public static let silentExhaustion = Rule(
        id: "BR007", name: "silent-exhaustion", level: .note,
        summary: "A pool that stops (hard stop) with no alert before it: the first sign of exhaustion is refused work.",
        fix: "Add alerts: [0.5, 0.8, 0.95] to the pool's policies.",
        owaspAgentic: [asi08], nistCSF: ["DE.AE-06", "DE.CM-09"], nist800207: [tenet7])

    /// Every rule, in id order (BR008 is in Keys.swift, beside the API keys it reads).
    public static let all: [Rule] = [creditsOnlyControl, noRateCap, noStopCondition, sandboxReachesProduction, unboundedPolicy,
                                     sharedPoolUncappedIdentity, silentExhaustion, staleCredential]

    public static func named(_ id: String) -> Rule? { all.first { $0.id == id } }
}
