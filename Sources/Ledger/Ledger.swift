import DequeModule
import HeapModule

/// Settings fixed for the life of a ledger.
public struct LedgerConfig: Hashable, Sendable, Codable {
    /// How long an idempotency key is remembered, in ledger time (default 24 h). After it a key is
    /// forgotten, as payment APIs do, so memory stays bounded.
    public var keyRetentionMs: Int64
    /// The granularity of per-identity usage buckets (default one day).
    public var usagePeriodMs: Int64
    /// How many levels of delegation an entitled identity's budget may pass down (default 4: a
    /// root delegation is level 1); a deeper one is refused with
    /// ``Refusal/delegationDepthExceeded(maxDepth:)``.
    public var maxDelegationDepth: Int

    public init(keyRetentionMs: Int64 = Millis.day, usagePeriodMs: Int64 = Millis.day, maxDelegationDepth: Int = 4) {
        self.keyRetentionMs = keyRetentionMs
        self.usagePeriodMs = usagePeriodMs
        self.maxDelegationDepth = maxDelegationDepth
    }

    enum CodingKeys: String, CodingKey { case keyRetentionMs, usagePeriodMs, maxDelegationDepth }

    /// Decodes a configuration; one written before delegations existed has the default depth.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        keyRetentionMs = try c.decode(Int64.self, forKey: .keyRetentionMs)
        usagePeriodMs = try c.decode(Int64.self, forKey: .usagePeriodMs)
        maxDelegationDepth = try c.decodeIfPresent(Int.self, forKey: .maxDelegationDepth) ?? 4
    }
}

/// The credit ledger: a pure, deterministic state machine.
///
/// Commands go in (``apply(_:)``), outcomes come out. The ledger does no I/O, reads no clock and
/// draws no random number: time is the `atMs` of each ``Request``, so the same code runs under
/// simulated time in the simulator and under wall-clock time in a durable store. Every movement of
/// credits is a double-entry ``Transfer``; the sum of all account balances is zero after every
/// command (see `Ledger+Invariants.swift`).
///
/// **Idempotency.** A keyed command whose key was seen within the retention window returns the
/// first outcome and changes nothing (not even the clock). Only *accepted* outcomes are
/// remembered: a refused command moved no credits for its request, so a retry with the same key
/// is evaluated afresh — after the pool was topped up, the retry can succeed. That is what a
/// client retrying the same purchase wants, and it cannot double-charge: a charge happens at most
/// once, on the first acceptance. Reusing a remembered key for a different command is refused
/// with ``Refusal/idempotencyKeyReused(_:)``.
///
/// **Refusals.** A refused command makes no transfer for its own request. It still advances the
/// clock (which may expire grants and holds), and policies consulted on the way may have acted
/// (an automatic top-up is a real purchase). That is why refusals are journaled too.
public struct Ledger: Sendable {
    public let config: LedgerConfig

    /// The ledger clock: the time of the last journaled command.
    public internal(set) var nowMs: Int64 = .min
    /// The sequence number of the last journaled command.
    public internal(set) var lastSeq: UInt64 = 0

    var pools: [PoolState] = []
    var grants: [GrantState] = []
    var holds: [HoldState] = []
    var freeHoldSlots: Deque<Int32> = []
    var identities: [IdentityState] = []
    var poolByName: [String: Int32] = [:]
    var identityByName: [String: Int32] = [:]
    /// Delegations by slot (see `Ledger+Delegations.swift`); a closed one's slot is reused.
    var delegations: [DelegationState] = []
    var freeDelegationSlots: Deque<Int32> = []

    // Account balances (double entry). Pools are in `poolBalances`.
    var fundingBalance: Int64 = 0
    var usageBalance: Int64 = 0
    var overageBalance: Int64 = 0
    var expiryBalance: Int64 = 0
    var poolBalances: [Int64] = []

    /// Scheduled events, in two structures. Hold expiries are the most frequent events and are
    /// usually scheduled in time order (one timeout for all requests): those go to a FIFO queue in
    /// O(1). Everything else (and a hold expiry earlier than the last queued one) goes to a heap.
    /// The next event is the lesser of the two fronts.
    var events = Heap<ScheduledEvent>()
    var orderedEvents: Deque<ScheduledEvent> = []
    var eventSeq: UInt64 = 0
    /// The time of the next scheduled event (`Int64.max` when none): lets `advance` return at once
    /// when nothing is due, which is the case for almost every command.
    var nextEventDueMs: Int64 = .max

