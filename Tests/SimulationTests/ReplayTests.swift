import Foundation
import Ledger
import Stochastic
import Testing
@testable import Simulation

@Suite("Trace replay")
struct ReplayTests {
    // gpt-4o-mini from shared/data/prices/model_prices.csv: $0.15 / $0.60 per Mtok; one credit = $1.
    static let mini = ModelPrice(model: "gpt-4o-mini", tier: 1, inputMicrocreditsPerMillionTokens: 150_000,
                                 outputMicrocreditsPerMillionTokens: 600_000)

    @Test func replayedSpendEqualsAnIndependentSumOverTheRawRows() throws {
        let path = fixture("azure_conv_500.csv")
        // Independent computation: read the CSV with Foundation, price each row with the rule
        // ⌈(in × 150,000 + out × 600,000) / 10⁶⌉ micro-credits, and add up.
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var expected: Int64 = 0
        var rows = 0
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",")
            let exact = Int64(f[1])! * 150_000 + Int64(f[2])! * 600_000
            expected += (exact + 999_999) / 1_000_000
            rows += 1
        }
        let trace = try Trace.load(path: path, format: .azureLLM)
        #expect(trace.count == rows)
        let model = singlePoolModel(horizonHours: 1, ratePerHour: 0, fundingMicrocredits: credits(1_000_000),
                                    prices: [Self.mini], arrivals: .replay(ReplaySource(trace: trace)))
        let r = try Engine.run(try CompiledModel(model), replication: 0)
        #expect(r.totals.requestsTotal == Int64(rows))
        #expect(r.totals.spendMicrocredits == expected)
    }

    @Test func aLoopedReplayKeepsGoingAndAStoppedOneEnds() throws {
        let trace = try Trace.load(path: fixture("azure_conv_500.csv"), format: .azureLLM)
        let span = trace.spanMs
        let horizonHours = (3 * span) / Millis.hour + 1
        let looped = singlePoolModel(horizonHours: horizonHours, ratePerHour: 0, fundingMicrocredits: credits(1_000_000),
                                     prices: [Self.mini], arrivals: .replay(ReplaySource(trace: trace, loop: true)))
        let stopped = singlePoolModel(horizonHours: horizonHours, ratePerHour: 0, fundingMicrocredits: credits(1_000_000),
                                      prices: [Self.mini], arrivals: .replay(ReplaySource(trace: trace)))
        let a = try Engine.run(try CompiledModel(looped), replication: 0)
        let b = try Engine.run(try CompiledModel(stopped), replication: 0)
        #expect(b.totals.requestsTotal == 500)
        #expect(a.totals.requestsTotal >= 1_500)
    }

    @Test func blockBootstrapResamplesPerReplication() throws {
        let trace = try Trace.load(path: fixture("azure_conv_500.csv"), format: .azureLLM)
        let model = singlePoolModel(horizonHours: 1, ratePerHour: 0, fundingMicrocredits: credits(1_000_000), prices: [Self.mini],
                                    arrivals: .replay(ReplaySource(trace: trace, blockMs: 30 * Millis.second)))
        let compiled = try CompiledModel(model)
        let r0 = try Engine.run(compiled, replication: 0)
        let r1 = try Engine.run(compiled, replication: 1)
        #expect(r0 != r1)
        #expect(r0 == (try Engine.run(compiled, replication: 0)))
        // A 1 h horizon of a trace with 500 requests over ~90 s at the same rate: ≈ 20,000 requests.
        let expected = trace.ratePerHour
        #expect(abs(Double(r0.totals.requestsTotal) - expected) < 0.25 * expected)
    }

    /// A block bootstrap must not lose (or add) demand: the mean request count across
    /// replications is the trace's rate times the horizon, within its sampling error. The trace
    /// covers 29.2 minutes: 7, 20 and 29 minutes do not divide it, 45 minutes is longer, and a
    /// 1 h horizon ends inside a block.
    @Test(arguments: [(5, nil), (7, nil), (20, nil), (29, nil), (20, 60), (45, 60)] as [(Int64, Int64?)])
    func blockBootstrapKeepsTheTracesExpectedDemand(blockMinutes: Int64, horizonMinutes: Int64?) throws {
        let trace = try Trace.load(path: fixture("azure_conv_29min.csv"), format: .azureLLM)
        #expect(trace.count == 9_754)
        var model = singlePoolModel(horizonHours: 1, ratePerHour: 0, fundingMicrocredits: credits(1_000_000), prices: [Self.mini],
                                    arrivals: .replay(ReplaySource(trace: trace, blockMs: blockMinutes * Millis.minute)))
        // By default the trace's own window: replayed as is, it holds all of its requests.
        model.horizonMs = horizonMinutes.map { $0 * Millis.minute } ?? trace.spanMs
        let expected = Double(trace.count) * Double(model.horizonMs) / Double(trace.spanMs)
        let compiled = try CompiledModel(model)
        // 60 keep the debug suite quick; the fixed trim lost 16% here, 10 standard errors.
        let replications = 60
        let counts = try (0..<replications).map { Double(try Engine.run(compiled, replication: $0).totals.requestsTotal) }
        let mean = Statistics.mean(counts)
        let standardError = Statistics.variance(counts).squareRoot() / Double(replications).squareRoot()
        #expect(standardError > 0, "the bootstrap resamples: counts vary across replications")
        #expect(abs(mean - expected) < 4 * standardError,
                "mean \(mean) requests, expected \(expected) (standard error \(standardError), \(blockMinutes) min blocks)")
    }

    @Test func aBootstrapBlockStartsAnywhereOnATraceLongerThan32BitsOfMilliseconds() throws {
        var trace = Trace()
        trace.timesMs = [0, 60 * Millis.day]
        trace.inputTokens = [1, 1]; trace.outputTokens = [1, 1]; trace.identities = [-1, -1]; trace.models = [-1, -1]
        let source = ReplaySource(trace: trace, blockMs: Millis.hour)
        #expect(trace.spanMs > 1 << 32)
        let stream = RandomStream(seed: 1, replication: 0, name: "test")
        let starts = (0..<2_000).map { _ in source.blockStartMs(stream) }
        #expect(starts.allSatisfy { $0 >= 0 && $0 < trace.spanMs })
        // Uniform on [0, span): mean span / 2, standard error span / √(12 n) ≈ 0.0065 span.
        let mean = Statistics.mean(starts.map(Double.init)) / Double(trace.spanMs)
        #expect(abs(mean - 0.5) < 0.03)
    }

    @Test func burstGPTIsReadByHeaderNameAndFailedRowsAreSkipped() throws {
        let path = fixture("burstgpt3_200.csv")
        let reader = try TraceReader(path: path, format: .burstGPT)
        var rows: [TraceRow] = []
        while let r = try reader.next() { rows.append(r) }
        #expect(rows.count == 200)
        #expect(rows[0] == TraceRow(timeMs: 19_440_110_000, inputTokens: 906, outputTokens: 446, identity: nil, model: "GPT-4", failed: false))
        let trace = try Trace.load(path: path, format: .burstGPT)
        #expect(trace.count == rows.filter { !$0.failed }.count)
        #expect(Set(trace.modelNames) == ["GPT-4", "ChatGPT"])
    }

    @Test func mooncakeMillisecondsAreRead() throws {
        let trace = try Trace.load(path: fixture("mooncake_300.csv"), format: .mooncake)
        #expect(trace.count == 300)
        #expect(trace.inputTokens[0] == 6_758 && trace.outputTokens[0] == 500)
    }

    @Test func genericTracesTakeISOTimesOrSecondsAndMapIdentitiesAndModels() throws {
        let path = NSTemporaryDirectory() + "burnrate-generic-\(UUID().uuidString).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try """
        timestamp,identity,model,input_tokens,output_tokens
        2026-03-02T09:15:00.250Z,bot-a,gpt-4o,100,20
        2026-03-02T10:15:00.250+01:00,,gpt-4o-mini,50,5
        2026-03-02T09:15:01Z,bot-b,,10,1
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let trace = try Trace.load(path: path, format: .generic)
        #expect(trace.timesMs == [0, 0, 750])
        #expect(trace.identityNames == ["bot-a", "bot-b"])
        #expect(trace.identities == [0, -1, 1])
        #expect(trace.models == [0, 1, -1])
        // 2026-03-02T09:15:00.250Z in epoch ms (date -u -d '2026-03-02T09:15:00.250Z' +%s%3N).
        #expect(trace.originMs == 1_772_442_900_250)
    }

    @Test func anUnreadableTraceNamesTheFileLineAndColumn() throws {
        let path = NSTemporaryDirectory() + "burnrate-bad-\(UUID().uuidString).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n2023-11-16 18:15:50.9951690,-3,109\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: TraceError(path: path, line: 3, column: 29, message: "input tokens must be a whole number ≥ 0, got '-3'")) {
            try Trace.load(path: path, format: .azureLLM)
        }
        #expect(throws: TraceError.self) { try Trace.load(path: path + ".missing", format: .azureLLM) }
        #expect(throws: TraceError.self) { try Trace.load(path: path, format: .mooncake) }  // wrong header
    }
}
