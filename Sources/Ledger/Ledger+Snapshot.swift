import DequeModule
import HeapModule

/// The whole state of a ledger at one sequence number, for durable snapshots: restoring it and
/// applying the commands after `lastSeq` gives the same ledger as replaying every command.
///
/// Remembered idempotency keys are stored without their commands (the ledger keeps only a
/// process-local hash of each); ``Ledger/init(snapshot:config:requestForKey:)`` asks for them again, and
/// a durable store reads them from its journal.
public struct LedgerSnapshot: Codable, Sendable {
    public static let format = "burnrate.ledger-snapshot/1"
    public var format = LedgerSnapshot.format
    public var config: LedgerConfig
    public var nowMs: Int64
    public var lastSeq: UInt64
    /// ``Ledger/stateDigest`` when the snapshot was taken: restoring checks it.
    public var digest: UInt64
    var pools: [PoolState]
    var grants: [GrantState]
    var holds: [HoldState]
    var freeHoldSlots: [Int32]
    var identities: [IdentityState]
    var balances: [Int64]
    var poolBalances: [Int64]
    var events: [ScheduledEvent]
    var orderedEvents: [ScheduledEvent]
    var eventSeq: UInt64
    var keys: [RememberedKey]
    /// Delegations by slot and the free slots; optional, so that snapshots written before
    /// delegations existed decode unchanged (and then hold none).
    var delegations: [DelegationState]?
    var freeDelegationSlots: [Int32]?

    /// Encoded as `[key, seq, atMs, outcome]` with the outcome as compact text
    /// (`A,seq,pool,identity,grant,hold,charged,overage,released`, or `J` followed by the outcome
    /// itself when it carries decisions): a day of keys is most of a snapshot, and keyed JSON objects would be several
    /// times larger and slower to read.
    struct RememberedKey: Codable, Sendable {
        var key: String
        var seq: UInt64
        var outcome: Outcome
        var atMs: Int64

        init(key: String, seq: UInt64, outcome: Outcome, atMs: Int64) {
            self.key = key
            self.seq = seq
            self.outcome = outcome
            self.atMs = atMs
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.unkeyedContainer()
            try c.encode(key)
            try c.encode(seq)
            try c.encode(atMs)
            if case .accepted(let a) = outcome, a.decisions.isEmpty, a.delegation == nil {
                func f(_ x: Int32?) -> String { x.map { String($0) } ?? "" }
                try c.encode("A,\(a.seq),\(f(a.pool?.index)),\(f(a.identity?.index)),\(f(a.grant?.index)),\(a.hold.map { String($0.raw) } ?? ""),"
                             + "\(a.chargedMicrocredits),\(a.overageMicrocredits),\(a.releasedMicrocredits)")
            } else {
                try c.encode("J")
                try c.encode(outcome)
            }
        }

        init(from decoder: any Decoder) throws {
            var c = try decoder.unkeyedContainer()
            key = try c.decode(String.self)
            seq = try c.decode(UInt64.self)
            atMs = try c.decode(Int64.self)
            let text = try c.decode(String.self)
            if text == "J" {
                outcome = try c.decode(Outcome.self)
                return
            }
            let p = text.split(separator: ",", omittingEmptySubsequences: false)
            func i32(_ s: Substring) -> Int32? { s.isEmpty ? nil : Int32(s) }
            guard p.count == 9, p[0] == "A", let seq = UInt64(p[1]), let charged = Int64(p[6]), let overage = Int64(p[7]),
                  let released = Int64(p[8])
            else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "malformed outcome '\(text)'") }
            var a = Acceptance(seq: seq)
            a.pool = i32(p[2]).map(PoolID.init)
            a.identity = i32(p[3]).map(IdentityID.init)
            a.grant = i32(p[4]).map(GrantID.init)
            a.hold = p[5].isEmpty ? nil : Int64(p[5]).flatMap(HoldID.init(raw:))
            a.chargedMicrocredits = charged
            a.overageMicrocredits = overage
            a.releasedMicrocredits = released
            outcome = .accepted(a)
        }
    }

    /// The idempotency keys the ledger remembers, oldest first, with the sequence number of the
    /// command each was used for.
    public var rememberedKeys: [(key: String, seq: UInt64)] { keys.map { ($0.key, $0.seq) } }
}