    /// Remembered keys → absolute index into `keyEntries` (which holds them oldest first, from
    /// absolute index `keyBase`). The dictionary stays small per entry (a string and an index),
    /// so that a day of keys costs little to grow and to rehash.
    var keys: [IdempotencyKey: Int] = [:]
    var keyEntries: Deque<KeyEntry> = []
    var keyBase = 0

    // Per-command scratch: whether transfers are collected, the transfers, the decisions.
    var collecting = false
    var scratch: [Transfer] = []
    /// Usable from inline code for ``tookDecisions``.
    @usableFromInline var decisions: [Decision] = []

    public init(config: LedgerConfig = LedgerConfig()) {
        self.config = config
    }

    // MARK: Applying commands

    /// Applies one command and returns its outcome. The journal record is discarded.
    @discardableResult
    public mutating func apply(_ request: Request) -> Outcome {
        var sink = DiscardingSink()
        return apply(request, sink: &sink)
    }

    /// Applies one command, hands its journal record to `sink`, and returns its outcome.
    ///
    /// Idempotent repeats are answered from memory and not journaled.
    /// - Complexity: O(g + log e) for a draw touching g grants with e scheduled events, plus the
    ///   cost of the events that fall due.
    public mutating func apply<S: JournalSink>(_ request: Request, sink: inout S) -> Outcome {
        if let key = request.key, let index = keys[IdempotencyKey(key)] {
            let prior = keyEntries[index - keyBase]
            if !decisions.isEmpty { decisions.removeAll(keepingCapacity: true) }
            if prior.fingerprint == Self.fingerprint(of: request) { return prior.outcome }
            return .refused(.idempotencyKeyReused(key))
        }
        collecting = sink.wantsTransfers
        if collecting { scratch.removeAll(keepingCapacity: true) }
        if !decisions.isEmpty { decisions.removeAll(keepingCapacity: true) }

        lastSeq += 1
        var outcome: Outcome
        if request.atMs < nowMs {
            outcome = .refused(.timeWentBackwards(nowMs: nowMs))
        } else {
            advance(to: request.atMs)
            outcome = execute(request.command)
        }
        outcome = withDecisions(outcome)
        if let key = request.key, outcome.isAccepted {
            keys[IdempotencyKey(key)] = keyBase + keyEntries.count
            keyEntries.append(KeyEntry(key: key, seq: lastSeq, fingerprint: Self.fingerprint(of: request), outcome: outcome, atMs: request.atMs))
        }
        if request.key != nil { forgetExpiredKeys() }
        sink.record(seq: lastSeq, request: request, outcome: outcome, transfers: collecting ? scratch : [])
        return outcome
    }

    /// An unkeyed debit whose journal record is discarded: exactly `apply(Request(atMs: t,
    /// .debit(…)))` with a ``DiscardingSink``, the same rule code, without building a request
    /// value (each request of a synthetic workload is unique by construction, so it needs no key).
    public mutating func debit(atMs t: Int64, identity: IdentityID, pool: PoolID, tier: Int, amountMicrocredits: Int64) -> Outcome {
        switch charge(atMs: t, identity: identity, pool: pool, tier: tier, amountMicrocredits: amountMicrocredits) {
        case .refused(let r): return .refused(r)
        case .accepted(let overage):
            var a = debitAcceptance(identity, pool, amountMicrocredits, overage)
            a.decisions = decisions
            return .accepted(a)
        }
    }

    /// ``debit(atMs:identity:pool:tier:amountMicrocredits:)`` answered as a small ``Charge``
    /// instead of an ``Outcome``: the same rules and journal sequence, for callers (the simulator's
    /// hot path) that need only whether it was accepted and the overage. Policy decisions are not
    /// reported.
    public mutating func charge(atMs t: Int64, identity: IdentityID, pool: PoolID, tier: Int, amountMicrocredits: Int64) -> Charge {
        if let refusal = beginUnkeyed(atMs: t) { return .refused(refusal) }
        return debitCore(identity, pool, tier, amountMicrocredits)
    }

    /// An unkeyed authorize whose journal record is discarded: exactly `apply(Request(atMs: t,
    /// .authorize(…)))` with a ``DiscardingSink``, the same rule code, without building a request
    /// value (the simulator's path for holds).
    public mutating func authorize(atMs t: Int64, identity: IdentityID, pool: PoolID, tier: Int,
                                   amountMicrocredits: Int64, expiresAtMs: Int64) -> Outcome {
        if let refusal = beginUnkeyed(atMs: t) { return .refused(refusal) }
        // The outcome first, then the decisions: `withDecisions(authorize(…))` would load a copy
        // of the ledger for the call before the mutation ran, and every array the command then
        // touched would be copied (measured: 79% of the realistic benchmark's instructions).
        let outcome = authorize(identity, pool, tier, amountMicrocredits, expiresAtMs)
        return withDecisions(outcome)
    }

