/// The measuring kit of `burnrate bench`: release-mode micro-benchmarks, one line or one JSON
/// object per measured case.

/// What every benchmark is asked: how many repetitions (the fastest is kept) and which case.
public struct BenchSettings: Sendable {
    public var repeats: Int
    /// Run only the case with this name (nil: every case).
    public var only: String?

    public init(repeats: Int = 3, only: String? = nil) {
        self.repeats = repeats
        self.only = only
    }

    /// Whether a case is selected.
    public func selects(_ name: String) -> Bool { only.map { name == $0 } ?? true }
}

/// One measured case of a benchmark.
public struct BenchResult: Sendable {
    public let benchmark: String
    public let name: String
    public var operations: Int
    public let seconds: Double

    public init(benchmark: String, name: String, operations: Int, seconds: Double) {
        self.benchmark = benchmark
        self.name = name
        self.operations = operations
        self.seconds = seconds
    }

    public var opsPerSecond: Double { Double(operations) / seconds }

    public var json: String {
        "{\"benchmark\":\"\(benchmark)\",\"case\":\"\(name)\",\"ops_per_second\":\(Int(opsPerSecond.rounded())),"
            + "\"operations\":\(operations),\"seconds\":\(seconds)}"
    }

    public var line: String {
        let millions = (opsPerSecond / 1e6 * 100).rounded() / 100
        return "\(benchmark)  \(padded(name, 28)) \(millions) M/s"
    }
}

/// `text` left-aligned in a column of `width` characters.
public func padded(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

/// Runs `body` `repeats` times and keeps the fastest run: the least disturbed by the machine.
public func measure(_ benchmark: String, _ name: String, operations: Int, settings: BenchSettings, _ body: () -> Void) -> BenchResult? {
    guard settings.selects(name) else { return nil }
    let repeats = settings.repeats
    let clock = ContinuousClock()
    var best = Double.infinity
    for _ in 0..<repeats {
        let elapsed = clock.measure(body)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        best = min(best, seconds)
    }
    return BenchResult(benchmark: benchmark, name: name, operations: operations, seconds: best)
}

/// Keeps the optimiser from deleting a benchmark's work.
@inline(never)
public func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
