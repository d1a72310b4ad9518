import Foundation
import Ledger
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
