import Foundation
import Testing
@testable import Simulation

/// `burnrate fit` reads every usage export format.
@Suite("Fitting a workload to a usage export")
struct FitExportTests {
    @Test func aLiteLLMExportIsFittedPerTeamWithItsSkippedRowsSaid() throws {
        let fit = try TraceFit.fit(paths: [try exportFixture("litellm_spend_logs.csv")], format: .litellmSpendLogs,
                                   options: ExportOptions(identityField: "team_id"))
        #expect(fit.requests == 3)
        #expect(fit.failedSkipped == 1)
        #expect(fit.identities.map(\.name) == ["team-search", "team-ads", nil])
        #expect(fit.whole.models.map(\.name) == ["gpt-4o", "claude-sonnet-4-5"])
        #expect(fit.yaml.contains("# burnrate fit "))
        #expect(fit.yaml.contains("--format litellm-spend-logs --identity-field team_id\n"))
        #expect(fit.yaml.contains("; 1 rows whose status is not success skipped"))
    }

    @Test func aBedrockLogIsFittedFromItsTotalInput() throws {
        let fit = try TraceFit.fit(paths: [try exportFixture("bedrock_invocations.jsonl")], format: .bedrockInvocations)
        #expect(fit.requests == 2)
        // Uncached + cache reads + writes: 1600 and 50 tokens.
        #expect(fit.input.mean == 825)
        #expect(fit.identities.isEmpty)
    }

    @Test func openAIPagesAreFittedFromTheirDisaggregatedRequests() throws {
        let fit = try TraceFit.fit(paths: [try exportFixture("openai_usage_page1.json"), try exportFixture("openai_usage_page2.json")],
                                   format: .openaiUsage, options: ExportOptions(identityField: "project_id"))
        #expect(fit.requests == 12)
        #expect(fit.identities.map(\.name) == ["proj_search", "proj_ads"])
        #expect(fit.identities.map(\.workload.requests) == [9, 3])
        // Totals kept exactly: 1003 + 10 + 50 input tokens over 12 requests.
        #expect(abs(fit.input.mean * 12 - 1063) < 1e-9)
        let again = try TraceFit.fit(paths: [try exportFixture("openai_usage_page1.json"), try exportFixture("openai_usage_page2.json")],
                                     format: .openaiUsage, options: ExportOptions(identityField: "project_id"))
        #expect(again.yaml == fit.yaml)
    }

    @Test func anAnthropicReportIsFittedAtTheGivenRequestsPerBucket() throws {
        let path = try exportFixture("anthropic_usage.json")
        #expect(throws: TraceError.self) { try TraceFit.fit(paths: [path], format: .anthropicUsage) }
        let one = try #require(try? TraceFit.fit(paths: [path, path], format: .anthropicUsage, requestsPerBucket: 3))
        #expect(one.requests == 6)
        #expect(one.yaml.contains("--requests-per-bucket 3"))
    }

    @Test func aTraceLayoutTakesOneFile() throws {
        let path = fixture("mooncake_300.csv")
        #expect(throws: TraceError.self) { try TraceFit.fit(paths: [path, path], format: .mooncake) }
    }
}
