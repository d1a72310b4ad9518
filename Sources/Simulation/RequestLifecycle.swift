import Ledger
import Stochastic

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A request between arrival and completion.
struct Pending {
    var workload: Int32
    var identity: Int32
    var pool: Int32
    var model: Int32
    var tier: Int32
    /// Uncached input (all the input, unless the workload has a cache).
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
    /// Cache reads and (5-minute) writes, for workloads with a cache.
    var cachedTokens: Int64 = 0
    var cacheWriteTokens: Int64 = 0
    /// 1-hour cache writes, which only a usage export records (Anthropic).
    var cacheWrite1hTokens: Int64 = 0
    /// The replayed trace row of the request (−1: synthetic), for a usage export's logged cost.
    var traceRow: Int32 = -1

    var tokens: TokenCounts {
        TokenCounts(input: inputTokens, cachedInput: cachedTokens, cacheWrite: cacheWriteTokens, cacheWrite1h: cacheWrite1hTokens,
                    output: outputTokens)
    }
}

/// The request lifecycle: arrival, authorize or debit, completion and capture, and the agent's
/// reaction to a refusal (degrade, wait out a throttle, retry with backoff, give up).
extension ReplicationRun {
    mutating func arrive(_ w: Int) {
        // Field by field: copying the whole HotWorkload per arrival shows in profiles.
        let tokensFromTrace = hot[w].tokensFromTrace, instantDebit = hot[w].instantDebit
        var identity = hot[w].identity
        var pool = hot[w].pool
        var modelIndex: Int32 = hot[w].singleModel
        var input: Int64 = 0, output: Int64 = 0
        var row = -1
        if tokensFromTrace {
            row = arrivalState[w].row
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
            let pick = mix._withUnsafeGuaranteedRef { table in fastStreams[StreamSlot.mix.index(w)]._withUnsafeGuaranteedRef { table.sample($0) } }
            modelIndex = mixModels[w][pick]
        }
        if !tokensFromTrace {
            fastStreams[StreamSlot.tokens.index(w)]._withUnsafeGuaranteedRef { tokens in
                input = inputSamplers[w].count(tokens)
                output = outputSamplers[w].count(tokens)
            }
        }
        let latency = hot[w].hasLatency ? latencySamplers[w].count(streams[StreamSlot.latency.index(w)]) : 0
        let cost: Int64
        let tier: Int32
        var split = TokenCounts(input: input, output: output)
        if let fixed = hot[w].fixedCost {
            cost = fixed
            tier = modelIndex >= 0 ? priceTiers[Int(modelIndex)] : 0
        } else if row >= 0, hot[w].tracePricedByClass {
            // A usage export: its recorded split, priced by class, or its logged cost.
            split = recordedSplit(replays[w]!, row: row, output: output)
            cost = replayCost(w, row: row, price: prices[Int(modelIndex)], split, logged: true) ?? .max
            tier = priceTiers[Int(modelIndex)]
        } else if tokenClasses == nil {
            cost = Self.tokenCost(Int(modelIndex), plainPrices, prices, input: input, output: output) ?? .max
            tier = priceTiers[Int(modelIndex)]
        } else {
            // A model with a cache or batch pricing somewhere (Cache.swift).
            split = tokenClasses!.split(w, input: input, output: output, row: row, timeMs: now)
            cost = classCost(w, model: Int(modelIndex), split)
            tier = priceTiers[Int(modelIndex)]
        }
        if hot[w].agents { runAgents(w, identity: identity, pool: pool) }
        if instantDebit {
            // The common case, without a slot: authorize and capture at one instant are one debit,
            // and the request's books are kept in one update.
            let out: Charge
            if journal == nil {
                out = ledger.charge(atMs: now, identity: identityIDs[Int(identity)], pool: poolIDs[Int(pool)], tier: Int(tier), amountMicrocredits: cost)
                if ledger.tookDecisions { noteAlerts(ledger.lastDecisions) }
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
                if tokenClasses != nil { bookClasses(w, model: Int(modelIndex), split) }
                return
            }
            count(identity: Int(identity), pool: Int(pool)) { $0.requestsTotal += 1 }
            let slot = allocate(Pending(workload: Int32(w), identity: identity, pool: pool, model: modelIndex, tier: tier,
                                        inputTokens: split.input, outputTokens: output, costMicrocredits: cost,
                                        reservedMicrocredits: 0, attempts: 0, throttleWaits: 0, degradeSteps: 0,
                                        degraded: false, hold: nil, latencyMs: 0,
                                        cachedTokens: split.cachedInput, cacheWriteTokens: split.cacheWrite,
                                        cacheWrite1hTokens: split.cacheWrite1h, traceRow: Int32(row)))
            if case .refused(let r) = out { react(slot, to: r) }
            return
        }
        // An attacker's requests are not the identity's demand: booked apart (their spend is
        // counted as spend, see `charged`), so continuity measures the legitimate work.
        if !hot[w].leaks { count(identity: Int(identity), pool: Int(pool)) { $0.requestsTotal += 1 } }
        if hot[w].stopsAtFirstRefusal {
            result.identities[Int(identity)].runawayStarted = true
            let exposure = hot[w].stopMs - hot[w].startMs
            result.identities[Int(identity)].runawayExposureMs = max(result.identities[Int(identity)].runawayExposureMs, exposure)
        }
        let slot = allocate(Pending(workload: Int32(w), identity: identity, pool: pool, model: modelIndex, tier: tier,
                                    inputTokens: split.input, outputTokens: output, costMicrocredits: cost,
                                    reservedMicrocredits: 0, attempts: 0, throttleWaits: 0, degradeSteps: 0,
                                    degraded: false, hold: nil, latencyMs: latency,
                                    cachedTokens: split.cachedInput, cacheWriteTokens: split.cacheWrite,
                                    cacheWrite1hTokens: split.cacheWrite1h, traceRow: Int32(row)))
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

    /// Tries to start a request: debit (zero latency, reserve actual), authorize a hold, or check
    /// the balance (reserve none).
    mutating func attempt(_ s: Int) {
        // Field by field, as in `arrive`: copies of the whole Pending and HotWorkload show in
        // profiles.
        let w = Int(slots[s].workload), p = Int(slots[s].pool), tier = slots[s].tier
        let cost = slots[s].costMicrocredits, latencyMs = slots[s].latencyMs
        let identity = identityIDs[Int(slots[s].identity)]
        let pool = poolIDs[p]
        let reserve = hot[w].reserve
        switch reserve {
        case .none:
            // Ask the ledger whether it would accept the debit now (a pure query with the debit's
            // own rules: identity, entitlement caps, pool policies); record after completion, as
            // many proxies do. Requests in flight together all pass, and may overshoot.
            let admission = ledger.admission(atMs: now, identity: identity, pool: pool, tier: Int(tier),
                                             amountMicrocredits: cost)
            if let refusal = admission.refusal {
                react(s, to: refusal)
                return
            }
            poolUp(p)
            queue.push(now + latencyMs, .completion, Int32(s))
        case .actual where latencyMs == 0:
            // Authorize and capture at the same instant are one debit.
            switch debitCharge(identity, pool, tier: tier, cost) {
            case .accepted(let overage):
                charged(s, cost, overage: overage)
                serve(s)
            case .refused(let refusal):
                react(s, to: refusal)
            }
        case .actual, .maxOutputTokens:
            var amount = cost
            let m = Int(slots[s].model)
            if case .maxOutputTokens(let n) = reserve, hot[w].fixedCost == nil, m >= 0 {
                if slots[s].traceRow >= 0 && hot[w].tracePricedByClass {
                    // A hold prices tokens, even when capture charges a logged cost.
                    var t = slots[s].tokens
                    t.output = n
                    amount = replayCost(w, row: Int(slots[s].traceRow), price: prices[m], t, logged: false) ?? amount
                } else if tokenClasses == nil {
                    amount = Self.tokenCost(m, plainPrices, prices, input: slots[s].inputTokens, output: n) ?? amount
                } else {
                    // The request's real class split, with the output it may reach.
                    var t = slots[s].tokens
                    t.output = n
                    amount = classCost(w, model: m, t)
                }
            }
            switch authorize(identity, pool, tier: tier, amount, expiresAtMs: now + model.holdTimeoutMs) {
            case .placed(let hold):
                slots[s].hold = hold
                slots[s].reservedMicrocredits = amount
                poolUp(p)
                queue.push(now + latencyMs, .completion, Int32(s))
            case .refused(let refusal):
                react(s, to: refusal)
            }
        }
    }

    /// Completion: capture the actual cost (reserve none: record it).
    mutating func complete(_ s: Int) {
        let i = Int(slots[s].identity), p = Int(slots[s].pool), tier = slots[s].tier
        let cost = slots[s].costMicrocredits
        let identity = identityIDs[i]
        let pool = poolIDs[p]
        // What was charged (each accepted charge is of the whole amount asked) and the overage.
        var charge: (amount: Int64, overage: Int64)?
        if let hold = slots[s].hold {
            switch capture(hold, cost) {
            case .accepted(let overage):
                charge = (cost, overage)
            case .refused(let refusal):
                // The work is done: charge what the hold covers (or, if it expired, the part a
                // debit would be accepted for); the rest was served beyond what the rules allowed.
                let covered: Int64
                let out: Charge
                if refusal == .holdExpired || refusal == .holdSettled {
                    covered = ledger.admission(atMs: now, identity: identity, pool: pool, tier: Int(tier),
                                               amountMicrocredits: cost).coverableMicrocredits
                    out = covered > 0 ? debitCharge(identity, pool, tier: tier, covered) : .refused(refusal)
                } else {
                    covered = min(cost, slots[s].reservedMicrocredits)
                    out = capture(hold, covered)
                }
                if case .accepted(let overage) = out { charge = (covered, overage) }
                let charged = charge?.amount ?? 0
                count(identity: i, pool: p) { $0.overshootMicrocredits += cost - charged }
            }
        } else {
            switch debitCharge(identity, pool, tier: tier, cost) {
            case .accepted(let overage):
                charge = (cost, overage)
            case .refused:
                // Charge the part the ledger would still accept, by the debit's rules (the
                // identity's spend cap included); the rest was served beyond them.
                let partial = ledger.admission(atMs: now, identity: identity, pool: pool, tier: Int(tier),
                                               amountMicrocredits: cost).coverableMicrocredits
                if partial > 0, case .accepted(let overage) = debitCharge(identity, pool, tier: tier, partial) {
                    charge = (partial, overage)
                }
                let charged = charge?.amount ?? 0
                count(identity: i, pool: p) { $0.overshootMicrocredits += cost - charged }
            }
        }
        if let charge { charged(s, charge.amount, overage: charge.overage) }
        serve(s)
    }

    /// Books what an accepted command charged: `spend`, `overage` of it on the overdraft.
    mutating func charged(_ s: Int, _ spend: Int64, overage: Int64) {
        let w = Int(slots[s].workload), i = Int(slots[s].identity), p = Int(slots[s].pool)
        poolUp(p)
        count(identity: i, pool: p) {
            $0.spendMicrocredits += spend
            $0.overageMicrocredits += overage
        }
        if hot[w].stopsAtFirstRefusal {
            result.identities[i].runawaySpendMicrocredits += spend
        }
        if hot[w].leaks { result.identities[i].leak?.spendMicrocredits += spend }
    }

    /// The request in slot `s` was served (at its model or degraded): counted, and its slot freed.
    mutating func serve(_ s: Int) {
        if tokenClasses != nil { bookClasses(Int(slots[s].workload), model: Int(slots[s].model), slots[s].tokens) }
        let degraded = slots[s].degraded
        if hot[Int(slots[s].workload)].leaks {
            result.identities[Int(slots[s].identity)].leak?.requestsServed += 1
        } else {
            count(identity: Int(slots[s].identity), pool: Int(slots[s].pool)) {
                if degraded { $0.requestsDegraded += 1 } else { $0.requestsServed += 1 }
            }
        }
        release(s)
    }

    /// The agent gives up on the request in slot `s`: counted as rejected; `reason` is the refusal
    /// that ended it, `forCredit` whether it counts as a refusal for lack of credit.
    mutating func giveUp(_ s: Int, _ reason: RejectionReason, forCredit: Bool) {
        if hot[Int(slots[s].workload)].leaks {
            result.identities[Int(slots[s].identity)].leak?.refusedBy[reason.rawValue] += 1
            release(s)
            return
        }
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
    mutating func react(_ s: Int, to refusal: Refusal) {
        // Field by field, as in `attempt`.
        let w = Int(slots[s].workload), p = Int(slots[s].pool)
        if case .insufficientFunds = refusal { poolDown(p) }
        if hot[w].stopsAtFirstRefusal {
            // A runaway loop stops at its first refusal: a stop condition, a cap or exhaustion.
            if !stopped[w] {
                stopped[w] = true
                result.identities[Int(slots[s].identity)].runawayStoppedAfterMs = now - hot[w].startMs
            }
            giveUp(s, RejectionReason(refusal), forCredit: { if case .insufficientFunds = refusal { true } else { false } }())
            return
        }
        switch refusal {
        case .degrade(let toTier):
            let m = toTier >= 0 && toTier < compiled.tierModel.count ? compiled.tierModel[toTier] : -1
            guard m >= 0, slots[s].degradeSteps < 4 else { giveUp(s, .noDegradeTier, forCredit: true); return }
            slots[s].model = Int32(m)
            slots[s].tier = priceTiers[m]
            slots[s].degraded = true
            slots[s].degradeSteps += 1
            if hot[w].fixedCost == nil {
                let row = Int(slots[s].traceRow)
                if row >= 0 && hot[w].tracePricedByClass {
                    slots[s].costMicrocredits = replayCost(w, row: row, price: prices[m], slots[s].tokens, logged: true) ?? .max
                } else if tokenClasses != nil {
                    slots[s].costMicrocredits = classCost(w, model: m, slots[s].tokens)
                } else {
                    slots[s].costMicrocredits = Self.tokenCost(m, plainPrices, prices, input: slots[s].inputTokens,
                                                               output: slots[s].outputTokens) ?? .max
                }
            }
            attempt(s)
        case .throttled(let after):
            guard Int(slots[s].throttleWaits) < hot[w].retry.maxThrottleWaits else { giveUp(s, .throttled, forCredit: false); return }
            slots[s].throttleWaits += 1
            queue.push(now + max(after, 1), .attempt, Int32(s))
        case .insufficientFunds, .spendCapExceeded, .rateCapExceeded:
            let retry = hot[w].retry, attempts = slots[s].attempts
            guard Int(attempts) < retry.maxRetries else {
                giveUp(s, RejectionReason(refusal), forCredit: { if case .insufficientFunds = refusal { true } else { false } }())
                return
            }
            var wait = Double(retry.backoffMs) * pow(retry.multiplier, Double(attempts))
            if case .rateCapExceeded(let after) = refusal { wait = max(wait, Double(after)) }
            slots[s].attempts += 1
            queue.push(now + max(1, Int64(min(wait, 1e15))), .attempt, Int32(s))
        default:
            giveUp(s, RejectionReason(refusal), forCredit: false)
        }
    }
}
