import Ledger

/// A workload's agent chain made ready to run: its sub-agents in the order they act (depth
/// first), each with its identity's name and its depth.
struct AgentPlan {
    let chain: AgentChain
    let names: [String]
    let depths: [Int32]

    /// The plan of `chain` for the identity called `identity`: sub-agent k of the identity is
    /// `<identity>:sub-k`, sub-agent j of `X` is `X.j`.
    init(_ chain: AgentChain, identity: String) {
        var names: [String] = [], depths: [Int32] = []
        func visit(_ parent: String, _ depth: Int) {
            guard depth <= chain.depth, chain.children > 0 else { return }
            for k in 1...chain.children {
                let name = depth == 1 ? "\(parent):sub-\(k)" : "\(parent).\(k)"
                names.append(name)
                depths.append(Int32(depth))
                visit(name, depth + 1)
            }
        }
        visit(identity, 1)
        self.chain = chain
        self.names = names
        self.depths = depths
    }
}

/// Spend by delegation depth, per identity of the model, for a run in which some workload has
/// agents.
struct AgentBooks {
    /// `spent[i][d]`: what identity i's sub-agents at depth d (1…) drew; index 0 is unused (the
    /// identity's own spend is its total minus these).
    var spent: [[Int64]]
    /// Identities with a workload that has agents (the others report no depth metrics).
    let withAgents: [Bool]
    /// The deepest chain of the model.
    let depth: Int

    init?(_ model: SimulationModel) {
        let depth = model.workloads.compactMap { $0.agents?.depth }.max()
        guard let depth else { return nil }
        self.depth = depth
        spent = Array(repeating: Array(repeating: 0, count: depth + 1), count: model.identities.count)
        var with = Array(repeating: false, count: model.identities.count)
        for w in model.workloads where w.agents != nil { with[w.identity] = true }
        withAgents = with
    }
}

/// Agent chains (DESIGN.md, "Delegation: budgets down an agent chain"): every delegation, draw and
/// close is a ledger command; the simulator only decides who asks for what, and books the answers.
extension ReplicationRun {
    /// Runs the agent tree of a task of workload `w` at its arrival: the sub-agents' delegations,
    /// their requests, then (with `close: after`) the close of each root delegation.
    mutating func runAgents(_ w: Int, identity: Int32, pool: Int32) {
        guard let plan = agentPlans[w] else { return }
        var next = 0
        let me = identityIDs[Int(identity)]
        for _ in 0..<plan.chain.children {
            let root = agent(w, plan, &next, delegator: me, from: .pool(poolIDs[Int(pool)]), refused: nil, identity: identity, pool: pool)
            if plan.chain.closesAfter, let root {
                _ = apply(Request(atMs: now, .closeDelegation(root, identity: me)))
            }
        }
    }

    /// Sub-agent `next` of `plan` (then `next` moves past it and its subtree): its delegation from
    /// `from` (nil with `refused`: one above it was refused, and so is its work), its requests,
    /// then its own sub-agents. Returns its delegation when the ledger made it.
    mutating func agent(_ w: Int, _ plan: AgentPlan, _ next: inout Int, delegator: IdentityID, from: DelegationSource?,
                        refused: (RejectionReason, Bool)?, identity: Int32, pool: Int32) -> DelegationID? {
        let k = next
        next += 1
        let depth = Int(plan.depths[k])
        var delegation: DelegationID? = nil, holder: IdentityID? = nil
        var why = refused
        if let from, why == nil {
            let o = apply(Request(atMs: now, .delegate(identity: delegator, child: plan.names[k], from: from,
                                                      amountMicrocredits: plan.chain.delegateMicrocredits[depth - 1], expiresAtMs: nil)))
            if let a = o.acceptance {
                delegation = a.delegation
                holder = a.identity
                if depth == 1 { poolUp(Int(pool)) }
            } else {
                why = agentRejection(o.refusal!, fromPool: depth == 1, pool: pool)
            }
        }
        for _ in 0..<plan.chain.requests {
            count(identity: Int(identity), pool: Int(pool)) { $0.requestsTotal += 1 }
            // Drawn whether or not it can be charged, so that a variant that refuses more draws
            // the same requests (common random numbers).
            let (cost, tier, m, split) = agentRequest(w)
            guard let delegation, let holder else {
                agentGiveUp(why!, identity: identity, pool: pool)
                continue
            }
            let o = apply(Request(atMs: now, .delegatedDebit(delegation: delegation, identity: holder, tier: Int(tier), amountMicrocredits: cost)))
            guard let a = o.acceptance else {
                agentGiveUp(agentRejection(o.refusal!, fromPool: false, pool: pool), identity: identity, pool: pool)
                continue
            }
            let spend = a.chargedMicrocredits, overage = a.overageMicrocredits
            count(identity: Int(identity), pool: Int(pool)) {
                $0.requestsServed += 1
                $0.spendMicrocredits += spend
                $0.overageMicrocredits += overage
            }
            agentBooks!.spent[Int(identity)][depth] += spend
            if tokenClasses != nil { bookClasses(w, model: Int(m), split) }
        }
        if depth < plan.chain.depth {
            let source = delegation.map { DelegationSource.delegation($0) }
            for _ in 0..<plan.chain.children {
                _ = agent(w, plan, &next, delegator: holder ?? delegator, from: source, refused: why, identity: identity, pool: pool)
            }
        }
        return delegation
    }

