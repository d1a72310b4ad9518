import ArgumentParser
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

    /// Whether a case is selected by `--case`.
    func selects(_ name: String) -> Bool {
        only.map { name == $0 } ?? true
    }

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
    }
}

/// One measured case of a benchmark.
struct BenchResult {
    let benchmark: String
    let name: String
    var operations: Int
    let seconds: Double

    var opsPerSecond: Double { Double(operations) / seconds }

    var json: String {
        "{\"benchmark\":\"\(benchmark)\",\"case\":\"\(name)\",\"ops_per_second\":\(Int(opsPerSecond.rounded())),"
            + "\"operations\":\(operations),\"seconds\":\(seconds)}"
    }

    var line: String {
        let millions = (opsPerSecond / 1e6 * 100).rounded() / 100
        return "\(benchmark)  \(padded(name, 28)) \(millions) M/s"
    }
}

/// `text` left-aligned in a column of `width` characters.
func padded(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

/// Runs `body` `repeats` times and keeps the fastest run: the least disturbed by the machine.
func measure(_ benchmark: String, _ name: String, operations: Int, options: BenchOptions, _ body: () -> Void) -> BenchResult? {
    guard options.selects(name) else { return nil }
    let repeats = options.repeats
    let clock = ContinuousClock()
    var best = Double.infinity
    for _ in 0..<repeats {
        let elapsed = clock.measure(body)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        best = min(best, seconds)
    }
    return BenchResult(benchmark: benchmark, name: name, operations: operations, seconds: best)
}

func report(_ results: [BenchResult?], json: Bool) {
    for case let r? in results { print(json ? r.json : r.line) }
}

/// Keeps the optimiser from deleting a benchmark's work.
@inline(never)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
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
        let gen = generator
        let stream = RandomStream(seed: 42, replication: 0, name: "bench", generator: gen)
        let lognormal = try LogNormal(median: 800, sigma: 1.1)
        let poisson = try Poisson(mean: 12)
        let categorical = try Categorical(weights: [0.55, 0.3, 0.1, 0.05])
        let exponential = try Exponential(rate: 3)
        let n = draws
        var results = [BenchResult?]()
        results.append(measure("rng", "uniform", operations: n, options: options) {
            var s = 0.0
            for _ in 0..<n { s += stream.uniform() }
            blackHole(s)
        })
        results.append(measure("rng", "lognormal", operations: n, options: options) {
            var s = 0.0
            for _ in 0..<n { s += lognormal.sample(stream) }
            blackHole(s)
        })
        results.append(measure("rng", "poisson", operations: n, options: options) {
            var s = 0
            for _ in 0..<n { s &+= poisson.sample(stream) }
            blackHole(s)
        })
        results.append(measure("rng", "categorical", operations: n, options: options) {
            var s = 0
            for _ in 0..<n { s &+= categorical.sample(stream) }
            blackHole(s)
        })
        results.append(measure("rng", "exponential", operations: n, options: options) {
            var s = 0.0
            for _ in 0..<n { s += exponential.sample(stream) }
            blackHole(s)
        })
        report(results, json: options.json)
    }
}

extension Generator: ExpressibleByArgument {}
