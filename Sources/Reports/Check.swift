import Foundation
import Scenario
import Simulation
import Stochastic

/// `burnrate check`: a scenario's `expect:` assertions, and regressions against a baseline.
public struct CheckResult: Sendable, Equatable {
    public enum Kind: String, Sendable { case expectation, regression, new }
    /// What a comparison with the baseline found.
    public enum Verdict: String, Sendable {
        /// The 95% interval of the change lies wholly beyond the tolerance, on the bad side.
        case worse
        /// The interval lies wholly on the good side of no change.
        case better
        /// The change is on the bad side but not surely beyond the tolerance.
        case withinTolerance = "within tolerance"
        /// The interval covers no change.
        case withinNoise = "within noise"
    }
    public var scenario: String
    public var kind: Kind
    /// `continuity.p05 >= 0.99`, or `spend_credits.mean` for a regression.
    public var name: String
    public var actual: Double?
    public var passed: Bool
    public var detail: String
    /// For a regression: the baseline's value, the change (actual − baseline) and its 95% interval.
    public var baseline: Double? = nil
    public var change: Double? = nil
    public var changeInterval: ClosedRange<Double>? = nil
    public var verdict: Verdict? = nil
}

/// The tolerances of `check --tolerance`: a relative default and per-metric values.
public struct Tolerances: Sendable, Equatable {
    public var relative: Double
    public var perMetric: [String: Double]

    public init(relative: Double = 0.05, perMetric: [String: Double] = [:]) {
        self.relative = relative
        self.perMetric = perMetric
    }

    /// Reads `--tolerance` values: a number (the relative default) or `metric=number`. A metric
    /// must be one ``Checker`` compares (a known metric with a better direction).
    public static func parse(_ texts: [String]) throws(DecisionError) -> Tolerances {
        var t = Tolerances()
        let comparable = Metric.all.filter { $0.better != .neither }.map(\.name)
        for text in texts {
            let parts = text.split(separator: "=", omittingEmptySubsequences: false).map(String.init)
            if parts.count == 1, let v = Double(parts[0]), v >= 0, v.isFinite { t.relative = v; continue }
            guard parts.count == 2, let v = Double(parts[1]), v >= 0, v.isFinite else {
                throw DecisionError("--tolerance is a number or metric=number (a non-negative number), got '\(text)'")
            }
            let name = parts[0]
            guard let metric = Metric.named(name) else {
                let hint = suggestion(for: name, among: Metric.names).map { " (did you mean '\($0)'?)" } ?? ""
                throw DecisionError("--tolerance \(text): unknown metric '\(name)'\(hint); the metrics compared are \(comparable.joined(separator: ", "))")
            }
            guard metric.better != .neither else {
                throw DecisionError("--tolerance \(text): \(name) describes the workload, not its outcome, and is not compared")
            }
            t.perMetric[name] = v
        }
        return t
    }

    /// The tolerance of `metric`, relative to the baseline (absolute when the baseline is 0).
    public func of(_ metric: String) -> Double { perMetric[metric] ?? relative }
}

/// What a scenario's run is compared with.
public enum Baseline: Sendable {
    /// The baseline's `summary.json`: compared through both runs' standard errors.
    case summary(BaselineSummary)
    /// The baseline scenario rerun with the same seed and replications (common random numbers):
    /// compared by paired differences, replication by replication.
    case rerun(Summary)
}

