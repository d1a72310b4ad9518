import Foundation
import Testing
@testable import Reports
@testable import Scenario
@testable import Simulation

/// Reproductions from an outside attack on `check`, `run --precision` and scenario input.
@Suite("Check and scenario input under attack")
struct CheckAttackTests {
    var smallText: String { try! String(contentsOfFile: fixturePath("small.yaml"), encoding: .utf8) }

    func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attack-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    func errors(_ yaml: String, in dir: URL? = nil) -> String? {
        do {
            if let dir {
                try yaml.write(to: dir.appendingPathComponent("s.yaml"), atomically: true, encoding: .utf8)
                _ = try Scenario.load(path: dir.appendingPathComponent("s.yaml").path)
            } else {
                _ = try Scenario.parse(yaml: yaml, file: "s.yaml")
            }
            return nil
        } catch { return "\(error)" }
    }

    /// A baseline's `n: 1e300` trapped in Int(Double); empty or mistyped metrics passed silently.
    @Test func hostileBaselineSummariesAreLocatedErrors() throws {
        let cases: [(String, String)] = [
            (#"{"metrics":{"continuity":{"mean":0.5,"sd":0.1,"n":1e300}},"replications":40}"#, "metrics.continuity.n"),
            (#"{"metrics":{"continuity":{"mean":0.5}},"replications":1e19}"#, "'replications'"),
            (#"{"metrics":{}}"#, "none of the metrics"),
            (#"{"metrics":{"continuity":{"mean":"0.5"}}}"#, "metrics.continuity.mean"),
            (#"{"metrics":{"continuity":{"mean":true}}}"#, "metrics.continuity.mean"),
            (#"{"metrics":{"continuity":7}}"#, "metrics.continuity"),
        ]
        for (text, field) in cases {
            let json = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
            do { _ = try BaselineSummary(json: json); Issue.record("accepted: \(text)") } catch {
                #expect(error.description.contains(field), "\(text): \(error)")
            }
        }
        // Through the command's code: exit-2 failures naming the file.
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("base/small"), withIntermediateDirectories: true)
        try cases[0].0.write(to: dir.appendingPathComponent("base/small/summary.json"), atomically: true, encoding: .utf8)
        try smallText.write(to: dir.appendingPathComponent("small.yaml"), atomically: true, encoding: .utf8)
        let check = CheckRun(paths: [dir.appendingPathComponent("small.yaml").path], baselineSummaries: dir.appendingPathComponent("base").path,
                             replications: 2, threads: 2)
        do { _ = try check.run(); Issue.record("a hostile baseline was accepted") } catch let f as CheckRun.Failure {
            #expect(f.description.contains("base/small/summary.json"))
        }
    }

    @Test func aBaselineSummaryLinkedOutsideItsFolderIsRefused() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("base/small"), withIntermediateDirectories: true)
        try #"{"metrics":{"continuity":{"mean":0.5}}}"#.write(to: dir.appendingPathComponent("outside.json"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("base/small/summary.json").path,
                                                   withDestinationPath: dir.appendingPathComponent("outside.json").path)
        try smallText.write(to: dir.appendingPathComponent("small.yaml"), atomically: true, encoding: .utf8)
        let check = CheckRun(paths: [dir.appendingPathComponent("small.yaml").path], baselineSummaries: dir.appendingPathComponent("base").path,
                             replications: 2, threads: 2)
        do { _ = try check.run(); Issue.record("a baseline outside its folder was read") } catch let f as CheckRun.Failure {
            #expect(f.description.contains("outside"))
        }
    }

    /// The baseline scenario was admitted at its own replications but rerun at the check's.
    @Test func theBaselineRerunIsCostedAtTheReplicationsItRuns() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        for sub in ["now", "base"] { try FileManager.default.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true) }
        try smallText.replacingOccurrences(of: "replications: 8", with: "replications: 1000")
            .replacingOccurrences(of: "rate: 60/h", with: "rate: 1/h").replacingOccurrences(of: "rate: 5/h", with: "rate: 1/h")
            .write(to: dir.appendingPathComponent("now/small.yaml"), atomically: true, encoding: .utf8)
        try smallText.replacingOccurrences(of: "replications: 8", with: "replications: 1")
            .replacingOccurrences(of: "rate: 60/h", with: "rate: 20000/h")
            .write(to: dir.appendingPathComponent("base/small.yaml"), atomically: true, encoding: .utf8)
        var check = CheckRun(paths: [dir.appendingPathComponent("now").path], baselineScenarios: dir.appendingPathComponent("base").path, threads: 2)
        check.maxEvents = 3e6
        do { _ = try check.run(); Issue.record("the baseline's rerun was not costed") } catch let f as CheckRun.Failure {
            #expect(f.description.contains("base/small.yaml"), "\(f)")
        }
    }

