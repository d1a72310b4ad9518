import Ledger
import Scenario
import Simulation

/// Audits a scenario: its base model is set up as a ledger (pools, identities, entitlements, the
/// very commands a simulation starts with) and that ledger is audited like a live one.
public enum ScenarioAudit {
    /// The findings of `scenario`, located in its file.
    public static func findings(_ scenario: Scenario) -> [Finding] {
        Audit.findings(in: ledger(for: scenario.base), locator: Locator(scenario: scenario))
    }

    /// The ledger a simulation of `model` starts from, without its grants (the audit reads
    /// configuration, not balances). A command the ledger refuses is left out: the scenario
    /// reader has already refused any model whose set-up the ledger would not accept.
    public static func ledger(for model: SimulationModel) -> Ledger {
        var ledger = Ledger(config: model.ledgerConfig)
        for p in model.pools { ledger.apply(Request(atMs: 0, .createPool(p.spec))) }
        for (i, d) in model.identities.enumerated() {
            ledger.apply(Request(atMs: 0, .createIdentity(d.spec)))
            for e in d.entitlements {
                ledger.apply(Request(atMs: 0, .entitle(identity: IdentityID(Int32(i)), pool: PoolID(Int32(e.pool)), e.entitlement)))
            }
        }
        return ledger
    }
}
