import Ledger
import Stochastic

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Arrival sampling: when each workload's next request arrives (synthetic processes through
/// their profiles and growth, or a trace replayed or resampled).
extension ReplicationRun {

    mutating func firstArrival(_ w: Int) -> Int64? {
        let workload = model.workloads[w]
        switch workload.arrivals {
        case .replay(let source):
            // Before block 0: with a bootstrap, the first call draws block 0.
            arrivalState[w].outputBlock = -1
            arrivalState[w].row = 0
            return nextReplay(w, source)
        case .periodic:
            return workload.startMs < model.horizonMs ? workload.startMs : nil
        case .markovModulated(_, let sojourn):
            arrivalState[w].stateIndex = 0
            arrivalState[w].stateEndsMs = workload.startMs + Int64(streams[StreamSlot.arrivals.index(w)].exponential(mean: sojourn[0]))
            return nextArrival(w, after: workload.startMs)
        default:
            return nextArrival(w, after: workload.startMs)
        }
    }

    /// The next arrival strictly after the previous one at `t` (or at `t` for the first).
    mutating func nextArrival(_ w: Int, after t: Int64) -> Int64? {
        if hot[w].arrival == .poisson {
            // Thinning (Lewis & Shedler 1979): candidates at the peak rate, each kept with
            // probability rate(t) / peak. Exact for any bounded rate function.
            let peak = hot[w].peakPerMs
            guard peak > 0 else { return nil }
            let horizon = Double(hot[w].stopMs)
            if hot[w].constantRate {
                let time = Double(t) + fastStreams[StreamSlot.arrivals.index(w)]._withUnsafeGuaranteedRef { $0.exponential(mean: 1 / peak) }
                return time < horizon ? Int64(time) : nil
            }
            let rate = hot[w].ratePerMs, growth = hot[w].logGrowthPerMs
            return fastStreams[StreamSlot.arrivals.index(w)]._withUnsafeGuaranteedRef { stream -> Int64? in
                var time = Double(t)
                while true {
                    time += stream.exponential(mean: 1 / peak)
                    if time >= horizon { return nil }
                    let ms = Int64(time)
                    let r = rate * profiles[w].factor(atMs: ms) * growthFactor(growth, atMs: ms)
                    if r >= peak || stream.uniform() * peak < r { return ms }
                }
            }
        }
        if hot[w].arrival == .renewal { return nextRenewal(w, after: t) }
        let h = hot[w]
        let horizon = h.stopMs
        let stream = streams[StreamSlot.arrivals.index(w)]
        switch h.arrival {
        case .poisson, .renewal:
            return nil
        case .markov:
            guard case .markovModulated(let rates, let sojourn) = model.workloads[w].arrivals else { return nil }
            var time = Double(t)
            while true {
                let state = arrivalState[w].stateIndex
                let r = rates[state] / 3_600_000 * h.rateFactor
                let candidate = r > 0 ? time + stream.exponential(mean: 1 / r) : .infinity
                if candidate < Double(arrivalState[w].stateEndsMs) {
                    let ms = Int64(candidate)
                    return ms < horizon ? ms : nil
                }
                // Memoryless: restart from the switch.
                time = Double(arrivalState[w].stateEndsMs)
                if time >= Double(horizon) { return nil }
                let nextState = (state + 1) % rates.count
                arrivalState[w].stateIndex = nextState
                arrivalState[w].stateEndsMs += max(1, Int64(stream.exponential(mean: sojourn[nextState])))
            }
        case .periodic:
            let next = t + h.intervalMs
            return next < horizon ? next : nil
        case .replay:
            return nextReplay(w, replays[w]!)
        }
    }

