import Stochastic

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `burnrate fit` learns from a trace: synthetic workloads that a scenario can paste in.
///
/// A trace without identities gives one workload (``whole``). A trace that names identities
/// (the `generic` layout) gives one workload per identity as well (``identities``), each with its
/// own rate, burstiness, hourly profile, model mix and token laws. A trace that names models
/// gives each workload a model mix: the share of its requests at each model.
public struct TraceFit: Sendable {
    public var path: String
    public var format: TraceFormat
    public var failedSkipped: Int
    public var spanMs: Int64
    /// The whole trace as one workload.
    public var whole: WorkloadFit
    /// One workload per identity of the trace, most requests first (ties: first seen first);
    /// empty when the trace names none, or more than ``maxIdentities``.
    public var identities: [IdentityFit]
    /// The trace names more than ``maxIdentities`` identities: only ``whole`` is fitted.
    public var identityLimitExceeded: Bool

    /// Beyond this many identities a trace is fitted as one workload: each identity keeps a
    /// reservoir of token counts, so memory grows with them, and a scenario of hundreds of
    /// fitted identities is better written as a replay with an `identities:` mapping.
    public static let maxIdentities = 64
    /// Beyond this many distinct model names a workload gets no model mix (a price table of
    /// that many models is not one a user writes by hand).
    public static let maxModels = 100

    public var requests: Int { whole.requests }
    public var ratePerHour: Double { whole.ratePerHour }
    public var gapCV: Double { whole.gapCV }
    public var gapCVFromCounts: Bool { whole.gapCVFromCounts }
    public var hourlyProfile: [Double]? { whole.hourlyProfile }
    public var input: TokenFit { whole.input }
    public var output: TokenFit { whole.output }

    /// A fitted workload: arrivals, model mix and token laws.
    public struct WorkloadFit: Sendable {
        public var requests: Int
        /// Requests per hour over the whole trace's span (not this workload's own first to last
        /// request: a replay and a fitted workload both run over the trace's window).
        public var ratePerHour: Double
        /// Coefficient of variation of inter-arrival gaps (from gaps, or from counts per minute
        /// when arrivals are quantised).
        public var gapCV: Double
        public var gapCVFromCounts: Bool
        /// 24 hourly factors (mean 1) when the trace covers at least a day, else nil.
        public var hourlyProfile: [Double]?
        public var input: TokenFit
        public var output: TokenFit
        /// Requests per model name as the trace writes it, most first (ties: by name); empty
        /// when no request names a model or there are more than ``TraceFit/maxModels``.
        public var models: [(name: String, requests: Int)]
        /// Requests that name no model (the mix is of the others).
        public var requestsWithoutModel: Int
        public var modelLimitExceeded: Bool
        /// Over-dispersion of daily counts beyond Poisson, over the trace's full days (nil below
        /// ``CountDispersion/minimumDays``), and of weekly counts (nil below
        /// ``CountDispersion/minimumWeeks`` full weeks).
        public var daily: CountDispersion? = nil
        public var weekly: CountDispersion? = nil
    }

    /// How much a workload's counts per period vary beyond Poisson noise (DESIGN.md, "Demand
    /// uncertainty"). For counts of a Poisson process whose rate is multiplied by a random M of
    /// mean 1 and coefficient of variation c, the variance is m + m²c²; so c is estimated by the
    /// method of moments as √max(0, (s² − m) / m²), s² the counts' sample variance, m their mean.
    public struct CountDispersion: Sendable, Equatable {
        /// The period counted: 24 (days) or 168 (weeks) hours.
        public var periodHours: Int
        /// Full periods of the trace counted (a period with no request counts, as zero).
        public var periods: Int
        public var mean: Double
        public var variance: Double
        /// s² / m: 1 for Poisson counts.
        public var indexOfDispersion: Double { mean > 0 ? variance / mean : 0 }
        /// The CV of a rate multiplier that explains the excess variance (0 when there is none).
        public var rateCV: Double { mean > 0 ? (max(0, variance - mean) / (mean * mean)).squareRoot() : 0 }

        public static let minimumDays = 7, minimumWeeks = 4

        /// The dispersion of counts per period of `periodMs` over the full periods within
        /// [first, last]; nil when fewer than `minimum` full periods fit.
        static func of(_ counts: [Int64: Int], first: Int64, last: Int64, periodMs: Int64, minimum: Int) -> CountDispersion? {
            // Period k covers [k·P, (k+1)·P); it is full when first ≤ k·P and (k+1)·P − 1 ≤ last.
            let from = first >= 0 ? (first + periodMs - 1) / periodMs : -((-first) / periodMs)
            let to = (last + 1 >= 0 ? (last + 1) / periodMs : -((-(last + 1) + periodMs - 1) / periodMs)) - 1
            guard to >= from, to - from + 1 >= Int64(minimum) else { return nil }
            let values = (from...to).map { Double(counts[$0] ?? 0) }
            return CountDispersion(periodHours: Int(periodMs / 3_600_000), periods: values.count,
                                   mean: Statistics.mean(values), variance: Statistics.variance(values))
        }
    }

