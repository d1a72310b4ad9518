import Foundation
import Ledger
import LedgerStore

/// `bench store`: durable commands per second and acknowledgement latency, and reopening.
public enum StoreBenchmarks {
    static func open(_ path: String) async throws -> (LedgerStore, IdentityID, PoolID) {
        let store = try await LedgerStore(path: path)
        _ = try await store.submit(Request(atMs: 0, .createPool(PoolSpec(name: "eng"))))
        _ = try await store.submit(Request(atMs: 0, .createIdentity(IdentitySpec(name: "bot"))))
        _ = try await store.submit(Request(atMs: 0, .entitle(identity: IdentityID(0), pool: PoolID(0), Entitlement())))
        _ = try await store.submit(Request(atMs: 0, key: "fund", .fund(pool: PoolID(0), GrantSpec(amountMicrocredits: 1 << 50))))
        return (store, IdentityID(0), PoolID(0))
    }

    /// The lines to print: one per case (JSON objects with `json`).
    public static func run(sequential: Int, tasks: Int, perTask: Int, directory: String, json: Bool) async throws -> [String] {
        var lines: [String] = []
        for (name, concurrent) in [("one-per-transaction", false), ("group-commit", true)] {
            let path = directory + "/burnrate-bench-\(getpid())-\(name).db"
            defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
            let (store, bot, pool) = try await open(path)
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
                lines.append("{\"benchmark\":\"store\",\"case\":\"\(name)\",\"ops_per_second\":\(Int(rate)),\"p50_ms\":\(p50),\"p99_ms\":\(p99)}")
            } else {
                lines.append("store  \(padded(name, 22)) \(Int(rate)) commands/s  p50 \((p50 * 100).rounded() / 100) ms  p99 \((p99 * 100).rounded() / 100) ms")
            }
        }
        lines.append(try await reopen(directory: directory, json: json))
        return lines
    }

    /// Reopening a store that has run for a week (100,000 keyed debits, one every 6 s): replaying
    /// the whole journal, against starting from the snapshot taken at its end (whose remembered
    /// keys are the last 24 hours').
    static func reopen(directory: String, json: Bool) async throws -> String {
        let path = directory + "/burnrate-bench-\(getpid())-reopen.db"
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
        let commands = 100_000
        do {
            let (store, bot, pool) = try await open(path)
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
        guard fromSnapshot.recovery.snapshotSeq != nil else { throw BenchError("the snapshot was not used: \(fromSnapshot.recovery.skipped)") }
        if json {
            return "{\"benchmark\":\"store\",\"case\":\"reopen\",\"commands\":\(journaled),\"remembered_keys\":\(keys),\"replay_seconds\":\(replay),\"snapshot_seconds\":\(restore)}"
        } else {
            return "store  \(padded("reopen", 22)) \(journaled) commands, \(keys) keys remembered: replay \((replay * 1000).rounded() / 1000) s, from the snapshot \((restore * 1000).rounded() / 1000) s"
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}

/// A benchmark that could not measure what it meant to.
public struct BenchError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
