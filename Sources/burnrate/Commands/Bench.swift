import ArgumentParser
import Benchmarks
import Stochastic

/// `burnrate bench NAME`: release-mode micro-benchmarks. Each prints one line per measured case,
/// or with `--json` one JSON object per case:
/// `{"benchmark":"rng","case":"lognormal","ops_per_second":...}`.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure throughput of Burnrate's building blocks (build with -c release).",
        discussion: """
            Figures from a debug build are meaningless; run \
            `swift run -c release burnrate bench rng`.
            """,
        subcommands: [BenchRNG.self, BenchLedger.self, BenchSim.self, BenchStore.self]
    )
}

/// Options shared by every `bench` case.
struct BenchOptions: ParsableArguments {
    @Flag(name: .long, help: "Print one JSON object per measured case instead of a table.")
    var json = false

    @Option(name: .long, help: "Repetitions of each case; the best (fastest) is reported.")
    var repeats: Int = 3

    @Option(name: .customLong("case"), help: "Run only the case with this name.")
    var only: String?

    var settings: BenchSettings { BenchSettings(repeats: repeats, only: only) }

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
    }
}

/// Prints what a benchmark measured.
func report(_ results: [BenchResult], json: Bool) {
    for r in results { print(json ? r.json : r.line) }
}

struct BenchRNG: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rng",
        abstract: "Draws per second of the random streams on one core."
    )

    @OptionGroup var options: BenchOptions

    @Option(name: .long, help: "Draws per case.")
    var draws: Int = 20_000_000

    @Option(name: .long, help: "Generator.")
    var generator: Generator = .taus2

    func validate() throws {
        guard draws > 0 else { throw ValidationError("--draws must be positive") }
    }

    func run() throws {
        report(try RNGBenchmarks.run(draws: draws, generator: generator, settings: options.settings), json: options.json)
    }
}

extension Generator: ExpressibleByArgument {}
