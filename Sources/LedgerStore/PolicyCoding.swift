import Foundation
import Ledger

/// The JSON form of pool policies, refills, stop conditions and entitlements, both ways: read
/// strictly from `apply` and `import` lines, written by `export`.
///
/// ```json
/// {"op":"create_pool","pool":"eng","period":"30d",
///  "policies":[{"overdraft":{"limit":"50"}},{"alerts":{"thresholds":["100","10"]}}],
///  "refill":{"amount":"1000","rollover_ppm":250000}}
/// ```
enum PolicyCoding {
    /// Reads a nested object with the same strictness, its canonical fields prefixed with `path`.
    static func nested(_ parent: inout OperationFields, _ path: String, _ value: JSONValue,
                       _ read: (inout OperationFields) throws(LedgerOperation.OperationError) -> Void) throws(LedgerOperation.OperationError) {
        guard case .object(let fields) = value else { throw parent.error(path, "expected an object, got \(value.kind)") }
        var f = OperationFields(op: path, fields, framing: [])
        do {
            try read(&f)
            try f.finish()
        } catch {
            throw LedgerOperation.OperationError(message: "\(path): \(error.message)", field: error.field.map { "\(path).\($0)" } ?? path)
        }
        for (k, v) in f.canonical { parent.noteDefault("\(path).\(k)", v) }
    }

    static func policies(_ f: inout OperationFields) throws(LedgerOperation.OperationError) -> [Policy] {
        guard let v = f.raw("policies"), v != .null else { return [] }
        guard case .array(let items) = v else { throw f.error("policies", "expected a list of policies, got \(v.kind)") }
        guard items.count <= 16 else { throw f.error("policies", "at most 16 policies") }
        var out: [Policy] = []
        for (n, item) in items.enumerated() {
            guard case .object(let one) = item, one.count == 1 else {
                throw f.error("policies", "each policy is an object with one key, e.g. {\"overdraft\":{\"limit\":\"50\"}}")
            }
            let kind = one[0].key
            let path = "policies[\(n)].\(OperationFields.printable(kind))"
            var policy: Policy = .hardStop
            try nested(&f, path, one[0].value) { (p: inout OperationFields) throws(LedgerOperation.OperationError) in
                switch kind {
                case "hard_stop": policy = .hardStop
                case "overdraft": policy = .overdraft(limitMicrocredits: try p.requiredAmount("limit"))
                case "degrade":
                    let tier = try p.integer("to_tier", in: 0...63)
                    guard let tier else { throw p.error("to_tier", "is required (a tier number)") }
                    policy = .degrade(toTier: Int(tier), belowMicrocredits: try p.amount("below") ?? 0)
                case "throttle":
                    guard let n = try p.integer("max_draws", in: 1...Int64(Int32.max)) else { throw p.error("max_draws", "is required") }
                    guard let w = try p.duration("window"), w > 0 else { throw p.error("window", "is required (a positive duration)") }
                    policy = .throttle(maxDraws: Int(n), windowMs: w, belowMicrocredits: try p.amount("below") ?? .max)
                case "auto_top_up":
                    let below = try p.requiredAmount("below"), amount = try p.requiredAmount("amount")
                    let cap = try p.requiredAmount("max_per_period")
                    policy = .autoTopUp(belowMicrocredits: below, amountMicrocredits: amount, maxPerPeriodMicrocredits: cap,
                                        priceMicrocreditsPerCredit: try p.amount("price") ?? Money.microcreditsPerCredit)
                case "borrow": policy = .borrow(capPerPeriodMicrocredits: try p.requiredAmount("cap"))
                case "alerts":
                    guard let list = p.raw("thresholds"), case .array(let ts) = list, ts.count <= 64 else {
                        throw p.error("thresholds", "is required (a list of at most 64 amounts)")
                    }
                    var thresholds: [Int64] = []
                    for t in ts {
                        let text: String
                        switch t {
                        case .string(let s): text = s
                        case .number(let s): text = s
                        default: throw p.error("thresholds", "expected amounts of credits")
                        }
                        guard let micro = Money.parseCredits(text), micro >= 0 else {
                            throw p.error("thresholds", "'\(OperationFields.printable(text))' is not an exact amount of credits")
                        }
                        thresholds.append(micro)
                    }
                    p.noteDefault("thresholds", thresholds.map(String.init).joined(separator: ","))
                    policy = .alerts(thresholdsMicrocredits: thresholds)
                default:
                    throw p.error(kind, "unknown policy; expected hard_stop, overdraft, degrade, throttle, auto_top_up, borrow or alerts")
                }
            }
            out.append(policy)
        }
        return out
    }

