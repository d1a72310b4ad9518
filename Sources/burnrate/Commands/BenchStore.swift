import ArgumentParser
import Foundation
import Ledger
import LedgerStore

/// `burnrate bench store`: durable commands per second and acknowledgement latency.
struct BenchStore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Committed commands per second of the durable ledger (synchronous=FULL), and ack latency.",
        discussion: """
            one-per-transaction: one keyed debit at a time, each its own transaction. \
            group-commit: --tasks concurrent clients; the writer commits whatever has queued \
            in one transaction. Latency is from submit to acknowledgement (after commit).
            """
    )

    @Flag(name: .long, help: "Print one JSON object per case.") var json = false
    @Option(name: .long, help: "Commands for one-per-transaction.") var sequential = 2_000
    @Option(name: .long, help: "Concurrent clients for group commit.") var tasks = 64
    @Option(name: .long, help: "Commands per client for group commit.") var perTask = 1_000
    @Option(name: .long, help: "Directory for the temporary database.") var directory = NSTemporaryDirectory()

    static func open(_ path: String) async throws -> (LedgerStore, IdentityID, PoolID) {
        let store = try await LedgerStore(path: path)
        _ = try await store.submit(Request(atMs: 0, .createPool(PoolSpec(name: "eng"))))
        _ = try await store.submit(Request(atMs: 0, .createIdentity(IdentitySpec(name: "bot"))))
        _ = try await store.submit(Request(atMs: 0, .entitle(identity: IdentityID(0), pool: PoolID(0), Entitlement())))
        _ = try await store.submit(Request(atMs: 0, key: "fund", .fund(pool: PoolID(0), GrantSpec(amountMicrocredits: 1 << 50))))
        return (store, IdentityID(0), PoolID(0))
    }

    func run() async throws {
        for (name, concurrent) in [("one-per-transaction", false), ("group-commit", true)] {
            let path = directory + "/burnrate-bench-\(getpid())-\(name).db"
            defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
            let (store, bot, pool) = try await Self.open(path)
            let clock = ContinuousClock()
            let start = clock.now
            var latencies: [Double] = []
            if !concurrent {
                for i in 0..<sequential {
                    let t0 = clock.now
                    _ = try await store.submit(Request(atMs: 1, key: "s\(i)", .debit(identity: bot, pool: pool, tier: 0, amountMicrocredits: 1_000)))
                    latencies.append(seconds(clock.now - t0))
                }
            } else {
                latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
                    for t in 0..<tasks {
                        group.addTask {
                            var mine: [Double] = []
                            for i in 0..<perTask {
                                let t0 = clock.now
                                _ = try await store.submit(Request(atMs: 1, key: "g\(t)-\(i)", .debit(identity: bot, pool: pool, tier: 0, amountMicrocredits: 1_000)))
                                mine.append(seconds(clock.now - t0))
                            }
                            return mine
                        }
                    }
                    return try await group.reduce(into: []) { $0 += $1 }
                }
            }
            let total = seconds(clock.now - start)
            latencies.sort()
            let p50 = latencies[latencies.count / 2] * 1_000, p99 = latencies[Int(Double(latencies.count - 1) * 0.99)] * 1_000
            let rate = Double(latencies.count) / total
            if json {
                print("{\"benchmark\":\"store\",\"case\":\"\(name)\",\"ops_per_second\":\(Int(rate)),\"p50_ms\":\(p50),\"p99_ms\":\(p99)}")
            } else {
                print("store  \(padded(name, 22)) \(Int(rate)) commands/s  p50 \((p50 * 100).rounded() / 100) ms  p99 \((p99 * 100).rounded() / 100) ms")
            }
        }
        try await reopen()
    }

    /// Reopening a store that has run for a week (100,000 keyed debits, one every 6 s): replaying
    /// the whole journal, against starting from the snapshot taken at its end (whose remembered
    /// keys are the last 24 hours').
    func reopen() async throws {
        let path = directory + "/burnrate-bench-\(getpid())-reopen.db"
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
        let commands = 100_000
        do {
            let (store, bot, pool) = try await Self.open(path)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for t in 0..<50 {
                    group.addTask {
                        for i in stride(from: t, to: commands, by: 50) {
                            // One command every 6 s of ledger time, in the order the writer applies them.
                            _ = try await store.submit { l in [Request(atMs: max(l.nowMs, 0) + 6_000, key: "w\(i)", .debit(identity: bot, pool: pool, tier: 0, amountMicrocredits: 1_000))] }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let clock = ContinuousClock()
        var t0 = clock.now
        let full = try await LedgerStore(path: path, snapshotEvery: 0)
        let replay = seconds(clock.now - t0)
        try await full.snapshotNow()
        let keys = await full.state.snapshot().rememberedKeys.count
        let journaled = await full.state.lastSeq
        t0 = clock.now
        let fromSnapshot = try await LedgerStore(path: path, snapshotEvery: 0)
        let restore = seconds(clock.now - t0)
        guard fromSnapshot.recovery.snapshotSeq != nil else { throw ValidationError("the snapshot was not used: \(fromSnapshot.recovery.skipped)") }
        if json {
            print("{\"benchmark\":\"store\",\"case\":\"reopen\",\"commands\":\(journaled),\"remembered_keys\":\(keys),\"replay_seconds\":\(replay),\"snapshot_seconds\":\(restore)}")
        } else {
            print("store  \(padded("reopen", 22)) \(journaled) commands, \(keys) keys remembered: replay \((replay * 1000).rounded() / 1000) s, from the snapshot \((restore * 1000).rounded() / 1000) s")
        }
    }

    func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
