import Ledger
import Testing
@testable import Simulation

@Suite("Rejections by reason")
struct RejectionTests {
    /// One pool funded far beyond demand, one identity with a daily cap of 50 credits at 1 credit
    /// a request and 10 requests an hour: the cap, not the pool, refuses what it refuses.
    func cappedModel(poolCredits: Int64) -> SimulationModel {
        var model = singlePoolModel(horizonHours: 72, ratePerHour: 10, fundingMicrocredits: poolCredits * 1_000_000,
                                    fixedCostMicrocredits: 1_000_000)
        model.identities[0].entitlements[0].entitlement = Entitlement(capPerPeriodMicrocredits: 50_000_000, capPeriodMs: Millis.day)
        return model
    }

    @Test func aCappedIdentityIsRejectedForItsCapNotForCredit() throws {
        let compiled = try CompiledModel(cappedModel(poolCredits: 1_000_000))
        let runs = try MonteCarlo.runTallyingRejections(compiled, replicationNumbers: [0, 1, 2], threads: 1)
        for (result, tally) in runs {
            let rejected = result.pools[0].counts.requestsRejected
            #expect(rejected > 0, "the daily cap refuses some of about 240 requests a day")
            #expect(tally.pool(0) == ["spend_cap_exceeded": rejected])
            #expect(tally.identity(0) == ["spend_cap_exceeded": rejected])
        }
    }

    @Test func tallyingChangesNothingElse() throws {
        let compiled = try CompiledModel(cappedModel(poolCredits: 100))
        let plain = try MonteCarlo.run(compiled, replicationNumbers: [0, 1, 2, 3], threads: 2)
        let tallied = try MonteCarlo.runTallyingRejections(compiled, replicationNumbers: [0, 1, 2, 3], threads: 2)
        #expect(plain == tallied.map(\.result))
        // Both reasons appear once the pool runs dry too, and they add up to the rejections.
        for (result, tally) in tallied {
            #expect(tally.pool(0).values.reduce(0, +) == result.pools[0].counts.requestsRejected)
            #expect(result.pools[0].counts.rejectedForCredit > 0 && (tally.pool(0)["insufficient_funds"] ?? 0) == result.pools[0].counts.rejectedForCredit)
            #expect((tally.pool(0)["spend_cap_exceeded"] ?? 0) > 0)
        }
    }
}