    /// A one-row (or one-instant) trace looped or resampled hung `run`.
    @Test func aTraceAtOneInstantCannotBeLoopedOrResampled() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "timestamp,identity,model,input_tokens,output_tokens\n10,a,m,100,10\n10,a,m,100,10\n"
            .write(to: dir.appendingPathComponent("t.csv"), atomically: true, encoding: .utf8)
        let yaml = { (extra: String) in """
            name: one
            horizon: 2d
            prices: { m: { input: 1, output: 1 } }
            pools: [ { id: p, grants: [ { amount: 100 } ] } ]
            identities:
              - id: a
                pool: p
                workload:
                  replay: { trace: t.csv, format: generic\(extra) }
            """ }
        for extra in ["", ", loop: true", ", resample: { block: 1m }"] {
            let e = errors(yaml(extra), in: dir)
            #expect(e?.contains("all fall at one instant") == true, "\(extra): \(e ?? "accepted")")
        }
        #expect(errors(yaml(", resample: none"), in: dir) == nil)
    }

    @Test func ratesBeyondTheClocksResolutionAndNonFiniteTargetsAreErrors() throws {
        for (old, new, message) in [
            ("arrivals: { poisson: { rate: 5/h } }", "arrivals: { periodic: { rate: 3000/s } }", "at most 1000/s"),
            ("arrivals: { poisson: { rate: 5/h } }", "arrivals: { renewal: { rate: 10800000/h, cv: 0.01 } }", "at most 1000/s"),
            ("continuity: \">= 0.5\"", "continuity: \">= nan\"", "a finite number"),
            ("continuity: \">= 0.5\"", "exhaustion_probability.p95: \"<= 0.5\"", "expect its mean"),
            ("continuity: \">= 0.5\"", "..continuity: \">= 0.5\"", "has an empty part"),
        ] {
            let e = errors(smallText.replacingOccurrences(of: old, with: new))
            #expect(e?.contains(message) == true, "\(new): \(e ?? "accepted")")
        }
        #expect(Expectation(text: "continuity >= inf") == nil)
    }

    /// Raising funding to fix continuity failed the gate on unused_credits.
    @Test func unusedCreditsFollowTheFundingAndAreNotARegression() throws {
        #expect(Metric.unusedCredits.better == .neither)
        #expect(throws: DecisionError.self) { try Tolerances.parse(["unused_credits=0.1"]) }
    }

    /// `--precision continuity=1e-300 --replications 2` "stopped by precision" on identical values.
    @Test func precisionIsJudgedFromTheSecondBatchOn() throws {
        let scenario = try Scenario.parse(yaml: smallText, file: "small.yaml")
        let capped = try SequentialRun.run(scenario, precision: ["continuity": 1e-300], cap: 2, threads: 2)
        #expect(capped.stoppedBy == "cap" && capped.replications == 2)
        let early = try SequentialRun.run(scenario, precision: ["continuity": 0.5], cap: 200, threads: 2)
        #expect(early.stoppedBy == "precision" && early.replications == 2 * SequentialRun.batch)
    }

    /// Renaming a scenario in a pull request made the rerun exit 2; it is a new scenario.
    @Test func aRenamedScenarioIsNewNotAnError() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        for sub in ["now", "base"] { try FileManager.default.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true) }
        try smallText.write(to: dir.appendingPathComponent("base/small.yaml"), atomically: true, encoding: .utf8)
        try smallText.replacingOccurrences(of: "name: small", with: "name: small-renamed")
            .write(to: dir.appendingPathComponent("now/small.yaml"), atomically: true, encoding: .utf8)
        let check = CheckRun(paths: [dir.appendingPathComponent("now").path], baselineScenarios: dir.appendingPathComponent("base").path,
                             replications: 2, threads: 2)
        let results = try check.run()
        #expect(results.contains { $0.kind == .new && $0.scenario == "small-renamed" })
    }
}