/// The run-level means, standard deviations and replication counts of a baseline `summary.json`.
public struct BaselineSummary: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var mean: Double
        public var sd: Double?
        public var n: Int?
    }
    public var metrics: [String: Entry]
    public var replications: Int?

    /// Reads a `summary.json` (schema `burnrate.summary/1`). Throws a message naming the field
    /// when it is not one: a baseline comes from a pull request's checkout and is untrusted.
    public init(json: [String: Any]) throws(DecisionError) {
        guard let m = json["metrics"] as? [String: Any] else { throw DecisionError("no 'metrics' object") }
        func count(_ value: Any?, _ field: String) throws(DecisionError) -> Int? {
            guard let value else { return nil }
            guard let d = value as? Double, !isJSONBool(value), d.isFinite, d >= 0, d <= 1e9, d == d.rounded() else {
                throw DecisionError("'\(field)' is not a count of replications (a whole number from 0 to 10^9)")
            }
            return Int(d)
        }
        var out: [String: Entry] = [:]
        for (name, value) in m {
            guard Metric.named(name) != nil else { continue }  // metrics of a later version: not compared
            guard let o = value as? [String: Any] else { throw DecisionError("'metrics.\(name)' is not an object") }
            func number(_ field: String) throws(DecisionError) -> Double? {
                guard let v = o[field] else { return nil }
                guard let d = v as? Double, !isJSONBool(v), d.isFinite else { throw DecisionError("'metrics.\(name).\(field)' is not a finite number") }
                return d
            }
            guard let mean = try number("mean") else { throw DecisionError("'metrics.\(name)' has no 'mean'") }
            out[name] = Entry(mean: mean, sd: try number("sd"), n: try count(o["n"], "metrics.\(name).n"))
        }
        guard !out.isEmpty else { throw DecisionError("'metrics' holds none of the metrics check compares") }
        metrics = out
        replications = try count(json["replications"], "replications")
    }

    public init(metrics: [String: Entry], replications: Int?) {
        self.metrics = metrics
        self.replications = replications
    }
}

/// Whether a value from `JSONSerialization` is `true` or `false` (which also casts to a number).
func isJSONBool(_ value: Any) -> Bool {
    if let n = value as? NSNumber { return String(cString: n.objCType) == "c" }
    return value is Bool
}

public enum Checker {
    /// Evaluates the run's `expect:` assertions (kept as text, so that shards carry them). A
    /// scoped assertion (`eng.continuity >= 0.99`) reads that pool's or identity's metrics.
    public static func expectations(_ summary: Summary) -> [CheckResult] {
        summary.data.expectations.map { text in
            let scenario = summary.data.scenario
            guard let e = Expectation(text: text) else {
                return CheckResult(scenario: scenario, kind: .expectation, name: text, actual: nil, passed: false, detail: "unreadable")
            }
            let metrics: [String: MetricSummary]?
            switch e.scope {
            case nil: metrics = summary.run[0]
            case let scope?:
                if let p = summary.data.poolNames.firstIndex(of: scope) { metrics = summary.pools[0][p] }
                else if let i = summary.data.identityNames.firstIndex(of: scope) { metrics = summary.identities[0][i] }
                else { metrics = nil }
            }
            guard let metrics else {
                return CheckResult(scenario: scenario, kind: .expectation, name: text, actual: nil, passed: false,
                                   detail: "no pool or identity '\(e.scope ?? "")' in this run")
            }
            guard let actual = metrics[e.metric]?.value(of: e.statistic) else {
                return CheckResult(scenario: scenario, kind: .expectation, name: text, actual: nil, passed: false,
                                   detail: "\(e.metric) was not measured in this run")
            }
            let holds = e.holds(actual)
            return CheckResult(scenario: scenario, kind: .expectation, name: text, actual: actual, passed: holds,
                               detail: holds ? "holds" : "fails")
        }
    }

    /// A scenario without a baseline: reported as new, not failed.
    public static func new(_ summary: Summary) -> CheckResult {
        CheckResult(scenario: summary.data.scenario, kind: .new, name: "baseline", actual: nil, passed: true,
                    detail: "new scenario: no baseline to compare with")
    }

