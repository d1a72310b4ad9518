import Stochastic

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `burnrate fit` learns from a trace: a synthetic workload that a scenario can paste in.
public struct TraceFit: Sendable {
    public var path: String
    public var format: TraceFormat
    public var requests: Int
    public var failedSkipped: Int
    public var spanMs: Int64
    public var ratePerHour: Double
    /// Coefficient of variation of inter-arrival gaps (from gaps, or from counts per window when
    /// arrivals are quantised).
    public var gapCV: Double
    public var gapCVFromCounts: Bool
    /// 24 hourly factors (mean 1) when the trace covers at least a day, else nil.
    public var hourlyProfile: [Double]?
    public var input: TokenFit
    public var output: TokenFit

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

    /// Reads the trace once, in constant memory: counts and moments stream; token counts are
    /// kept in a reservoir of at most `reservoir` values (a uniform sample, fixed seed) for the
    /// maximum-likelihood fits.
    public static func fit(path: String, format: TraceFormat, reservoir: Int = 100_000) throws(TraceError) -> TraceFit {
        let reader = try TraceReader(path: path, format: format)
        let stream = RandomStream(seed: 0, replication: 0, name: "fit/reservoir")
        var inputs: [Double] = [], outputs: [Double] = []
        var n = 0, failed = 0
        var first: Int64 = .max, last: Int64 = .min, previous: Int64? = nil
        var gapCount = 0.0, gapMean = 0.0, gapM2 = 0.0, zeroGaps = 0
        var hourCounts = [Double](repeating: 0, count: 24)
        var minuteCounts: [Int64: Int] = [:]
        var seen = 0
        while let row = try reader.next() {
            if row.failed { failed += 1; continue }
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
            // Reservoir sampling (Vitter's algorithm R) of (input, output) pairs.
            seen += 1
            let pair = (Double(row.inputTokens), Double(row.outputTokens))
            if inputs.count < reservoir {
                inputs.append(pair.0); outputs.append(pair.1)
            } else {
                let j = stream.uniformInt(below: seen)
                if j < reservoir { inputs[j] = pair.0; outputs[j] = pair.1 }
            }
        }
        guard n >= 2 else { throw TraceError(path: path, line: reader.lineNumber, column: nil, message: "at least two requests are needed to fit a workload") }
        let span = max(last - first, 1)
        var cv = gapCount > 1 ? (gapM2 / (gapCount - 1)).squareRoot() / max(gapMean, 1e-9) : 1
        var fromCounts = false
        if Double(zeroGaps) > 0.5 * gapCount {
            // Quantised arrivals (e.g. Mooncake's 3 s ticks): the gaps say nothing below the tick.
            // For a renewal process the index of dispersion of counts tends to the gaps' CV²,
            // so estimate the CV from counts per minute instead.
            let first = first / 60_000, last = last / 60_000
            var counts: [Double] = []
            for m in first...last { counts.append(Double(minuteCounts[m] ?? 0)) }
            let mean = Statistics.mean(counts)
            if mean > 0 { cv = (Statistics.variance(counts) / mean).squareRoot() }
            fromCounts = true
        }
        var profile: [Double]? = nil
        if span >= 86_400_000 {
            let mean = hourCounts.reduce(0, +) / 24
            profile = hourCounts.map { mean > 0 ? $0 / mean : 1 }
        }
        return TraceFit(path: path, format: format, requests: n, failedSkipped: failed, spanMs: span,
                        ratePerHour: Double(n) / Double(span) * 3_600_000, gapCV: cv, gapCVFromCounts: fromCounts,
                        hourlyProfile: profile, input: fitTokens(inputs), output: fitTokens(outputs))
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

    /// The workload block, in the scenario format, with the diagnostics as comments.
    public var yaml: String {
        func num(_ x: Double, _ digits: Int = 3) -> String {
            let scale = pow(10, Double(digits))
            let r = (x * scale).rounded() / scale
            return r == r.rounded() ? String(Int64(r)) : String(r)
        }
        func tokens(_ t: TokenFit) -> String {
            let ln = t.lognormal.map { "{ lognormal: { median: \(num($0.median, 1)), sigma: \(num($0.sigma)) } }" }
            let g = t.gamma.map { "{ gamma: { shape: \(num($0.shape)), scale: \(num($0.scale, 1)) } }" }
            let chosen = (t.bestIsLognormal ? ln : g) ?? ln ?? g ?? "{ constant: \(num(t.mean, 1)) }"
            return chosen + "   # KS D: lognormal \(num(t.lognormalKS)), gamma \(num(t.gammaKS)); n = \(t.samples)"
                + (t.zeros > 0 ? ", \(t.zeros) zeros left out" : "")
        }
        let hours = Double(spanMs) / 3_600_000
        var lines = [
            "# burnrate fit \(path) --format \(format.rawValue)",
            "# \(requests) requests over \(num(hours, 2)) h (\(num(ratePerHour, 1))/h)"
                + (failedSkipped > 0 ? "; \(failedSkipped) failed requests skipped" : ""),
            "# inter-arrival CV \(num(gapCV))" + (gapCVFromCounts ? " (from counts per minute: the trace's arrivals are quantised)" : ""),
        ]
        let process = gapCV > 1.2 || gapCV < 0.8
            ? "renewal: { rate: \(num(ratePerHour, 1))/h, cv: \(num(gapCV)), gaps: gamma }"
            : "poisson: { rate: \(num(ratePerHour, 1))/h }"
        lines.append("workload:")
        if let profile = hourlyProfile {
            lines.append("  arrivals: { \(process), profile: [\(profile.map { num($0, 2) }.joined(separator: ", "))] }")
        } else {
            lines.append("  arrivals: { \(process) }   # the trace covers \(num(hours, 2)) h: too short for an hourly profile")
        }
        if min(input.lognormalKS, input.gammaKS) > 0.1 || min(output.lognormalKS, output.gammaKS) > 0.1 {
            lines.append("  # neither law fits the token counts closely (KS D > 0.1): replaying the trace keeps its shape")
        }
        lines.append("  input_tokens:  \(tokens(input))")
        lines.append("  output_tokens: \(tokens(output))")
        return lines.joined(separator: "\n") + "\n"
    }
}
