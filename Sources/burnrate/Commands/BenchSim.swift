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
            same trace's rows parsed per second (a replay holds the parsed trace in memory).
            """
    )

    @OptionGroup var options: BenchOptions

    @Option(name: .long, help: "Hours simulated by case a (default 480).")
    var hours: Int64 = 480

    @Option(name: .long, help: "Azure conversation trace for case c.")
    var trace: String = "../shared/data/traces/azure_conv_sample.csv"

    func run() throws {
        report(try SimulationBenchmarks.run(hours: hours, trace: trace, settings: options.settings), json: options.json)
    }
}
