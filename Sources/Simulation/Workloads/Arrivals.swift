import Stochastic

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// When requests arrive.
public enum ArrivalProcess: Sendable {
    /// A Poisson process with an average rate, shaped by a daily or weekly profile and a growth
    /// trend (`growthPerDay` = 0.01 is +1% a day, compounded). Sampled exactly by thinning.
    case poisson(ratePerHour: Double, profile: Profile, growthPerDay: Double)
    /// A renewal process: independent inter-arrival gaps with the given coefficient of variation
    /// (CV > 1 is bursty, as real traces are), gamma or Weibull shaped. The mean gap follows the
    /// profile and growth at the time of the previous arrival.
    case renewal(ratePerHour: Double, family: GapFamily, profile: Profile, growthPerDay: Double)
    /// A Markov-modulated Poisson process: the rate switches between states whose sojourn times
    /// are exponential with the given means (bursts of `ratesPerHour[1]` amid `ratesPerHour[0]`).
    case markovModulated(ratesPerHour: [Double], meanSojournMs: [Double])
    /// One request every `intervalMs` from the workload's start (a runaway loop).
    case periodic(intervalMs: Int64)
    /// Requests as recorded in a trace.
    case replay(ReplaySource)

    /// The expected number of arrivals per hour at time zero (for sanity checks and reports).
    public var nominalRatePerHour: Double {
        switch self {
        case .poisson(let r, _, _), .renewal(let r, _, _, _): r
        case .markovModulated(let rates, let sojourn):
            zip(rates, sojourn).reduce(0) { $0 + $1.0 * $1.1 } / sojourn.reduce(0, +)
        case .periodic(let interval): 3_600_000 / Double(interval)
        case .replay(let s): s.trace.ratePerHour * s.timeScaleInverse
        }
    }
}

/// The shape of renewal gaps.
public enum GapFamily: Sendable, Hashable {
    /// Gamma gaps with this coefficient of variation (shape 1/cv²).
    case gamma(cv: Double)
    /// Weibull gaps with this shape (CV from the shape; see ``GapFamily/weibullShape(forCV:)``).
    case weibull(shape: Double)

    /// The Weibull shape k whose coefficient of variation is `cv`:
    /// solves Γ(1 + 2/k) / Γ(1 + 1/k)² − 1 = cv² by bisection (the CV falls as k grows).
    public static func weibullShape(forCV cv: Double) -> Double {
        func cvOf(_ k: Double) -> Double {
            let g1 = tgamma(1 + 1 / k)
            return (tgamma(1 + 2 / k) / (g1 * g1) - 1).squareRoot()
        }
        var lo = 0.05, hi = 100.0
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if cvOf(mid) > cv { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }
}

/// The per-replication state of one workload's arrival process.
struct ArrivalState {
    var stateIndex = 0
    var stateEndsMs: Int64 = 0
    // Replay cursor.
    var row = 0
    var outputBlock: Int64 = 0
    /// Where the current bootstrap block starts, in trace ms.
    var blockStartMs: Int64 = 0
    /// Passes over the trace: of a looped replay, or wraps within a bootstrap block.
    var loop: Int64 = 0
}

/// Multiplies the rate by growth since time zero: (1 + g)^(t / day), computed as
/// exp(t × log1p(g) / day) with the logarithm taken once per workload (`logGrowthPerMs`), since
/// `pow` per arrival showed in profiles.
@inline(__always)
func growthFactor(_ logGrowthPerMs: Double, atMs t: Int64) -> Double {
    logGrowthPerMs == 0 ? 1 : exp(logGrowthPerMs * Double(t))
}
