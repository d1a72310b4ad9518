import Foundation
import Ledger
import Stochastic
import Testing
@testable import Simulation

/// Token classes in the simulator: cache shares of synthetic workloads, the prefix-cache model of
/// replays with block hashes, batch pricing, reservations with the class split, and the books.
@Suite("Caches and token classes")
struct CacheTests {
    /// Sonnet-like rates (micro-credits per million tokens): input 3, cache read 0.3, write 3.75,
    /// output 15 per token; batch × 0.5.
    static let sonnet = ModelPrice(model: "sonnet", tier: 0, inputMicrocreditsPerMillionTokens: 3_000_000,
                                   outputMicrocreditsPerMillionTokens: 15_000_000,
                                   cachedInputMicrocreditsPerMillionTokens: 300_000, cacheWriteMicrocreditsPerMillionTokens: 3_750_000,
                                   batchMultiplierPartsPerMillion: 500_000)

    static func periodic(input: Int64, output: Int64, cache: CacheModel?, batch: Bool = false, hours: Int64 = 10) -> SimulationModel {
        var m = singlePoolModel(horizonHours: hours, ratePerHour: 0, fundingMicrocredits: credits(1_000_000), prices: [Self.sonnet],
                                input: .constant(Double(input)), output: .constant(Double(output)), arrivals: .periodic(intervalMs: Millis.hour))
        m.workloads[0].cache = cache
        m.workloads[0].batch = batch
        return m
    }

    @Test func constantSharesSplitEachRequestsInputByFloor() throws {
        // I = 1,001: floor(500.5) = 500 reads, floor(250.25) = 250 writes, 251 uncached; 100 output.
        // 251 × 3 + 500 × 0.3 + 250 × 3.75 + 100 × 15 = 753 + 150 + 937.5 + 1,500 = 3,340.5 → 3,341 µcr.
        let r = try Engine.run(try CompiledModel(Self.periodic(input: 1_001, output: 100, cache: .shares(read: .constant(0.5), write: .constant(0.25)))), replication: 0)
        let n = r.totals.requestsTotal
        #expect(n == 10)
        #expect(r.totals.spendMicrocredits == n * 3_341)
        let t = try #require(r.tokenClasses)
        #expect(t.tokens == [251, 500, 250, 0, 100].map { Double($0 * n) })
        #expect(abs(t.cachedInputShare - 500.0 / 1_001) < 1e-12)
        // Saved: 500 × (3 − 0.3) + 250 × (3 − 3.75) = 1,350 − 187.5 = 1,162.5 µcr per request.
        #expect(abs(t.savedCredits - Double(n) * 1_162.5e-6) < 1e-9)
        #expect(abs(t.spendCredits[1] - Double(n) * 150e-6) < 1e-12)
        let m = r.runMetrics
        #expect(m[Metric.cachedInputShare.name] == t.cachedInputShare)
        #expect(m[Metric.cacheWriteSpendCredits.name] == t.spendCredits[2])
    }

    @Test func aRunWithoutCacheOrBatchHasNoTokenClassBooks() throws {
        let r = try Engine.run(try CompiledModel(Self.periodic(input: 1_001, output: 100, cache: nil)), replication: 0)
        #expect(r.tokenClasses == nil)
        #expect(r.runMetrics[Metric.cachedInputShare.name] == nil)
        // 1,001 × 3 + 100 × 15 = 4,503 µcr: the two-rate price.
        #expect(r.totals.spendMicrocredits == 10 * 4_503)
    }

    @Test func batchHalvesEveryClassBeforeTheOneRoundingUp() throws {
        // (3,003 + 1,500) × 0.5 = 2,251.5 → 2,252 µcr.
        let r = try Engine.run(try CompiledModel(Self.periodic(input: 1_001, output: 100, cache: nil, batch: true)), replication: 0)
        #expect(r.totals.spendMicrocredits == 10 * 2_252)
        #expect(r.tokenClasses?.cachedInputShare == 0)
    }

