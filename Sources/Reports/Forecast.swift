import Foundation
import Ledger
import LedgerStore
import Simulation
import Stochastic

/// When does a live pool run dry? (DESIGN.md, "Forecast"). The ledger's journal up to `as of`
/// gives both the state to start from (balances, grants and their expiry, holds, policies,
/// entitlements) and the demand to extrapolate: each identity's spend on each pool over the
/// `window` before `as of` becomes a Poisson workload at its observed rate whose request amounts
/// are resampled from the amounts it spent (the empirical law, exactly: each distinct amount is a
/// "model" of that fixed price, chosen with its observed frequency). The simulator then runs the
/// same ledger forward over the horizon, many times.
public enum Forecast {
    public struct Options: Sendable {
        public var pool: String
        public var horizonMs: Int64 = 90 * Millis.day
        public var windowMs: Int64 = 28 * Millis.day
        /// Nil: the time of the journal's last command.
        public var asOfMs: Int64? = nil
        public var replications = 200
        public var seed: UInt64 = 1
        public var threads: Int? = nil

        public init(pool: String) { self.pool = pool }
    }

    /// One fitted workload: an identity's demand on a pool.
    public struct Demand: Sendable, Equatable {
        public var identity: String
        public var pool: String
        public var requests: Int
        public var ratePerHour: Double
        public var meanMicrocredits: Double
    }

    public struct Result: Sendable {
        public var pool: String
        public var asOfMs: Int64
        public var horizonMs: Int64
        /// The history the demand was fitted on: the window, or less when the journal is younger.
        public var fittedFromMs: Int64
        public var availableMicrocredits: Int64
        /// P10, P50, P90 of the hours until the pool runs dry; nil when that share of
        /// replications does not run dry within the horizon.
        public var runOutHours: [Double?]
        public var probabilityDry: Double
        /// P10, P50, P90 of the pool's spend over the horizon (micro-credits).
        public var spendMicrocredits: [Double]
        public var demand: [Demand]
        public var replications: Int
        /// The pool's available balance at the sample times (ms after `as of`): P10, P50 and P90
        /// across replications, for the fan chart.
        public var fan: [(hours: Double, p10: Double, p50: Double, p90: Double)]
    }

    public struct ForecastError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    static let quantiles = [0.1, 0.5, 0.9]