    /// The next arrival of a renewal process (`nextArrival`'s case, apart: it reads the
    /// workload's figures one by one rather than copying them).
    mutating func nextRenewal(_ w: Int, after t: Int64) -> Int64? {
        // The gap is drawn in operational time, where the process runs at one expected arrival
        // per unit (mean 1, the law's CV), and mapped back to clock time hour by hour through
        // the rate function: rate × profile factor × growth, the factor constant within its
        // hour and the growth taken at the start of each hour's stretch. So the profile shapes
        // the rate at every hour. (A gap drawn at the rate in force at its start let a quiet
        // hour's long gap spill into the busy hour after it: with a business-hours profile the
        // first busy hour had half its requests and the first quiet one twice.) Consecutive
        // gaps walk disjoint hours: the walk costs the horizon's hours plus one step a request.
        let rate = hot[w].ratePerMs, growth = hot[w].logGrowthPerMs, horizon = hot[w].stopMs
        guard rate > 0 else { return nil }
        var need: Double
        let parameter = hot[w].gapParameter
        if hot[w].gapIsGamma {
            let k = 1 / (parameter * parameter)
            need = fastStreams[StreamSlot.arrivals.index(w)]._withUnsafeGuaranteedRef { $0.gamma(shape: k, scale: 1 / k) }
        } else {
            need = fastStreams[StreamSlot.arrivals.index(w)]._withUnsafeGuaranteedRef {
                $0.weibull(shape: parameter, scale: 1 / tgamma(1 + 1 / parameter))
            }
        }
        var time = Double(t)
        // A week of idle hours in a row means the profile never resumes.
        var idleHours = 0
        while true {
            let ms = Int64(time)
            let r = rate * profiles[w].factor(atMs: ms) * growthFactor(growth, atMs: ms)
            let hourEnd = Double((ms / 3_600_000 + 1) * 3_600_000)
            if r > 0 {
                idleHours = 0
                let capacity = (hourEnd - time) * r
                if need <= capacity {
                    time += need / r
                    break
                }
                need -= capacity
            } else {
                idleHours += 1
                guard idleHours <= 168 else { return nil }
            }
            time = hourEnd
            guard time < Double(horizon) else { return nil }
        }
        let next = max(Int64(time.rounded()), t)
        return next < horizon ? next : nil
    }

    /// The next row of a replayed trace, in simulation time; advances the cursor.
    mutating func nextReplay(_ w: Int, _ source: borrowing ReplaySource) -> Int64? {
        let horizon = hot[w].stopMs
        let trace = source.trace
        if let blockMs = source.blockMs, trace.count > 0 {
            // Circular block bootstrap (see `ReplaySource.blockMs`): output block k replays the
            // trace from a uniformly drawn start, wrapping at its span; `loop` counts the wraps.
            let span = trace.spanMs
            while true {
                if arrivalState[w].outputBlock >= 0 {
                    if arrivalState[w].row >= trace.count { arrivalState[w].row = 0; arrivalState[w].loop += 1 }
                    let unfolded = arrivalState[w].loop * span + trace.timesMs[arrivalState[w].row]
                    let offset = unfolded - arrivalState[w].blockStartMs
                    if offset < blockMs {
                        let t = source.startMs + Int64(Double(arrivalState[w].outputBlock * blockMs + offset) * source.timeScale)
                        return t < horizon ? t : nil
                    }
                }
                arrivalState[w].outputBlock += 1
                let k = arrivalState[w].outputBlock
                if source.startMs + Int64(Double(k * blockMs) * source.timeScale) >= horizon { return nil }
                let start = source.blockStartMs(streams[StreamSlot.bootstrap.index(w)])
                arrivalState[w].blockStartMs = start
                arrivalState[w].row = source.firstRow(atOrAfterMs: start)
                arrivalState[w].loop = 0
            }
        }
        if arrivalState[w].row >= trace.count {
            guard source.loop else { return nil }
            arrivalState[w].loop += 1
            arrivalState[w].row = 0
        }
        let row = arrivalState[w].row
        let t = source.startMs + Int64(Double(arrivalState[w].loop * trace.spanMs + trace.timesMs[row]) * source.timeScale)
        return t < horizon ? t : nil
    }
}