    static func refill(_ f: inout OperationFields) throws(LedgerOperation.OperationError) -> Refill? {
        guard let v = f.raw("refill"), v != .null else { return nil }
        var refill = Refill(amountMicrocredits: 0)
        try nested(&f, "refill", v) { (r: inout OperationFields) throws(LedgerOperation.OperationError) in
            refill.amountMicrocredits = try r.requiredAmount("amount")
            refill.rolloverPartsPerMillion = try r.integer("rollover_ppm", in: 0...1_000_000) ?? 0
            refill.rolloverCapMicrocredits = try r.amount("rollover_cap")
            refill.priority = Int32(try r.integer("priority", in: Int64(Int32.min)...Int64(Int32.max)) ?? 0)
            refill.priceMicrocreditsPerCredit = try r.amount("price") ?? Money.microcreditsPerCredit
        }
        return refill
    }

    static func stop(_ f: inout OperationFields) throws(LedgerOperation.OperationError) -> StopCondition? {
        guard let v = f.raw("stop"), v != .null else { return nil }
        var stop = StopCondition(windowMs: 0, baselineWindows: 0, factorPercent: 0, minSpendMicrocredits: 0)
        try nested(&f, "stop", v) { (s: inout OperationFields) throws(LedgerOperation.OperationError) in
            guard let w = try s.duration("window"), w > 0 else { throw s.error("window", "is required (a positive duration)") }
            stop.windowMs = w
            stop.baselineWindows = Int(try s.integer("baseline_windows", in: 1...10_000) ?? 1)
            guard let factor = try s.integer("factor_percent", in: 1...Int64(Int32.max)) else {
                throw s.error("factor_percent", "is required (e.g. 300 for three times the baseline)")
            }
            stop.factorPercent = factor
            stop.minSpendMicrocredits = try s.amount("min_spend") ?? 0
        }
        return stop
    }

    static func entitlement(_ f: inout OperationFields) throws(LedgerOperation.OperationError) -> Entitlement {
        var e = Entitlement()
        if let tiers = f.raw("tiers"), tiers != .null {
            guard case .array(let items) = tiers else { throw f.error("tiers", "expected a list of tier numbers 0-63") }
            var list: [Int] = []
            for item in items {
                guard case .number(let text) = item, let t = Int(text), (0..<64).contains(t) else {
                    throw f.error("tiers", "expected a list of tier numbers 0-63")
                }
                list.append(t)
            }
            e.allowedTiers = Entitlement.tiers(list).allowedTiers
        }
        f.noteDefault("tiers", String(e.allowedTiers))
        if let cap = try f.amount("cap") {
            e.capPerPeriodMicrocredits = cap
            e.capPeriodMs = try f.duration("cap_period") ?? Millis.day
            guard e.capPeriodMs > 0 else { throw f.error("cap_period", "must be positive") }
        } else if f.raw("cap_period") != nil {
            throw f.error("cap_period", "needs a 'cap'")
        }
        if let n = try f.integer("rate_max", in: 1...Int64(Int32.max)) {
            e.rateMaxDraws = Int(n)
            e.rateWindowMs = try f.duration("rate_window") ?? Millis.minute
            guard e.rateWindowMs > 0 else { throw f.error("rate_window", "must be positive") }
        } else if f.raw("rate_window") != nil {
            throw f.error("rate_window", "needs a 'rate_max'")
        }
        return e
    }

    // MARK: Writing (export)

    static func credits(_ micro: Int64) -> JSONValue { .string(Money.formatCredits(micro)) }
    static func int<T: BinaryInteger>(_ n: T) -> JSONValue { .number(String(n)) }

    static func json(_ policy: Policy) -> JSONValue {
        func one(_ kind: String, _ fields: [JSONField]) -> JSONValue { .object([JSONField(kind, .object(fields))]) }
        switch policy {
        case .hardStop: return one("hard_stop", [])
        case .overdraft(let limit): return one("overdraft", [JSONField("limit", credits(limit))])
        case .degrade(let tier, let below): return one("degrade", [JSONField("below", credits(below)), JSONField("to_tier", int(tier))])
        case .throttle(let n, let w, let below):
            return one("throttle", [JSONField("below", credits(below)), JSONField("max_draws", int(n)), JSONField("window", .string(Timestamp.duration(w)))])
        case .autoTopUp(let below, let amount, let cap, let price):
            return one("auto_top_up", [JSONField("amount", credits(amount)), JSONField("below", credits(below)),
                                       JSONField("max_per_period", credits(cap)), JSONField("price", credits(price))])
        case .borrow(let cap): return one("borrow", [JSONField("cap", credits(cap))])
        case .alerts(let ts): return one("alerts", [JSONField("thresholds", .array(ts.map(credits)))])
        }
    }

