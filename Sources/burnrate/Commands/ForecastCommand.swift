import ArgumentParser
import Foundation
import Ledger
import LedgerStore
import Reports

/// `burnrate forecast`: when does a live pool run dry? The logic is `Reports.Forecast`.
struct ForecastCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forecast",
        abstract: "When a live pool runs dry: fit each identity's demand from the journal and simulate the ledger forward.",
        discussion: """
            Fits each identity's spend on each pool over the --window before --as-of (default: the \
            time of the journal's last command) as a Poisson workload whose request amounts are \
            resampled from the amounts it spent, then runs the ledger forward from its state at that \
            time (balances, grants and their expiry, holds, policies, entitlements) with the \
            simulator, --replications times. Prints when the pool runs dry (P10, P50, P90) and what \
            it spends; --json prints DESIGN.md's JSON; --chart writes the balance fan as SVG. \
            Exit 0, or 2 on bad input.
            """)

    @OptionGroup var database: DatabaseOption
    @Option(name: .long, help: "The pool.") var pool: String
    @Option(name: .long, help: "How far ahead (a duration such as 90d).") var horizon = "90d"
    @Option(name: .long, help: "The history the demand is fitted on, before --as-of (a duration).") var window = "28d"
    @Option(name: .customLong("as-of"), help: "Forecast from this time (ISO 8601 UTC, e.g. 2026-03-16T00:00:00Z; default: the journal's last command).")
    var asOf: String?
    @Option(name: .long, help: "Replications of the forward run.") var replications = 200
    @Option(name: .long, help: "Seed of the forward run.") var seed: UInt64 = 1
    @Option(name: .long, help: "Worker threads (default: all cores).") var threads: Int?
    @Option(name: .long, help: "Write the fan chart of the available balance ahead (SVG) here.") var chart: String?
    @Flag(name: .long, help: "Print JSON.") var json = false

    func validate() throws {
        guard (1...100_000).contains(replications) else { throw ValidationError("--replications must be 1–100000") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() async throws {
        var options = Forecast.Options(pool: pool)
        guard let h = Millis.parse(horizon), h > 0 else { throw ValidationError("--horizon: expected a positive duration such as 90d, got '\(horizon)'") }
        guard let w = Millis.parse(window), w > 0 else { throw ValidationError("--window: expected a positive duration such as 28d, got '\(window)'") }
        options.horizonMs = h
        options.windowMs = w
        if let asOf {
            guard let t = Timestamp.parse(asOf) else { throw ValidationError("--as-of: expected an ISO 8601 UTC time such as 2026-03-16T00:00:00Z, got '\(asOf)'") }
            options.asOfMs = t
        }
        options.replications = replications
        options.seed = seed
        options.threads = threads
        let store = try await database.open(readOnly: true, create: false)
        let result: Forecast.Result
        do {
            result = try Forecast.run(records: try await store.journalRecords(), config: await store.state.config, options: options)
        } catch {
            writeStandardError("error: \(database.location): \(error)\n")
            throw ExitCode(2)
        }
        if let chart {
            do { try result.fanChart.write(toFile: chart, atomically: true, encoding: .utf8) } catch {
                writeStandardError("error: \(chart): cannot write the chart (\(error.localizedDescription))\n")
                throw ExitCode(2)
            }
        }
        print(json ? result.json : result.text, terminator: json ? "\n" : "")
        try finishOutput()
    }
}
