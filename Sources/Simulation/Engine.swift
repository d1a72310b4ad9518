import Ledger
import Stochastic

/// Runs one replication of a model: turns its workloads into requests, sends every request
/// through `Ledger`, and measures what happened. It never reimplements a ledger rule: every
/// draw, hold, expiry and policy decision is a call into `Ledger`.
public enum Engine {
    /// Runs replication `replication` of `compiled`.
    public static func run(_ compiled: CompiledModel, replication: Int) throws(ConservationError) -> ReplicationResult {
        var run = ReplicationRun(compiled, replication: replication)
        return try run.execute()
    }

    /// Runs replication `replication` of `compiled` and also says why each rejected request was
    /// rejected. The result is the one ``run(_:replication:)`` gives.
    public static func runTallyingRejections(_ compiled: CompiledModel, replication: Int) throws(ConservationError) -> (ReplicationResult, RejectionTally) {
        var run = ReplicationRun(compiled, replication: replication)
        let result = try run.execute()
        return (result, run.rejections)
    }
}

/// A model made ready to run many replications: the starting ledger (built once, copied per
/// replication), the alias tables of model mixes, thinning bounds.
public final class CompiledModel: Sendable {
    public let model: SimulationModel
    let ledger: Ledger
    let poolIDs: [PoolID]
    let identityIDs: [IdentityID]
    let mixes: [Categorical?]
    let poissonMaxPerMs: [Double]
    let tierModel: [Int]
    let prices: [ModelPrice]
    let streamNames: [[String]]
    let hot: [HotWorkload]
    let profiles: [Profile]
    /// The journal of the set-up commands (pools, grants, identities, entitlements), for
    /// replications that record their journal.
    let setupJournal: [JournalRecord]