    static func json(_ r: Refill) -> JSONValue {
        var o = [JSONField("amount", credits(r.amountMicrocredits)), JSONField("price", credits(r.priceMicrocreditsPerCredit)),
                 JSONField("priority", int(r.priority)), JSONField("rollover_ppm", int(r.rolloverPartsPerMillion))]
        if let cap = r.rolloverCapMicrocredits { o.append(JSONField("rollover_cap", credits(cap))) }
        return .object(o.sorted { $0.key < $1.key })
    }

    static func json(_ s: StopCondition) -> JSONValue {
        .object([JSONField("baseline_windows", int(s.baselineWindows)), JSONField("factor_percent", int(s.factorPercent)),
                 JSONField("min_spend", credits(s.minSpendMicrocredits)), JSONField("window", .string(Timestamp.duration(s.windowMs)))])
    }

    static func fields(_ e: Entitlement) -> [JSONField] {
        var o: [JSONField] = []
        if e.allowedTiers != .max {
            o.append(JSONField("tiers", .array((0..<64).filter { e.allowedTiers & (1 << UInt64($0)) != 0 }.map(int))))
        }
        if let cap = e.capPerPeriodMicrocredits {
            o.append(JSONField("cap", credits(cap)))
            o.append(JSONField("cap_period", .string(Timestamp.duration(e.capPeriodMs))))
        }
        if let n = e.rateMaxDraws {
            o.append(JSONField("rate_max", int(n)))
            o.append(JSONField("rate_window", .string(Timestamp.duration(e.rateWindowMs))))
        }
        return o
    }
}

/// Times and durations as the interchange format writes them.
public enum Timestamp {
    /// `2026-03-02T09:15:00.250Z` for milliseconds since 1970 (UTC, always with milliseconds).
    public static func format(_ ms: Int64) -> String {
        let days = ms >= 0 ? ms / Millis.day : -((-ms + Millis.day - 1) / Millis.day)
        let rest = ms - days * Millis.day
        let (y, m, d) = CivilCalendar.date(days: days)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let millis = rest % 1000
        let ms3 = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        let year = y >= 0 && y < 10_000 ? String(repeating: "0", count: 4 - String(y).count) + String(y) : String(y)
        return "\(year)-\(two(m))-\(two(d))T\(two(rest / Millis.hour)):\(two(rest / Millis.minute % 60)):\(two(rest / 1000 % 60)).\(ms3)Z"
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fff]Z` (UTC; `+00:00` also accepted) into milliseconds since 1970.
    public static func parse(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        guard b.count >= 20 else { return nil }
        func num(_ r: Range<Int>) -> Int64? {
            guard r.upperBound <= b.count, r.allSatisfy({ b[$0] >= 0x30 && b[$0] <= 0x39 }) else { return nil }
            return r.reduce(0) { $0 * 10 + Int64(b[$1] - 0x30) }
        }
        guard let y = num(0..<4), b[4] == 0x2d, let mo = num(5..<7), b[7] == 0x2d, let d = num(8..<10),
              b[10] == UInt8(ascii: "T"), let h = num(11..<13), b[13] == 0x3a, let mi = num(14..<16), b[16] == 0x3a,
              let s = num(17..<19), (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 60
        else { return nil }
        var i = 19
        var millis: Int64 = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                guard digits < 3 else { return nil }  // finer than a millisecond is not a ledger time
                millis = millis * 10 + Int64(b[i] - 0x30)
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<3 { millis *= 10 }
        }
        let zone = String(decoding: b[i...], as: UTF8.self)
        guard zone == "Z" || zone == "+00:00" else { return nil }
        let days = CivilCalendar.days(year: y, month: mo, day: d)
        guard CivilCalendar.date(days: days) == (y, mo, d) else { return nil }  // 2026-02-30 is not a date
        return days * Millis.day + h * Millis.hour + mi * Millis.minute + s * 1000 + millis
    }

    /// A duration with the largest unit that writes it exactly (`3600000` → `1h`).
    public static func duration(_ ms: Int64) -> String {
        for (unit, scale) in [("w", 7 * Millis.day), ("d", Millis.day), ("h", Millis.hour), ("m", Millis.minute), ("s", Millis.second)]
        where ms != 0 && ms % scale == 0 {
            return "\(ms / scale)\(unit)"
        }
        return "\(ms)ms"
    }
}
