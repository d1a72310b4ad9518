import Foundation
import Ledger
import Stochastic
@testable import Simulation

func credits(_ c: Int64) -> Int64 { c * 1_000_000 }

/// One pool, one identity, one workload: the shape of every analytic check.
func singlePoolModel(name: String = "analytic", seed: UInt64 = 42, horizonHours: Int64, ratePerHour: Double,
                     fundingMicrocredits: Int64, policies: [Policy] = [], fixedCostMicrocredits: Int64? = nil,
                     prices: [ModelPrice] = [ModelPrice(model: "m", tier: 0, inputMicrocreditsPerMillionTokens: 0, outputMicrocreditsPerMillionTokens: 0)],
                     models: [Int] = [0], weights: [Double]? = nil, input: Sampler = .constant(0), output: Sampler = .constant(0),
                     arrivals: ArrivalProcess? = nil) -> SimulationModel {
    SimulationModel(
        name: name, seed: seed, horizonMs: horizonHours * Millis.hour,
        pools: [PoolSetup(PoolSpec(name: "eng", policies: policies), grants: [GrantSpec(amountMicrocredits: fundingMicrocredits)])],
        identities: [IdentitySetup(IdentitySpec(name: "agent"), entitlements: [(pool: 0, entitlement: Entitlement())])],
        prices: PriceTable(prices),
        workloads: [Workload(name: "agent", identity: 0, pool: 0,
                             arrivals: arrivals ?? .poisson(ratePerHour: ratePerHour, profile: .flat, growthPerDay: 0),
                             models: models, modelWeights: weights, inputTokens: input, outputTokens: output,
                             fixedCostMicrocredits: fixedCostMicrocredits)],
        sampleEveryMs: 0)
}

func fixture(_ name: String) -> String {
    Bundle.module.path(forResource: name, ofType: nil, inDirectory: "Fixtures")!
}
