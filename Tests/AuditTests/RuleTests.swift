import Audit
import Scenario
import Testing

/// Audits YAML text as the scenario file `t.yaml`.
func audit(_ yaml: String) throws -> [Finding] {
    ScenarioAudit.findings(try Scenario.parse(yaml: yaml, file: "t.yaml"))
}

/// The findings of one rule, as `LINE:COLUMN` strings (the node each points at).
func marks(_ findings: [Finding], _ rule: Rule) -> [String] {
    findings.filter { $0.rule.id == rule.id }.map { "\($0.location.line ?? 0):\($0.location.column ?? 0)" }.sorted()
}

/// A scenario whose one identity is bounded every way the rules ask for, and whose pool alerts
/// before it stops: it breaks no rule. Each test changes one thing.
let wellGoverned = """
    name: t
    horizon: 1d
    prices:
      m: { input: 1, output: 1 }
    pools:
      - id: eng
        environment: production
        grants: [ { amount: 100 } ]
        policies:
          - alerts: [0.5, 0.9]
          - hard_stop: {}
    identities:
      - id: svc
        pool: eng
        models: [m]
        caps: { per_day: 10 }
        rate_cap: 60/m
        stop: { spend_rate_over: 5x, window: 1h }
        workload:
          arrivals: { poisson: { rate: 1/h } }
          cost: { fixed: 1 }

    """

@Suite("Audit rules BR001–BR007 on scenarios, located at the node at fault")
struct RuleTests {
    @Test func aWellGovernedScenarioHasNoFinding() throws {
        #expect(try audit(wellGoverned).isEmpty)
    }

    @Test func creditsOnlyControlFindsAnIdentityBoundOnlyByTheBalance() throws {
        let yaml = wellGoverned + """
              - id: bare
                pool: eng

            """
        let f = try audit(yaml)
        // Line 22 is `  - id: bare`: the identity's mapping starts at its first key, column 5.
        #expect(marks(f, .creditsOnlyControl) == ["22:5"])
        let finding = try #require(f.first { $0.rule.id == "BR001" })
        #expect(finding.level == .error && finding.message.contains("'bare'") && finding.location.subject == "identity 'bare'")
        // One bound is enough to leave BR001: each of the four.
        for bound in ["caps: { per_day: 5 }", "rate_cap: 10/m", "models: [m]", "stop: { spend_rate_over: 5x }"] {
            #expect(marks(try audit(yaml + "    \(bound)\n"), .creditsOnlyControl).isEmpty, "\(bound)")
        }
    }

    @Test func noRateCapFindsAnIdentityWithoutOne() throws {
        let yaml = wellGoverned.replacingOccurrences(of: "    rate_cap: 60/m\n", with: "")
        let f = try audit(yaml)
        #expect(marks(f, .noRateCap) == ["13:5"])
        #expect(f.map(\.rule.id) == ["BR002"])
        #expect(f[0].level == .warning)
    }

    @Test func noStopConditionFindsAnIdentityWithoutOne() throws {
        let f = try audit(wellGoverned.replacingOccurrences(of: "    stop: { spend_rate_over: 5x, window: 1h }\n", with: ""))
        #expect(f.map(\.rule.id) == ["BR003"])
        #expect(marks(f, .noStopCondition) == ["13:5"] && f[0].level == .warning)
    }

    @Test func sandboxReachesProductionFindsABorrowingSandboxAndAnIdentityInBoth() throws {
        let yaml = """
            name: t
            horizon: 1d
            pools:
              - id: org
                environment: production
                grants: [ { amount: 100 } ]
                policies: [ { alerts: [0.5] }, { hard_stop: {} } ]
                children:
                  - id: lab
                    environment: sandbox
                    grants: [ { amount: 10 } ]
                    policies:
                      - alerts: [0.5]
                      - borrow: { cap: 10 }
                      - hard_stop: {}
                  - id: team
                    grants: [ { amount: 10 } ]
                    policies: [ { alerts: [0.5] } ]
            identities:
              - id: both
                pools: [lab, team]
                caps: { per_day: 1 }
                rate_cap: 1/m
                models: []
                stop: { spend_rate_over: 5x }
                workload: { arrivals: { poisson: { rate: 1/h } }, cost: { fixed: 1 } }

            """
        let f = try audit(yaml)
        // The borrow entry (line 14, after `- `) and the identity (line 20); `team` says no
        // environment and inherits production from `org`.
        #expect(marks(f, .sandboxReachesProduction) == ["14:13", "20:5"])
        #expect(f.allSatisfy { $0.rule.id == "BR004" }, "\(f.map(\.message))")
        #expect(f.allSatisfy { $0.level == .error })
        // A sandbox funded on its own, with a sandbox-only identity, is fine.
        let separate = yaml.replacingOccurrences(of: "          - borrow: { cap: 10 }\n", with: "")
            .replacingOccurrences(of: "pools: [lab, team]", with: "pools: [lab]")
        #expect(marks(try audit(separate), .sandboxReachesProduction).isEmpty)
    }

