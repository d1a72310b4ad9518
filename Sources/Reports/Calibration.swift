import Foundation
import Ledger
import Scenario
import Simulation
import Stochastic

/// `burnrate fit EXPORT --report DIR`: the fitted synthetic workload beside the export it came
/// from, by the numbers a user needs before trusting a fitted scenario (issue "Real bills",
/// calibration report): requests, spend, spend by token class, the hourly profile and the daily
/// counts.
///
/// Both sides are measured by the same engine with the same prices, so a difference is the fit's,
/// not the measurement's: the export is **replayed** as it is (`resample: none`, priced by token
/// class, and a second time at its own logged cost when it records one), and the fitted workload
/// (the YAML `burnrate fit` prints, cache shares included) runs for `replications` replications
/// over the same window. Simulation time zero is midnight UTC of the export's first day, and each
/// side's requests are counted per clock hour (samples every hour), so the hourly profiles and the
/// daily counts line up with the calendar.
public struct Calibration: Sendable {
    /// What one replication of one side measured.
    public struct Side: Sendable, Equatable {
        public var requests: Double
        public var spendCredits: Double
        /// Spend by ``TokenClass`` (in `allCases` order), credits; nil when the run priced no
        /// request by class (no cache split recorded or modelled), so the split is not known.
        public var classSpendCredits: [Double]?
        /// Cache reads over all input tokens.
        public var cachedInputShare: Double
        /// Requests per hour of the window, hour 0 starting at midnight UTC of the first day.
        public var hourly: [Double]
    }

    public var fit: TraceFit
    /// Midnight UTC of the export's first day (ms since the epoch): simulation time zero.
    public var midnightMs: Int64
    /// The export replayed at the price table, and (when it logs a cost) at its own cost.
    public var exportPriced: Side
    public var exportLogged: Side?
    /// The fitted workload, one per replication.
    public var fitted: [Side]
    public var seed: UInt64
    /// The command that made it (for the report), as the user typed it.
    public var command: String

    /// What the calibration needs besides the fit: the prices, and how many replications.
    public struct Options: Sendable {
        /// A price CSV (US dollars per million tokens, as `shared/data/prices/model_prices.csv`).
        public var pricesPath: String
        /// US dollars per credit (the scenario format's `credit:`), a decimal as written.
        public var credit: String = "1"
        public var replications: Int = 20
        public var seed: UInt64 = 1
        public var threads: Int? = nil
        /// Bounds on the work of the replays and the fitted runs, as for `burnrate run`.
        public var maxEvents: Double = WorkEstimate.defaultMaxEvents
        /// Export model name → price row (`gpt-4o-2024-08-06` → `gpt-4o`): the replay's
        /// `models:` mapping, and the fitted workload's model mix renamed (and merged) the same way.
        public var modelMap: [String: String] = [:]

        public init(pricesPath: String, credit: String = "1", replications: Int = 20, seed: UInt64 = 1, threads: Int? = nil) {
            self.pricesPath = pricesPath
            self.credit = credit
            self.replications = replications
            self.seed = seed
            self.threads = threads
        }
    }

    /// A calibration that cannot be made (the prices do not cover the export's models, the work
    /// is over the bound, …): exit status 2.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// The pool both sides draw from: funded far beyond any export, so that nothing is refused
    /// and every request is counted (10⁹ credits).
    static let pool = "calibration"
    static let fundingCredits = "1000000000"

