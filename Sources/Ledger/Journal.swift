/// A double-entry account. Every movement of credits is a ``Transfer`` between two of these, and
/// the sum of all account balances is zero at every step.
public enum Account: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Where prepaid credits come from (goes negative as pools are funded).
    case funding
    /// Credits spent within prepaid funding.
    case usage
    /// Credits spent beyond prepaid funding, on a pool's overdraft.
    case overage
    /// Credits that expired unused (breakage).
    case expiry
    case pool(PoolID)

    public var description: String {
        switch self {
        case .funding: "funding"
        case .usage: "usage"
        case .overage: "overage"
        case .expiry: "expiry"
        case .pool(let p): p.description
        }
    }
}

/// One movement: `amountMicrocredits` leaves `from` and arrives at `to`. `grant` names the grant
/// drawn from or created, when there is one.
public struct Transfer: Hashable, Sendable, Codable {
    public var from: Account
    public var to: Account
    public var amountMicrocredits: Int64
    public var grant: GrantID?

    public init(from: Account, to: Account, amountMicrocredits: Int64, grant: GrantID? = nil) {
        self.from = from
        self.to = to
        self.amountMicrocredits = amountMicrocredits
        self.grant = grant
    }
}

/// The journal entry of one command: the request as received, its outcome, and the transfers it
/// made (including those of scheduled events that fired at its time). Replaying the requests of
/// a journal, in order, into an empty ledger rebuilds an identical state.
public struct JournalRecord: Hashable, Sendable, Codable {
    public var seq: UInt64
    public var request: Request
    public var outcome: Outcome
    public var transfers: [Transfer]

    public init(seq: UInt64, request: Request, outcome: Outcome, transfers: [Transfer]) {
        self.seq = seq
        self.request = request
        self.outcome = outcome
        self.transfers = transfers
    }
}

/// Receives the journal. The ledger calls ``record(seq:request:outcome:transfers:)`` once per
/// journaled command, after the command took effect.
///
/// Every command that is not an idempotent repeat is journaled, refusals included (a refusal
/// still advances the clock, which may expire grants and holds).
public protocol JournalSink {
    /// Whether the ledger should collect transfers for this sink. A sink that ignores them says
    /// `false`, and the ledger then builds no transfer list at all (the simulator's hot path).
    var wantsTransfers: Bool { get }
    mutating func record(seq: UInt64, request: Request, outcome: Outcome, transfers: [Transfer])
}

/// Drops every record: for simulations that only need the ledger's state and outcomes.
public struct DiscardingSink: JournalSink {
    public init() {}
    @inlinable public var wantsTransfers: Bool { false }
    @inlinable public mutating func record(seq: UInt64, request: Request, outcome: Outcome, transfers: [Transfer]) {}
}

/// Keeps every record in memory: for tests, replays and statements.
public struct RecordingSink: JournalSink {
    public private(set) var records: [JournalRecord] = []
    public init() {}
    public var wantsTransfers: Bool { true }
    public mutating func record(seq: UInt64, request: Request, outcome: Outcome, transfers: [Transfer]) {
        records.append(JournalRecord(seq: seq, request: request, outcome: outcome, transfers: transfers))
    }
}

/// One line of a pool statement.
public struct StatementLine: Hashable, Sendable, Codable {
    public var seq: UInt64
    public var atMs: Int64
    public var counterparty: Account
    /// Positive: credits into the pool; negative: out of it.
    public var amountMicrocredits: Int64
    public var grant: GrantID?
    /// The pool's account balance after this line.
    public var balanceMicrocredits: Int64
}

/// A pool's statement between two times, built from a journal.
public struct Statement: Hashable, Sendable, Codable {
    public var pool: PoolID
    public var fromMs: Int64
    public var toMs: Int64
    public var openingMicrocredits: Int64
    public var closingMicrocredits: Int64
    public var lines: [StatementLine]

    /// The statement of `pool` for journal records with `fromMs ≤ atMs < toMs`. Transfers inside
    /// the pool (rollover reclassification) are omitted: they move nothing in or out.
    public init(records: [JournalRecord], pool: PoolID, fromMs: Int64, toMs: Int64) {
        self.pool = pool
        self.fromMs = fromMs
        self.toMs = toMs
        var balance: Int64 = 0
        var opening: Int64 = 0
        var lines = [StatementLine]()
        let account = Account.pool(pool)
        for r in records {
            if r.request.atMs >= toMs { break }
            for t in r.transfers where t.from != t.to && (t.from == account || t.to == account) {
                let signed = t.to == account ? t.amountMicrocredits : -t.amountMicrocredits
                balance += signed
                if r.request.atMs >= fromMs {
                    lines.append(StatementLine(
                        seq: r.seq, atMs: r.request.atMs, counterparty: t.to == account ? t.from : t.to,
                        amountMicrocredits: signed, grant: t.grant, balanceMicrocredits: balance))
                }
            }
            if r.request.atMs < fromMs { opening = balance }
        }
        self.openingMicrocredits = opening
        self.closingMicrocredits = balance
        self.lines = lines
    }
}