    /// An unkeyed capture whose journal record is discarded: exactly `apply(Request(atMs: t,
    /// .capture(…)))` with a ``DiscardingSink``, without building a request value.
    public mutating func capture(atMs t: Int64, hold: HoldID, amountMicrocredits: Int64, identity: IdentityID? = nil) -> Outcome {
        if let refusal = beginUnkeyed(atMs: t) { return .refused(refusal) }
        let outcome = capture(hold, amountMicrocredits, by: identity)   // first: see authorize(atMs:…)
        return withDecisions(outcome)
    }

    /// The start of an unkeyed command applied without a journal: what `apply(_:sink:)` does
    /// before it executes one (no transfers collected, decisions cleared, the sequence taken,
    /// due events run). A refusal when the time went backwards.
    @inline(__always)
    mutating func beginUnkeyed(atMs t: Int64) -> Refusal? {
        collecting = false
        if !decisions.isEmpty { decisions.removeAll(keepingCapacity: true) }
        lastSeq += 1
        guard t >= nowMs else { return .timeWentBackwards(nowMs: nowMs) }
        advance(to: t)
        return nil
    }

    /// An accepted outcome with the command's policy decisions attached, as `apply` answers it.
    @inline(__always)
    func withDecisions(_ outcome: Outcome) -> Outcome {
        guard !decisions.isEmpty, case .accepted(var a) = outcome else { return outcome }
        a.decisions = decisions
        return .accepted(a)
    }

    /// The policy decisions (alerts, top-ups, borrowing, suspensions) the most recent command took,
    /// accepted or not; empty for most commands, and for an idempotent repeat. What
    /// ``charge(atMs:identity:pool:tier:amountMicrocredits:)`` does not report.
    public var lastDecisions: [Decision] { decisions }

    /// Whether the most recent command took any policy decision: the per-command check of the
    /// simulator's hot path, without copying ``lastDecisions``. Inlinable: a call across the module
    /// boundary copied the whole ledger value (232 bytes) first, on every command.
    @inlinable
    public var tookDecisions: Bool { !decisions.isEmpty }

    /// Forgets keys older than the retention window.
    mutating func forgetExpiredKeys() {
        while let first = keyEntries.first, first.atMs <= nowMs - config.keyRetentionMs {
            keyEntries.removeFirst()
            if keys[IdempotencyKey(first.key)] == keyBase { keys[IdempotencyKey(first.key)] = nil }
            keyBase += 1
        }
    }

    /// What a repeat is compared by: the fingerprint of the request as sent when the edge gave
    /// one, else the command's hash (process-local: a restored ledger recomputes it from the
    /// journaled command).
    static func fingerprint(of request: Request) -> UInt64 {
        request.fingerprint ?? UInt64(bitPattern: Int64(request.command.hashValue))
    }

    mutating func execute(_ command: Command) -> Outcome {
        switch command {
        case .createPool(let spec): return createPool(spec)
        case .createIdentity(let spec): return createIdentity(spec)
        case .entitle(let identity, let pool, let e): return entitle(identity, pool, e)
        case .setIdentityStatus(let identity, let status): return setStatus(identity, status)
        case .fund(let pool, let spec): return fund(pool, spec)
        case .authorize(let identity, let pool, let tier, let amount, let expiresAtMs):
            return authorize(identity, pool, tier, amount, expiresAtMs)
        case .capture(let hold, let amount, let identity): return capture(hold, amount, by: identity)
        case .release(let hold, let identity): return release(hold, by: identity)
        case .debit(let identity, let pool, let tier, let amount): return debit(identity, pool, tier, amount)
        case .transfer(let from, let to, let amount): return transferBetweenPools(from, to, amount)
        case .advanceTime: return .accepted(Acceptance(seq: lastSeq))
        case .adjust(let pool, let amount, let against, _): return adjust(pool, amount, against)
        case .delegate(let identity, let child, let source, let amount, let expiresAtMs):
            return delegate(identity, child: child, from: source, amount, expiresAtMs: expiresAtMs)
        case .closeDelegation(let d, let identity): return closeDelegation(d, by: identity)
        case .delegatedDebit(let d, let identity, let tier, let amount): return delegatedDebit(d, identity, tier, amount)
        case .delegatedAuthorize(let d, let identity, let tier, let amount, let expiresAtMs):
            return delegatedAuthorize(d, identity, tier, amount, expiresAtMs)
        case .delegatedCapture(let d, let hold, let amount, let identity):
            return delegatedCapture(d, hold, amount, by: identity)
        }
    }

