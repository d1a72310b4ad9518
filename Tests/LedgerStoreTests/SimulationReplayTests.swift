import Foundation
import Ledger
import Simulation
import Stochastic
import Testing
@testable import LedgerStore

/// What the simulator predicts is what the durable ledger does: a simulation run's journal,
/// replayed command by command into a durable store, ends in the same state.
@Suite("Simulation journal into the durable store")
struct SimulationReplayTests {
    @Test func aSimulatedRunReplaysIntoTheStoreWithTheSameDigest() async throws {
        let prices = PriceTable([
            ModelPrice(model: "gpt-4o", tier: 0, inputMicrocreditsPerMillionTokens: 2_500_000, outputMicrocreditsPerMillionTokens: 10_000_000),
            ModelPrice(model: "gpt-4o-mini", tier: 1, inputMicrocreditsPerMillionTokens: 150_000, outputMicrocreditsPerMillionTokens: 600_000),
        ])
        var model = SimulationModel(
            name: "replay-into-store", seed: 5, horizonMs: 8 * Millis.hour,
            pools: [PoolSetup(PoolSpec(name: "eng", policies: [.degrade(toTier: 1, belowMicrocredits: 500_000), .overdraft(limitMicrocredits: 200_000)]),
                              grants: [GrantSpec(amountMicrocredits: 3_000_000, expiresAtMs: 6 * Millis.hour)])],
            identities: [IdentitySetup(IdentitySpec(name: "agent"), entitlements: [(pool: 0, entitlement: Entitlement())])],
            prices: prices, modelForTier: [1: 1],
            workloads: [Workload(name: "agent", identity: 0, pool: 0, arrivals: .poisson(ratePerHour: 60, profile: .flat, growthPerDay: 0),
                                 models: [0, 1], modelWeights: [0.8, 0.2],
                                 inputTokens: .lognormal(try LogNormal(median: 2_000, sigma: 0.8)),
                                 outputTokens: .lognormal(try LogNormal(median: 300, sigma: 0.6)),
                                 latencyMs: .lognormal(try LogNormal(median: 3_000, sigma: 0.5)), reserve: .maxOutputTokens(800),
                                 retry: RetryPolicy(maxRetries: 1, backoffMs: 60_000))],
            sampleEveryMs: Millis.hour)
        model.recordsJournal = true
        let result = try Engine.run(try CompiledModel(model), replication: 0)
        let journal = try #require(result.journal)
        #expect(journal.count > 400)

        let path = temporaryDatabase()
        defer { removeDatabase(path) }
        let store = try await LedgerStore(path: path)
        for record in journal {
            let outcome = try await store.submit(record.request)
            #expect(outcome == record.outcome, "seq \(record.seq)")
        }
        #expect(await store.state.stateDigest == result.ledgerDigest)
        #expect(await store.balance(of: "eng")?.totalMicrocredits == result.pools[0].endBalanceMicrocredits)
        let reopened = try await LedgerStore(path: path)
        #expect(await reopened.state.stateDigest == result.ledgerDigest)
    }
}
