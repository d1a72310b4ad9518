import Ledger

/// `bench ledger`: commands per second through `Ledger.apply` on one core, with a discarding
/// journal sink, on a pool with three grants and two policies.
public enum LedgerBenchmarks {
    /// A fresh ledger: one pool, three grants, two policies, one entitled identity.
    static func setUp() -> (Ledger, PoolID, IdentityID) {
        var ledger = Ledger()
        let pool = ledger.apply(Request(atMs: 0, .createPool(PoolSpec(
            name: "eng",
            policies: [.alerts(thresholdsMicrocredits: [1_000_000_000, 100_000_000]),
                       .overdraft(limitMicrocredits: 50_000_000)])))).acceptance!.pool!
        let bot = ledger.apply(Request(atMs: 0, .createIdentity(IdentitySpec(name: "bot")))).acceptance!.identity!
        ledger.apply(Request(atMs: 0, .entitle(identity: bot, pool: pool, Entitlement())))
        // Large enough never to run dry during a run; expiries beyond the run.
        let big: Int64 = 1 << 60
        ledger.apply(Request(atMs: 0, .fund(pool: pool, GrantSpec(amountMicrocredits: big, expiresAtMs: 1 << 50, priority: 0, category: .promotional))))
        ledger.apply(Request(atMs: 0, .fund(pool: pool, GrantSpec(amountMicrocredits: big, expiresAtMs: 1 << 51, priority: 1))))
        ledger.apply(Request(atMs: 0, .fund(pool: pool, GrantSpec(amountMicrocredits: big, priority: 2))))
        return (ledger, pool, bot)
    }

    public static func run(operations: Int, settings: BenchSettings) -> [BenchResult] {
        let n = operations
        let pairs = max(1, n / 2)
        var results: [BenchResult?] = []
        let keys = (0..<n).map { "req-\($0)" }

        results.append(measure("ledger", "debit", operations: n, settings: settings) {
            var (ledger, pool, bot) = setUp()
            var accepted = 0
            for i in 0..<n {
                let out = ledger.apply(Request(atMs: Int64(i), .debit(identity: bot, pool: pool, tier: 0, amountMicrocredits: 1_250)))
                if out.isAccepted { accepted &+= 1 }
            }
            precondition(accepted == n, "bench: debits refused")
            blackHole(ledger)
        })
        // The same debits by an agent three delegations below the entitled identity: each checks
        // the holder and the delegation, then charges the root's pool hold.
        results.append(measure("ledger", "debit-delegated-depth3", operations: n, settings: settings) {
            var (ledger, pool, bot) = setUp()
            var delegation = DelegationSource.pool(pool)
            var holder = bot
            for (level, name) in ["planner", "researcher", "tool"].enumerated() {
                let a = ledger.apply(Request(atMs: 0, .delegate(identity: holder, child: name, from: delegation,
                                                                 amountMicrocredits: 1 << (52 - level), expiresAtMs: nil))).acceptance!
                delegation = .delegation(a.delegation!)
                holder = a.identity!
            }
            guard case .delegation(let leaf) = delegation else { preconditionFailure("bench: no delegation") }
            var accepted = 0
            for i in 0..<n {
                let out = ledger.apply(Request(atMs: Int64(i), .delegatedDebit(delegation: leaf, identity: holder, tier: 0, amountMicrocredits: 1_250)))
                if out.isAccepted { accepted &+= 1 }
            }
            precondition(accepted == n, "bench: delegated debits refused")
            blackHole(ledger)
        })
        results.append(measure("ledger", "authorize+capture", operations: pairs, settings: settings) {
            var (ledger, pool, bot) = setUp()
            for i in 0..<pairs {
                let t = Int64(i)
                let hold = ledger.apply(Request(atMs: t, .authorize(identity: bot, pool: pool, tier: 0,
                    amountMicrocredits: 4_000, expiresAtMs: t + 60_000))).acceptance!.hold!
                let out = ledger.apply(Request(atMs: t, .capture(hold: hold, amountMicrocredits: 2_750)))
                precondition(out.isAccepted, "bench: capture refused")
            }
            blackHole(ledger)
        })
        results.append(measure("ledger", "debit-keyed", operations: n, settings: settings) {
            var (ledger, pool, bot) = setUp()
            for i in 0..<n {
                let out = ledger.apply(Request(atMs: Int64(i), key: keys[i], .debit(identity: bot, pool: pool, tier: 0, amountMicrocredits: 1_250)))
                precondition(out.isAccepted, "bench: debit refused")
            }
            blackHole(ledger)
        })
        results.append(measure("ledger", "authorize+capture-keyed", operations: pairs, settings: settings) {
            var (ledger, pool, bot) = setUp()
            for i in 0..<pairs {
                let t = Int64(i)
                let hold = ledger.apply(Request(atMs: t, key: keys[2 * i], .authorize(identity: bot, pool: pool, tier: 0,
                    amountMicrocredits: 4_000, expiresAtMs: t + 60_000))).acceptance!.hold!
                let out = ledger.apply(Request(atMs: t, key: keys[2 * i + 1], .capture(hold: hold, amountMicrocredits: 2_750)))
                precondition(out.isAccepted, "bench: capture refused")
            }
            blackHole(ledger)
        })
        return results.compactMap { $0 }
    }
}