    /// The forecast from a journal's records (in sequence order).
    public static func run(records: [JournalRecord], config: LedgerConfig = LedgerConfig(), options: Options) throws(ForecastError) -> Result {
        guard let last = records.last else { throw ForecastError(description: "the journal is empty: nothing to forecast from") }
        let asOf = options.asOfMs ?? last.request.atMs
        guard options.horizonMs > 0, options.windowMs > 0 else { throw ForecastError(description: "--horizon and --window must be positive") }
        guard options.replications >= 1 else { throw ForecastError(description: "--replications must be at least 1") }
        let history = records.prefix { $0.request.atMs <= asOf }
        guard let first = history.first else {
            throw ForecastError(description: "--as-of \(Timestamp.format(asOf)) is before the journal's first command (\(Timestamp.format(records[0].request.atMs)))")
        }
        var (ledger, mismatches) = Ledger.replay(Array(history), config: config)
        if let seq = mismatches.first { throw ForecastError(description: "the journal does not replay to its own answers (first at seq \(seq)): run `burnrate ledger verify`") }
        if asOf > ledger.nowMs { ledger.apply(Request(atMs: asOf, .advanceTime)) }
        guard let target = ledger.pool(named: options.pool), let balance = ledger.balance(of: target) else {
            throw ForecastError(description: "no pool '\(options.pool)' in the ledger")
        }

        let from = max(asOf - options.windowMs, first.request.atMs)
        let span = max(asOf - from, 1)
        let spends = Self.spends(Array(history), from: from)
        // One price row per distinct (amount, tier); one workload per (identity, pool).
        var prices = PriceTable()
        var workloads: [Workload] = []
        var demand: [Demand] = []
        let pools = (0..<ledger.poolCount).map { PoolID(Int32($0)) }
        let identities = (0..<ledger.identityCount).map { IdentityID(Int32($0)) }
        for key in spends.keys.sorted(by: { ($0.identity, $0.pool) < ($1.identity, $1.pool) }) {
            let amounts = spends[key]!
            var counts: [Int64: Int] = [:]
            for a in amounts { counts[a.amount, default: 0] += 1 }
            let tier = amounts.last!.tier
            var models: [Int] = [], weights: [Double] = []
            for (amount, n) in counts.sorted(by: { $0.key < $1.key }) {
                let name = "amount/\(amount)/tier/\(tier)"
                if prices.index(of: name) == nil {
                    prices.add(ModelPrice(model: name, tier: tier, inputMicrocreditsPerMillionTokens: 0,
                                          outputMicrocreditsPerMillionTokens: 0, fixedMicrocredits: amount))
                }
                models.append(prices.index(of: name)!)
                weights.append(Double(n))
            }
            let identityName = ledger.name(of: IdentityID(key.identity)) ?? "#\(key.identity)"
            let poolName = ledger.name(of: PoolID(key.pool)) ?? "#\(key.pool)"
            let rate = Double(amounts.count) / Double(span) * 3_600_000
            var w = Workload(name: "forecast/\(identityName)/\(poolName)", identity: Int(key.identity), pool: Int(key.pool),
                             arrivals: .poisson(ratePerHour: rate, profile: .flat, growthPerDay: 0), models: models, modelWeights: weights)
            w.startMs = asOf
            workloads.append(w)
            let mean = Double(amounts.reduce(0) { $0 + $1.amount }) / Double(amounts.count)
            demand.append(Demand(identity: identityName, pool: poolName, requests: amounts.count, ratePerHour: rate, meanMicrocredits: mean))
        }

        var model = SimulationModel(
            name: "forecast", seed: options.seed, horizonMs: asOf + options.horizonMs,
            pools: pools.map { PoolSetup(PoolSpec(name: ledger.name(of: $0) ?? "#\($0.index)")) },
            identities: identities.map { IdentitySetup(IdentitySpec(name: ledger.name(of: $0) ?? "#\($0.index)"), entitlements: []) },
            prices: prices, workloads: workloads,
            sampleEveryMs: max(Millis.minute, options.horizonMs / 120 / Millis.minute * Millis.minute),
            ledgerConfig: config)
        model.startMs = asOf
        let results: [ReplicationResult]
        do {
            let compiled = try CompiledModel(model, startingFrom: ledger, pools: pools, identities: identities)
            results = try MonteCarlo.run(compiled, replications: 0..<options.replications, threads: options.threads)
        } catch let e as SetupError {
            throw ForecastError(description: "the forecast could not be set up: \(e)")
        } catch {
            throw ForecastError(description: "\(error)")
        }

        let p = Int(target.index)
        let runOut = results.map { r in r.pools[p].exhaustedAtMs.map { Double($0 - asOf) / 3_600_000 } ?? .infinity }.sorted()
        let dry = runOut.filter(\.isFinite).count
        let spend = results.map { Double($0.pools[p].counts.spendMicrocredits) }.sorted()
        var fan: [(hours: Double, p10: Double, p50: Double, p90: Double)] = []
        if let times = results.first?.sampleTimesMs {
            for (k, t) in times.enumerated() {
                let values = results.compactMap { k < $0.pools[p].availableSeries.count ? Double($0.pools[p].availableSeries[k]) : nil }.sorted()
                guard !values.isEmpty else { continue }
                fan.append((Double(t - asOf) / 3_600_000, Statistics.quantile(sorted: values, 0.1),
                            Statistics.quantile(sorted: values, 0.5), Statistics.quantile(sorted: values, 0.9)))
            }
        }
        return Result(pool: options.pool, asOfMs: asOf, horizonMs: options.horizonMs, fittedFromMs: from,
                      availableMicrocredits: balance.availableMicrocredits,
                      runOutHours: quantiles.map { q in
                          let v = Statistics.quantile(sorted: runOut, q)
                          return v.isFinite ? v : nil
                      },
                      probabilityDry: Double(dry) / Double(results.count),
                      spendMicrocredits: quantiles.map { Statistics.quantile(sorted: spend, $0) },
                      demand: demand, replications: results.count, fan: fan)
    }

    struct SpendKey: Hashable { var identity: Int32; var pool: Int32 }

    /// What each identity asked of each pool from `from` on: the amount of every debit (accepted
    /// or refused: a refusal is demand too) and of every accepted capture, with its tier.
    static func spends(_ records: [JournalRecord], from: Int64) -> [SpendKey: [(amount: Int64, tier: Int)]] {
        var holds: [HoldID: (identity: Int32, pool: Int32, tier: Int)] = [:]
        var out: [SpendKey: [(amount: Int64, tier: Int)]] = [:]
        for r in records {
            switch r.request.command {
            case .authorize(let identity, let pool, let tier, _, _):
                if let hold = r.outcome.acceptance?.hold { holds[hold] = (identity.index, pool.index, tier) }
            case .debit(let identity, let pool, let tier, let amount) where r.request.atMs >= from:
                out[SpendKey(identity: identity.index, pool: pool.index), default: []].append((amount, tier))
            case .capture(let hold, _, _) where r.request.atMs >= from:
                guard let h = holds[hold], let charged = r.outcome.acceptance?.chargedMicrocredits, charged > 0 else { continue }
                out[SpendKey(identity: h.identity, pool: h.pool), default: []].append((charged, h.tier))
            default:
                continue
            }
        }
        return out
    }
}
