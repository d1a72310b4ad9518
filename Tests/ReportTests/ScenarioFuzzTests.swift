import Foundation
import PropertyBased
import Testing
@testable import Reports
@testable import Scenario

/// Issue #14, "done when": random YAML through the scenario parser, for a bounded time, with no
/// trap and no hang. Two generators: a scenario template whose every value is drawn from a list
/// of hostile and ordinary values (extreme numbers, zero durations, aliases, wrong types), and
/// byte-level mutations of a committed scenario. What parses and is small enough also runs one
/// replication, so that an accepted value cannot trap the engine either. A trap would end the
/// test process (and so fail the run); a hang is caught by the per-case time check.
@Suite("Untrusted files: scenario fuzz")
struct ScenarioFuzzTests {
    /// Seconds each generator runs in the test suite; `BURNRATE_FUZZ_SECONDS` runs it longer.
    static let seconds = ProcessInfo.processInfo.environment["BURNRATE_FUZZ_SECONDS"].flatMap(Double.init) ?? 15
    static let cases = ProcessInfo.processInfo.environment["BURNRATE_FUZZ_SECONDS"] == nil ? 3_000 : 200_000

    static let values = [
        "0", "1", "-1", "2.5", "1e300", "-1e300", "1e-300", "9223372036854", "9223372036854775807", "-9223372036854775808",
        "0.0000001", "nan", ".inf", "-.inf", "\"\"", "[]", "{}", "x", "~", "true", "'<script>|'", "\"a\\nb\"",
        "0s", "1ms", "90s", "15m", "12h", "30d", "4w", "365000d", "1e300d", "-1h",
        "0/m", "1/h", "600/h", "1e9/s", "1e308/s", "1e-300/h", "1e-6/h", "1/w",
        "5x", "0x", "1e300x", "0.5", "0.999", "[1, 2, 3]", "{ fixed: 1 }", "{ fixed: 1e300 }",
        "{ constant: 1e300 }", "{ lognormal: { median: 1e300, sigma: 100 } }", "{ gamma: { mean: 1, cv: 1e300 } }",
        "{ empirical: [] }", "{ pareto: { shape: 1e-300, min: 1 } }", "{ uniform: { min: 1, max: 1e300 } }",
        "{ max_output_tokens: 9223372036854775807 }", "none", "actual",
        "*a", "&a 1", "[*a, *a]",
    ]

    static let template = """
        name: fuzz
        horizon: {0}
        seed: {1}
        replications: {2}
        sample_every: {3}
        hold_timeout: {4}
        credit: {5}
        prices:
          m: { input: {6}, output: {7} }
          f: { fixed: {8} }
        pools:
          - id: p
            period: {9}
            grants: [ { amount: {10}, expires: {11}, effective: {12}, priority: {13} } ]
            refill: { amount: {14}, rollover: {15}, rollover_cap: {16} }
            policies: [ { alerts: [{17}] }, { throttle: { rate: {18}, below: {19} } }, { auto_top_up: { below: {20}, amount: {21}, max_per_period: {22} } }, { overdraft: { limit: {23} } }, { degrade: { below: {24}, to: f } }, { hard_stop: {} } ]
            children:
              - id: c
                grants: [ { amount: {25} } ]
                policies: [ { borrow: { cap: {26} } } ]
        identities:
          - id: a
            pool: p
            caps: { per_day: {27} }
            rate_cap: {28}
            stop: { spend_rate_over: {29}, window: {30}, baseline_windows: {31}, min_spend: {32} }
            workload:
              arrivals: { renewal: { rate: {33}, cv: {34} }, profile: business-hours, growth: { per_day: {35} } }
              model: { m: {36}, f: {37} }
              input_tokens: {38}
              output_tokens: {39}
              latency: {40}
              reserve: {41}
              on_reject: { retry: { max: {42}, backoff: {43}, multiplier: {44} } }
          - id: b
            pool: c
            workload:
              arrivals: { bursty: { base: {45}, burst: {46}, burst_every: {47}, burst_length: {48} } }
              cost: { fixed: {49} }
          - id: d
            pool: c
            workload: { arrivals: { periodic: { rate: {50} } }, model: m }
        faults:
          - runaway: { identity: b, at: {51}, rate: {52}, until: {53} }
        variants:
          v: { a.rate_cap: {54}, p.period: {55} }
        expect:
          continuity: ">= {56}"
        plans:
          - id: pl
            licence: { seats: {57}, price_per_seat: {58}, period: {59}, included_credits: {60}, overage_price_per_credit: {61} }
          - id: pk
            prepaid: { pack: { credits: {62}, price: {63} }, expires: {64} }
        """

