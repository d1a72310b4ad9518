import Ledger
import Simulation
import Stochastic

/// The calibration report's files: `calibration.md` (for a pull request or a terminal) and
/// `calibration.json` (the same figures for a script), written by ``write(to:)`` as one folder.
extension Calibration {
    /// A measure of both sides: the export's value (priced; `logged` beside it when the export
    /// logs a cost) and the fitted replications' mean and 5th–95th percentile band.
    public struct Row: Sendable, Equatable {
        public var name: String
        public var export: Double
        public var exportLogged: Double?
        public var fittedMean: Double
        public var fittedLow: Double
        public var fittedHigh: Double
        /// The export's value lies within the fitted band, or within 0.5% of it (a difference
        /// that small is the fit's rounding, not a departure).
        public var inBand: Bool {
            let slack = 0.005 * max(abs(fittedLow), abs(fittedHigh))
            return export >= fittedLow - slack && export <= fittedHigh + slack
        }
        /// (fitted mean − export) / export; nil when the export's value is 0.
        public var relativeError: Double? { export != 0 ? (fittedMean - export) / export : nil }
    }

    static func row(_ name: String, export: Double, logged: Double? = nil, fitted: [Double]) -> Row {
        let sorted = fitted.sorted()
        return Row(name: name, export: export, exportLogged: logged, fittedMean: Statistics.mean(fitted),
                   fittedLow: Statistics.quantile(sorted: sorted, 0.05), fittedHigh: Statistics.quantile(sorted: sorted, 0.95))
    }

    /// Requests, spend, spend by class and the cached share: the totals.
    public var totals: [Row] {
        var rows = [
            Self.row("requests", export: exportPriced.requests, fitted: fitted.map(\.requests)),
            Self.row("spend (credits)", export: exportPriced.spendCredits, logged: exportLogged?.spendCredits, fitted: fitted.map(\.spendCredits)),
        ]
        // By class only when both sides priced requests by class (else the split is not known).
        if let exportClasses = exportPriced.classSpendCredits, fitted.allSatisfy({ $0.classSpendCredits != nil }) {
        for (k, c) in TokenClass.allCases.enumerated() {
            let export = exportClasses[k]
            let fittedValues = fitted.map { $0.classSpendCredits![k] }
            guard export > 0 || fittedValues.contains(where: { $0 > 0 }) else { continue }
            rows.append(Self.row("spend on \(c.rawValue) (credits)", export: export, fitted: fittedValues))
        }
        }
        rows.append(Self.row("cached share of input tokens", export: exportPriced.cachedInputShare, fitted: fitted.map(\.cachedInputShare)))
        return rows
    }

    /// The share of requests in each UTC hour of the day (0–23), over the whole window.
    public var hourOfDay: [Row] {
        (0..<24).map { h in
            Self.row(format2(h) + ":00", export: Self.share(exportPriced.hourly, hour: h), fitted: fitted.map { Self.share($0.hourly, hour: h) })
        }
    }

    /// Requests per UTC day of the window (the first and last days may be partial).
    public var daily: [Row] {
        let days = (exportPriced.hourly.count + 23) / 24
        return (0..<days).map { d in
            let (y, m, day) = CivilCalendar.date(days: Calibration.floorDiv(midnightMs, 86_400_000) + Int64(d))
            return Self.row("\(y)-\(format2(Int(m)))-\(format2(Int(day)))", export: Self.dayCount(exportPriced.hourly, day: d),
                            fitted: fitted.map { Self.dayCount($0.hourly, day: d) })
        }
    }

    /// Index of dispersion of the daily counts over the full days (s²/m; Poisson: 1), for the
    /// export and each fitted replication; nil below 3 full days.
    public var dailyDispersion: Row? {
        let full = fullDays
        guard full.count >= 3 else { return nil }
        func index(_ hourly: [Double]) -> Double {
            let counts = full.map { Self.dayCount(hourly, day: $0) }
            let m = Statistics.mean(counts)
            return m > 0 ? Statistics.variance(counts) / m : 0
        }
        return Self.row("index of dispersion of daily counts (\(full.count) full days)", export: index(exportPriced.hourly),
                        fitted: fitted.map { index($0.hourly) })
    }