    // MARK: Double entry

    /// Moves `amount` from one account to another. The only place balances change.
    @inline(__always)
    mutating func post(_ from: Account, _ to: Account, _ amount: Int64, grant: Int32 = -1) {
        guard amount != 0 else { return }
        change(from, by: -amount)
        change(to, by: amount)
        if collecting {
            scratch.append(Transfer(from: from, to: to, amountMicrocredits: amount,
                                    grant: grant >= 0 ? GrantID(grant) : nil))
        }
    }

    @inline(__always)
    mutating func change(_ account: Account, by delta: Int64) {
        // Wrapping is impossible here: every amount that reaches `post` was bounded by checked
        // arithmetic when its command was validated, and balances are sums of such amounts
        // bounded by the funding total, itself checked at `fund`.
        switch account {
        case .funding: fundingBalance &+= delta
        case .usage: usageBalance &+= delta
        case .overage: overageBalance &+= delta
        case .expiry: expiryBalance &+= delta
        case .pool(let p): poolBalances[Int(p.index)] &+= delta
        }
    }

    // MARK: Pools and identities

    mutating func createPool(_ spec: PoolSpec) -> Outcome {
        if let problem = LedgerName.problem(spec.name) { return .refused(.invalidArgument("pool name: \(problem)")) }
        guard poolByName[spec.name] == nil else { return .refused(.duplicateName(spec.name)) }
        if let parent = spec.parent, !isPool(parent) { return .refused(.unknownPool(parent)) }
        guard spec.periodMs > 0 else { return .refused(.invalidArgument("periodMs must be positive")) }
        if let e = spec.environment, let problem = LedgerName.problem(e) { return .refused(.invalidArgument("pool environment: \(problem)")) }
        guard pools.count < Int(Int32.max) else { return .refused(.overflow) }
        var limit: Int64 = 0
        for policy in spec.policies {
            if let problem = Self.validate(policy) { return .refused(.invalidArgument(problem)) }
            if case .overdraft(let l) = policy { limit = max(limit, l) }
        }
        if let r = spec.refill {
            guard r.amountMicrocredits > 0 else { return .refused(.invalidArgument("refill amount must be positive")) }
            guard (0...1_000_000).contains(r.rolloverPartsPerMillion) else {
                return .refused(.invalidArgument("rollover fraction must be in [0, 1]"))
            }
            guard (r.rolloverCapMicrocredits ?? 0) >= 0, r.priceMicrocreditsPerCredit >= 0 else {
                return .refused(.invalidArgument("rollover cap and refill price must not be negative"))
            }
        }
        let index = Int32(pools.count)
        let start = nowMs == .min ? 0 : nowMs
        var state = PoolState(name: spec.name, parent: spec.parent?.index ?? -1, policies: spec.policies,
                              periodMs: spec.periodMs, createdAtMs: start, refill: spec.refill, overdraftLimit: limit)
        state.environment = spec.environment
        state.derive()
        pools.append(state)
        poolBalances.append(0)
        poolByName[spec.name] = index
        if spec.refill != nil {
            // The first period starts now; the refill of a later period is made when its
            // predecessor closes.
            refillPool(index, periodStartMs: start)
            schedule(.periodClose, at: start &+ spec.periodMs, target: index)
        }
        var a = Acceptance(seq: lastSeq)
        a.pool = PoolID(index)
        return .accepted(a)
    }

    static func validate(_ policy: Policy) -> String? {
        switch policy {
        case .hardStop: return nil
        case .overdraft(let limit): return limit >= 0 ? nil : "overdraft limit must not be negative"
        case .degrade(let tier, let below):
            return tier >= 0 && below >= 0 ? nil : "degrade tier and threshold must not be negative"
        case .throttle(let maxDraws, let windowMs, let below):
            return maxDraws >= 1 && windowMs > 0 && below >= 0 ? nil : "throttle needs maxDraws ≥ 1, a positive window and a threshold ≥ 0"
        case .autoTopUp(let below, let amount, let cap, let price):
            return below >= 0 && amount > 0 && cap >= 0 && price >= 0 ? nil : "auto top-up needs a positive amount and non-negative trigger, cap and price"
        case .borrow(let cap): return cap >= 0 ? nil : "borrow cap must not be negative"
        case .alerts(let thresholds):
            return thresholds.count <= 64 ? nil : "at most 64 alert thresholds per pool"
        }
    }