    /// The rejection a sub-agent's request counts under: lack of credit is the pool's only for a
    /// root delegation (`fromPool`); within a delegation it is ``RejectionReason/delegationExhausted``.
    mutating func agentRejection(_ refusal: Refusal, fromPool: Bool, pool: Int32) -> (RejectionReason, Bool) {
        if case .insufficientFunds = refusal {
            if fromPool {
                poolDown(Int(pool))
                return (.insufficientFunds, true)
            }
            return (.delegationExhausted, false)
        }
        return (RejectionReason(refusal), false)
    }

    mutating func agentGiveUp(_ why: (RejectionReason, Bool), identity: Int32, pool: Int32) {
        count(identity: Int(identity), pool: Int(pool)) {
            $0.requestsRejected += 1
            if why.1 { $0.rejectedForCredit += 1 }
        }
        rejections.add(why.0, pool: Int(pool), identity: Int(identity))
    }

    /// A sub-agent's request of workload `w`: its model (the mix), tokens and cost, drawn from the
    /// workload's streams by its laws (a synthetic workload: the scenario refuses agents on a replay).
    mutating func agentRequest(_ w: Int) -> (cost: Int64, tier: Int32, model: Int32, split: TokenCounts) {
        var m = hot[w].singleModel
        if m < 0, let mix = compiled.mixes[w] { m = mixModels[w][mix.sample(streams[StreamSlot.mix.index(w)])] }
        let tokens = streams[StreamSlot.tokens.index(w)]
        let input = inputSamplers[w].count(tokens), output = outputSamplers[w].count(tokens)
        var split = TokenCounts(input: input, output: output)
        if let fixed = hot[w].fixedCost { return (fixed, m >= 0 ? Int32(prices[Int(m)].tier) : 0, m, split) }
        let cost: Int64
        if tokenClasses == nil {
            cost = PriceTable.cost(prices[Int(m)], inputTokens: input, outputTokens: output) ?? .max
        } else {
            split = tokenClasses!.split(w, input: input, output: output, row: -1, timeMs: now)
            cost = classCost(w, model: Int(m), split)
        }
        return (cost, Int32(prices[Int(m)].tier), m, split)
    }

    /// The run's and the identities' spend by depth, at the horizon (depth 0: the rest of their spend).
    mutating func closeAgentBooks() {
        guard let books = agentBooks else { return }
        var run = Array(repeating: Int64(0), count: books.depth + 1)
        run[0] = result.totals.spendMicrocredits
        for i in result.identities.indices {
            var own = books.spent[i]
            own[0] = result.identities[i].counts.spendMicrocredits - own.dropFirst().reduce(0, +)
            for d in 1...books.depth { run[d] += own[d]; run[0] -= own[d] }
            if books.withAgents[i] { result.identities[i].spendByDepthMicrocredits = own }
        }
        result.spendByDepthMicrocredits = run
    }
}