    public init(_ model: SimulationModel) throws(SetupError) {
        self.model = model
        var ledger = Ledger(config: model.ledgerConfig)
        var setupSink = RecordingSink()
        var pools: [PoolID] = []
        for (i, p) in model.pools.enumerated() {
            var spec = p.spec
            if let parent = spec.parent { spec.parent = pools[Int(parent.index)] }
            guard let id = ledger.apply(Request(atMs: 0, .createPool(spec)), sink: &setupSink).acceptance?.pool else {
                throw SetupError(message: "pool '\(p.spec.name)' (#\(i)) was refused by the ledger")
            }
            pools.append(id)
        }
        for (i, p) in model.pools.enumerated() {
            for g in p.grants {
                let out = ledger.apply(Request(atMs: 0, .fund(pool: pools[i], g)), sink: &setupSink)
                if let r = out.refusal { throw SetupError(message: "grant for pool '\(p.spec.name)' refused: \(r)") }
            }
        }
        var identities: [IdentityID] = []
        for d in model.identities {
            guard let id = ledger.apply(Request(atMs: 0, .createIdentity(d.spec)), sink: &setupSink).acceptance?.identity else {
                throw SetupError(message: "identity '\(d.spec.name)' was refused by the ledger")
            }
            identities.append(id)
            for e in d.entitlements {
                guard e.pool >= 0 && e.pool < pools.count else { throw SetupError(message: "identity '\(d.spec.name)': no pool #\(e.pool)") }
                let out = ledger.apply(Request(atMs: 0, .entitle(identity: id, pool: pools[e.pool], e.entitlement)), sink: &setupSink)
                if let r = out.refusal { throw SetupError(message: "entitlement of '\(d.spec.name)' refused: \(r)") }
            }
        }
        self.ledger = ledger
        self.setupJournal = setupSink.records
        self.poolIDs = pools
        self.identityIDs = identities
        self.prices = model.prices.models
        var mixes: [Categorical?] = []
        var bounds: [Double] = []
        var names: [[String]] = []
        for w in model.workloads {
            guard w.identity >= 0 && w.identity < identities.count else { throw SetupError(message: "workload '\(w.name)': no identity #\(w.identity)") }
            guard w.pool >= 0 && w.pool < pools.count else { throw SetupError(message: "workload '\(w.name)': no pool #\(w.pool)") }
            guard w.fixedCostMicrocredits != nil || !w.models.isEmpty else { throw SetupError(message: "workload '\(w.name)' names no model and no fixed cost") }
            for m in w.models where m < 0 || m >= model.prices.models.count {
                throw SetupError(message: "workload '\(w.name)': no model #\(m) in the price table")
            }
            if w.models.count > 1 {
                do { mixes.append(try Categorical(weights: w.modelWeights)) } catch {
                    throw SetupError(message: "workload '\(w.name)': model weights: \(error)")
                }
            } else {
                mixes.append(nil)
            }
            switch w.arrivals {
            case .poisson(let rate, let profile, let growth):
                let g = growth > 0 ? growthFactor(growth, atMs: model.horizonMs) : 1
                bounds.append(rate / 3_600_000 * profile.maximum * g)
            default:
                bounds.append(0)
            }
            names.append(["arrivals", "mix", "tokens", "latency", "bootstrap"].map { "workload/\(w.name)/\($0)" })
        }
        self.mixes = mixes
        self.poissonMaxPerMs = bounds
        self.streamNames = names
        var hot: [HotWorkload] = []
        var profiles: [Profile] = []
        for (w, workload) in model.workloads.enumerated() {
            var h = HotWorkload(identity: Int32(workload.identity), pool: Int32(workload.pool), arrival: .periodic, ratePerMs: 0,
                                growthPerDay: 0, peakPerMs: bounds[w], gapIsGamma: true, gapParameter: 1, intervalMs: 0,
                                startMs: workload.startMs, stopMs: min(model.horizonMs, workload.stopMs ?? .max),
                                fixedCost: workload.fixedCostMicrocredits,
                                singleModel: workload.models.count == 1 ? Int32(workload.models[0]) : -1,
                                hasLatency: workload.latencyMs != nil, reserve: workload.reserve,
                                stopsAtFirstRefusal: workload.stopsAtFirstRefusal, retry: workload.retry, tokensFromTrace: false)
            var profile = Profile.flat
            switch workload.arrivals {
            case .poisson(let rate, let p, let growth):
                h.arrival = .poisson; h.ratePerMs = rate / 3_600_000; h.growthPerDay = growth; profile = p
                h.constantRate = growth == 0 && p.factors.allSatisfy { $0 == 1 }
            case .renewal(let rate, let family, let p, let growth):
                h.arrival = .renewal; h.ratePerMs = rate / 3_600_000; h.growthPerDay = growth; profile = p
                switch family {
                case .gamma(let cv): h.gapIsGamma = true; h.gapParameter = cv
                case .weibull(let shape): h.gapIsGamma = false; h.gapParameter = shape
                }
            case .markovModulated: h.arrival = .markov
            case .periodic(let interval): h.arrival = .periodic; h.intervalMs = max(1, interval)
            case .replay: h.arrival = .replay; h.tokensFromTrace = true
            }
            if case .actual = h.reserve { h.instantDebit = !h.hasLatency && !h.stopsAtFirstRefusal }
            hot.append(h)
            profiles.append(profile)
        }
        self.hot = hot
        self.profiles = profiles
        var tierModel = Array(repeating: -1, count: 64)
        for (t, m) in model.modelForTier where t >= 0 && t < 64 { tierModel[t] = m }
        self.tierModel = tierModel
    }
}

/// A model that cannot be set up (a bug in the caller: the scenario layer validates first).
public struct SetupError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

/// A workload's figures flattened for the hot path: plain values only, so reading one copies no
/// reference (the `Workload` value holds arrays, samplers and traces).
struct HotWorkload {
    enum Arrival: UInt8 { case poisson, renewal, markov, periodic, replay }
    var identity: Int32
    var pool: Int32
    var arrival: Arrival
    var ratePerMs: Double
    var growthPerDay: Double
    var peakPerMs: Double
    var gapIsGamma: Bool
    var gapParameter: Double
    var intervalMs: Int64
    var startMs: Int64
    var stopMs: Int64
    var fixedCost: Int64?
    var singleModel: Int32
    var hasLatency: Bool
    var reserve: Reserve
    var stopsAtFirstRefusal: Bool
    var retry: RetryPolicy
    var tokensFromTrace: Bool
    /// A flat profile and no growth: the rate never changes, so thinning accepts every candidate.
    var constantRate: Bool = false
    /// No latency, reserve actual, not a runaway: the request is one debit at arrival.
    var instantDebit: Bool = false
}

/// A replication's counters in one fixed buffer: every request updates three of them (the totals,
/// its pool's, its identity's), and writing through a buffer the run owns skips the uniqueness
/// check that each update of an array element stored in a struct costs.
final class CountTable {
    let totals: UnsafeMutablePointer<Counts>
    let pools: UnsafeMutableBufferPointer<Counts>
    let identities: UnsafeMutableBufferPointer<Counts>
    private let storage: UnsafeMutableBufferPointer<Counts>

