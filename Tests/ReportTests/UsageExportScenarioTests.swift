import Foundation
import Testing
@testable import Reports
@testable import Scenario
@testable import Simulation

/// The `replay:` keys of usage exports (DESIGN.md, "Usage exports as replay sources").
@Suite("Usage export scenarios")
struct UsageExportScenarioTests {
    static let spendLogs = """
        request_id,spend,prompt_tokens,completion_tokens,startTime,model,team_id,api_key,status,metadata
        r1,0.0016150000000000001,1000,46,2026-03-02 09:00:00.000,gpt-4o,team-search,k1,success,"{""additional_usage_values"": {""cache_read_input_tokens"": 600}}"
        r2,3.7483499999999997e-03,1200,99,2026-03-02 09:00:30.500,gpt-4o,team-ads,k2,success,{}
        r3,0.5,10,10,2026-03-02 09:01:00.000,gpt-4o,team-ads,k2,failure,{}
        r4,0.00125,250,50,2026-03-02 09:02:00.000,gpt-4o-2024-08-06,team-new,k3,success,{}

        """

    /// A folder with the spend logs and a scenario replaying them with `replay` (YAML flow).
    func scenario(_ replay: String, files: [String: String] = [:]) -> (yaml: String, directory: String) {
        let dir = temporaryDirectory()
        try! Self.spendLogs.write(toFile: dir + "/spend.csv", atomically: true, encoding: .utf8)
        for (name, text) in files { try! text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
        let yaml = """
            name: exports
            horizon: 1d
            prices:
              gpt-4o: { input: 2.50, output: 10.00 }
            pools: [ { id: eng, grants: [ { amount: 1000 } ] } ]
            identities:
              - { id: search, pool: eng }
              - { id: ads, pool: eng }
              - id: fallback
                pool: eng
                workload:
                  replay: \(replay)

            """
        return (yaml, dir)
    }

    func parse(_ replay: String, files: [String: String] = [:]) -> Result<Scenario, ScenarioErrors> {
        let (yaml, dir) = scenario(replay, files: files)
        do { return .success(try Scenario.parse(yaml: yaml, file: "s.yaml", directory: dir)) } catch { return .failure(error) }
    }

    func errors(_ replay: String, files: [String: String] = [:]) -> [String] {
        if case .failure(let e) = parse(replay, files: files) { return e.errors.map(\.message) }
        return []
    }

    func source(_ s: Scenario) throws -> ReplaySource {
        let w = try #require(s.base.workloads.first)
        guard case .replay(let r) = w.arrivals else { Issue.record("not a replay"); throw CancellationError() }
        return r
    }

    @Test func identityFieldValuesMapToIdentitiesAndTheRestToTheWorkloadsOwn() throws {
        let s = try parse("{ trace: spend.csv, format: litellm-spend-logs, identity_field: team_id, identities: { team-search: search, team-ads: ads }, models: { gpt-4o-2024-08-06: gpt-4o }, resample: none }").get()
        let r = try source(s)
        #expect(r.trace.identityNames == ["team-search", "team-ads", "team-new"])
        let ids = s.identityNames
        #expect(r.identityMap.map { $0 >= 0 ? ids[$0] : "-" } == ["search", "ads", "-"])
        #expect(r.trace.skippedNotSuccess == 1)
        #expect(r.pricesEveryRequest)
    }

    @Test func aRowOfAnUnknownModelNamesTheFileTheRowAndTheModel() throws {
        let e = errors("{ trace: spend.csv, format: litellm-spend-logs }")
        #expect(e.contains { $0.contains("spend.csv:5 names model 'gpt-4o-2024-08-06', which is not in prices") }, "\(e)")
    }

    @Test func aCacheKeyOnAnExportIsAnError() {
        let e = errors("{ trace: spend.csv, format: litellm-spend-logs, models: { gpt-4o-2024-08-06: gpt-4o }, cache: { prefix_ttl: 5m } }")
        #expect(e.contains { $0.contains("records its cache split, which is priced by token class: 'cache:' does not apply") }, "\(e)")
    }

    @Test func aWorkloadCacheOnAnExportReplayIsAnError() {
        let (yaml, dir) = scenario("{ trace: spend.csv, format: litellm-spend-logs, models: { gpt-4o-2024-08-06: gpt-4o } }")
        let text = yaml.replacingOccurrences(of: "    workload:\n", with: "    workload:\n      cache: { read: 0.5, write: 0 }\n")
        do {
            _ = try Scenario.parse(yaml: text, file: "s.yaml", directory: dir)
            Issue.record("accepted")
        } catch {
            #expect(error.errors.contains { $0.message.contains("export records its cache split, which is priced by token class") }, "\(error)")
        }
    }

    @Test func loggedCostReadsSpendAtCreditsPerUSD() throws {
        let s = try parse("{ trace: spend.csv, format: litellm-spend-logs, models: { gpt-4o-2024-08-06: gpt-4o }, cost: logged, credits_per_usd: 100 }").get()
        #expect(try source(s).trace.loggedCostsMicrocredits == [161_500, 374_835, 125_000])
        let priced = try parse("{ trace: spend.csv, format: litellm-spend-logs, models: { gpt-4o-2024-08-06: gpt-4o } }").get()
        #expect(try source(priced).trace.loggedCostsMicrocredits.isEmpty)
    }

    @Test(arguments: [
        ("{ trace: b.jsonl, format: bedrock-invocations, cost: logged }", "records no cost of its own"),
        ("{ trace: spend.csv, format: litellm-spend-logs, credits_per_usd: 100 }", "credits_per_usd converts a logged cost: it needs 'cost: logged'"),
        ("{ trace: spend.csv, format: litellm-spend-logs, cost: logged, credits_per_usd: 1e-3x }", "credits_per_usd must be a decimal number above 0"),
        ("{ trace: spend.csv, format: litellm-spend-logs, cost: billed }", "cost is priced (the scenario's prices) or logged"),
        ("{ trace: spend.csv, format: litellm-spend-logs, identity_field: team }", "export has no identity field 'team'; expected team_id, api_key, user, end_user"),
        ("{ trace: spend.csv, format: litellm-spend-logs, identities: { a: search } }", "identities map the values of 'identity_field'"),
        ("{ trace: a.json, format: anthropic-usage }", "needs 'requests_per_bucket: N'"),
        ("{ trace: [], format: openai-usage }", "the list of files is empty"),
        ("{ trace: [spend.csv], format: generic }", "a list of files is for usage exports"),
        ("{ trace: spend.csv, format: openai-usage, requests_per_bucket: 3 }", "unknown key 'requests_per_bucket'"),
    ])
    func misusedExportKeysAreErrors(replay: String, message: String) {
        let e = errors(replay, files: ["b.jsonl": "", "a.json": ""])
        #expect(e.contains { $0.contains(message) }, "\(e)")
    }

    @Test func pagesOfOneExportReadInOrderAsOneReplay() throws {
        func page(_ start: Int, _ requests: Int) -> String {
            #"{"object": "page", "data": [{"object": "bucket", "start_time": \#(start), "end_time": \#(start + 3600), "results": [{"input_tokens": 100, "input_cached_tokens": 40, "output_tokens": 10, "num_model_requests": \#(requests), "model": "gpt-4o", "project_id": "p1"}]}], "has_more": false}"#
        }
        let s = try parse("{ trace: [p1.json, p2.json], format: openai-usage, identity_field: project_id, identities: { p1: ads } }",
                          files: ["p1.json": page(1_772_442_000, 3), "p2.json": page(1_772_445_600, 2)]).get()
        let r = try source(s)
        #expect(r.trace.buckets?.totalRequests == 5)
        #expect(r.trace.spanMs == 7_200_000)
        #expect(r.identityMap == [s.identityNames.firstIndex(of: "ads")!])
        #expect(r.blockMs == Int64(5 * 60_000))
    }

    @Test func anExportErrorNamesTheFileAsTheScenarioWroteIt() {
        let e = errors("{ trace: [ok.json, bad.json], format: openai-usage }",
                       files: ["ok.json": #"{"object": "page", "data": []}"#, "bad.json": "{\"object\": \"page\",\n\"data\": [{\"start_time\": \"x\"}]}"])
        #expect(e.contains { $0.contains("bad.json:2: field 'start_time' must be whole Unix seconds") }, "\(e)")
    }

    @Test func burnrateFitReadsAnExportsPagesAndItsIdentityField() throws {
        let (_, dir) = scenario("{}")
        let out = try burnrate(["fit", "spend.csv", "--format", "litellm-spend-logs", "--identity-field", "team_id", "--pool", "eng"], in: dir)
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("# 3 requests over "))
        #expect(out.stdout.contains("1 rows whose status is not success skipped"))
        #expect(out.stdout.contains("  - id: team-search   #"))
        let bad = try burnrate(["fit", "spend.csv", "--format", "anthropic-usage"], in: dir)
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("give --requests-per-bucket N"))
        let field = try burnrate(["fit", "spend.csv", "--format", "bedrock-invocations", "--identity-field", "team_id"], in: dir)
        #expect(field.stderr.contains("has no field 'team_id'; expected one of identity.arn"))
    }

    @Test func summaryJSONSaysHowManyRowsEachExportReplaySkipped() throws {
        let s = try parse("{ trace: spend.csv, format: litellm-spend-logs, models: { gpt-4o-2024-08-06: gpt-4o }, cost: logged, resample: none }").get()
        let summary = Summary(try RunData.run(s, replications: 2, threads: 1))
        let json = try JSONSerialization.jsonObject(with: Data(summary.text.utf8)) as! [String: Any]
        #expect(json["replay_rows_skipped"] as? [String: Int] == ["fallback": 1])
        // Spend is the logged cost of the three successful rows, in every replication.
        let spend = (json["metrics"] as! [String: Any])["spend_credits"] as! [String: Any]
        #expect(abs((spend["mean"] as! Double) - 0.006613) < 1e-9)
        // The recorded split reaches the token-class metrics: 600 of 2450 input tokens were cache reads.
        let share = (json["metrics"] as! [String: Any])["cached_input_share"] as! [String: Any]
        #expect(abs((share["mean"] as! Double) - 600.0 / 2450) < 1e-9)
    }

    @Test func aDisaggregatedReplayGivesTheSameSummaryOnAnyThreadCount() throws {
        let page = #"{"object": "page", "data": [{"object": "bucket", "start_time": 1772442000, "end_time": 1772445600, "results": [{"input_tokens": 90000, "input_cached_tokens": 40000, "output_tokens": 7000, "num_model_requests": 300, "model": "gpt-4o", "project_id": "p1"}, {"input_tokens": 500, "output_tokens": 100, "num_model_requests": 40, "model": "gpt-4o", "project_id": "p2"}]}]}"#
        let s = try parse("{ trace: p.json, format: openai-usage, identity_field: project_id, identities: { p1: ads }, resample: { block: 10m } }",
                          files: ["p.json": page]).get()
        let one = Summary(try RunData.run(s, replications: 6, threads: 1)).text
        let two = Summary(try RunData.run(s, replications: 6, threads: 2)).text
        #expect(one == two)
        let json = try JSONSerialization.jsonObject(with: Data(one.utf8)) as! [String: Any]
        let total = (json["metrics"] as! [String: Any])["requests_total"] as! [String: Any]
        // A 10-minute block bootstrap of a one-hour export: the requests vary by replication.
        #expect((total["sd"] as! Double) > 0)
    }
}