    /// Compares the mean of every run-level metric that has a better direction with the baseline,
    /// judged against Monte Carlo noise:
    ///
    /// - the change is `actual − baseline` with a 95% interval: from paired differences per
    ///   replication when the baseline was rerun with the same seed (common random numbers make a
    ///   seed-only or no-op change exactly zero), otherwise from both runs' standard errors
    ///   (`sqrt(sd₁²/n₁ + sd₂²/n₂)`; for `spend_cv`, the standard error of a coefficient of
    ///   variation, `cv·sqrt((1 + 2cv²) / 2n)`);
    /// - the allowance is the tolerance times the baseline (the tolerance itself when the baseline
    ///   is 0);
    /// - a metric **fails** only when its whole interval lies beyond the allowance on the bad
    ///   side: the run is worse than tolerated with 97.5% confidence. It is **better** when the
    ///   interval lies wholly on the good side of zero.
    public static func regressions(_ summary: Summary, baseline: Baseline, tolerances: Tolerances) -> [CheckResult] {
        let now = summary.run[0]
        var out: [CheckResult] = []
        for metric in Metric.all where metric.better != .neither && metric.scopes.contains(.run) {
            guard let current = now[metric.name] else { continue }
            let before: Double
            var halfWidth: Double
            switch baseline {
            case .summary(let b):
                guard let entry = b.metrics[metric.name] else { continue }
                before = entry.mean
                halfWidth = 1.96 * unpairedStandardError(metric, current: current, currentSpendN: now[Metric.spendCredits.name]?.n,
                                                        baseline: entry, baselineSpendN: b.metrics[Metric.spendCredits.name]?.n ?? b.replications)
            case .rerun(let b):
                guard let entry = b.run[0][metric.name] else { continue }
                before = entry.mean
                halfWidth = pairedHalfWidth(metric, summary, b) ?? 1.96 * unpairedStandardError(
                    metric, current: current, currentSpendN: now[Metric.spendCredits.name]?.n,
                    baseline: .init(mean: entry.mean, sd: entry.sd, n: entry.n), baselineSpendN: b.run[0][Metric.spendCredits.name]?.n)
            }
            if !halfWidth.isFinite { halfWidth = 0 }
            let tol = tolerances.of(metric.name)
            // summary.json keeps 10 significant digits: differences below that are rounding.
            let allowed = max(before == 0 ? tol : abs(before) * tol, abs(before) * 1e-9)
            let change = current.mean - before
            let worse = metric.better == .higher ? -change : change
            let verdict: CheckResult.Verdict
            if worse - halfWidth > allowed { verdict = .worse }
            else if -worse - halfWidth > max(abs(before) * 1e-9, 0) { verdict = .better }
            else if abs(change) <= halfWidth || abs(change) <= abs(before) * 1e-9 { verdict = .withinNoise }
            else { verdict = .withinTolerance }
            let interval = (change - halfWidth)...(change + halfWidth)
            out.append(CheckResult(
                scenario: summary.data.scenario, kind: .regression, name: "\(metric.name).mean", actual: current.mean,
                passed: verdict != .worse,
                detail: "\(verdict.rawValue); \(metric.better == .higher ? "higher" : "lower") is better, tolerance \(JSON.format(tol))",
                baseline: before, change: change, changeInterval: interval, verdict: verdict))
        }
        return out
    }

    static func unpairedStandardError(_ metric: Metric, current: MetricSummary, currentSpendN: Int?,
                                      baseline: BaselineSummary.Entry, baselineSpendN: Int?) -> Double {
        if metric.kind == .acrossReplications {
            func se(_ cv: Double, _ n: Int?) -> Double {
                guard let n, n > 1 else { return 0 }
                return abs(cv) * ((1 + 2 * cv * cv) / (2 * Double(n))).squareRoot()
            }
            let a = se(current.mean, currentSpendN), b = se(baseline.mean, baselineSpendN)
            return (a * a + b * b).squareRoot()
        }
        var v = current.n > 0 ? current.sd * current.sd / Double(current.n) : 0
        if let sd = baseline.sd, let n = baseline.n, n > 0 { v += sd * sd / Double(n) }
        return v.squareRoot()
    }

    /// The 95% half-width of the mean paired difference, replication by replication; nil when the
    /// metric has no per-replication values to pair (`spend_cv`) or fewer than two pairs.
    static func pairedHalfWidth(_ metric: Metric, _ now: Summary, _ before: Summary) -> Double? {
        guard metric.kind != .acrossReplications else { return nil }
        let a = now.data.variants[0].records, b = before.data.variants[0].records
        var byReplication: [Int: Double] = [:]
        for r in b { if let v = r.run[metric.name] { byReplication[r.replication] = v } }
        let differences = a.compactMap { r in r.run[metric.name].flatMap { v in byReplication[r.replication].map { v - $0 } } }
        guard differences.count > 1 else { return nil }
        let sd = Statistics.standardDeviation(differences)
        return Distributions.studentTQuantile(0.975, degreesOfFreedom: Double(differences.count - 1)) * sd / Double(differences.count).squareRoot()
    }