    @Test func drawnSharesAreClippedConserveTokensAndLeaveArrivalsAsTheyWere() throws {
        // read ~ uniform(−1, 2) clipped: 0 or 1 a third of the time each, uniform between:
        // mean 1/2. write 0.5, clipped to 1 − read.
        let read = Sampler.uniform(try Uniform(lower: -1, upper: 2))
        var cached = singlePoolModel(horizonHours: 100, ratePerHour: 30, fundingMicrocredits: credits(1_000_000), prices: [Self.sonnet],
                                     input: .constant(1_000), output: .constant(10))
        cached.workloads[0].cache = .shares(read: read, write: .constant(0.5))
        var plain = cached
        plain.workloads[0].cache = nil
        let a = try Engine.run(try CompiledModel(cached), replication: 3)
        let b = try Engine.run(try CompiledModel(plain), replication: 3)
        #expect(a.totals.requestsTotal == b.totals.requestsTotal)
        let t = try #require(a.tokenClasses)
        let n = Double(a.totals.requestsTotal)
        #expect(t.tokens[0] + t.tokens[1] + t.tokens[2] == n * 1_000)
        #expect(abs(t.cachedInputShare - 0.5) < 0.05, "share \(t.cachedInputShare) over \(n) requests")
        // Writes: 0.5 of input while read ≤ 1/2, 1 − read above: mean 1/6 + 1/6 × 1/2 + … ≈ 0.333.
        #expect(t.tokens[2] / (n * 1_000) > 0.25 && t.tokens[2] / (n * 1_000) < 0.42)
        #expect(a.totals.spendMicrocredits < b.totals.spendMicrocredits)
    }

    /// The savings are what the same requests cost all uncached, less what they cost: within the
    /// per-request rounding (under one micro-credit a request each way), and the classes add up
    /// to the spend the same way.
    @Test func savingsAndSpendByClassAddUpToTheUncachedRunsSpend() throws {
        var cached = singlePoolModel(horizonHours: 50, ratePerHour: 40, fundingMicrocredits: credits(1_000_000), prices: [Self.sonnet],
                                     input: .lognormal(try LogNormal(median: 20_000, sigma: 1)), output: .constant(300))
        cached.workloads[0].cache = .shares(read: .uniform(try Uniform(lower: 0.5, upper: 0.95)), write: .constant(0.05))
        var plain = cached
        plain.workloads[0].cache = nil
        let a = try Engine.run(try CompiledModel(cached), replication: 1)
        let b = try Engine.run(try CompiledModel(plain), replication: 1)
        let t = try #require(a.tokenClasses)
        let n = Double(a.totals.requestsTotal)
        #expect(n > 1_000 && a.totals.requestsTotal == b.totals.requestsTotal)
        let spent = Double(a.totals.spendMicrocredits) / 1e6, uncached = Double(b.totals.spendMicrocredits) / 1e6
        #expect(abs(uncached - (spent + t.savedCredits)) <= n * 1e-6)
        #expect(abs(spent - t.spendCredits.reduce(0, +)) <= n * 1e-6)
        #expect(t.savedCredits > 0.5 * spent)
    }

    @Test func aReservationForMaxOutputTokensUsesTheRequestsClassSplit() throws {
        var m = Self.periodic(input: 1_001, output: 100, cache: .shares(read: .constant(0.5), write: .constant(0.25)), hours: 2)
        m.workloads[0].latencyMs = .constant(1_000)
        m.workloads[0].reserve = .maxOutputTokens(1_000)
        m.recordsJournal = true
        let r = try Engine.run(try CompiledModel(m), replication: 0)
        let holds = (r.journal ?? []).compactMap { rec -> Int64? in
            if case .authorize(_, _, _, let amount, _) = rec.request.command { amount } else { nil }
        }
        // 753 + 150 + 937.5 + 1,000 × 15 = 16,840.5 → 16,841 µcr held; 3,341 captured.
        #expect(holds == [16_841, 16_841])
        #expect(r.totals.spendMicrocredits == 2 * 3_341)
    }

    // MARK: Prefix cache

    /// Six requests, hand-computed with a 5-minute ttl:
    /// 0: t 0, 1,500 tokens, blocks 1 2 3 — nothing warm: 0 cached.
    /// 1: t 0, 1,100, blocks 1 2 9 — 1 and 2 warm (earlier in the file at the same time): 1,024.
    /// 2: t 200 s, 700, blocks 1 4 — 1 warm (seen at 0 ≥ 200 s − 300 s): 512.
    /// 3: t 400 s, 2,000, blocks 2 1 4 — 2 was last seen at 0 < 100 s: 0, though 1 and 4 are warm.
    /// 4: t 400 s, 300, blocks 2 1 — both refreshed by request 3: min(300, 1,024) = 300.
    /// 5: t 800 s, 600, blocks 3 3 — 3 went cold; a block does not warm its own repeat: 0.
    static func handTrace() -> Trace {
        var t = Trace()
        let rows: [(Int64, Int32, [Int64])] = [(0, 1_500, [1, 2, 3]), (0, 1_100, [1, 2, 9]), (200_000, 700, [1, 4]),
                                               (400_000, 2_000, [2, 1, 4]), (400_000, 300, [2, 1]), (800_000, 600, [3, 3])]
        t.blockOffsets = [0]
        for (time, input, blocks) in rows {
            t.timesMs.append(time); t.inputTokens.append(input); t.outputTokens.append(0)
            t.identities.append(-1); t.models.append(-1)
            t.blockHashes += blocks
            t.blockOffsets.append(t.blockHashes.count)
        }
        return t
    }

