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
    /// The export's spender field and an Anthropic report's requests per bucket, as fitted.
    public var identityField: String? = nil
    public var requestsPerBucket: Int64? = nil
    public var spanMs: Int64
    /// The first request's time, and the window a replay of the same file covers: from its time
    /// zero (the first request, or an aggregated export's first bucket start) to one past its last
    /// request (or the last bucket's end). In the trace's own epoch (ms since 1970 for exports).
    public var firstMs: Int64 = 0
    public var replayOriginMs: Int64 = 0
    public var replayEndMs: Int64 = 0
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
        /// Input tokens of every class, and those the export records as cache reads, 5-minute
        /// and 1-hour cache writes (all 0 for a research trace, which records no split).
        /// Sums in `Double`: only their ratios are used, and no row's count can overflow them.
        public var inputTokensTotal: Double = 0
        public var cachedInputTokensTotal: Double = 0
        public var cacheWriteTokensTotal: Double = 0
        public var cacheWrite1hTokensTotal: Double = 0

        /// Cache reads over all input tokens (0 when the trace records none).
        public var cacheReadShare: Double {
            inputTokensTotal > 0 ? cachedInputTokensTotal / inputTokensTotal : 0
        }
        /// Cache writes of both retentions over all input tokens.
        public var cacheWriteShare: Double {
            inputTokensTotal > 0 ? (cacheWriteTokensTotal + cacheWrite1hTokensTotal) / inputTokensTotal : 0
        }
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
        try fit(paths: [path], format: format, reservoir: reservoir)
    }

    /// ``fit(path:format:reservoir:)`` of a trace or of a usage export: one file, or the pages of
    /// one export in order. `options.identityField` names the export's spender field (one
    /// workload per value); an Anthropic report needs `requestsPerBucket`. Rows an export marks
    /// as not successful count as ``failedSkipped``.
    public static func fit(paths: [String], format: TraceFormat, options: ExportOptions = ExportOptions(),
                           requestsPerBucket: Int64? = nil, reservoir: Int = 100_000) throws(TraceError) -> TraceFit {
        let reader = try FitRows(paths: paths, format: format, options: options, requestsPerBucket: requestsPerBucket)
        let path = paths[0]
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
        failed += reader.skippedNotSuccess
        guard whole.n >= 2 else {
            throw TraceError(path: reader.path, line: reader.lineNumber, column: nil, message: "at least two requests are needed to fit a workload")
        }
        let first = whole.first, last = whole.last
        var identities: [IdentityFit] = []
        if namesAnIdentity && !identityLimitExceeded {
            let order = perIdentity.indices.sorted { (-perIdentity[$0].n, $0) < (-perIdentity[$1].n, $1) }
            identities = order.map { IdentityFit(name: identityNames[$0], workload: perIdentity[$0].result(first: first, last: last)) }
        }
        return TraceFit(path: paths.joined(separator: " "), format: format, failedSkipped: failed,
                        identityField: options.identityField, requestsPerBucket: requestsPerBucket, spanMs: max(last - first, 1),
                        firstMs: first, replayOriginMs: min(first, reader.bucketsStartMs ?? first),
                        replayEndMs: max(last + 1, reader.bucketsEndMs ?? last + 1),
                        whole: whole.result(first: first, last: last), identities: identities,
                        identityLimitExceeded: identityLimitExceeded)
    }

    /// Every model name of the fit's workloads, sorted.
    public var modelNames: [String] {
        Set(whole.models.map(\.name) + identities.flatMap { $0.workload.models.map(\.name) }).sorted()
    }

    /// The fit with its model names mapped through `map` (names it omits kept): the model mixes
    /// of models mapped to one name are merged, most requests first (ties: by name) as fitted.
    public func renamingModels(_ map: [String: String]) -> TraceFit {
        guard !map.isEmpty else { return self }
        func renamed(_ w: WorkloadFit) -> WorkloadFit {
            var counts: [String: Int] = [:]
            for m in w.models { counts[map[m.name] ?? m.name, default: 0] += m.requests }
            var out = w
            out.models = counts.sorted { (-$0.value, $0.key) < (-$1.value, $1.key) }.map { (name: $0.key, requests: $0.value) }
            return out
        }
        var out = self
        out.whole = renamed(whole)
        out.identities = identities.map { IdentityFit(name: $0.name, workload: renamed($0.workload)) }
        return out
    }

    /// The running statistics of one workload's requests.
    struct Accumulator {
        let reservoir: Int
        let stream: RandomStream
        var n = 0
        var first: Int64 = .max, last: Int64 = .min, previous: Int64? = nil
        var gapCount = 0.0, gapMean = 0.0, gapM2 = 0.0, zeroGaps = 0
        /// Each gap's time in each hour of the day (ms): their sums and the sums of their pairwise
        /// products, so that the gaps' mean and variance in *operational time* (each hour's time
        /// weighted by its profile factor, known only at the end) are exact in one pass.
        var gapHourSums = [Double](repeating: 0, count: 24)
        var gapHourProducts = [Double](repeating: 0, count: 24 * 24)
        var hourCounts = [Double](repeating: 0, count: 24)
        var minuteCounts: [Int64: Int] = [:]
        var dayCounts: [Int64: Int] = [:]
        var inputs: [Double] = [], outputs: [Double] = []
        var modelIndex: [String: Int] = [:]
        var modelNames: [String] = []
        var modelCounts: [Int] = []
        var withoutModel = 0
        var modelLimitExceeded = false
        var inputTotal = 0.0, cachedTotal = 0.0, writeTotal = 0.0, write1hTotal = 0.0

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
                addOperationalGap(from: p, to: max(row.timeMs, p))
            }
            previous = row.timeMs
            let hour = Int(((row.timeMs / 3_600_000) % 24 + 24) % 24)
            hourCounts[hour] += 1
            minuteCounts[row.timeMs / 60_000, default: 0] += 1
            inputTotal += Double(row.inputTokens)
            cachedTotal += Double(row.cachedInputTokens)
            writeTotal += Double(row.cacheWriteTokens)
            write1hTotal += Double(row.cacheWrite1hTokens)
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

        /// Splits the gap [from, to) over the hours of the day it spans and adds it to the sums.
        /// - Complexity: O(hours spanned + 24²) for a gap over a day, O(1) within an hour.
        mutating func addOperationalGap(from: Int64, to: Int64) {
            var parts: [(hour: Int, ms: Double)] = []
            var t = from
            while t < to && parts.count < 24 {
                let hour = Int(((t / 3_600_000) % 24 + 24) % 24)
                let end = min(to, Self.floorDiv(t, 3_600_000) * 3_600_000 + 3_600_000)
                parts.append((hour, Double(end - t)))
                t = end
            }
            if t < to {
                // A gap of a day or more: every hour has its share; whole days add 1 h to each.
                let wholeDays = Double((to - t) / 86_400_000)
                var byHour = [Double](repeating: wholeDays * 3_600_000, count: 24)
                for p in parts { byHour[p.hour] += p.ms }
                t += Int64(wholeDays) * 86_400_000
                while t < to {
                    let hour = Int(((t / 3_600_000) % 24 + 24) % 24)
                    let end = min(to, Self.floorDiv(t, 3_600_000) * 3_600_000 + 3_600_000)
                    byHour[hour] += Double(end - t)
                    t = end
                }
                parts = byHour.enumerated().map { ($0.offset, $0.element) }
            } else {
                // Merge a gap that returns to an hour it started in (at most 24 parts).
                var merged: [(hour: Int, ms: Double)] = []
                for p in parts {
                    if let i = merged.firstIndex(where: { $0.hour == p.hour }) { merged[i].ms += p.ms } else { merged.append(p) }
                }
                parts = merged
            }
            for a in parts {
                gapHourSums[a.hour] += a.ms
                for b in parts { gapHourProducts[a.hour * 24 + b.hour] += a.ms * b.ms }
            }
        }

        /// The gaps' coefficient of variation in operational time: each gap measured as
        /// Σ_h factor_h × (its time in hour h). A Poisson process thinned through the profile has
        /// exponential gaps there (CV 1), whatever the profile; raw gaps would mix the slow hours'
        /// long gaps with the busy hours' short ones and look bursty (a CV of 2 and more for a
        /// business-hours profile). Nil without enough gaps.
        func operationalGapCV(_ factors: [Double]) -> Double? {
            guard gapCount > 1 else { return nil }
            var sum = 0.0, squares = 0.0
            for h in 0..<24 {
                sum += factors[h] * gapHourSums[h]
                for k in 0..<24 { squares += factors[h] * factors[k] * gapHourProducts[h * 24 + k] }
            }
            let mean = sum / gapCount
            guard mean > 0 else { return nil }
            let variance = max(0, (squares - gapCount * mean * mean) / (gapCount - 1))
            return variance.squareRoot() / mean
        }

        /// The fit, over the trace's window [first, last] (of the whole trace, not of this
        /// workload alone).
        func result(first: Int64, last: Int64) -> WorkloadFit {
            let span = max(last - first, 1)
            var profile: [Double]? = nil
            if span >= 86_400_000 {
                // Each hour of the day's rate: its requests over the time the window spends in
                // it (a 33-hour trace covers nine hours of the day twice), normalised to mean 1.
                var exposure = [Double](repeating: 0, count: 24)
                var t = first
                while t < last {
                    let end = min(last, Self.floorDiv(t, 3_600_000) * 3_600_000 + 3_600_000)
                    exposure[Int(((t / 3_600_000) % 24 + 24) % 24)] += Double(end - t)
                    t = end
                }
                let rates = (0..<24).map { exposure[$0] > 0 ? hourCounts[$0] / exposure[$0] : 0 }
                let mean = rates.reduce(0, +) / 24
                profile = rates.map { mean > 0 ? $0 / mean : 1 }
            }
            // With an hourly profile, the burstiness is measured in the profile's operational
            // time, which is what a scenario's `renewal` under that `profile:` draws its gaps in.
            var cv = (profile.flatMap { operationalGapCV($0) })
                ?? (gapCount > 1 ? (gapM2 / (gapCount - 1)).squareRoot() / max(gapMean, 1e-9) : 1)
            var fromCounts = false
            if gapCount > 0 && Double(zeroGaps) > 0.5 * gapCount {
                // Quantised arrivals (e.g. Mooncake's 3 s ticks): the gaps say nothing below the
                // tick. For a renewal process the index of dispersion of counts tends to the
                // gaps' CV², so estimate the CV from counts per minute instead: against each
                // minute's expected count under the profile when there is one (Σ(c − m)² / Σm).
                let perMinute = Double(n) / (Double(span) / 60_000)
                var squares = 0.0, expected = 0.0
                for m in (first / 60_000)...(last / 60_000) {
                    let hour = Int(((m / 60) % 24 + 24) % 24)
                    let mean = perMinute * (profile?[hour] ?? 1)
                    let c = Double(minuteCounts[m] ?? 0)
                    squares += (c - mean) * (c - mean)
                    expected += mean
                }
                if expected > 0 { cv = (squares / expected).squareRoot() }
                fromCounts = true
            }
            let models = modelNames.indices.sorted { (-modelCounts[$0], modelNames[$0]) < (-modelCounts[$1], modelNames[$1]) }
                .map { (name: modelNames[$0], requests: modelCounts[$0]) }
            var weekCounts: [Int64: Int] = [:]
            for (day, count) in dayCounts { weekCounts[Self.floorDiv(day, 7), default: 0] += count }
            return WorkloadFit(requests: n, ratePerHour: Double(n) / Double(span) * 3_600_000, gapCV: cv, gapCVFromCounts: fromCounts,
                               hourlyProfile: profile, input: TraceFit.fitTokens(inputs), output: TraceFit.fitTokens(outputs),
                               models: models, requestsWithoutModel: withoutModel, modelLimitExceeded: modelLimitExceeded,
                               daily: .of(dayCounts, first: first, last: last, periodMs: 86_400_000, minimum: CountDispersion.minimumDays),
                               weekly: .of(weekCounts, first: first, last: last, periodMs: 7 * 86_400_000, minimum: CountDispersion.minimumWeeks),
                               inputTokensTotal: inputTotal, cachedInputTokensTotal: cachedTotal,
                               cacheWriteTokensTotal: writeTotal, cacheWrite1hTokensTotal: write1hTotal)
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
