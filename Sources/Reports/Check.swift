import Foundation
import Scenario
import Simulation

/// `burnrate check`: a scenario's `expect:` assertions, and regressions against a baseline.
public struct CheckResult: Sendable, Equatable {
    public enum Kind: String, Sendable { case expectation, regression }
    public var scenario: String
    public var kind: Kind
    /// `continuity.p05 >= 0.99`, or `spend_credits.mean` for a regression.
    public var name: String
    public var actual: Double?
    public var passed: Bool
    public var detail: String
}

public enum Checker {
    /// Metrics where a higher value is better; for every other metric lower is better.
    static let higherIsBetter: Set<String> = ["continuity", "full_service", "requests_served", "time_to_exhaustion_hours"]
    /// Counts that describe the workload, not its outcome: never a regression.
    static let neutral: Set<String> = ["requests_total", "requests_degraded", "requests_rejected", "budget_utilisation"]

    /// Evaluates the run's `expect:` assertions (kept as text, so that shards carry them).
    public static func expectations(_ summary: Summary) -> [CheckResult] {
        summary.data.expectations.map { text in
            let scenario = summary.data.scenario
            guard let e = Expectation(text: text) else {
                return CheckResult(scenario: scenario, kind: .expectation, name: text, actual: nil, passed: false, detail: "unreadable")
            }
            guard let actual = summary.run[0][e.metric]?.value(of: e.statistic) else {
                return CheckResult(scenario: scenario, kind: .expectation, name: text, actual: nil, passed: false,
                                   detail: "\(e.metric) was not measured in this run")
            }
            let holds = e.holds(actual)
            return CheckResult(scenario: scenario, kind: .expectation, name: text, actual: actual, passed: holds,
                               detail: holds ? "holds" : "fails")
        }
    }

    /// Compares the means of every run-level metric with a baseline `summary.json`; a metric that
    /// moved in the bad direction by more than its tolerance (relative to the baseline, or
    /// absolute when the baseline is 0) is a regression.
    public static func regressions(_ summary: Summary, baseline: [String: Any], tolerance: Double,
                                   perMetric: [String: Double]) -> [CheckResult] {
        guard let metrics = baseline["metrics"] as? [String: Any] else { return [] }
        var out: [CheckResult] = []
        for name in summary.run[0].keys.sorted() where !neutral.contains(name) {
            guard let now = summary.run[0][name]?.mean, let before = (metrics[name] as? [String: Any])?["mean"] as? Double else { continue }
            let tol = perMetric[name] ?? tolerance
            // summary.json keeps 10 significant digits: differences below that are rounding.
            let allowed = max(before == 0 ? tol : abs(before) * tol, abs(before) * 1e-9)
            let worse = higherIsBetter.contains(name) ? before - now : now - before
            let passed = worse <= allowed
            out.append(CheckResult(scenario: summary.data.scenario, kind: .regression, name: "\(name).mean", actual: now, passed: passed,
                                   detail: "baseline \(JSON.format(before)), \(passed ? "within" : "beyond") tolerance \(JSON.format(tol))"))
        }
        return out
    }

    /// A table for a terminal or a pull request (Markdown).
    public static func table(_ results: [CheckResult]) -> String {
        var s = "| scenario | check | value | result |\n|---|---|---|---|\n"
        for r in results {
            s += "| \(Escape.markdown(r.scenario)) | `\(Escape.codeSpan(r.name).replacingOccurrences(of: "|", with: "\\|"))` | \(r.actual.map(JSON.format) ?? "–") "
                + "| \(r.passed ? "ok" : "**FAIL**") (\(Escape.markdown(r.detail))) |\n"
        }
        let failed = results.filter { !$0.passed }.count
        return s + "\n\(results.count - failed) passed, \(failed) failed\n"
    }

    /// JUnit XML: one test suite per scenario, one test case per check.
    public static func junit(_ results: [CheckResult]) -> String {
        func esc(_ s: String) -> String { Escape.xml(s) }
        var scenarios: [String] = []
        for r in results where !scenarios.contains(r.scenario) { scenarios.append(r.scenario) }
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"burnrate check\" tests=\"\(results.count)\" failures=\"\(results.filter { !$0.passed }.count)\">\n"
        for s in scenarios {
            let mine = results.filter { $0.scenario == s }
            x += "  <testsuite name=\"\(esc(s))\" tests=\"\(mine.count)\" failures=\"\(mine.filter { !$0.passed }.count)\">\n"
            for r in mine {
                x += "    <testcase classname=\"\(esc(s)).\(r.kind.rawValue)\" name=\"\(esc(r.name))\""
                if r.passed { x += "/>\n" } else {
                    x += ">\n      <failure message=\"\(esc(r.detail))\">value \(r.actual.map(JSON.format) ?? "not measured")</failure>\n    </testcase>\n"
                }
            }
            x += "  </testsuite>\n"
        }
        return x + "</testsuites>\n"
    }
}