    @Test func unboundedPolicyFindsAnAutoTopUpWithoutItsCap() throws {
        let topUp = "      - auto_top_up: { below: 0.1, amount: 5 }\n"
        let yaml = wellGoverned.replacingOccurrences(of: "      - hard_stop: {}\n", with: topUp + "      - hard_stop: {}\n")
        let f = try audit(yaml)
        #expect(marks(f, .unboundedPolicy) == ["11:9"])
        #expect(f.map(\.rule.id) == ["BR005"] && f[0].level == .error)
        #expect(f[0].message.contains("max_per_period"))
        let bounded = yaml.replacingOccurrences(of: "amount: 5 }", with: "amount: 5, max_per_period: 20 }")
        #expect(try audit(bounded).isEmpty)
    }

    @Test func sharedPoolUncappedIdentityFindsTheOneThatCanStarveTheRest() throws {
        let yaml = wellGoverned + """
              - id: greedy
                pool: eng
                rate_cap: 60/m
                models: [m]
                stop: { spend_rate_over: 5x }

            """
        let f = try audit(yaml)
        #expect(marks(f, .sharedPoolUncappedIdentity) == ["22:5"])
        #expect(f.map(\.rule.id) == ["BR006"] && f[0].message.contains("'svc'"))
        // Alone on its pool, an uncapped identity starves no one.
        let alone = wellGoverned.replacingOccurrences(of: "    caps: { per_day: 10 }\n", with: "")
        #expect(try audit(alone).isEmpty)
    }

    @Test func silentExhaustionFindsAHardStopWithoutAnAlert() throws {
        let f = try audit(wellGoverned.replacingOccurrences(of: "      - alerts: [0.5, 0.9]\n", with: ""))
        // The hard_stop entry.
        #expect(marks(f, .silentExhaustion) == ["10:9"])
        #expect(f.map(\.rule.id) == ["BR007"] && f[0].level == .note)
        // No policies at all: the implicit hard stop, located at the pool.
        let implicit = try audit(wellGoverned.replacingOccurrences(of: "    policies:\n      - alerts: [0.5, 0.9]\n      - hard_stop: {}\n", with: ""))
        #expect(marks(implicit, .silentExhaustion) == ["6:5"])
        // A reserve nobody draws from stops no one's work.
        let reserve = wellGoverned.replacingOccurrences(of: "identities:\n", with: "  - id: reserve\n    grants: [ { amount: 5 } ]\nidentities:\n")
        #expect(try audit(reserve).isEmpty)
        // An overdraft pool does not hard-stop.
        let overdraft = try audit(wellGoverned.replacingOccurrences(of: "      - alerts: [0.5, 0.9]\n      - hard_stop: {}\n", with: "      - overdraft: { limit: 5 }\n"))
        #expect(overdraft.isEmpty)
    }

    @Test func rulesKeepTheLevelsOfTheDesignTable() {
        let levels = Rule.all.map { "\($0.id) \($0.name) \($0.level.rawValue)" }
        #expect(levels == ["BR001 credits-only-control error", "BR002 no-rate-cap warning", "BR003 no-stop-condition warning",
                           "BR004 sandbox-reaches-production error", "BR005 unbounded-policy error",
                           "BR006 shared-pool-uncapped-identity warning", "BR007 silent-exhaustion note",
                           "BR008 stale-credential warning"])
        #expect(Rule.all.allSatisfy { !$0.owaspAgentic.isEmpty && !$0.nistCSF.isEmpty && !$0.nist800207.isEmpty })
    }
}
