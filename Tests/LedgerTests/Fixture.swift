import Testing
@testable import Ledger

/// Credits → micro-credits, for readable tests.
func cr(_ credits: Int64) -> Int64 { credits * Money.microcreditsPerCredit }

/// A ledger with one pool and one entitled identity, driven command by command, with the
/// invariants checked after every command.
struct Fixture {
    var ledger = Ledger()
    var sink = RecordingSink()
    var pool = PoolID(0)
    var bot = IdentityID(0)
    var t: Int64 = 0

    init(policies: [Policy] = [], periodMs: Int64 = 30 * Millis.day, refill: Refill? = nil,
         entitlement: Entitlement = Entitlement(), stop: StopCondition? = nil) {
        pool = apply(.createPool(PoolSpec(name: "eng", policies: policies, periodMs: periodMs, refill: refill))).acceptance!.pool!
        bot = apply(.createIdentity(IdentitySpec(name: "bot", stopCondition: stop))).acceptance!.identity!
        apply(.entitle(identity: bot, pool: pool, entitlement))
    }

    @discardableResult
    mutating func apply(_ command: Command, at time: Int64? = nil, key: String? = nil,
                        sourceLocation: SourceLocation = #_sourceLocation) -> Outcome {
        if let time { t = time }
        let outcome = ledger.apply(Request(atMs: t, key: key, command), sink: &sink)
        let problems = ledger.invariantViolations()
        #expect(problems.isEmpty, "after \(command): \(problems)", sourceLocation: sourceLocation)
        return outcome
    }

    @discardableResult
    mutating func fund(_ amount: Int64, expiresAt: Int64? = nil, priority: Int32 = 0, effectiveAt: Int64? = nil,
                       category: GrantCategory = .paid, key: String? = nil, pool: PoolID? = nil) -> Outcome {
        apply(.fund(pool: pool ?? self.pool, GrantSpec(amountMicrocredits: amount, effectiveAtMs: effectiveAt,
                                                        expiresAtMs: expiresAt, priority: priority, category: category)),
              key: key)
    }

    @discardableResult
    mutating func debit(_ amount: Int64, tier: Int = 0, key: String? = nil, at time: Int64? = nil) -> Outcome {
        apply(.debit(identity: bot, pool: pool, tier: tier, amountMicrocredits: amount), at: time, key: key)
    }

    @discardableResult
    mutating func authorize(_ amount: Int64, expiresAt: Int64, tier: Int = 0) -> Outcome {
        apply(.authorize(identity: bot, pool: pool, tier: tier, amountMicrocredits: amount, expiresAtMs: expiresAt))
    }

    var available: Int64 { ledger.available(in: pool) }
    var balance: PoolBalance { ledger.balance(of: pool)! }
}