    /// One identity's workload; `name` is nil for the requests that name no identity.
    public struct IdentityFit: Sendable {
        public var name: String?
        public var workload: WorkloadFit
    }

    /// A fitted token-count law, with both candidates' goodness of fit.
    public struct TokenFit: Sendable {
        public var samples: Int
        public var zeros: Int
        public var lognormal: LogNormal?
        public var lognormalKS: Double
        public var gamma: Gamma?
        public var gammaKS: Double
        public var mean: Double
        public var bestIsLognormal: Bool { lognormalKS <= gammaKS }
    }

    /// Reads the trace once: counts and moments stream; token counts are kept in a reservoir of
    /// at most `reservoir` values for the whole trace and `reservoir / 8` per identity (uniform
    /// samples, fixed seeds) for the maximum-likelihood fits. Memory is bounded by the
    /// reservoirs, the minutes the trace spans, and at most ``maxIdentities`` identities.
    public static func fit(path: String, format: TraceFormat, reservoir: Int = 100_000) throws(TraceError) -> TraceFit {
        let reader = try TraceReader(path: path, format: format)
        var whole = Accumulator(reservoir: reservoir, stream: RandomStream(seed: 0, replication: 0, name: "fit/reservoir"))
        var perIdentity: [Accumulator] = []
        var identityNames: [String?] = []
        var identityIndex: [String: Int] = [:]
        var namesAnIdentity = false
        var identityLimitExceeded = false
        var failed = 0
        while let row = try reader.next() {
            if row.failed { failed += 1; continue }
            whole.add(row)
            guard let who = row.identity, !identityLimitExceeded else { continue }
            if !who.isEmpty { namesAnIdentity = true }
            let index: Int
            if let i = identityIndex[who] { index = i } else {
                guard perIdentity.count < maxIdentities else {
                    identityLimitExceeded = true
                    perIdentity = []
                    continue
                }
                index = perIdentity.count
                identityIndex[who] = index
                identityNames.append(who.isEmpty ? nil : who)
                perIdentity.append(Accumulator(reservoir: max(1, reservoir / 8),
                                               stream: RandomStream(seed: 0, replication: 0, name: "fit/reservoir/identity/\(index)")))
            }
            perIdentity[index].add(row)
        }
        guard whole.n >= 2 else {
            throw TraceError(path: path, line: reader.lineNumber, column: nil, message: "at least two requests are needed to fit a workload")
        }
        let first = whole.first, last = whole.last
        var identities: [IdentityFit] = []
        if namesAnIdentity && !identityLimitExceeded {
            let order = perIdentity.indices.sorted { (-perIdentity[$0].n, $0) < (-perIdentity[$1].n, $1) }
            identities = order.map { IdentityFit(name: identityNames[$0], workload: perIdentity[$0].result(first: first, last: last)) }
        }
        return TraceFit(path: path, format: format, failedSkipped: failed, spanMs: max(last - first, 1),
                        whole: whole.result(first: first, last: last), identities: identities,
                        identityLimitExceeded: identityLimitExceeded)
    }

    /// The running statistics of one workload's requests.
    struct Accumulator {
        let reservoir: Int
        let stream: RandomStream
        var n = 0
        var first: Int64 = .max, last: Int64 = .min, previous: Int64? = nil
        var gapCount = 0.0, gapMean = 0.0, gapM2 = 0.0, zeroGaps = 0
        var hourCounts = [Double](repeating: 0, count: 24)
        var minuteCounts: [Int64: Int] = [:]
        var dayCounts: [Int64: Int] = [:]
        var inputs: [Double] = [], outputs: [Double] = []
        var modelIndex: [String: Int] = [:]
        var modelNames: [String] = []
        var modelCounts: [Int] = []
        var withoutModel = 0
        var modelLimitExceeded = false

        init(reservoir: Int, stream: RandomStream) {
            self.reservoir = reservoir
            self.stream = stream
        }