    mutating func createIdentity(_ spec: IdentitySpec) -> Outcome {
        if let problem = LedgerName.problem(spec.name) { return .refused(.invalidArgument("identity name: \(problem)")) }
        guard identityByName[spec.name] == nil else { return .refused(.duplicateName(spec.name)) }
        if let s = spec.stopCondition {
            guard s.windowMs > 0, s.baselineWindows >= 1, s.baselineWindows <= 10_000, s.factorPercent > 0,
                  s.minSpendMicrocredits >= 0
            else { return .refused(.invalidArgument("stop condition needs a positive window, 1…10000 baseline windows and a positive factor")) }
        }
        if let e = spec.environment, let problem = LedgerName.problem(e) { return .refused(.invalidArgument("identity environment: \(problem)")) }
        guard identities.count < Int(Int32.max) else { return .refused(.overflow) }
        let index = Int32(identities.count)
        var state = IdentityState(name: spec.name, status: .active, stopCondition: spec.stopCondition)
        state.environment = spec.environment
        identities.append(state)
        identityByName[spec.name] = index
        var a = Acceptance(seq: lastSeq)
        a.identity = IdentityID(index)
        return .accepted(a)
    }

    mutating func entitle(_ identity: IdentityID, _ pool: PoolID, _ e: Entitlement) -> Outcome {
        guard isIdentity(identity) else { return .refused(.unknownIdentity(identity)) }
        guard isPool(pool) else { return .refused(.unknownPool(pool)) }
        guard e.capPeriodMs > 0, e.rateWindowMs > 0, (e.capPerPeriodMicrocredits ?? 0) >= 0, (e.rateMaxDraws ?? 1) >= 1 else {
            return .refused(.invalidArgument("entitlement needs positive periods, a cap ≥ 0 and a rate ≥ 1"))
        }
        let i = Int(identity.index)
        if let k = identities[i].entitlementIndex(pool: pool.index) {
            identities[i].entitlements[k].entitlement = e
        } else {
            identities[i].entitlements.append(EntitlementState(pool: pool.index, entitlement: e))
        }
        var a = Acceptance(seq: lastSeq)
        a.identity = identity
        a.pool = pool
        return .accepted(a)
    }

    mutating func setStatus(_ identity: IdentityID, _ status: IdentityStatus) -> Outcome {
        guard isIdentity(identity) else { return .refused(.unknownIdentity(identity)) }
        let i = Int(identity.index)
        if identities[i].status == .revoked && status != .revoked { return .refused(.statusChangeNotAllowed) }
        identities[i].status = status
        // The kill switch reaches what the identity handed down: its delegations close at once.
        if status != .active { closeDelegations(of: i, includingHeld: status == .revoked) }
        var a = Acceptance(seq: lastSeq)
        a.identity = identity
        return .accepted(a)
    }

    @inline(__always) func isPool(_ p: PoolID) -> Bool { p.index >= 0 && Int(p.index) < pools.count }
    @inline(__always) func isIdentity(_ i: IdentityID) -> Bool { i.index >= 0 && Int(i.index) < identities.count }

    // MARK: Scheduling

    mutating func schedule(_ kind: ScheduledEvent.Kind, at atMs: Int64, target: Int32, generation: UInt32 = 0) {
        eventSeq += 1
        let event = ScheduledEvent(atMs: atMs, kind: kind, seq: eventSeq, target: target, generation: generation)
        if kind == .holdExpiry && (orderedEvents.last.map { !(event < $0) } ?? true) {
            orderedEvents.append(event)
        } else {
            events.insert(event)
        }
        if atMs < nextEventDueMs { nextEventDueMs = atMs }
    }

    /// The next scheduled event, if any.
    @inline(__always)
    var nextEvent: ScheduledEvent? {
        switch (orderedEvents.first, events.min) {
        case (let a?, let b?): return a < b ? a : b
        case (let a?, nil): return a
        case (nil, let b?): return b
        case (nil, nil): return nil
        }
    }

    /// Removes and returns the next scheduled event.
    /// - Complexity: O(1) from the FIFO queue, O(log e) from the heap.
    mutating func popNextEvent() -> ScheduledEvent? {
        // `nextEvent`'s choice, taken from where it is (sequences are unique, so the two fronts
        // never compare equal), and the next due time as the lesser of the two new fronts.
        let next: ScheduledEvent
        if let a = orderedEvents.first, events.min.map({ !($0 < a) }) ?? true {
            next = a
            orderedEvents.removeFirst()
        } else if let b = events.popMin() {
            next = b
        } else {
            return nil
        }
        nextEventDueMs = min(orderedEvents.first?.atMs ?? .max, events.min?.atMs ?? .max)
        return next
    }
}