    /// The days of the window the export covers from midnight to midnight.
    var fullDays: [Int] {
        let startHour = Int((fit.firstMs - midnightMs) / 3_600_000)
        let endHour = Int((fit.firstMs + fit.spanMs - midnightMs) / 3_600_000)
        let days = (exportPriced.hourly.count + 23) / 24
        return (0..<days).filter { d in d * 24 >= startHour && (d + 1) * 24 <= endHour + 1 }
    }

    static func share(_ hourly: [Double], hour: Int) -> Double {
        let total = hourly.reduce(0, +)
        guard total > 0 else { return 0 }
        return stride(from: hour, to: hourly.count, by: 24).reduce(0) { $0 + hourly[$1] } / total
    }

    static func dayCount(_ hourly: [Double], day: Int) -> Double {
        hourly[min(day * 24, hourly.count)..<min(day * 24 + 24, hourly.count)].reduce(0, +)
    }

    /// The rows the fitted workload misses: the export outside the fitted band. The totals and the
    /// dispersion are listed by name; hours and days by count.
    public var misses: [String] {
        var out = totals.filter { !$0.inBand }.map { r in
            "\(r.name): the export's \(Self.figure(r.export)) is outside the fitted \(Self.figure(r.fittedLow))–\(Self.figure(r.fittedHigh))"
        }
        let hours = hourOfDay.filter { !$0.inBand }.count
        if hours > 0 { out.append("hourly profile: \(hours) of 24 hours outside the fitted band") }
        let days = daily.filter { !$0.inBand }.count
        if days > 0 { out.append("daily counts: \(days) of \(daily.count) days outside the fitted band") }
        if let d = dailyDispersion, !d.inBand {
            out.append("day-to-day variation: index of dispersion \(Self.figure(d.export)) against the fitted \(Self.figure(d.fittedLow))–\(Self.figure(d.fittedHigh))")
        }
        return out
    }