    init(pools p: Int, identities i: Int) {
        storage = .allocate(capacity: 1 + p + i)
        storage.initialize(repeating: Counts())
        totals = storage.baseAddress!
        pools = UnsafeMutableBufferPointer(rebasing: storage[1..<(1 + p)])
        identities = UnsafeMutableBufferPointer(rebasing: storage[(1 + p)...])
    }

    deinit { storage.deallocate() }
}

/// A request between arrival and completion.
struct Pending {
    var workload: Int32
    var identity: Int32
    var pool: Int32
    var model: Int32
    var tier: Int32
    var inputTokens: Int64
    var outputTokens: Int64
    var costMicrocredits: Int64
    var reservedMicrocredits: Int64
    var attempts: Int32
    var throttleWaits: Int32
    var degradeSteps: Int32
    var degraded: Bool
    var hold: HoldID?
    var latencyMs: Int64
}

struct ReplicationRun {
    let compiled: CompiledModel
    let model: SimulationModel
    let replication: Int
    var ledger: Ledger
    var queue = EventQueue()
    let hot: [HotWorkload]
    let profiles: [Profile]
    let prices: [ModelPrice]
    let poolIDs: [PoolID]
    let identityIDs: [IdentityID]
    let inputSamplers: [Sampler]
    let outputSamplers: [Sampler]
    let latencySamplers: [Sampler]
    let replays: [ReplaySource?]
    /// Streams per workload, flattened: index 5w + k for k = arrivals, mix, tokens, latency,
    /// bootstrap.
    let streams: [RandomStream]
    /// The same streams, unretained, for the hot path: `streams` keeps them alive for the whole
    /// run, so borrowing them through `_withUnsafeGuaranteedRef` skips a retain/release pair per
    /// draw (measured: about 10% of case a of `burnrate bench sim`).
    let fastStreams: [Unmanaged<RandomStream>]
    /// Model indexes of each workload's mix, and its alias table (unretained: `compiled` keeps
    /// the tables alive).
    let mixModels: [[Int32]]
    let mixes: [Unmanaged<Categorical>?]
    var arrivalState: [ArrivalState]
    var stopped: [Bool]
    var slots: [Pending] = []
    var freeSlots: [Int32] = []
    var result: ReplicationResult
    /// The run's counters (totals, per pool, per identity), copied into `result` at the horizon.
    let counts: CountTable
    var downSince: [Int64?]
    /// Set when the model asks for the journal (tests, audits); nil on the fast path.
    var journal: RecordingSink?
    /// Rejected requests by the refusal that ended them (see ``Engine/runTallyingRejections``).
    var rejections: RejectionTally
    var now: Int64 = 0

    init(_ compiled: CompiledModel, replication: Int) {
        self.compiled = compiled
        self.model = compiled.model
        self.replication = replication
        self.ledger = compiled.ledger
        self.streams = compiled.streamNames.flatMap { names in
            names.map { RandomStream(seed: compiled.model.seed, replication: replication, name: $0, generator: compiled.model.generator) }
        }
        self.fastStreams = self.streams.map { Unmanaged.passUnretained($0) }
        self.mixModels = compiled.model.workloads.map { $0.models.map(Int32.init) }
        self.mixes = compiled.mixes.map { $0.map { Unmanaged.passUnretained($0) } }
        self.hot = compiled.hot
        self.profiles = compiled.profiles
        self.prices = compiled.prices
        self.poolIDs = compiled.poolIDs
        self.identityIDs = compiled.identityIDs
        self.inputSamplers = compiled.model.workloads.map(\.inputTokens)
        self.outputSamplers = compiled.model.workloads.map(\.outputTokens)
        self.latencySamplers = compiled.model.workloads.map { $0.latencyMs ?? .constant(0) }
        self.replays = compiled.model.workloads.map { if case .replay(let r) = $0.arrivals { r } else { nil } }
        self.arrivalState = Array(repeating: ArrivalState(), count: compiled.model.workloads.count)
        self.stopped = Array(repeating: false, count: compiled.model.workloads.count)
        self.result = ReplicationResult(replication: replication, horizonMs: compiled.model.horizonMs,
                                        pools: compiled.model.pools.map { PoolOutcome(name: $0.spec.name) },
                                        identities: compiled.model.identities.map { IdentityOutcome(name: $0.spec.name) })
        self.counts = CountTable(pools: compiled.model.pools.count, identities: compiled.model.identities.count)
        self.downSince = Array(repeating: nil, count: compiled.model.pools.count)
        self.journal = compiled.model.recordsJournal ? RecordingSink() : nil
        self.rejections = RejectionTally(pools: compiled.model.pools.count, identities: compiled.model.identities.count)
    }