    /// What each slot of the template holds when it is not drawn from `values`: the template
    /// with these parses and runs, so that a case with a few hostile values reaches the engine.
    static let defaults = [
        "2d", "1", "1", "1h", "1h", "1", "1", "1", "1", "1d", "100", "30d", "0s", "0", "10", "0.5", "10", "0.5", "60/h", "0.1",
        "0.1", "10", "100", "5", "0.2", "10", "5", "50", "600/h", "5x", "1h", "24", "1", "20/h", "1.5", "0.01", "0.5", "0.5",
        "{ lognormal: { median: 1000, sigma: 0.5 } }", "200", "2s", "actual", "2", "1s", "2", "5/h", "50/h", "6h", "30m", "0.01",
        "2/h", "1d", "10/m", "36h", "60/h", "12h", "0.5", "3", "10", "30d", "100", "1", "100", "90", "90d",
    ]

    static let slots = 65

    func filled(_ value: (Int) -> String) -> String {
        var yaml = Self.template
        for slot in (0..<Self.slots).reversed() { yaml = yaml.replacingOccurrences(of: "{\(slot)}", with: value(slot)) }
        return yaml
    }

    @Test func theTemplateWithItsDefaultsParsesAndRuns() throws {
        #expect(Self.defaults.count == Self.slots)
        let s = try Scenario.parse(yaml: filled { Self.defaults[$0] }, file: "fuzz.yaml")
        #expect(s.workProblem(replications: 1, maxEvents: 200_000) == nil)
        _ = try RunData.run(s, replications: 1, threads: 1)
    }

    /// Parses `yaml`; when it is accepted and small, runs one replication. Returns the seconds taken.
    @discardableResult
    func exercise(_ yaml: String) throws -> Double {
        let started = Date()
        if let s = try? Scenario.parse(yaml: yaml, file: "fuzz.yaml"),
           s.workProblem(replications: 1, maxEvents: 200_000) == nil {
            _ = try? RunData.run(s, replications: 1, threads: 1)
        }
        return Date().timeIntervalSince(started)
    }

    @Test func randomValuesInEveryFieldNeverTrapNorHang() async throws {
        let deadline = Date().addingTimeInterval(Self.seconds)
        // A density d makes each slot hostile with probability 1/d: from all of them to one or two.
        let cases = zip(Gen.int(in: 1...40), Gen.int(in: 0...999_999).array(of: Self.slots...Self.slots))
        await propertyCheck(count: Self.cases, input: cases) { density, draws in
            guard Date() < deadline else { return }
            let yaml = filled { slot in
                draws[slot] % density == 0 ? Self.values[(draws[slot] / density) % Self.values.count] : Self.defaults[slot]
            }
            let seconds = try exercise(yaml)
            #expect(seconds < 5, "one case took \(seconds) s:\n\(yaml)")
        }
    }

    @Test func mutatedScenarioTextNeverTrapsNorHangs() async throws {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let original = Array(try String(contentsOfFile: url.appendingPathComponent("scenarios/quickstart.yaml").path, encoding: .utf8).utf8)
        let inserts = Array("[]{}&*!|>-:,#'\"\n \t\u{0}\u{1B}9e.%@`".utf8)
        let deadline = Date().addingTimeInterval(Self.seconds)
        let edits = zip(Gen.int(in: 0...3), Gen.int(in: 0...(original.count - 1)), Gen.int(in: 0...40)).array(of: 1...8)
        await propertyCheck(count: Self.cases, input: edits) { steps in
            guard Date() < deadline else { return }
            var bytes = original
            for (op, at, n) in steps {
                let i = min(at, bytes.count)
                switch op {
                case 0: bytes.removeSubrange(i..<min(bytes.count, i + n))
                case 1: bytes.insert(contentsOf: bytes[i..<min(bytes.count, i + n)], at: i)
                case 2: bytes.insert(inserts[n % inserts.count], at: i)
                default: if i < bytes.count { bytes[i] = inserts[n % inserts.count] }
                }
            }
            let seconds = try exercise(String(decoding: bytes, as: UTF8.self))
            #expect(seconds < 5, "one case took \(seconds) s")
        }
    }
}
