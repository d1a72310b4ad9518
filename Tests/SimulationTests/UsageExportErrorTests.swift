import Foundation
import Testing
@testable import Simulation

/// Every malformed row of an export is an error naming the file, the line and the field.
@Suite("Usage export errors")
struct UsageExportErrorTests {
    static let header = "request_id,spend,prompt_tokens,completion_tokens,startTime,model,team_id,status,metadata"

    func failure(_ text: String, _ format: TraceFormat, options: ExportOptions = ExportOptions(),
                 requestsPerBucket: Int64? = nil) -> TraceError? {
        let path = temporaryExport(text)
        do {
            _ = try UsageExport.load(paths: [path], format: format, options: options, requestsPerBucket: requestsPerBucket,
                                     shownPaths: ["shown.txt"])
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [
        ("r1,0.1,12x,5,2026-03-02 09:00:00.000,gpt-4o,t,success,{}", 2, "field 'prompt_tokens' must be a whole number ≥ 0, got '12x'"),
        ("r1,0.1,-3,5,2026-03-02 09:00:00.000,gpt-4o,t,success,{}", 2, "field 'prompt_tokens' must be a whole number"),
        ("r1,0.1,12,5,2026-02-30 09:00:00.000,gpt-4o,t,success,{}", 2, "field 'startTime' must be"),
        ("r1,0.1,12,5,2026-03-02T09:00:00.000,gpt-4o,t,success,{}", 2, "field 'startTime' must be"),
        ("r1,0.1,12,5,2026-03-02 24:00:00,gpt-4o,t,success,{}", 2, "field 'startTime' must be"),
        ("r1,0.1,12,5,2026-03-02 09:00:00.000,,t,success,{}", 2, "field 'model' names no model"),
        ("r1,0.1,12,5,2026-03-02 09:00:00.000,gpt-4o,t,success,\"{\"\"additional_usage_values\"\": {\"\"cache_read_input_tokens\"\": 13}}\"", 2,
         "exceed prompt_tokens (12)"),
        ("r1,0.1,12,5,2026-03-02 09:00:00.000,gpt-4o,t,success,{not json}", 2, "field 'metadata' is not JSON"),
        ("r1,0.1,12,5,2026-03-02 09:00:00.000,gpt-4o", 2, "missing field '"),
        ("r1,0.1,12,5,2026-03-02 09:00:00.000,gpt-4o,t,success,\"{}", 2, "a quoted field that is never closed"),
    ])
    func aMalformedLiteLLMRowIsNamedByFileLineAndField(row: String, line: Int, message: String) throws {
        let text = Self.header + "\n" + "r0,0.1,1,1,2026-03-02 08:00:00.000,gpt-4o,t,success,{}\n".replacingOccurrences(of: "r0", with: "r0") + row + "\n"
        let e = try #require(failure(text, .litellmSpendLogs, options: ExportOptions(identityField: "team_id")))
        #expect(e.path == "shown.txt")
        #expect(e.line == line + 1, "\(e)")
        #expect(e.message.contains(message), "\(e)")
    }

    @Test func aLoggedCostThatIsNotADecimalIsNamed() throws {
        let text = Self.header + "\nr1,0.1.2,1,1,2026-03-02 08:00:00.000,gpt-4o,t,success,{}\n"
        let e = try #require(failure(text, .litellmSpendLogs, options: ExportOptions(loggedCreditsPerUSD: "1")))
        #expect(e.line == 2)
        #expect(e.message.contains("field 'spend' must be a decimal number of USD ≥ 0, got '0.1.2'"))
    }

    @Test func aHeaderWithoutANeededColumnSaysWhich() throws {
        let e = try #require(failure("request_id,startTime,model,prompt_tokens\n", .litellmSpendLogs))
        #expect(e.line == 1)
        #expect(e.message.contains("needs a column 'completion_tokens'"))
    }

    @Test(arguments: [
        (#"{"timestamp": "2026-03-02T09:00:00Z", "modelId": "m", "input": {"inputTokenCount": 5}, "output": {}}"#, "missing field 'output.outputTokenCount'"),
        (#"{"timestamp": "2026-03-02 09:00:00", "modelId": "m", "input": {"inputTokenCount": 5}, "output": {"outputTokenCount": 1}}"#, "field 'timestamp' must be ISO 8601 with a zone"),
        (#"{"timestamp": "2026-03-02T09:00:00Z", "modelId": "m", "input": {"inputTokenCount": 5.5}, "output": {"outputTokenCount": 1}}"#, "field 'input.inputTokenCount' must be a whole number ≥ 0, got 5.5"),
        (#"{"timestamp": "2026-03-02T09:00:00Z", "modelId": "m", "input": {"inputTokenCount": "5"}, "output": {"outputTokenCount": 1}}"#, "got a string"),
        (#"{"timestamp": "2026-03-02T09:00:00Z", "modelId": "m", "input": {"inputTokenCount": 5, "inputTokenCount": 6}, "output": {"outputTokenCount": 1}}"#, "duplicate key 'input.inputTokenCount'"),
        (#"{"timestamp": "2026-03-02T09:00:00Z", "modelId": "m", "input": {"inputTokenCount": 5}, "output": {"outputTokenCount": 1},}"#, "not JSON"),
        (#"{"timestamp": "2026-03-02T09:00:00Z", "input": {"inputTokenCount": 5}, "output": {"outputTokenCount": 1}}"#, "field 'modelId' names no model"),
        (#"{"timestamp": "2026-03-02T09:00:00Z", "modelId": "m", "input": {"inputTokenCount": 5}, "output": {"outputTokenCount": 1}} {}"#, "more than one JSON value on a line"),
    ])
    func aMalformedBedrockLineIsNamedByLineAndField(line: String, message: String) throws {
        let good = #"{"timestamp": "2026-03-02T08:00:00Z", "modelId": "m", "input": {"inputTokenCount": 5}, "output": {"outputTokenCount": 1}}"#
        let e = try #require(failure(good + "\n\n" + line + "\n", .bedrockInvocations))
        #expect(e.path == "shown.txt")
        #expect(e.line == 3, "\(e)")
        #expect(e.message.contains(message), "\(e)")
    }

    static func openAIPage(_ bucket: String) -> String {
        "{\"object\": \"page\",\n \"data\": [\n" + bucket + "\n], \"has_more\": false}"
    }

    @Test(arguments: [
        (#"{"start_time": 1772442000.5, "end_time": 1772445600, "results": []}"#, 3, "field 'start_time' must be whole Unix seconds"),
        (#"{"start_time": 1772442000, "end_time": 1772442000, "results": []}"#, 3, "a bucket must end after it starts"),
        (#"{"end_time": 1772445600, "results": []}"#, 3, "a bucket without 'start_time'"),
        (#"{"start_time": 1772442000, "end_time": 1772445600, "results": [{"input_tokens": 5, "input_cached_tokens": 6, "output_tokens": 1, "num_model_requests": 1, "model": "m"}]}"#,
         3, "field 'input_cached_tokens' (6) exceeds 'input_tokens' (5)"),
        (#"{"start_time": 1772442000, "end_time": 1772445600, "results": [{"input_tokens": 5, "output_tokens": 1, "num_model_requests": 0, "model": "m"}]}"#,
         3, "6 tokens over 0 requests"),
        (#"{"start_time": 1772442000, "end_time": 1772445600, "results": [{"input_tokens": 5, "output_tokens": 1, "model": "m"}]}"#,
         3, "missing field 'num_model_requests'"),
        (#"{"start_time": 1772442000, "end_time": 1772445600, "results": [{"input_tokens": 5, "output_tokens": 1, "num_model_requests": 1, "model": null}]}"#,
         3, "field 'model' names no model"),
    ])
    func aMalformedOpenAIBucketIsNamedByLineAndField(bucket: String, line: Int, message: String) throws {
        let e = try #require(failure(Self.openAIPage(bucket), .openaiUsage))
        #expect(e.line == line, "\(e)")
        #expect(e.message.contains(message), "\(e)")
    }

    @Test func aPageThatIsNotAnOpenAIPageIsRefused() throws {
        let e = try #require(failure(#"{"object": "list", "data": []}"#, .openaiUsage))
        #expect(e.message.contains("field 'object' of an OpenAI usage page is \"page\""))
    }

    @Test func overlappingBucketsOfTwoQueriesAreRefused() throws {
        let hour = #"{"start_time": 1772442000, "end_time": 1772445600, "results": [{"input_tokens": 5, "output_tokens": 1, "num_model_requests": 1, "model": "m"}]}"#
        let day = #"{"start_time": 1772409600, "end_time": 1772496000, "results": [{"input_tokens": 5, "output_tokens": 1, "num_model_requests": 1, "model": "m"}]}"#
        let e = try #require(failure(Self.openAIPage(hour + ",\n" + day), .openaiUsage))
        #expect(e.message.contains("buckets overlap") || e.message.contains("different ends"), "\(e)")
    }

    @Test func anAnthropicReportNeedsRequestsPerBucketAndRFC3339Times() throws {
        let report = #"{"data": [{"starting_at": "2026-03-02T09:00:00Z", "ending_at": "2026-03-02T10:00:00Z", "results": [{"uncached_input_tokens": 3, "output_tokens": 1, "model": "m"}]}]}"#
        let e = try #require(failure(report, .anthropicUsage))
        #expect(e.message.contains("requests_per_bucket"))
        let bad = report.replacingOccurrences(of: "2026-03-02T10:00:00Z", with: "2026-03-02 10:00:00")
        let e2 = try #require(failure(bad, .anthropicUsage, requestsPerBucket: 2))
        #expect(e2.message.contains("field 'ending_at' must be an RFC 3339 date-time with a zone"), "\(e2)")
        let nested = report.replacingOccurrences(of: "\"output_tokens\": 1", with: "\"output_tokens\": 1, \"cache_creation\": {\"ephemeral_1h_input_tokens\": -1}")
        let e3 = try #require(failure(nested, .anthropicUsage, requestsPerBucket: 2))
        #expect(e3.message.contains("field 'cache_creation.ephemeral_1h_input_tokens' must be a whole number"), "\(e3)")
    }

    @Test func anIdentityFieldTheFormatLacksIsRefusedBeforeReading() throws {
        let e = try #require(failure("", .bedrockInvocations, options: ExportOptions(identityField: "team_id")))
        #expect(e.message.contains("has no identity field 'team_id'; expected one of identity.arn"))
    }

    @Test func anExportWithOnlyFailedRowsSaysSo() throws {
        let e = try #require(failure(Self.header + "\nr1,0,1,1,2026-03-02 08:00:00.000,gpt-4o,t,failure,{}\n", .litellmSpendLogs))
        #expect(e.message.contains("the export has no requests (1 rows not 'success' skipped)"))
    }

    @Test(arguments: [
        ("2026-03-02 09:15:00.250", StrictTime.Layout.litellm, Int64(1_772_442_900_250)),
        ("2026-03-02 09:15:00", .litellm, 1_772_442_900_000),
        ("2026-03-02T09:15:00.250Z", .litellm, 1_772_442_900_250),
        ("2026-03-02T10:15:00.250+01:00", .rfc3339, 1_772_442_900_250),
        ("2024-02-29T00:00:00Z", .rfc3339, 1_709_164_800_000),
    ])
    func strictTimestampsReadTheNamedLayouts(text: String, layout: StrictTime.Layout, ms: Int64) {
        #expect(StrictTime.ms(text, layout) == ms)
    }

    @Test(arguments: [
        ("2026-03-02T09:15:00", StrictTime.Layout.rfc3339), ("2026-03-02 09:15:00Z", .rfc3339), ("2025-02-29T00:00:00Z", .rfc3339),
        ("2026-03-02T09:15:60Z", .rfc3339), ("2026-03-02T09:15:00.Z", .rfc3339), ("2026-03-02T09:15:00+0100", .rfc3339),
        ("2026-3-02 09:15:00", .litellm), ("2026-03-02 09:15:00 ", .litellm), ("2026-03-02T09:15:00", .litellm),
        ("2026-03-02 09:15:00+01:00", .litellm), ("2026-13-02 09:15:00", .litellm),
    ])
    func strictTimestampsRefuseEverythingElse(text: String, layout: StrictTime.Layout) {
        #expect(StrictTime.ms(text, layout) == nil)
    }

    @Test func aHugeFieldIsSkippedWithoutBeingKept() throws {
        // A 4 MiB prompt in a JSON line, beyond the 1 MiB any kept value may take: the reader
        // walks past it, so the row reads (it would fail if the field were materialised).
        let prompt = String(repeating: "a", count: 4 << 20)
        let line = #"{"startTime": "2026-03-02T09:00:00Z", "model": "m", "prompt_tokens": 7, "completion_tokens": 2, "messages": ""#
            + prompt + #"", "status": "success"}"#
        let trace = try UsageExport.load(paths: [temporaryExport(line + "\n")], format: .litellmSpendLogs)
        #expect(trace.inputTokens == [7])
    }
}
