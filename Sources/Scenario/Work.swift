import Ledger
import Simulation
import Yams

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How much work a scenario asks for, estimated from its model before anything runs.
///
/// A scenario comes from a pull request: `rate: 1e9/s`, `sample_every: 1ms`, `period: 1ms` or
/// `replications: 1000000000` each ask for hours of CPU or gigabytes. The estimate counts the
/// simulator's events (expected arrivals with growth, refills, samples, runaway loops) per
/// replication; a run is refused when events × replications × variants exceed a limit that
/// `--max-events` raises. The count is an expectation, not a bound: retries and a Markov burst
/// state can add to it, which is why the default limit leaves a margin.
public struct WorkEstimate: Sendable, Hashable {
    /// One part of the work, located at the scenario's text that asks for it.
    public struct Part: Sendable, Hashable {
        public var what: String
        public var eventsPerReplication: Double
        public var line: Int
        public var column: Int
    }

    public var parts: [Part] = []

    public var eventsPerReplication: Double { parts.reduce(0) { $0 + $1.eventsPerReplication } }

    /// The default limit of `--max-events`. The contract's quickstart (200 replications of three
    /// variants) estimates 2.3e9 events, so the limit is four times that: minutes of CPU at the
    /// engine's 10–20 M events/s a core, not hours.
    public static let defaultMaxEvents: Double = 1e10

    /// Replications a run may ask for: each keeps its record (metrics and balance series) until
    /// the summary, and at 100,000 a 95% interval on a proportion is ±0.3% already.
    public static let maxReplications = 100_000
}

extension Scenario {
    /// The events all replications of all variants would process.
    public func estimatedEvents(replications: Int) -> Double {
        work.reduce(0) { $0 + $1.eventsPerReplication } * Double(replications)
    }

    /// A located error when running `replications` would process more than `maxEvents` events,
    /// saying how many and what asks for most of them; nil when the run is within the limit.
    /// `runs` counts how many times a command simulates each variant (`procure` runs each twice:
    /// as written and with the pools' credit limits lifted).
    public func workProblem(replications: Int, maxEvents: Double, runs: Int = 1) -> ScenarioError? {
        if replications > WorkEstimate.maxReplications {
            return ScenarioError(file: file, line: replicationsLine ?? 1, column: replicationsColumn ?? 1,
                                 message: "\(replications) replications asked for; at most \(WorkEstimate.maxReplications), as each is kept in memory until the summary")
        }
        let total = estimatedEvents(replications: replications) * Double(max(1, runs))
        guard !(total <= maxEvents) else { return nil }
        let parts = work.flatMap(\.parts)
        let largest = parts.max { $0.eventsPerReplication < $1.eventsPerReplication }
        let perReplication = work.map(\.eventsPerReplication).max() ?? 0
        var message = "this scenario would simulate about \(Self.magnitude(total)) events "
            + "(\(Self.magnitude(perReplication)) per replication × \(replications) replication(s)"
            + (work.count > 1 ? " × \(work.count) variants" : "") + (runs > 1 ? " × \(runs) runs of each" : "")
            + "), beyond the limit of \(Self.magnitude(maxEvents))"
        if let largest { message += "; most of them from \(largest.what) (\(Self.magnitude(largest.eventsPerReplication)) per replication)" }
        message += ". Lower it, or raise the limit with --max-events"
        // Located at what asks for most: the replications when one replication is small.
        if let largest, perReplication * 1_000 > maxEvents || replicationsLine == nil {
            return ScenarioError(file: file, line: largest.line, column: largest.column, message: message)
        }
        return ScenarioError(file: file, line: replicationsLine ?? 1, column: replicationsColumn ?? 1, message: message)
    }

    static func magnitude(_ x: Double) -> String {
        guard x.isFinite else { return "infinitely many" }
        if x < 1e4 { return String(Int(x.rounded())) }
        let exponent = floor(log10(x))
        let mantissa = (x / pow(10, exponent) * 10).rounded() / 10
        return "\(mantissa)e\(Int(exponent))"
    }
}

extension ModelBuilder {
    /// The work of `model`; `workloadNodes[i]` is where workload i is written, `poolNodes[p]`
    /// where pool p is, `sampleNode` the `sample_every` value.
    func estimate(_ model: SimulationModel, workloadNodes: [Node], poolNodes: [Node], sampleNode: Node?) -> WorkEstimate {
        var work = WorkEstimate()
        let horizonMs = Double(model.horizonMs)
        let hours = horizonMs / 3_600_000
        func part(_ what: String, _ events: Double, _ node: Node?) {
            let mark = node?.mark
            work.parts.append(.init(what: what, eventsPerReplication: events.isNaN ? .infinity : events,
                                    line: mark?.line ?? 1, column: mark?.column ?? 1))
        }
        for (i, w) in model.workloads.enumerated() {
            let start = Double(max(0, w.startMs))
            let stop = min(horizonMs, w.stopMs.map(Double.init) ?? horizonMs)
            let activeHours = max(0, stop - start) / 3_600_000
            var events: Double
            switch w.arrivals {
            case .poisson(let rate, _, let growth), .renewal(let rate, _, _, let growth):
                events = rate * Self.meanGrowth(growth, from: start, to: stop) * activeHours
            case .markovModulated(let rates, _):
                events = (rates.max() ?? 0) * activeHours
            case .periodic(let interval):
                events = max(0, stop - start) / Double(max(1, interval))
            case .replay(let source):
                events = source.loop || source.blockMs != nil
                    ? source.trace.ratePerHour / source.timeScale * hours : Double(source.trace.count)
            }
            if let chain = w.agents {
                // A task is its own request, plus each sub-agent's delegation and requests and the
                // close of each root delegation: ledger commands run at the task's instant.
                events *= Double(1 + chain.agentsPerTask * (1 + chain.requests) + chain.children)
            }
            part("the workload of '\(w.name)'", events, i < workloadNodes.count ? workloadNodes[i] : nil)
        }
        for (p, pool) in model.pools.enumerated() {
            let node = p < poolNodes.count ? poolNodes[p] : nil
            let periods = horizonMs / Double(max(1, pool.spec.periodMs))
            part("the period of pool '\(pool.spec.name)'", periods, node?.mapping?["period"] ?? node)
            part("the grants of pool '\(pool.spec.name)'", Double(pool.grants.count), node)
        }
        let samples = model.sampleEveryMs > 0 ? horizonMs / Double(model.sampleEveryMs) * Double(max(1, model.pools.count)) : 0
        part("sample_every", samples, sampleNode)
        return work
    }

    /// The mean of the growth factor (1 + g)^(t / 1 day) over [from, to) ms: the integral of an
    /// exponential, (e^(b·to) − e^(b·from)) / (b · (to − from)) with b = ln(1 + g) per ms.
    static func meanGrowth(_ growthPerDay: Double, from: Double, to: Double) -> Double {
        guard growthPerDay != 0, to > from else { return 1 }
        let b = log(1 + growthPerDay) / 86_400_000
        return (exp(b * to) - exp(b * from)) / (b * (to - from))
    }
}
