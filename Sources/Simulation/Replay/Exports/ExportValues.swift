import Ledger

/// The timestamp layouts usage exports write, parsed strictly: every digit where the layout
/// has one, a real calendar day, hours < 24, minutes and seconds < 60, nothing after the value.
enum StrictTime {
    /// Which layouts a field may take.
    enum Layout {
        /// LiteLLM `startTime`: `YYYY-MM-DD HH:MM:SS[.fff…]` (UTC, as PostgreSQL writes a
        /// `timestamp(3)`) or ISO 8601 `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)`.
        case litellm
        /// ISO 8601 / RFC 3339 date-time with a zone: `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)`.
        case rfc3339
    }

    /// Milliseconds since 1970-01-01 UTC; digits beyond the millisecond are truncated.
    static func ms(_ text: String, _ layout: Layout) -> Int64? {
        let s = Array(text.utf8)
        func digits(_ at: Int, _ count: Int) -> Int64? {
            guard at + count <= s.count else { return nil }
            var v: Int64 = 0
            for k in at..<(at + count) {
                guard s[k] >= 48 && s[k] <= 57 else { return nil }
                v = v * 10 + Int64(s[k] - 48)
            }
            return v
        }
        guard s.count >= 19, s[4] == 45, s[7] == 45, s[13] == 58, s[16] == 58,
              let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2),
              let hour = digits(11, 2), let minute = digits(14, 2), let second = digits(17, 2),
              (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              hour < 24, minute < 60, second < 60
        else { return nil }
        let isoT = s[10] == 84
        guard isoT || (layout == .litellm && s[10] == 32) else { return nil }
        var i = 19
        var ms: Int64 = 0
        if i < s.count && s[i] == 46 {
            i += 1
            var scale: Int64 = 100
            let start = i
            while i < s.count && s[i] >= 48 && s[i] <= 57 {
                ms += Int64(s[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start, i - start <= 9 else { return nil }
        }
        var offsetMs: Int64 = 0
        if isoT {
            // The T form names its zone: without one it would be local time, unknowable here.
            guard i < s.count else { return nil }
            if s[i] == 90 { i += 1 } else if s[i] == 43 || s[i] == 45 {
                guard i + 6 == s.count, s[i + 3] == 58, let oh = digits(i + 1, 2), let om = digits(i + 4, 2), oh < 24, om < 60
                else { return nil }
                offsetMs = (oh * 60 + om) * 60_000 * (s[i] == 43 ? 1 : -1)
                i += 6
            } else { return nil }
        }
        guard i == s.count else { return nil }
        let days = CivilCalendar.days(year: year, month: month, day: day)
        return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1_000 + ms - offsetMs
    }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Unix seconds as an integer (OpenAI `start_time`/`end_time`), in ms.
    static func unixSecondsMs(_ item: JSONItem) -> Int64? {
        guard case .number(let text) = item, let s = Int64(text), s >= 0, s < 1 << 40 else { return nil }
        return s * 1_000
    }
}

/// A decimal read from its text, exactly: the logged cost of an export is a decimal that a
/// binary float blurred (`0.0016150000000000001`), so it is never read through `Double`.
public struct DecimalText: Equatable, Sendable {
    /// Significant digits, most significant first, no leading zeros (empty for zero).
    public var digits: [UInt8]
    /// The value is digits × 10^exponent.
    public var exponent: Int
    public var negative: Bool

    /// Digits and exponent beyond these are refused: no cost needs them, and they bound the work.
    static let maxDigits = 60
    static let maxExponent = 400

    /// Parses JSON number syntax (`-`, digits, `.digits`, `e±digits`); nil if it is not one.
    public init?(_ text: some StringProtocol) {
        let s = Array(text.utf8)
        var i = 0
        negative = false
        if i < s.count && s[i] == 45 { negative = true; i += 1 }
        var all: [UInt8] = []
        var fraction = 0
        let intStart = i
        while i < s.count && s[i] >= 48 && s[i] <= 57 { all.append(s[i] - 48); i += 1 }
        guard i > intStart else { return nil }
        if i < s.count && s[i] == 46 {
            i += 1
            let fracStart = i
            while i < s.count && s[i] >= 48 && s[i] <= 57 { all.append(s[i] - 48); i += 1 }
            fraction = i - fracStart
            guard fraction > 0 else { return nil }
        }
        var exp = 0
        if i < s.count && (s[i] == 101 || s[i] == 69) {
            i += 1
            var sign = 1
            if i < s.count && (s[i] == 43 || s[i] == 45) { sign = s[i] == 45 ? -1 : 1; i += 1 }
            let expStart = i
            while i < s.count && s[i] >= 48 && s[i] <= 57 {
                exp = exp * 10 + Int(s[i] - 48)
                guard exp <= Self.maxExponent else { return nil }
                i += 1
            }
            guard i > expStart else { return nil }
            exp *= sign
        }
        guard i == s.count else { return nil }
        while let f = all.first, f == 0 { all.removeFirst() }
        var e = exp - fraction
        while let l = all.last, l == 0 { all.removeLast(); e += 1 }
        guard all.count <= Self.maxDigits else { return nil }
        digits = all
        exponent = all.isEmpty ? 0 : e
    }

    public var isZero: Bool { digits.isEmpty }

    /// The exact product (schoolbook multiplication of the digit strings).
    public func times(_ other: DecimalText) -> DecimalText {
        guard !isZero, !other.isZero else { return DecimalText(digits: [], exponent: 0, negative: false) }
        var acc = [Int](repeating: 0, count: digits.count + other.digits.count)
        for (i, a) in digits.reversed().enumerated() {
            for (j, b) in other.digits.reversed().enumerated() { acc[i + j] += Int(a) * Int(b) }
        }
        var carry = 0
        for k in acc.indices { let v = acc[k] + carry; acc[k] = v % 10; carry = v / 10 }
        var out = acc.reversed().map { UInt8($0) }
        while let f = out.first, f == 0 { out.removeFirst() }
        var e = exponent + other.exponent
        while let l = out.last, l == 0 { out.removeLast(); e += 1 }
        return DecimalText(digits: out, exponent: e, negative: negative != other.negative)
    }

    public init(digits: [UInt8], exponent: Int, negative: Bool) {
        self.digits = digits
        self.exponent = exponent
        self.negative = negative
    }

    /// The value × 10^6 (units → micro-units), rounded to the nearest integer, a half away from
    /// zero; nil beyond `Int64`.
    public var microUnitsRounded: Int64? {
        guard !isZero else { return 0 }
        let shift = exponent + 6
        var kept = digits
        var roundUp = false
        if shift < 0 {
            let drop = -shift
            if drop > kept.count {
                kept = []
            } else {
                roundUp = kept[kept.count - drop] >= 5
                kept.removeLast(drop)
            }
        } else {
            guard kept.count + shift <= 19 else { return nil }
            kept += [UInt8](repeating: 0, count: shift)
        }
        guard kept.count <= 19 else { return nil }
        var v: Int64 = 0
        for d in kept {
            guard let m = Money.multiply(v, 10), let a = Money.add(m, Int64(d)) else { return nil }
            v = a
        }
        if roundUp { guard let a = Money.add(v, 1) else { return nil }; v = a }
        return negative ? -v : v
    }
}