/// Why a snapshot cannot be restored.
public enum SnapshotError: Error, Sendable, CustomStringConvertible {
    case unknownFormat(String)
    case configMismatch
    case missingCommand(key: String)
    case digestMismatch(expected: UInt64, actual: UInt64)

    public var description: String {
        switch self {
        case .unknownFormat(let f): "unknown snapshot format '\(f)'"
        case .configMismatch: "the snapshot was taken with another ledger configuration"
        case .missingCommand(let key): "the command of idempotency key '\(key)' is missing"
        case .digestMismatch(let e, let a): "the restored state's digest \(a) differs from the snapshot's \(e)"
        }
    }
}

extension Ledger {
    /// The state as a snapshot (a copy; the ledger is not changed).
    public func snapshot() -> LedgerSnapshot {
        LedgerSnapshot(config: config, nowMs: nowMs, lastSeq: lastSeq, digest: stateDigest, pools: pools, grants: grants,
                       holds: holds, freeHoldSlots: Array(freeHoldSlots), identities: identities,
                       balances: [fundingBalance, usageBalance, overageBalance, expiryBalance], poolBalances: poolBalances,
                       events: Array(events.unordered), orderedEvents: Array(orderedEvents), eventSeq: eventSeq,
                       keys: keyEntries.map { LedgerSnapshot.RememberedKey(key: $0.key, seq: $0.seq, outcome: $0.outcome, atMs: $0.atMs) },
                       delegations: delegations.isEmpty ? nil : delegations,
                       freeDelegationSlots: delegations.isEmpty ? nil : Array(freeDelegationSlots))
    }

    /// Restores a snapshot. `requestForKey` returns the request each remembered idempotency key
    /// was first used for (so that a retry is told from a reuse of the key). Checks the state digest.
    public init(snapshot s: LedgerSnapshot, config expected: LedgerConfig,
                requestForKey: (String) -> Request?) throws(SnapshotError) {
        guard s.format == LedgerSnapshot.format else { throw .unknownFormat(s.format) }
        guard s.config == expected else { throw .configMismatch }
        self.init(config: s.config)
        nowMs = s.nowMs
        lastSeq = s.lastSeq
        pools = s.pools
        grants = s.grants
        holds = s.holds
        freeHoldSlots = Deque(s.freeHoldSlots)
        identities = s.identities
        delegations = s.delegations ?? []
        freeDelegationSlots = Deque(s.freeDelegationSlots ?? [])
        for (i, p) in pools.enumerated() { poolByName[p.name] = Int32(i) }
        for (i, d) in identities.enumerated() { identityByName[d.name] = Int32(i) }
        guard s.balances.count == 4 else { throw .digestMismatch(expected: s.digest, actual: 0) }
        fundingBalance = s.balances[0]
        usageBalance = s.balances[1]
        overageBalance = s.balances[2]
        expiryBalance = s.balances[3]
        poolBalances = s.poolBalances
        events = Heap(s.events)
        orderedEvents = Deque(s.orderedEvents)
        eventSeq = s.eventSeq
        nextEventDueMs = min(events.min?.atMs ?? .max, orderedEvents.first?.atMs ?? .max)
        for k in s.keys {
            guard let request = requestForKey(k.key) else { throw .missingCommand(key: k.key) }
            keys[IdempotencyKey(k.key)] = keyEntries.count
            keyEntries.append(KeyEntry(key: k.key, seq: k.seq, fingerprint: Self.fingerprint(of: request), outcome: k.outcome, atMs: k.atMs))
        }
        // Derived caches.
        for i in pools.indices { pools[i].derive() }
        let digest = stateDigest
        guard digest == s.digest else { throw .digestMismatch(expected: s.digest, actual: digest) }
    }
}
