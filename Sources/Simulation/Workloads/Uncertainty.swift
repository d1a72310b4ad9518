import Stochastic

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension DemandUncertainty {
    /// The hot workloads of one replication: the compiled ones, with each uncertain workload's
    /// rate and growth replaced by this replication's draws. A workload without `uncertainty` is
    /// left exactly as compiled (its streams and its arithmetic unchanged).
    static func hotWorkloads(_ compiled: CompiledModel, replication: Int) -> [HotWorkload] {
        var hot = compiled.hot
        for (w, workload) in compiled.model.workloads.enumerated() {
            guard let uncertainty = workload.uncertainty else { continue }
            let stream = RandomStream(seed: compiled.model.seed, replication: replication,
                                      name: streamName(workload: workload.name), generator: compiled.model.generator)
            let (factor, growth) = uncertainty.draw(stream)
            hot[w].apply(rateFactor: factor, growthPerDay: growth, profile: compiled.profiles[w], horizonMs: compiled.model.horizonMs)
        }
        return hot
    }
}

extension HotWorkload {
    /// Scales the rate by `rateFactor` and, when given, replaces the growth; the thinning bound
    /// is recomputed by the rule `CompiledModel` uses (peak of the profile × growth at the horizon).
    mutating func apply(rateFactor: Double, growthPerDay: Double?, profile: Profile, horizonMs: Int64) {
        self.rateFactor = rateFactor
        if let growthPerDay { logGrowthPerMs = log1p(growthPerDay) / 86_400_000 }
        switch arrival {
        case .poisson:
            ratePerMs *= rateFactor
            let g = logGrowthPerMs > 0 ? growthFactor(logGrowthPerMs, atMs: horizonMs) : 1
            peakPerMs = ratePerMs * profile.maximum * g
            constantRate = logGrowthPerMs == 0 && profile.factors.allSatisfy { $0 == 1 }
        case .renewal:
            ratePerMs *= rateFactor
        case .periodic:
            // A rate k times higher is an interval k times shorter; a zero rate, no arrivals.
            intervalMs = rateFactor > 0 ? max(1, Int64((Double(intervalMs) / rateFactor).rounded())) : .max / 2
        case .markov, .replay:
            break
        }
    }
}
