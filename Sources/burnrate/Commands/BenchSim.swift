import ArgumentParser
import Benchmarks

/// `burnrate bench sim`: kernel events per second on one core for three reference models.
struct BenchSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Simulation events per second on one core (every request goes through the ledger).",
        discussion: """
            a-poisson: 10 pools with one identity each, Poisson arrivals at 3,600/h per identity, \
            lognormal input and output tokens priced per model, hard stop, 480 h (≈17 M requests).
            b-holds: 100 identities over 10 pools, holds with lognormal latency, retries with \
            backoff, a degrade policy, 30 days.
            c-replay: the Azure conversation sample looped to one million requests; c-parse: the \
            same trace's rows parsed per second (a replay holds the parsed trace in memory). \
            d-realistic: 10 department pools (expiring paid and promotional grants, alerts, degrade \
            then hard stop), 50 identities with daily caps and rate caps, renewal arrivals of cv 2 \
            through business hours with growth, two models, lognormal tokens and latency, holds \
            reserving 1,000 output tokens, retries with backoff; --hours as case a. Cases a and d \
            are also given in requests per second.
            """
    )

    @OptionGroup var options: BenchOptions

    @Option(name: .long, help: "Hours simulated by cases a and d (default 480).")
    var hours: Int64 = 480

    @Option(name: .long, help: "Azure conversation trace for case c.")
    var trace: String = "../shared/data/traces/azure_conv_sample.csv"

    func run() throws {
        report(try SimulationBenchmarks.run(hours: hours, trace: trace, settings: options.settings), json: options.json)
    }
}