    /// Replays the export and runs the fitted workload.
    /// - Parameters:
    ///   - paths: the export's files (pages of one export, in order), as given to `fit`.
    ///   - exportOptions: the spender field, as given to `fit`.
    public static func run(fit: TraceFit, paths: [String], exportOptions: ExportOptions, options: Options,
                           command: String) throws -> Calibration {
        guard fit.format.isUsageExport else {
            throw Failure(description: "a calibration report compares a fit with the usage export it came from; \(fit.format.rawValue) is a research trace layout")
        }
        guard (1...1000).contains(options.replications) else { throw Failure(description: "--replications must be in 1…1000") }
        let prices = try priceTable(options)
        let fit = fit.renamingModels(options.modelMap)
        let unpriced = fit.modelNames.filter { prices.index(of: $0) == nil }
        if !unpriced.isEmpty {
            throw Failure(description: "\(options.pricesPath): no price row for the export's model\(unpriced.count == 1 ? "" : "s") "
                          + unpriced.prefix(10).map { "'\(excerpt($0))'" }.joined(separator: ", ") + (unpriced.count > 10 ? " and \(unpriced.count - 10) more" : "")
                          + " (map each to a row of the table with --model-map NAME=ROW)")
        }
        let day: Int64 = 86_400_000
        let midnight = floorDiv(fit.replayOriginMs, day) * day
        let offset = fit.replayOriginMs - midnight
        // The replay's whole window; the fitted workloads run over the fit's, [first, last].
        let horizon = fit.replayEndMs - midnight
        let fittedStart = fit.firstMs - midnight, fittedStop = fit.firstMs + fit.spanMs + 1 - midnight
        let replay = { (cost: String) -> String in
            var keys = ["trace: [\(paths.map { TraceFit.scalar(absolute($0)) }.joined(separator: ", "))]",
                        "format: \(fit.format.rawValue)", "resample: none", "start: \(offset)ms", "cost: \(cost)"]
            if let f = exportOptions.identityField { keys.append("identity_field: \(TraceFit.scalar(f))") }
            if let n = fit.requestsPerBucket { keys.append("requests_per_bucket: \(n)") }
            if !options.modelMap.isEmpty {
                let pairs = options.modelMap.sorted { $0.key < $1.key }.map { "\(TraceFit.scalar($0.key)): \(TraceFit.scalar($0.value))" }
                keys.append("models: { \(pairs.joined(separator: ", ")) }")
            }
            return "    workload:\n      replay: { \(keys.joined(separator: ", ")) }\n"
        }
        let header = { (name: String, replications: Int) -> String in
            """
            name: \(name)
            horizon: \(horizon)ms
            seed: \(options.seed)
            replications: \(replications)
            credit: \(TraceFit.scalar(options.credit))
            prices: { file: \(TraceFit.scalar(absolute(options.pricesPath))) }
            sample_every: 1h
            pools:
              - id: \(pool)
                grants: [ { amount: \(fundingCredits) } ]

            """
        }
        // The export's identities all draw as one identity: the totals are the export's.
        let exportYAML = { (cost: String) in header("calibration-export", 1) + "identities:\n  - id: export\n    pool: \(pool)\n" + replay(cost) }
        let priced = try sides(of: exportYAML("priced"), file: "calibration-export (priced)", window: nil, horizonMs: horizon,
                               replications: 1, options: options)[0]
        let logged = fit.format.recordsCost
            ? try sides(of: exportYAML("logged"), file: "calibration-export (logged)", window: nil, horizonMs: horizon,
                        replications: 1, options: options)[0]
            : nil
        // The fitted workload, exactly as `burnrate fit` prints it, drawing from the pool.
        var body = fit.yaml(pool: pool)
        if fit.identities.isEmpty {
            body = "identities:\n  - id: fitted\n    pool: \(pool)\n" + body.split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.hasPrefix("#") || $0.isEmpty ? String($0) : "    " + $0 }.joined(separator: "\n")
        }
        let fitted = try sides(of: header("calibration-fitted", options.replications) + body, file: "calibration-fitted",
                               window: (fittedStart, fittedStop), horizonMs: horizon, replications: options.replications, options: options)
        return Calibration(fit: fit, midnightMs: midnight, exportPriced: priced, exportLogged: logged, fitted: fitted,
                           seed: options.seed, command: command)
    }

    /// Runs a generated scenario and measures each replication. `window`: where the fitted
    /// workloads start and stop (a replay places itself with `start:`).
    static func sides(of yaml: String, file: String, window: (start: Int64, stop: Int64)?, horizonMs: Int64, replications: Int,
                      options: Options) throws -> [Side] {
        var scenario: Scenario
        do {
            scenario = try Scenario.parse(yaml: yaml, file: file)
        } catch {
            throw Failure(description: Self.describe(error, generated: file))
        }
        if let window {
            for i in scenario.variants[0].model.workloads.indices {
                scenario.variants[0].model.workloads[i].startMs = window.start
                scenario.variants[0].model.workloads[i].stopMs = window.stop
            }
        }
        let work = scenario.work.reduce(0) { $0 + $1.eventsPerReplication } * Double(replications)
        guard work <= options.maxEvents else {
            throw Failure(description: "\(file): about \(Int(work)) events at \(replications) replications, over the bound of \(Int(options.maxEvents)) (fewer --replications)")
        }
        let compiled = try CompiledModel(scenario.base)
        let results = try MonteCarlo.run(compiled, replications: 0..<replications, threads: options.threads)
        return results.map { r in side(r, horizonMs: horizonMs) }
    }

    /// One replication's measures: served requests per clock hour from the cumulative series
    /// (sampled every hour from time zero) and the run's totals.
    static func side(_ r: ReplicationResult, horizonMs: Int64) -> Side {
        var hourly: [Double] = []
        var previous: Int64 = 0
        for (t, served) in zip(r.sampleTimesMs, r.servedSeries) where t > 0 {
            hourly.append(Double(served - previous))
            previous = served
        }
        let total = r.totals.requestsServed + r.totals.requestsDegraded
        let hours = Int((horizonMs + 3_599_999) / 3_600_000)
        while hourly.count < hours { hourly.append(0) }
        hourly[hours - 1] += Double(total - previous)
        let classes = r.tokenClasses
        return Side(requests: Double(total), spendCredits: Double(r.totals.spendMicrocredits) / 1_000_000,
                    classSpendCredits: classes?.spendCredits,
                    cachedInputShare: classes?.cachedInputShare ?? 0, hourly: Array(hourly.prefix(hours)))
    }

    /// The price table of `options.pricesPath`, read as a scenario's `prices: { file: }` reads it;
    /// an unreadable or malformed table is an error naming the file (and its line and column).
    static func priceTable(_ options: Options) throws -> PriceTable {
        let path = absolute(options.pricesPath)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
              FileManager.default.isReadableFile(atPath: path) else {
            throw Failure(description: "\(options.pricesPath): cannot read the price table")
        }
        let yaml = "name: calibration-prices\nhorizon: 1h\ncredit: \(TraceFit.scalar(options.credit))\nprices: { file: \(TraceFit.scalar(path)) }\n"
            + "pools: [ { id: p, grants: [ { amount: 1 } ] } ]\nidentities: [ { id: i, pool: p } ]\n"
        do {
            return try Scenario.parse(yaml: yaml, file: "calibration-prices").base.prices
        } catch {
            throw Failure(description: describe(error, generated: "calibration-prices", as: options.pricesPath))
        }
    }

    /// Errors of a scenario this calibration wrote itself: one located in that text says only its
    /// message (its line and column are of no file the user has); one in a file it names (the
    /// export, the prices) keeps that file's location.
    static func describe(_ errors: ScenarioErrors, generated file: String, as name: String? = nil) -> String {
        errors.errors.map { e in
            e.file == file ? "\(name ?? file): \(e.message)" : e.description
        }.joined(separator: "\n")
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }
}