    static let flat = ModelPrice(model: "m", tier: 0, inputMicrocreditsPerMillionTokens: 1_000_000, outputMicrocreditsPerMillionTokens: 0,
                                 cachedInputMicrocreditsPerMillionTokens: 100_000, cacheWriteMicrocreditsPerMillionTokens: 2_000_000)

    func replay(_ trace: Trace, writeNewBlocks: Bool, price: ModelPrice = Self.flat) throws -> ReplicationResult {
        var m = singlePoolModel(horizonHours: 1, ratePerHour: 0, fundingMicrocredits: credits(1_000_000), prices: [price],
                                arrivals: .replay(ReplaySource(trace: trace)))
        m.workloads[0].cache = .prefix(ttlMs: 5 * Millis.minute, writeNewBlocks: writeNewBlocks)
        return try Engine.run(try CompiledModel(m), replication: 0)
    }

    @Test func thePrefixCacheCountsLeadingWarmBlocksOfAHandComputedTrace() throws {
        let r = try replay(Self.handTrace(), writeNewBlocks: false)
        let t = try #require(r.tokenClasses)
        #expect(t.tokens == [4_364, 1_836, 0, 0, 0])
        // 1,500 + ⌈76 + 102.4⌉ + ⌈188 + 51.2⌉ + 2,000 + ⌈30⌉ + 600 = 4,549 µcr.
        #expect(r.totals.spendMicrocredits == 4_549)
    }

    @Test func writeNewBlocksBillsTheRestAsCacheWrites() throws {
        let r = try replay(Self.handTrace(), writeNewBlocks: true)
        #expect(r.tokenClasses?.tokens == [0, 1_836, 4_364, 0, 0])
        // 3,000 + ⌈102.4 + 152⌉ + ⌈51.2 + 376⌉ + 4,000 + 30 + 1,200 = 8,913 µcr.
        #expect(r.totals.spendMicrocredits == 8_913)
    }

    /// The real Mooncake slice, against an independent reading of its rows with Foundation.
    @Test func thePrefixCacheOnTheMooncakeSliceMatchesAnIndependentCount() throws {
        let path = fixture("mooncake_300.csv")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var lastSeen: [Int64: Int64] = [:]
        var cachedTotal: Int64 = 0, spend: Int64 = 0, rows = 0
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            let time = Int64(f[0])!, input = Int64(f[1])!, output = Int64(f[2])!
            let blocks = f[3].split(separator: " ").map { Int64($0)! }
            var k: Int64 = 0
            for b in blocks { if let s = lastSeen[b], s >= time - 300_000 { k += 1 } else { break } }
            for b in blocks { lastSeen[b] = time }
            let cached = min(input, 512 * k)
            cachedTotal += cached
            // gpt-4o-mini: 0.15 input, 0.075 cached, 0.60 output (µcr per token × 10⁶).
            spend += ((input - cached) * 150_000 + cached * 75_000 + output * 600_000 + 999_999) / 1_000_000
            rows += 1
        }
        #expect(rows == 300 && cachedTotal > 0)
        let mini = ModelPrice(model: "gpt-4o-mini", tier: 0, inputMicrocreditsPerMillionTokens: 150_000, outputMicrocreditsPerMillionTokens: 600_000,
                              cachedInputMicrocreditsPerMillionTokens: 75_000)
        let trace = try Trace.load(path: path, format: .mooncake, blocks: true)
        #expect(trace.blockOffsets.count == 301)
        let r = try replay(trace, writeNewBlocks: false, price: mini)
        #expect(r.totals.requestsTotal == 300)
        #expect(r.tokenClasses?.tokens[1] == Double(cachedTotal))
        #expect(r.totals.spendMicrocredits == spend)
    }

    @Test func aTraceWithoutHashIdsOrWithABadOneIsAnErrorAtItsLineAndColumn() throws {
        #expect(throws: TraceError.self) { try Trace.load(path: fixture("azure_conv_500.csv"), format: .azureLLM, blocks: true) }
        let dir = NSTemporaryDirectory() + "burnrate-cache-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "timestamp_ms,input_length,output_length,hash_ids\n0,10,1,1 2\n5,10,1,3 x4\n".write(toFile: dir + "/t.csv", atomically: true, encoding: .utf8)
        do {
            _ = try Trace.load(path: dir + "/t.csv", format: .mooncake, blocks: true)
            Issue.record("a bad hash id was read")
        } catch {
            #expect(error.line == 3 && error.column == 10, "\(error)")
        }
    }
}