        mutating func add(_ row: TraceRow) {
            n += 1
            first = min(first, row.timeMs)
            last = max(last, row.timeMs)
            if let p = previous {
                let gap = Double(max(row.timeMs - p, 0))
                if gap == 0 { zeroGaps += 1 }
                gapCount += 1
                let delta = gap - gapMean
                gapMean += delta / gapCount
                gapM2 += delta * (gap - gapMean)
            }
            previous = row.timeMs
            let hour = Int(((row.timeMs / 3_600_000) % 24 + 24) % 24)
            hourCounts[hour] += 1
            minuteCounts[row.timeMs / 60_000, default: 0] += 1
            dayCounts[Self.floorDiv(row.timeMs, 86_400_000), default: 0] += 1
            // Reservoir sampling (Vitter's algorithm R) of (input, output) pairs.
            let pair = (Double(row.inputTokens), Double(row.outputTokens))
            if inputs.count < reservoir {
                inputs.append(pair.0); outputs.append(pair.1)
            } else {
                let j = stream.uniformInt(below: n)
                if j < reservoir { inputs[j] = pair.0; outputs[j] = pair.1 }
            }
            if let model = row.model, !model.isEmpty {
                guard !modelLimitExceeded else { return }
                if let i = modelIndex[model] { modelCounts[i] += 1 } else if modelNames.count < TraceFit.maxModels {
                    modelIndex[model] = modelNames.count
                    modelNames.append(model)
                    modelCounts.append(1)
                } else {
                    modelLimitExceeded = true
                    modelIndex = [:]; modelNames = []; modelCounts = []
                }
            } else {
                withoutModel += 1
            }
        }

        /// The fit, over the trace's window [first, last] (of the whole trace, not of this
        /// workload alone).
        func result(first: Int64, last: Int64) -> WorkloadFit {
            let span = max(last - first, 1)
            var cv = gapCount > 1 ? (gapM2 / (gapCount - 1)).squareRoot() / max(gapMean, 1e-9) : 1
            var fromCounts = false
            if gapCount > 0 && Double(zeroGaps) > 0.5 * gapCount {
                // Quantised arrivals (e.g. Mooncake's 3 s ticks): the gaps say nothing below the
                // tick. For a renewal process the index of dispersion of counts tends to the
                // gaps' CV², so estimate the CV from counts per minute instead.
                var counts: [Double] = []
                for m in (first / 60_000)...(last / 60_000) { counts.append(Double(minuteCounts[m] ?? 0)) }
                let mean = Statistics.mean(counts)
                if mean > 0 { cv = (Statistics.variance(counts) / mean).squareRoot() }
                fromCounts = true
            }
            var profile: [Double]? = nil
            if span >= 86_400_000 {
                let mean = hourCounts.reduce(0, +) / 24
                profile = hourCounts.map { mean > 0 ? $0 / mean : 1 }
            }
            let models = modelNames.indices.sorted { (-modelCounts[$0], modelNames[$0]) < (-modelCounts[$1], modelNames[$1]) }
                .map { (name: modelNames[$0], requests: modelCounts[$0]) }
            var weekCounts: [Int64: Int] = [:]
            for (day, count) in dayCounts { weekCounts[Self.floorDiv(day, 7), default: 0] += count }
            return WorkloadFit(requests: n, ratePerHour: Double(n) / Double(span) * 3_600_000, gapCV: cv, gapCVFromCounts: fromCounts,
                               hourlyProfile: profile, input: TraceFit.fitTokens(inputs), output: TraceFit.fitTokens(outputs),
                               models: models, requestsWithoutModel: withoutModel, modelLimitExceeded: modelLimitExceeded,
                               daily: .of(dayCounts, first: first, last: last, periodMs: 86_400_000, minimum: CountDispersion.minimumDays),
                               weekly: .of(weekCounts, first: first, last: last, periodMs: 7 * 86_400_000, minimum: CountDispersion.minimumWeeks))
        }

        /// ⌊a / b⌋ for b > 0, also for negative a (times before the epoch).
        static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }
    }

    static func fitTokens(_ values: [Double]) -> TokenFit {
        let positive = values.filter { $0 > 0 }
        let zeros = values.count - positive.count
        let sorted = positive.sorted()
        let ln = try? LogNormal.fit(positive)
        let g = try? Gamma.fit(positive)
        let lnKS = ln.map { d in Statistics.kolmogorovSmirnov(sorted: sorted) { Distributions.lognormalCDF($0, mu: d.mu, sigma: d.sigma) } } ?? 1
        let gKS = g.map { d in Statistics.kolmogorovSmirnov(sorted: sorted) { Distributions.gammaCDF($0, shape: d.shape, scale: d.scale) } } ?? 1
        return TokenFit(samples: values.count, zeros: zeros, lognormal: ln, lognormalKS: lnKS, gamma: g, gammaKS: gKS,
                        mean: values.isEmpty ? 0 : Statistics.mean(values))
    }
}