    /// `calibration.md`.
    public var markdown: String {
        let days = Double(fit.spanMs) / 86_400_000
        var lines = [
            "# Calibration: the fitted workload against \(Escape.markdown(fit.path))", "",
            "`\(Escape.codeSpan(command))`", "",
            "The export (\(fit.format.rawValue)): \(Int(exportPriced.requests)) requests over \(Self.figure(days)) days"
                + (fit.failedSkipped > 0 ? " (\(fit.failedSkipped) not successful, left out)" : "")
                + ", replayed as it is at the price table" + (exportLogged != nil ? " and at its own logged cost" : "")
                + ". The fitted workload (what `burnrate fit` prints) ran \(fitted.count) replication\(fitted.count == 1 ? "" : "s") (seed \(seed)) over the same window. "
                + "Both sides ran in the same engine with the same prices; hours and days are UTC.", "",
        ]
        if fitted.count < 5 {
            lines.append("*With \(fitted.count) replication\(fitted.count == 1 ? "" : "s") the fitted band is no band: read the figures, not the flags (20 is the default).*")
            lines.append("")
        }
        let missed = misses
        if missed.isEmpty {
            lines.append("**Every figure of the export lies within the fitted 5th–95th percentile band.**")
        } else {
            lines.append("**Where the fit departs from the export** (the export outside the fitted 5th–95th percentile band):")
            lines.append("")
            lines += missed.map { "- \($0)" }
        }
        lines += ["", "## Totals", "", "| measure | export | fitted mean | fitted P5–P95 | fitted − export |", "|---|---:|---:|---:|---:|"]
        for r in totals + (dailyDispersion.map { [$0] } ?? []) {
            let export = Self.figure(r.export) + (r.exportLogged.map { " (logged: \(Self.figure($0)))" } ?? "")
            lines.append("| \(r.name) | \(export) | \(Self.figure(r.fittedMean)) | \(Self.figure(r.fittedLow))–\(Self.figure(r.fittedHigh)) | "
                         + "\(r.relativeError.map { Self.percent($0, signed: true) } ?? "–")\(r.inBand ? "" : " ⚠") |")
        }
        if let logged = exportLogged, exportPriced.spendCredits > 0 {
            let gap = (logged.spendCredits - exportPriced.spendCredits) / exportPriced.spendCredits
            lines += ["", "The export's logged cost is \(Self.percent(gap, signed: true)) from the same requests at the price table: "
                      + (abs(gap) > 0.02 ? "the price table is not the one the export was billed at (check the models and their cache rates)." : "the price table matches the bill.")]
        }
        lines += ["", "## Hourly profile", "", "Share of the requests in each UTC hour.", "",
                  "| hour | export | fitted mean | fitted P5–P95 |", "|---|---:|---:|---:|"]
        for r in hourOfDay {
            lines.append("| \(r.name) | \(Self.percent(r.export)) | \(Self.percent(r.fittedMean)) | \(Self.percent(r.fittedLow))–\(Self.percent(r.fittedHigh))\(r.inBand ? "" : " ⚠") |")
        }
        lines += ["", "## Daily counts", "", "Requests per UTC day (a first or last day the export covers in part is marked).", "",
                  "| day | export | fitted mean | fitted P5–P95 |", "|---|---:|---:|---:|"]
        let full = Set(fullDays)
        for (d, r) in daily.enumerated() {
            lines.append("| \(r.name)\(full.contains(d) ? "" : " (part)") | \(Self.figure(r.export)) | \(Self.figure(r.fittedMean)) | "
                         + "\(Self.figure(r.fittedLow))–\(Self.figure(r.fittedHigh))\(r.inBand ? "" : " ⚠") |")
        }
        lines += ["", "## The fitted workload", "", "```yaml"] + fit.yaml(pool: Self.pool).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        lines += ["```", ""]
        return lines.joined(separator: "\n")
    }

    /// `calibration.json`: every row, keyed by section.
    public var json: JSON {
        func rows(_ rs: [Row]) -> JSON {
            .array(rs.map { r in
                var o: [String: JSON] = ["name": .string(r.name), "export": .number(r.export), "fitted_mean": .number(r.fittedMean),
                                         "fitted_p5": .number(r.fittedLow), "fitted_p95": .number(r.fittedHigh), "in_band": .bool(r.inBand)]
                if let l = r.exportLogged { o["export_logged"] = .number(l) }
                return .object(o)
            })
        }
        var o: [String: JSON] = [
            "export": .string(fit.path), "format": .string(fit.format.rawValue), "replications": .number(Double(fitted.count)),
            "seed": .number(Double(seed)), "totals": rows(totals), "hour_of_day": rows(hourOfDay), "daily": rows(daily),
            "misses": .array(misses.map { .string($0) }),
        ]
        if let d = dailyDispersion { o["daily_dispersion"] = rows([d]) }
        return .object(o)
    }

    /// Writes `calibration.md` and `calibration.json` to the folder `out`, replacing an earlier
    /// report there in one rename (and refusing any folder burnrate did not write).
    public func write(to out: String) throws {
        try ReportWriter.replaceDirectory(out, with: [("calibration.md", markdown), ("calibration.json", json.rendered() + "\n")])
    }

    /// Four significant figures at most, no exponent below 10¹⁵.
    static func figure(_ x: Double) -> String {
        let magnitude = abs(x)
        let digits = magnitude >= 1000 ? 0 : magnitude >= 100 ? 1 : magnitude >= 10 ? 2 : magnitude >= 1 ? 3 : 4
        return Forecast.Result.decimal(x, digits)
    }

    static func percent(_ x: Double, signed: Bool = false) -> String {
        (signed && x > 0 ? "+" : "") + Forecast.Result.decimal(x * 100, 1) + "%"
    }
}

/// `7` → `07`.
private func format2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
