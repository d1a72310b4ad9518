import Foundation
import Testing
@testable import Reports
@testable import Scenario
@testable import Simulation

/// `run --precision` (DESIGN.md, "Sequential stopping").
@Suite("Sequential stopping")
struct SequentialTests {
    var small: Scenario { get throws { try Scenario.parse(yaml: try String(contentsOfFile: fixturePath("small.yaml"), encoding: .utf8), file: "small.yaml") } }

    @Test func stopsEarlyWhenThePrecisionIsReached() throws {
        // The sandbox runs dry in every replication: continuity's interval narrows fast.
        let data = try SequentialRun.run(try small, precision: ["continuity": 0.05], cap: 200, threads: 2)
        #expect(data.stoppedBy == "precision")
        #expect(data.replications < 200 && data.replications % SequentialRun.batch == 0)
        #expect(data.variants.allSatisfy { $0.records.map(\.replication) == Array(0..<data.replications) })
        #expect(SequentialRun.halfWidth("continuity", in: data) <= 0.05)
        let json = Summary(data).text
        #expect(json.contains("\"stopped_by\": \"precision\""))
        #expect(json.contains("\"replications\": \(data.replications)"))
        // The same replications as a fixed run of that many: stopping early changes nothing else.
        let fixed = try RunData.run(try small, replications: data.replications, threads: 2)
        #expect(fixed.variants == data.variants)
    }

    @Test func respectsTheCap() throws {
        let data = try SequentialRun.run(try small, precision: ["spend_credits": 1e-9], cap: 30, threads: 2)
        #expect(data.stoppedBy == "cap")
        #expect(data.replications == 30)
        #expect(data.variants[0].records.count == 30)
    }

    @Test func sameBytesOnOneAndTwoThreads() throws {
        let one = Summary(try SequentialRun.run(try small, precision: ["continuity": 0.02, "exhaustion_probability": 0.2], cap: 100, threads: 1)).text
        let two = Summary(try SequentialRun.run(try small, precision: ["continuity": 0.02, "exhaustion_probability": 0.2], cap: 100, threads: 2)).text
        #expect(one == two)
    }

    @Test func targetsAreValidated() throws {
        #expect(throws: DecisionError.self) { try SequentialRun.parse(["contnuity=0.01"]) }
        #expect(throws: DecisionError.self) { try SequentialRun.parse(["spend_cv=0.01"]) }
        #expect(throws: DecisionError.self) { try SequentialRun.parse(["continuity=0"]) }
        #expect(throws: DecisionError.self) { try SequentialRun.parse(["continuity"]) }
        #expect(try SequentialRun.parse(["continuity=0.002"]) == ["continuity": 0.002])
        let text = try String(contentsOfFile: fixturePath("small.yaml"), encoding: .utf8)
        let scenario = try Scenario.parse(yaml: text + "precision: { continuity: 0.01 }\n", file: "small.yaml")
        #expect(scenario.precision == ["continuity": 0.01])
        do {
            _ = try Scenario.parse(yaml: text + "precision: { contnuity: 0.01 }\n", file: "small.yaml")
            Issue.record("a misspelt precision metric was accepted")
        } catch {
            #expect(error.description.contains("small.yaml:34:14:"))
            #expect(error.description.contains("did you mean 'continuity'"))
        }
    }
}