    /// A table for a terminal or a pull request (Markdown): each check, the baseline, the value,
    /// the change with its 95% interval, and the result.
    public static func table(_ results: [CheckResult]) -> String {
        var s = "| scenario | check | baseline | value | change (95% interval) | result |\n|---|---|---|---|---|---|\n"
        for r in results {
            let change = shownChange(r).map { c in
                "\(signed(c))" + (r.changeInterval.map { $0.lowerBound == $0.upperBound ? "" : " (\(signed($0.lowerBound)) to \(signed($0.upperBound)))" } ?? "")
            } ?? "–"
            let result: String
            switch (r.passed, r.verdict) {
            case (false, _): result = "**FAIL**"
            case (true, _) where r.kind == .new: result = "new"
            default: result = "ok"
            }
            s += "| \(Escape.markdown(r.scenario)) | `\(Escape.codeSpan(r.name).replacingOccurrences(of: "|", with: "\\|"))` "
                + "| \(r.baseline.map(SizeAnswer.number) ?? "–") | \(r.actual.map(SizeAnswer.number) ?? "–") | \(change) "
                + "| \(result) (\(Escape.markdown(r.detail))) |\n"
        }
        let failed = results.filter { !$0.passed }.count
        let new = results.filter { $0.kind == .new }.count
        return s + "\n\(results.count - failed - new) passed, \(failed) failed" + (new > 0 ? ", \(new) new without a baseline" : "") + "\n"
    }

    /// Four significant digits (a change and its interval), without an exponent for everyday sizes.
    static func short(_ x: Double) -> String {
        guard x.isFinite, x != 0 else { return x.isFinite ? "0" : "\(x)" }
        let digits = max(0, 3 - Int(floor(log10(abs(x)))))
        if digits > 8 { return String(format: "%.3e", x) }
        var t = String(format: "%.\(digits)f", x)
        if t.contains(".") { while t.hasSuffix("0") { t.removeLast() }; if t.hasSuffix(".") { t.removeLast() } }
        return t == "-0" ? "0" : t
    }

    static func signed(_ x: Double) -> String {
        let t = short(x)
        return (x > 0 && t != "0" ? "+" : "") + t
    }

    /// The change shown: differences below summary.json's 10 significant digits are rounding.
    static func shownChange(_ r: CheckResult) -> Double? {
        guard let c = r.change else { return nil }
        return abs(c) <= abs(r.baseline ?? 0) * 1e-9 ? 0 : c
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
                    let change = r.change.map { c in "; change \(signed(c))" + (r.changeInterval.map { " (95% interval \(signed($0.lowerBound)) to \(signed($0.upperBound)))" } ?? "") } ?? ""
                    x += ">\n      <failure message=\"\(esc(r.detail))\">value \(r.actual.map(JSON.format) ?? "not measured")"
                        + "\(r.baseline.map { ", baseline " + JSON.format($0) } ?? "")\(esc(change))</failure>\n    </testcase>\n"
                }
            }
            x += "  </testsuite>\n"
        }
        return x + "</testsuites>\n"
    }
}

extension Metric {
    /// The metric contract as a Markdown table (docs/metrics.md is kept equal to it by a test).
    public static var markdownTable: String {
        var s = "| metric | kind | unit | better | a replication without a value | scopes | meaning |\n|---|---|---|---|---|---|---|\n"
        for m in all {
            let kind: String
            switch m.kind {
            case .proportion: kind = "proportion (Wilson interval)"
            case .ratio: kind = "ratio (Student t)"
            case .quantity: kind = "quantity (Student t)"
            case .acrossReplications: kind = "across replications"
            }
            let better: String
            switch m.better {
            case .higher: better = "higher"
            case .lower: better = "lower"
            case .neither: better = "neither (workload)"
            }
            let missing = m.missing == .horizon ? "counts as the horizon (censored)" : "left out (`n` counts the rest)"
            let scopes = [(Scopes.run, "run"), (.pool, "pool"), (.identity, "identity")].filter { m.scopes.contains($0.0) }.map(\.1)
            s += "| `\(m.name)` | \(kind) | \(m.unit) | \(better) | \(missing) | \(scopes.joined(separator: ", ")) | \(m.meaning) |\n"
        }
        return s
    }
}
