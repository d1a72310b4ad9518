import Foundation
import Ledger
import LedgerStore
import Stochastic

extension Forecast.Result {
    /// The forecast as DESIGN.md's JSON (keys sorted; credits as decimal strings).
    public var json: String {
        func hours(_ v: Double?) -> JSONValue { v.map { .number(Self.decimal($0, 1)) } ?? .null }
        func credits(_ v: Double) -> JSONValue { .number(Self.decimal(v / 1e6, 6)) }
        let fields: [JSONField] = [
            JSONField("as_of", .string(Timestamp.format(asOfMs))),
            JSONField("available_credits", .string(Money.formatCredits(availableMicrocredits))),
            JSONField("demand", .array(demand.map { d in
                .object([JSONField("identity", .string(d.identity)), JSONField("mean_credits", .number(Self.decimal(d.meanMicrocredits / 1e6, 6))),
                         JSONField("pool", .string(d.pool)), JSONField("rate_per_hour", .number(Self.decimal(d.ratePerHour, 4))),
                         JSONField("requests", .number(String(d.requests)))])
            })),
            JSONField("fitted_from", .string(Timestamp.format(fittedFromMs))),
            JSONField("horizon_hours", .number(Self.decimal(Double(horizonMs) / 3_600_000, 3))),
            JSONField("pool", .string(pool)),
            JSONField("probability_dry_within_horizon", .number(Self.decimal(probabilityDry, 4))),
            JSONField("replications", .number(String(replications))),
            JSONField("run_out_hours", .object([JSONField("p10", hours(runOutHours[0])), JSONField("p50", hours(runOutHours[1])),
                                                JSONField("p90", hours(runOutHours[2]))])),
            JSONField("spend_credits", .object([JSONField("p10", credits(spendMicrocredits[0])), JSONField("p50", credits(spendMicrocredits[1])),
                                                JSONField("p90", credits(spendMicrocredits[2]))])),
        ]
        return StrictJSON.serialise(.object(fields))
    }

    /// The forecast as a person would say it: "eng runs dry in 2.1 days (P10–P90: 2.0–2.2), on
    /// Wednesday 18 March." (dates in UTC), then what it rests on.
    public var text: String {
        let horizonDays = Double(horizonMs) / 86_400_000
        var lines: [String] = []
        let available = Money.formatCredits(availableMicrocredits)
        if let p50 = runOutHours[1] {
            let spread: String
            if let p10 = runOutHours[0], let p90 = runOutHours[2] {
                spread = " (P10–P90: \(Self.span(p10, days: p50 >= 48))–\(Self.span(p90, days: p50 >= 48)))"
            } else if let p10 = runOutHours[0] {
                spread = " (P10: \(Self.span(p10, days: p50 >= 48)); more than one replication in ten lasts beyond the \(Self.decimal(horizonDays, 1))-day horizon)"
            } else {
                spread = ""
            }
            lines.append("\(pool) runs dry in \(Self.span(p50, days: p50 >= 48, unit: true))\(spread), on \(Self.date(asOfMs + Int64(p50 * 3_600_000))).")
        } else {
            let share = Int((probabilityDry * 100).rounded())
            lines.append("\(pool) lasts beyond the \(Self.decimal(horizonDays, 1))-day horizon in \(100 - share)% of \(replications) replications"
                         + (runOutHours[0].map { "; in one of ten it runs dry within \(Self.span($0, days: $0 >= 48, unit: true))" } ?? "") + ".")
        }
        lines.append("available now: \(available) credits; spend over the horizon P10–P90: \(Money.formatCredits(Int64(spendMicrocredits[0].rounded())))–\(Money.formatCredits(Int64(spendMicrocredits[2].rounded()))) credits")
        let days = Double(asOfMs - fittedFromMs) / 86_400_000
        lines.append("as of \(Timestamp.format(asOfMs)), from \(Self.decimal(days, 1)) days of history (\(Timestamp.format(fittedFromMs)) on):")
        if demand.isEmpty { lines.append("  no spend in the window: nothing draws on the ledger") }
        for d in demand {
            lines.append("  \(d.identity) on \(d.pool): \(d.requests) requests, \(Self.decimal(d.ratePerHour, 2))/h, mean \(Self.decimal(d.meanMicrocredits / 1e6, 4)) credits")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The pool's available balance ahead: the P10–P90 fan and the median (SVG).
    public var fanChart: String {
        let horizonHours = Double(horizonMs) / 3_600_000
        let (scale, xLabel) = Charts.timeAxis(horizonHours)
        let low = fan.map { ($0.hours / scale, $0.p10 / 1e6) }, mid = fan.map { ($0.hours / scale, $0.p50 / 1e6) }
        let high = fan.map { ($0.hours / scale, $0.p90 / 1e6) }
        let ys = (low + high).map(\.1) + [0]
        var chart = SVGChart(title: "Pool \(pool): available credits ahead (\(replications) replications)", xLabel: xLabel,
                             yLabel: "available credits", x: 0...(horizonHours / scale), y: (ys.min() ?? 0)...max((ys.max() ?? 1) * 1.08, 1))
        chart.band(low, high, color: Charts.palette[0], name: "P10–P90")
        chart.line(mid, color: Charts.palette[0], name: "median")
        return chart.render()
    }

    static func decimal(_ x: Double, _ digits: Int) -> String {
        let scale = pow(10, Double(digits))
        let r = (x * scale).rounded() / scale
        return r == r.rounded() ? String(Int64(r)) : String(r)
    }

    static func span(_ hours: Double, days: Bool, unit: Bool = false) -> String {
        let v = days ? decimal(hours / 24, 1) : decimal(hours, 1)
        return unit ? "\(v) \(days ? "days" : "hours")" : v
    }

    /// "Wednesday 18 March 2026" (UTC).
    static func date(_ ms: Int64) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let when = Date(timeIntervalSince1970: Double(ms) / 1000)
        let c = calendar.dateComponents([.weekday, .day, .month, .year], from: when)
        let weekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
        let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
        return "\(weekdays[(c.weekday ?? 1) - 1]) \(c.day ?? 1) \(months[(c.month ?? 1) - 1]) \(c.year ?? 1970)"
    }
}
