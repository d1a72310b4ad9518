import Audit
import Foundation
import Ledger
import LedgerStore
import Scenario
import Testing

@Suite("Audit of a live ledger: the same rules as a scenario")
struct LedgerAuditTests {
    /// A ledger built with `apply` lines (names resolved as `ledger apply` does).
    static func ledger(_ lines: [String]) throws -> Ledger {
        var ledger = Ledger()
        for line in lines {
            let operation = try LedgerOperation.parse(line, mode: .history)
            guard case .success(let requests) = operation.requests(in: ledger, at: operation.atMs ?? 0) else {
                Issue.record("cannot resolve \(line)"); continue
            }
            for r in requests { ledger.apply(r) }
        }
        return ledger
    }

    static let lines = [
        #"{"at":"2026-03-02T09:00:00.000Z","op":"create_pool","pool":"org","environment":"production","policies":[{"alerts":{"thresholds":["10"]}},{"hard_stop":{}}]}"#,
        #"{"at":"2026-03-02T09:00:00.000Z","op":"create_pool","pool":"lab","parent":"org","environment":"sandbox","policies":[{"borrow":{"cap":"10"}}]}"#,
        #"{"at":"2026-03-02T09:00:00.000Z","op":"create_identity","identity":"bot","pools":["lab"]}"#,
    ]

    @Test func aLedgersFindingsNameTheFileAndTheSubject() throws {
        let findings = Audit.findings(in: try Self.ledger(Self.lines), locator: Locator(database: "live.db"))
        #expect(findings.map(\.rule.id).sorted() == ["BR001", "BR002", "BR003", "BR004", "BR007"])
        #expect(findings.allSatisfy { $0.location.file == "live.db" && $0.location.line == nil })
        let borrow = try #require(findings.first { $0.rule.id == "BR004" })
        #expect(borrow.location.subject == "pool 'lab', policy 1 (borrow)" && borrow.message.contains("'org'"))
    }

    @Test func aRevokedIdentityIsNotAudited() throws {
        let revoked = Self.lines + [#"{"at":"2026-03-02T09:00:00.000Z","op":"revoke","identity":"bot"}"#]
        let findings = Audit.findings(in: try Self.ledger(revoked), locator: Locator(database: "live.db"))
        #expect(findings.map(\.rule.id).sorted() == ["BR004"])  // and no BR007: nobody draws from lab now
    }

    @Test func aScenarioAndTheLedgerItSetsUpHaveTheSameFindings() throws {
        let yaml = """
            name: t
            horizon: 1d
            pools:
              - id: org
                environment: production
                grants: [ { amount: 100 } ]
                policies: [ { alerts: [0.9] }, { hard_stop: {} } ]
                children:
                  - id: lab
                    environment: sandbox
                    policies: [ { borrow: { cap: 10 } } ]
            identities:
              - id: bot
                pool: lab
                workload: { arrivals: { poisson: { rate: 1/h } }, cost: { fixed: 1 } }

            """
        let scenario = try Scenario.parse(yaml: yaml, file: "t.yaml")
        let fromScenario = ScenarioAudit.findings(scenario)
        let fromLedger = Audit.findings(in: try Self.ledger(Self.lines), locator: Locator(database: "live.db"))
        #expect(fromScenario.map(\.rule.id).sorted() == fromLedger.map(\.rule.id).sorted())
        #expect(fromScenario.map(\.message).sorted() == fromLedger.map(\.message).sorted())
    }
}
