import Ledger
import Stochastic
import Testing
@testable import Simulation

/// The `leaked_key` fault against closed forms: a fixed rate, a fixed cost and a fixed detection
/// delay make the exposure exact.
@Suite("Leaked credential: exposure against closed forms")
struct LeakTests {
    /// One identity on a 10,000-credit pool, attacked from day 1 at 10 requests an hour, 1 credit
    /// each, detected 3.5 days later (84 h); the horizon is 10 days.
    static func model(cap perDay: Int64? = nil, stop: StopCondition? = nil, legitimatePerHour: Double? = nil,
                      detection: Sampler = .constant(Double(84 * Millis.hour))) -> SimulationModel {
        var entitlement = Entitlement()
        if let perDay { entitlement.capPerPeriodMicrocredits = credits(perDay); entitlement.capPeriodMs = Millis.day }
        var attacker = Workload(name: "svc/leak", identity: 0, pool: 0, arrivals: .periodic(intervalMs: 6 * Millis.minute),
                                models: [0], fixedCostMicrocredits: credits(1), startMs: Millis.day)
        attacker.leak = Leak(detectedAfterMs: detection)
        var workloads = [attacker]
        if let legitimatePerHour {
            workloads.insert(Workload(name: "svc", identity: 0, pool: 0, arrivals: .periodic(intervalMs: Int64(3_600_000 / legitimatePerHour)),
                                      models: [0], fixedCostMicrocredits: credits(1)), at: 0)
        }
        return SimulationModel(
            name: "leak", seed: 7, horizonMs: 10 * Millis.day,
            pools: [PoolSetup(PoolSpec(name: "eng"), grants: [GrantSpec(amountMicrocredits: credits(10_000))])],
            identities: [IdentitySetup(IdentitySpec(name: "svc", stopCondition: stop), entitlements: [(pool: 0, entitlement: entitlement)])],
            prices: PriceTable([ModelPrice(model: "m", tier: 0, inputMicrocreditsPerMillionTokens: 0, outputMicrocreditsPerMillionTokens: 0)]),
            workloads: workloads, sampleEveryMs: 0)
    }

    static func run(_ model: SimulationModel) throws -> ReplicationResult {
        try Engine.run(try CompiledModel(model), replication: 0)
    }

    @Test func withoutACapTheLeakSpendsRateTimesCostTimesTheDetectionDelay() throws {
        let r = try Self.run(Self.model())
        // Requests at 1d + k·6 min for k = 0…839 (the one at 84 h meets the revocation first).
        let m = r.identityMetrics(0)
        #expect(m[Metric.leakSpendCredits.name] == 840)
        #expect(m[Metric.leakRequestsServed.name] == 840)
        #expect(m[Metric.timeToRevokeHours.name] == 84)
        #expect(r.runMetrics[Metric.leakSpendCredits.name] == 840)
        #expect(r.identities[0].leak?.bound == .nothing && r.identities[0].leak?.revoked == true)
    }

    @Test func aDailyCapBoundsTheLeakToTheCapPerDayOfExposure() throws {
        // Days 1, 2 and 3 whole, day 4 for 12 h: 50 credits in each of the four cap periods.
        let r = try Self.run(Self.model(cap: 50))
        let m = r.identityMetrics(0)
        #expect(m[Metric.leakSpendCredits.name] == 200)
        #expect(m[Metric.leakRequestsServed.name] == 200)
        #expect(r.identities[0].leak?.refusedBy[RejectionReason.spendCapExceeded.rawValue] == 640)
        #expect(r.identities[0].leak?.bound == .spendCap)
        #expect(m[Metric.timeToRevokeHours.name] == 84)
    }

    @Test func revocationEndsTheIdentitysLegitimateWorkToo() throws {
        // One legitimate request an hour from time 0: 108 before the revocation at 108 h, and
        // the 132 after it (to the 240 h horizon) are refused as revoked. The attacker's requests
        // are not the identity's demand (continuity counts only its own); their spend is spend.
        let r = try Self.run(Self.model(legitimatePerHour: 1))
        let c = r.identities[0].counts
        #expect(r.identities[0].leak?.spendMicrocredits == credits(840))
        #expect(c.requestsTotal == 240 && c.requestsServed == 108 && c.requestsRejected == 132)
        #expect(c.spendMicrocredits == credits(840 + 108))
        #expect(r.identityMetrics(0)[Metric.continuity.name] == 108.0 / 240)
    }

    @Test func detectionAfterTheHorizonLeavesTheLeakRunningToTheEnd() throws {
        let r = try Self.run(Self.model(detection: .constant(Double(30 * Millis.day))))
        let m = r.identityMetrics(0)
        #expect(m[Metric.leakSpendCredits.name] == Double(9 * 240))
        #expect(m[Metric.timeToRevokeHours.name] == Double(9 * 24))
        #expect(r.identities[0].leak?.revoked == false)
    }

    @Test func aDrawnDetectionDelayIsTheSameAcrossVariantsAndVariesAcrossReplications() throws {
        let law = Sampler.lognormal(try LogNormal(median: Double(2 * Millis.day), sigma: 1))
        let a = try CompiledModel(Self.model(detection: law)), b = try CompiledModel(Self.model(cap: 50, detection: law))
        let delays = try (0..<5).map { try Engine.run(a, replication: $0).identities[0].leak!.revokeAfterMs }
        let capped = try (0..<5).map { try Engine.run(b, replication: $0).identities[0].leak!.revokeAfterMs }
        #expect(delays == capped)
        #expect(Set(delays).count == 5)
    }
}
