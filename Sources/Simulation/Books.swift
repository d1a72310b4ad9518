import Ledger
import Stochastic

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

/// The books of a replication: counters, downtime, the sampled series, and the conservation laws
/// checked at the horizon.
extension ReplicationRun {

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
    mutating func closeBooks() throws(ConservationError) -> ReplicationResult {
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
        if let tokenClasses { result.tokenClasses = tokenClasses.value.summary(prices) }
        closeAgentBooks()

        func violation(_ message: String) -> ConservationError { ConservationError(replication: replication, message: message) }
        let t = result.totals
        guard t.requestsTotal == t.requestsServed + t.requestsDegraded + t.requestsRejected + t.requestsInFlight else {
            throw violation("requests total \(t.requestsTotal) ≠ served \(t.requestsServed) + degraded \(t.requestsDegraded) + rejected \(t.requestsRejected) + in flight \(t.requestsInFlight)")
        }
        let close = OpeningBooks(ledger, pools: compiled.poolIDs)
        let spent = close.spent - opening.spent
        guard t.spendMicrocredits == spent else { throw violation("spend counted \(t.spendMicrocredits) ≠ ledger usage + overage \(spent)") }
        let funded = close.funded - opening.funded, expired = close.expired - opening.expired
        let balances = close.balances - opening.balances
        guard funded == spent + expired + balances else {
            throw violation("funded \(funded) ≠ spent \(spent) + expired \(expired) + balances \(balances)")
        }
        return result
    }
}

/// The ledger's cumulative books at one moment: spent (usage + overage), funded, expired, and
/// the pools' balances. A run checks its conservation laws on the change between its start and
/// its end, so that a run forward from a live ledger is held to the same laws as a fresh one.
struct OpeningBooks {
    var spent: Int64 = 0, funded: Int64 = 0, expired: Int64 = 0, balances: Int64 = 0

    init() {}

    init(_ ledger: Ledger, pools: [PoolID]) {
        spent = ledger.balance(of: .usage) + ledger.balance(of: .overage)
        funded = -ledger.balance(of: .funding)
        expired = ledger.balance(of: .expiry)
        for id in pools { balances += ledger.balance(of: .pool(id)) }
    }
}

/// A broken conservation law: a bug in the simulator or the ledger, never a metric.
public struct ConservationError: Error, CustomStringConvertible, Sendable {
    public var replication: Int
    public var message: String
    public var description: String { "replication \(replication): conservation violated: \(message)" }
}
