/// Money is `Int64` micro-credits (one credit = 1,000,000 micro-credits) and time is `Int64`
/// milliseconds. Conversions happen at the edges (parsing and printing) and nowhere else.
public enum Money {
    /// Micro-credits in one credit.
    public static let microcreditsPerCredit: Int64 = 1_000_000

    /// `a + b`, or nil on overflow.
    @inlinable
    public static func add(_ a: Int64, _ b: Int64) -> Int64? {
        let (r, o) = a.addingReportingOverflow(b)
        return o ? nil : r
    }

    /// `a − b`, or nil on overflow.
    @inlinable
    public static func subtract(_ a: Int64, _ b: Int64) -> Int64? {
        let (r, o) = a.subtractingReportingOverflow(b)
        return o ? nil : r
    }

    /// `a × b`, or nil on overflow.
    @inlinable
    public static func multiply(_ a: Int64, _ b: Int64) -> Int64? {
        let (r, o) = a.multipliedReportingOverflow(by: b)
        return o ? nil : r
    }

    /// ⌈a / b⌉ for a ≥ 0, b > 0.
    @inlinable
    public static func divideRoundingUp(_ a: Int64, _ b: Int64) -> Int64 {
        precondition(a >= 0 && b > 0)
        return a / b + (a % b == 0 ? 0 : 1)
    }

    /// Parses a decimal amount of credits ("1000", "0.25", "-3.5", "1e3" is refused) into
    /// micro-credits, exactly. More than six decimal places is an error (it would not be exact),
    /// as is anything that overflows `Int64`.
    public static func parseCredits(_ text: String) -> Int64? {
        var s = Substring(text.trimmingWhitespace())
        guard !s.isEmpty else { return nil }
        var negative = false
        if s.first == "-" || s.first == "+" {
            negative = s.first == "-"
            s = s.dropFirst()
        }
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count > 1 ? parts[1] : ""
        guard !(whole.isEmpty && fraction.isEmpty), fraction.count <= 6,
              whole.allSatisfy(\.isASCIIDigit), fraction.allSatisfy(\.isASCIIDigit),
              !(parts.count > 1 && fraction.isEmpty)
        else { return nil }
        var value: Int64 = 0
        for c in whole {
            guard let v = multiply(value, 10), let w = add(v, Int64(c.asciiValue! - 48)) else { return nil }
            value = w
        }
        guard var micro = multiply(value, microcreditsPerCredit) else { return nil }
        var scale: Int64 = 100_000
        for c in fraction {
            // Checked: "9223372036854.775808" is one micro-credit beyond Int64 (an error, not a trap).
            guard let sum = add(micro, Int64(c.asciiValue! - 48) * scale) else { return nil }
            micro = sum
            scale /= 10
        }
        return negative ? -micro : micro
    }

    /// Formats micro-credits as a decimal number of credits with no trailing zeros
    /// (`250000` → `"0.25"`, `-1000000` → `"-1"`). Exact; the inverse of ``parseCredits(_:)``.
    public static func formatCredits(_ microcredits: Int64) -> String {
        let negative = microcredits < 0
        let magnitude = microcredits.magnitude
        let whole = magnitude / UInt64(microcreditsPerCredit)
        var fraction = magnitude % UInt64(microcreditsPerCredit)
        var text = (negative ? "-" : "") + String(whole)
        if fraction != 0 {
            var digits = 6
            while fraction % 10 == 0 { fraction /= 10; digits -= 1 }
            let f = String(fraction)
            text += "." + String(repeating: "0", count: digits - f.count) + f
        }
        return text
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension String {
    func trimmingWhitespace() -> Substring {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return s
    }
}

/// Time constants in milliseconds.
public enum Millis {
    /// Parses a duration with its unit — `500ms`, `90s`, `15m`, `12h`, `30d`, `4w`, decimals
    /// allowed (`1.5h`) — into whole milliseconds. A bare number is refused: the unit is part of
    /// the value. Nil for anything else, a negative value, or an overflow.
    public static func parse(_ text: String) -> Int64? {
        let t = text.trimmingWhitespace()
        for (suffix, scale) in [("ms", Int64(1)), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000), ("w", 604_800_000)]
            .sorted(by: { $0.0.count > $1.0.count }) where t.hasSuffix(suffix) {
            guard let micro = Money.parseCredits(String(t.dropLast(suffix.count))), micro >= 0 else { return nil }
            // micro-units × scale / 10⁶: exact for up to six decimals.
            let (product, overflow) = micro.multipliedReportingOverflow(by: scale)
            return overflow ? nil : product / 1_000_000
        }
        return nil
    }

    public static let second: Int64 = 1_000
    public static let minute: Int64 = 60_000
    public static let hour: Int64 = 3_600_000
    public static let day: Int64 = 86_400_000
}
