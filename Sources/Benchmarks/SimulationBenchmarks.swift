import Ledger
import Simulation
import Stochastic

/// `bench sim`: kernel events per second on one core for the reference models.
public enum SimulationBenchmarks {
    static let prices = PriceTable([
        ModelPrice(model: "gpt-4o", tier: 0, inputMicrocreditsPerMillionTokens: 2_500_000, outputMicrocreditsPerMillionTokens: 10_000_000),
        ModelPrice(model: "gpt-4o-mini", tier: 1, inputMicrocreditsPerMillionTokens: 150_000, outputMicrocreditsPerMillionTokens: 600_000),
    ])

    public static func caseA(hours: Int64) throws -> SimulationModel {
        let input = Sampler.lognormal(try LogNormal(median: 1_000, sigma: 1.0))
        let output = Sampler.lognormal(try LogNormal(median: 250, sigma: 0.9))
        return SimulationModel(
            name: "bench-a", seed: 1, horizonMs: hours * Millis.hour,
            pools: (0..<10).map { PoolSetup(PoolSpec(name: "pool-\($0)", policies: [.hardStop]), grants: [GrantSpec(amountMicrocredits: 1 << 50)]) },
            identities: (0..<10).map { IdentitySetup(IdentitySpec(name: "agent-\($0)"), entitlements: [(pool: $0, entitlement: Entitlement())]) },
            prices: prices,
            workloads: (0..<10).map {
                Workload(name: "agent-\($0)", identity: $0, pool: $0, arrivals: .poisson(ratePerHour: 3_600, profile: .flat, growthPerDay: 0),
                         models: [0, 1], modelWeights: [0.3, 0.7], inputTokens: input, outputTokens: output)
            },
            sampleEveryMs: Millis.hour)
    }

    public static func caseB() throws -> SimulationModel {
        let input = Sampler.lognormal(try LogNormal(median: 1_000, sigma: 1.0))
        let output = Sampler.lognormal(try LogNormal(median: 250, sigma: 0.9))
        let latency = Sampler.lognormal(try LogNormal(median: 3_000, sigma: 0.7))
        return SimulationModel(
            name: "bench-b", seed: 2, horizonMs: 30 * Millis.day,
            pools: (0..<10).map {
                PoolSetup(PoolSpec(name: "dept-\($0)", policies: [.degrade(toTier: 1, belowMicrocredits: 20_000_000), .hardStop]),
                          grants: [GrantSpec(amountMicrocredits: 150_000_000_000)])
            },
            identities: (0..<100).map { IdentitySetup(IdentitySpec(name: "agent-\($0)"), entitlements: [(pool: $0 % 10, entitlement: Entitlement())]) },
            prices: prices, modelForTier: [1: 1],
            workloads: (0..<100).map {
                Workload(name: "agent-\($0)", identity: $0, pool: $0 % 10,
                         arrivals: .poisson(ratePerHour: 240, profile: .businessHours, growthPerDay: 0.01),
                         models: [0, 1], modelWeights: [0.5, 0.5], inputTokens: input, outputTokens: output,
                         latencyMs: latency, reserve: .maxOutputTokens(2_000),
                         retry: RetryPolicy(maxRetries: 3, backoffMs: 60_000))
            },
            sampleEveryMs: Millis.hour)
    }

