import Stochastic

/// `bench rng`: draws per second of the random streams on one core.
public enum RNGBenchmarks {
    public static func run(draws: Int, generator gen: Generator, settings: BenchSettings) throws -> [BenchResult] {
        let stream = RandomStream(seed: 42, replication: 0, name: "bench", generator: gen)
        let lognormal = try LogNormal(median: 800, sigma: 1.1)
        let poisson = try Poisson(mean: 12)
        let categorical = try Categorical(weights: [0.55, 0.3, 0.1, 0.05])
        let exponential = try Exponential(rate: 3)
        let n = draws
        var results = [BenchResult?]()
        results.append(measure("rng", "uniform", operations: n, settings: settings) {
            var s = 0.0
            for _ in 0..<n { s += stream.uniform() }
            blackHole(s)
        })
        results.append(measure("rng", "lognormal", operations: n, settings: settings) {
            var s = 0.0
            for _ in 0..<n { s += lognormal.sample(stream) }
            blackHole(s)
        })
        results.append(measure("rng", "poisson", operations: n, settings: settings) {
            var s = 0
            for _ in 0..<n { s &+= poisson.sample(stream) }
            blackHole(s)
        })
        results.append(measure("rng", "categorical", operations: n, settings: settings) {
            var s = 0
            for _ in 0..<n { s &+= categorical.sample(stream) }
            blackHole(s)
        })
        results.append(measure("rng", "exponential", operations: n, settings: settings) {
            var s = 0.0
            for _ in 0..<n { s += exponential.sample(stream) }
            blackHole(s)
        })
        return results.compactMap { $0 }
    }
}