    /// Every ledger command of a replication goes through here (or through the equivalent
    /// direct debit below when no journal is kept).
    @inline(__always)
    mutating func apply(_ request: Request) -> Outcome {
        if journal != nil { return ledger.apply(request, sink: &journal!) }
        return ledger.apply(request)
    }

    mutating func execute() throws(ConservationError) -> ReplicationResult {
        let horizon = model.horizonMs
        for w in model.workloads.indices {
            if let t = firstArrival(w) { queue.push(t, .arrival, Int32(w)) }
        }
        if model.sampleEveryMs > 0 { queue.push(0, .sample, 0, cls: 0) }
        var events: Int64 = 0
        while let e = queue.min {
            if e.timeMs >= horizon { break }
            now = e.timeMs
            events += 1
            // An arrival stays at the head of the queue until it has scheduled its successor
            // (`arrive` replaces it); every other event leaves the queue first.
            if e.kind != .arrival { queue.removeMin() }
            switch e.kind {
            case .arrival: arrive(Int(e.index))
            case .attempt: attempt(Int(e.index))
            case .completion: complete(Int(e.index))
            case .sample: sample()
            }
        }
        result.events = events
        return try finish()
    }

    // MARK: Arrivals

    mutating func firstArrival(_ w: Int) -> Int64? {
        let workload = model.workloads[w]
        switch workload.arrivals {
        case .replay(let source):
            if source.blockMs != nil, source.blockCount > 0 {
                // Start before block 0 with an empty block: the first call draws block 0.
                arrivalState[w].outputBlock = -1
                arrivalState[w].row = 0
                arrivalState[w].rowEnd = 0
            } else {
                arrivalState[w].row = 0
                arrivalState[w].rowEnd = source.trace.count
            }
            return nextReplay(w, source)
        case .periodic:
            return workload.startMs < model.horizonMs ? workload.startMs : nil
        case .markovModulated(_, let sojourn):
            arrivalState[w].stateIndex = 0
            arrivalState[w].stateEndsMs = workload.startMs + Int64(streams[5 * w].exponential(mean: sojourn[0]))
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
                let time = Double(t) + fastStreams[5 * w]._withUnsafeGuaranteedRef { $0.exponential(mean: 1 / peak) }
                return time < horizon ? Int64(time) : nil
            }
            let rate = hot[w].ratePerMs, growth = hot[w].growthPerDay
            return fastStreams[5 * w]._withUnsafeGuaranteedRef { stream -> Int64? in
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
        let h = hot[w]
        let horizon = h.stopMs
        let stream = streams[5 * w]
        switch h.arrival {
        case .poisson:
            return nil
        case .renewal:
            var t = t
            var r = h.ratePerMs * profiles[w].factor(atMs: t) * growthFactor(h.growthPerDay, atMs: t)
            // An idle hour of the profile: the process resumes at the next hour with a positive rate
            // (a week of idle hours means it never does).
            var idleHours = 0
            while !(r > 0) {
                idleHours += 1
                guard idleHours <= 168, h.ratePerMs > 0 else { return nil }
                t = (t / 3_600_000 + 1) * 3_600_000
                guard t < horizon else { return nil }
                r = h.ratePerMs * profiles[w].factor(atMs: t) * growthFactor(h.growthPerDay, atMs: t)
            }
            let mean = 1 / r
            let gap: Double
            if h.gapIsGamma {
                let k = 1 / (h.gapParameter * h.gapParameter)
                gap = stream.gamma(shape: k, scale: mean / k)
            } else {
                gap = stream.weibull(shape: h.gapParameter, scale: mean / tgamma(1 + 1 / h.gapParameter))
            }
            let next = t + max(Int64(gap.rounded()), 0)
            return next < horizon ? next : nil
        case .markov:
            guard case .markovModulated(let rates, let sojourn) = model.workloads[w].arrivals else { return nil }
            var time = Double(t)
            while true {
                let state = arrivalState[w].stateIndex
                let r = rates[state] / 3_600_000
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

    /// The next row of a replayed trace, in simulation time; advances the cursor.
    mutating func nextReplay(_ w: Int, _ source: borrowing ReplaySource) -> Int64? {
        let horizon = hot[w].stopMs
        let trace = source.trace
        if let blockMs = source.blockMs, source.blockCount > 0 {
            // Block bootstrap: output block k replays a source block drawn uniformly.
            while arrivalState[w].row >= arrivalState[w].rowEnd {
                arrivalState[w].outputBlock += 1
                let k = arrivalState[w].outputBlock
                if source.startMs + Int64(Double(k * blockMs) * source.timeScale) >= horizon { return nil }
                let b = streams[5 * w + 4].uniformInt(below: source.blockCount)
                arrivalState[w].sourceBlock = b
                arrivalState[w].row = source.blockStarts[b]
                arrivalState[w].rowEnd = source.blockStarts[b + 1]
            }
            let row = arrivalState[w].row
            let within = trace.timesMs[row] - Int64(arrivalState[w].sourceBlock) * blockMs
            let t = source.startMs + Int64(Double(arrivalState[w].outputBlock * blockMs + within) * source.timeScale)
            return t < horizon ? t : nil
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

    mutating func arrive(_ w: Int) {
        // Field by field: copying the whole HotWorkload per arrival shows in profiles.
        let tokensFromTrace = hot[w].tokensFromTrace, instantDebit = hot[w].instantDebit
        var identity = hot[w].identity
        var pool = hot[w].pool
        var modelIndex: Int32 = hot[w].singleModel
        var input: Int64 = 0, output: Int64 = 0
        if tokensFromTrace {
            let row = arrivalState[w].row
            arrivalState[w].row += 1
            let source = replays[w]!
            input = Int64(source.trace.inputTokens[row])
            output = Int64(source.trace.outputTokens[row])
            let who = Int(source.trace.identities[row])
            if who >= 0, source.identityMap[who] >= 0 {
                identity = Int32(source.identityMap[who])
                if let first = model.identities[Int(identity)].entitlements.first { pool = Int32(first.pool) }
            }
            let m = Int(source.trace.models[row])
            if m >= 0, source.modelMap[m] >= 0 { modelIndex = Int32(source.modelMap[m]) }
        }
        // This arrival is still the head of the queue: replace it by the next one, or remove it.
        if !stopped[w], let next = nextArrival(w, after: now) {
            queue.replaceMin(next, .arrival, Int32(w))
        } else {
            queue.removeMin()
        }
        if stopped[w] { return }

        if modelIndex < 0, let mix = mixes[w] {
            let pick = mix._withUnsafeGuaranteedRef { table in fastStreams[5 * w + 1]._withUnsafeGuaranteedRef { table.sample($0) } }
            modelIndex = mixModels[w][pick]
        }
        if !tokensFromTrace {
            fastStreams[5 * w + 2]._withUnsafeGuaranteedRef { tokens in
                input = inputSamplers[w].count(tokens)
                output = outputSamplers[w].count(tokens)
            }
        }
        let latency = hot[w].hasLatency ? latencySamplers[w].count(streams[5 * w + 3]) : 0
        let cost: Int64
        let tier: Int32
        if let fixed = hot[w].fixedCost {
            cost = fixed
            tier = modelIndex >= 0 ? Int32(prices[Int(modelIndex)].tier) : 0
        } else {
            cost = PriceTable.cost(prices[Int(modelIndex)], inputTokens: input, outputTokens: output) ?? .max
            tier = Int32(prices[Int(modelIndex)].tier)
        }
        if instantDebit {
            // The common case, without a slot: authorize and capture at one instant are one debit,
            // and the request's books are kept in one update.
            let out: Charge
            if journal == nil {
                out = ledger.charge(atMs: now, identity: identityIDs[Int(identity)], pool: poolIDs[Int(pool)], tier: Int(tier), amountMicrocredits: cost)
            } else {
                let o = apply(Request(atMs: now, .debit(identity: identityIDs[Int(identity)], pool: poolIDs[Int(pool)], tier: Int(tier), amountMicrocredits: cost)))
                out = o.acceptance.map { .accepted(overageMicrocredits: $0.overageMicrocredits) } ?? .refused(o.refusal!)
            }
            if case .accepted(let overage) = out {
                poolUp(Int(pool))
                let spend = cost
                count(identity: Int(identity), pool: Int(pool)) {
                    $0.requestsTotal += 1
                    $0.spendMicrocredits += spend
                    $0.overageMicrocredits += overage
                    $0.requestsServed += 1
                }
                return
            }
            count(identity: Int(identity), pool: Int(pool)) { $0.requestsTotal += 1 }
            let slot = allocate(Pending(workload: Int32(w), identity: identity, pool: pool, model: modelIndex, tier: tier,
                                        inputTokens: input, outputTokens: output, costMicrocredits: cost,
                                        reservedMicrocredits: 0, attempts: 0, throttleWaits: 0, degradeSteps: 0,
                                        degraded: false, hold: nil, latencyMs: 0))
            if case .refused(let r) = out { refused(slot, r) }
            return
        }
        count(identity: Int(identity), pool: Int(pool)) { $0.requestsTotal += 1 }
        if hot[w].stopsAtFirstRefusal { result.identities[Int(identity)].runawayStarted = true }
        let slot = allocate(Pending(workload: Int32(w), identity: identity, pool: pool, model: modelIndex, tier: tier,
                                    inputTokens: input, outputTokens: output, costMicrocredits: cost,
                                    reservedMicrocredits: 0, attempts: 0, throttleWaits: 0, degradeSteps: 0,
                                    degraded: false, hold: nil, latencyMs: latency))
        attempt(slot)
    }

    mutating func allocate(_ p: Pending) -> Int {
        if let free = freeSlots.popLast() {
            slots[Int(free)] = p
            return Int(free)
        }
        slots.append(p)
        return slots.count - 1
    }

    // MARK: The request lifecycle

    /// Tries to start a request: debit (zero latency, reserve actual), authorize a hold, or check
    /// the balance (reserve none).
    mutating func attempt(_ s: Int) {
        let r = slots[s]
        let h = hot[Int(r.workload)]
        let identity = identityIDs[Int(r.identity)]
        let pool = poolIDs[Int(r.pool)]
        switch h.reserve {
        case .none:
            // Ask the ledger whether it would accept the debit now (a pure query with the debit's
            // own rules: identity, entitlement caps, pool policies); record after completion, as
            // many proxies do. Requests in flight together all pass, and may overshoot.
            let admission = ledger.admission(atMs: now, identity: identity, pool: pool, tier: Int(r.tier),
                                             amountMicrocredits: r.costMicrocredits)
            if let refusal = admission.refusal {
                refused(s, refusal)
                return
            }
            poolUp(Int(r.pool))
            queue.push(now + r.latencyMs, .completion, Int32(s))
        case .actual where r.latencyMs == 0:
            // Authorize and capture at the same instant are one debit.
            let out = apply(Request(atMs: now, .debit(identity: identity, pool: pool, tier: Int(r.tier), amountMicrocredits: r.costMicrocredits)))
            switch out {
            case .accepted(let a):
                charged(s, a)
                finish(s)
            case .refused(let refusal):
                refused(s, refusal)
            }
        case .actual, .maxOutputTokens:
            var amount = r.costMicrocredits
            if case .maxOutputTokens(let n) = h.reserve, h.fixedCost == nil, r.model >= 0 {
                amount = PriceTable.cost(prices[Int(r.model)], inputTokens: r.inputTokens, outputTokens: n) ?? amount
            }
            let out = apply(Request(atMs: now, .authorize(identity: identity, pool: pool, tier: Int(r.tier),
                                                                 amountMicrocredits: amount, expiresAtMs: now + model.holdTimeoutMs)))
            switch out {
            case .accepted(let a):
                slots[s].hold = a.hold
                slots[s].reservedMicrocredits = amount
                poolUp(Int(r.pool))
                queue.push(now + r.latencyMs, .completion, Int32(s))
            case .refused(let refusal):
                refused(s, refusal)
            }
        }
    }

    /// Completion: capture the actual cost (reserve none: record it).
    mutating func complete(_ s: Int) {
        let r = slots[s]
        let identity = identityIDs[Int(r.identity)]
        let pool = poolIDs[Int(r.pool)]
        if let hold = r.hold {
            var out = apply(Request(atMs: now, .capture(hold: hold, amountMicrocredits: r.costMicrocredits)))
            if case .refused(let refusal) = out {
                // The work is done: charge what the hold covers (or, if it expired, the part a
                // debit would be accepted for); the rest was served beyond what the rules allowed.
                let covered: Int64
                if refusal == .holdExpired || refusal == .holdSettled {
                    covered = ledger.admission(atMs: now, identity: identity, pool: pool, tier: Int(r.tier),
                                               amountMicrocredits: r.costMicrocredits).coverableMicrocredits
                    out = covered > 0
                        ? apply(Request(atMs: now, .debit(identity: identity, pool: pool, tier: Int(r.tier), amountMicrocredits: covered)))
                        : .refused(refusal)
                } else {
                    covered = min(r.costMicrocredits, r.reservedMicrocredits)
                    out = apply(Request(atMs: now, .capture(hold: hold, amountMicrocredits: covered)))
                }
                let charged = out.acceptance?.chargedMicrocredits ?? 0
                count(identity: Int(r.identity), pool: Int(r.pool)) { $0.overshootMicrocredits += r.costMicrocredits - charged }
            }
            if let a = out.acceptance { charged(s, a) }
        } else {
            var out = apply(Request(atMs: now, .debit(identity: identity, pool: pool, tier: Int(r.tier), amountMicrocredits: r.costMicrocredits)))
            if out.refusal != nil {
                // Charge the part the ledger would still accept, by the debit's rules (the
                // identity's spend cap included); the rest was served beyond them.
                let partial = ledger.admission(atMs: now, identity: identity, pool: pool, tier: Int(r.tier),
                                               amountMicrocredits: r.costMicrocredits).coverableMicrocredits
                out = partial > 0
                    ? apply(Request(atMs: now, .debit(identity: identity, pool: pool, tier: Int(r.tier), amountMicrocredits: partial)))
                    : out
                let charged = out.acceptance?.chargedMicrocredits ?? 0
                count(identity: Int(r.identity), pool: Int(r.pool)) { $0.overshootMicrocredits += r.costMicrocredits - charged }
            }
            if let a = out.acceptance { charged(s, a) }
        }
        finish(s)
    }

    /// Books what an accepted command charged.
    mutating func charged(_ s: Int, _ a: Acceptance) {
        let r = slots[s]
        poolUp(Int(r.pool))
        let spend = a.chargedMicrocredits, overage = a.overageMicrocredits
        count(identity: Int(r.identity), pool: Int(r.pool)) {
            $0.spendMicrocredits += spend
            $0.overageMicrocredits += overage
        }
        if hot[Int(r.workload)].stopsAtFirstRefusal {
            result.identities[Int(r.identity)].runawaySpendMicrocredits += spend
        }
    }

    mutating func finish(_ s: Int) {
        let degraded = slots[s].degraded
        count(identity: Int(slots[s].identity), pool: Int(slots[s].pool)) {
            if degraded { $0.requestsDegraded += 1 } else { $0.requestsServed += 1 }
        }
        release(s)
    }

    /// Rejects the request in slot `s`; `reason` is the refusal that ended it, `forCredit` whether
    /// it counts as a refusal for lack of credit.
    mutating func reject(_ s: Int, _ reason: RejectionReason, forCredit: Bool) {
        count(identity: Int(slots[s].identity), pool: Int(slots[s].pool)) {
            $0.requestsRejected += 1
            if forCredit { $0.rejectedForCredit += 1 }
        }
        rejections.add(reason, pool: Int(slots[s].pool), identity: Int(slots[s].identity))
        release(s)
    }

    mutating func release(_ s: Int) {
        slots[s].hold = nil
        freeSlots.append(Int32(s))
    }

    /// Acts on a refusal as the agent would.
    mutating func refused(_ s: Int, _ refusal: Refusal) {
        let r = slots[s]
        let h = hot[Int(r.workload)]
        let retry = h.retry
        if case .insufficientFunds = refusal { poolDown(Int(r.pool)) }
        if h.stopsAtFirstRefusal {
            // A runaway loop stops at its first refusal: a stop condition, a cap or exhaustion.
            let w = Int(r.workload)
            if !stopped[w] {
                stopped[w] = true
                result.identities[Int(r.identity)].runawayStoppedAfterMs = now - h.startMs
            }
            reject(s, RejectionReason(refusal), forCredit: { if case .insufficientFunds = refusal { true } else { false } }())
            return
        }
        switch refusal {
        case .degrade(let toTier):
            let m = toTier >= 0 && toTier < compiled.tierModel.count ? compiled.tierModel[toTier] : -1
            guard m >= 0, r.degradeSteps < 4 else { reject(s, .noDegradeTier, forCredit: true); return }
            let price = prices[m]
            slots[s].model = Int32(m)
            slots[s].tier = Int32(price.tier)
            slots[s].degraded = true
            slots[s].degradeSteps += 1
            if h.fixedCost == nil {
                slots[s].costMicrocredits = PriceTable.cost(price, inputTokens: r.inputTokens, outputTokens: r.outputTokens) ?? .max
            }
            attempt(s)
        case .throttled(let after):
            guard Int(r.throttleWaits) < retry.maxThrottleWaits else { reject(s, .throttled, forCredit: false); return }
            slots[s].throttleWaits += 1
            queue.push(now + max(after, 1), .attempt, Int32(s))
        case .insufficientFunds, .spendCapExceeded, .rateCapExceeded:
            guard Int(r.attempts) < retry.maxRetries else {
                reject(s, RejectionReason(refusal), forCredit: { if case .insufficientFunds = refusal { true } else { false } }())
                return
            }
            var wait = Double(retry.backoffMs) * pow(retry.multiplier, Double(r.attempts))
            if case .rateCapExceeded(let after) = refusal { wait = max(wait, Double(after)) }
            slots[s].attempts += 1
            queue.push(now + max(1, Int64(min(wait, 1e15))), .attempt, Int32(s))
        default:
            reject(s, RejectionReason(refusal), forCredit: false)
        }
    }

    // MARK: Bookkeeping

    @inline(__always)
    mutating func count(identity i: Int, pool p: Int, _ update: (inout Counts) -> Void) {
        // The buffer's subscript is unchecked in release builds: check here, as an array would.
        precondition(counts.pools.indices.contains(p) && counts.identities.indices.contains(i), "no counters for pool \(p), identity \(i)")
        update(&counts.totals.pointee)
        update(&counts.pools[p])
        update(&counts.identities[i])
    }

    mutating func poolDown(_ p: Int) {
        if result.pools[p].exhaustedAtMs == nil { result.pools[p].exhaustedAtMs = now }
        if downSince[p] == nil { downSince[p] = now }
    }

    @inline(__always)
    mutating func poolUp(_ p: Int) {
        if let since = downSince[p] {
            result.pools[p].downtimeMs += now - since
            downSince[p] = nil
        }
    }

    mutating func sample() {
        _ = apply(Request(atMs: now, .advanceTime))
        result.sampleTimesMs.append(now)
        let totals = counts.totals.pointee
        result.spendSeries.append(totals.spendMicrocredits)
        result.servedSeries.append(totals.requestsServed + totals.requestsDegraded)
        for (p, id) in compiled.poolIDs.enumerated() {
            result.pools[p].availableSeries.append(ledger.available(in: id))
        }
        let next = now + model.sampleEveryMs
        if next < model.horizonMs { queue.push(next, .sample, 0, cls: 0) }
    }

    /// Closes the books at the horizon and checks the conservation laws.
    mutating func finish() throws(ConservationError) -> ReplicationResult {
        now = model.horizonMs
        _ = apply(Request(atMs: now, .advanceTime))
        for p in result.pools.indices { poolUp(p) }
        // Requests still in flight.
        var live = Set(0..<slots.count)
        for f in freeSlots { live.remove(Int(f)) }
        for s in live.sorted() {
            count(identity: Int(slots[s].identity), pool: Int(slots[s].pool)) { $0.requestsInFlight += 1 }
        }
        result.totals = counts.totals.pointee
        for p in result.pools.indices { result.pools[p].counts = counts.pools[p] }
        for i in result.identities.indices { result.identities[i].counts = counts.identities[i] }
        for (p, id) in compiled.poolIDs.enumerated() {
            let totals = ledger.totals(of: id)!
            result.pools[p].fundedMicrocredits = totals.fundedMicrocredits
            result.pools[p].expiredMicrocredits = totals.expiredMicrocredits
            result.pools[p].endBalanceMicrocredits = ledger.balance(of: .pool(id))
        }
        result.fundedMicrocredits = -ledger.balance(of: .funding)
        result.expiredMicrocredits = ledger.balance(of: .expiry)
        result.ledgerDigest = ledger.stateDigest
        if let journal { result.journal = compiled.setupJournal + journal.records }

        func violation(_ message: String) -> ConservationError { ConservationError(replication: replication, message: message) }
        let t = result.totals
        guard t.requestsTotal == t.requestsServed + t.requestsDegraded + t.requestsRejected + t.requestsInFlight else {
            throw violation("requests total \(t.requestsTotal) ≠ served \(t.requestsServed) + degraded \(t.requestsDegraded) + rejected \(t.requestsRejected) + in flight \(t.requestsInFlight)")
        }
        let spent = ledger.balance(of: .usage) + ledger.balance(of: .overage)
        guard t.spendMicrocredits == spent else { throw violation("spend counted \(t.spendMicrocredits) ≠ ledger usage + overage \(spent)") }
        var balances: Int64 = 0
        for id in compiled.poolIDs { balances += ledger.balance(of: .pool(id)) }
        guard result.fundedMicrocredits == spent + result.expiredMicrocredits + balances else {
            throw violation("funded \(result.fundedMicrocredits) ≠ spent \(spent) + expired \(result.expiredMicrocredits) + balances \(balances)")
        }
        return result
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