    /// A realistic organisation: 10 department pools, each with an expiring paid grant and an
    /// earlier-expiring promotional one, alerts, a degrade to the cheaper model and a hard stop;
    /// 50 identities (5 per pool) with daily spend caps and rate caps; renewal arrivals of cv 2
    /// through the business-hours profile with 1% growth a day; two models; lognormal tokens and
    /// latency; holds reserving 1,000 output tokens; three retries with backoff. 480 h.
    public static func caseD(hours: Int64 = 480) throws -> SimulationModel {
        let input = Sampler.lognormal(try LogNormal(median: 1_000, sigma: 1.0))
        let output = Sampler.lognormal(try LogNormal(median: 250, sigma: 0.9))
        let latency = Sampler.lognormal(try LogNormal(median: 3_000, sigma: 0.7))
        let credit: Int64 = 1_000_000
        return SimulationModel(
            name: "bench-d", seed: 4, horizonMs: hours * Millis.hour,
            pools: (0..<10).map {
                PoolSetup(PoolSpec(name: "dept-\($0)", policies: [
                    .alerts(thresholdsMicrocredits: [3_750 * credit, 1_500 * credit, 375 * credit]),
                    .degrade(toTier: 1, belowMicrocredits: 1_125 * credit), .hardStop,
                ]), grants: [
                    GrantSpec(amountMicrocredits: 7_000 * credit, expiresAtMs: 30 * Millis.day, priority: 1),
                    GrantSpec(amountMicrocredits: 500 * credit, expiresAtMs: 14 * Millis.day, priority: 0, category: .promotional,
                              priceMicrocreditsPerCredit: 0),
                ])
            },
            identities: (0..<50).map {
                IdentitySetup(IdentitySpec(name: "agent-\($0)"), entitlements: [(pool: $0 % 10, entitlement: Entitlement(
                    capPerPeriodMicrocredits: 120 * credit, capPeriodMs: Millis.day, rateMaxDraws: 40, rateWindowMs: Millis.minute))])
            },
            prices: prices, modelForTier: [1: 1],
            workloads: (0..<50).map {
                Workload(name: "agent-\($0)", identity: $0, pool: $0 % 10,
                         arrivals: .renewal(ratePerHour: 720, family: .gamma(cv: 2), profile: .businessHours, growthPerDay: 0.01),
                         models: [0, 1], modelWeights: [0.5, 0.5], inputTokens: input, outputTokens: output,
                         latencyMs: latency, reserve: .maxOutputTokens(1_000),
                         retry: RetryPolicy(maxRetries: 3, backoffMs: 30_000))
            },
            sampleEveryMs: Millis.hour)
    }

    public static func caseC(trace path: String) throws -> SimulationModel {
        let trace = try Trace.load(path: path, format: .azureLLM)
        // Enough loops of the trace for one million requests.
        let horizon = Int64((1_000_000.0 / Double(trace.count)).rounded(.up)) * trace.spanMs
        return SimulationModel(
            name: "bench-c", seed: 3, horizonMs: horizon,
            pools: [PoolSetup(PoolSpec(name: "conv", policies: [.hardStop]), grants: [GrantSpec(amountMicrocredits: 1 << 50)])],
            identities: [IdentitySetup(IdentitySpec(name: "chat"), entitlements: [(pool: 0, entitlement: Entitlement())])],
            prices: prices,
            workloads: [Workload(name: "chat", identity: 0, pool: 0, arrivals: .replay(ReplaySource(trace: trace, loop: true)), models: [1])],
            sampleEveryMs: Millis.hour)
    }

    public static func run(hours: Int64, trace: String, settings: BenchSettings) throws -> [BenchResult] {
        var results: [BenchResult?] = []
        for (name, build) in [("a-poisson", { try caseA(hours: hours) }), ("b-holds", { try caseB() }),
                              ("c-replay", { try caseC(trace: trace) }), ("d-realistic", { try caseD(hours: hours) })]
                as [(String, () throws -> SimulationModel)] {
            guard settings.selects(name) else { continue }
            let compiled = try CompiledModel(try build())
            var events: Int64 = 0, requests: Int64 = 0
            var result = measure("sim", name, operations: 1, settings: settings) {
                let r = try? Engine.run(compiled, replication: 0)
                events = r?.events ?? 0
                requests = r?.totals.requestsTotal ?? 0
            }
            result?.operations = Int(events)
            results.append(result)
            // The simple and the realistic organisation also in requests per second: the figure
            // users feel, and the ratio the simulator-house issue sets a target for.
            if let r = result, name == "a-poisson" || name == "d-realistic" {
                results.append(BenchResult(benchmark: "sim", name: name + " requests", operations: Int(requests), seconds: r.seconds))
            }
        }
        if settings.selects("c-parse") {
            // Trace parsing alone: rows per second through the streaming reader.
            var rows = 0
            var result = measure("sim", "c-parse", operations: 1, settings: settings) {
                rows = 0
                for _ in 0..<20 { rows += (try? Trace.load(path: trace, format: .azureLLM))?.count ?? 0 }
            }
            result?.operations = rows
            results.append(result)
        }
        return results.compactMap { $0 }
    }
}
