import Ledger

/// Units of the scenario format: durations `500ms 90s 15m 12h 30d 4w`, rates `600/h` (also
/// `/s /m /d`), credits as decimal numbers (exact to the micro-credit).
enum Units {
    /// A duration in ms (see `Millis.parse`: the unit is required).
    static func durationMs(_ text: String) -> Int64? { Millis.parse(text) }

    /// The highest rate a scenario may give, per hour (1e9/s).
    static let maxRatePerHour = 3.6e12
    /// The lowest positive rate, per hour.
    static let minRatePerHour = 1e-6

    /// Whether `text` is a well-formed duration too long for 64-bit milliseconds.
    static func isOverlongDuration(_ text: String) -> Bool {
        let t = text.trimmingCharacters()
        for (suffix, ms) in [("ms", 1.0), ("s", 1e3), ("m", 6e4), ("h", 3.6e6), ("d", 8.64e7), ("w", 6.048e8)] where t.hasSuffix(suffix) {
            if suffix == "s" && t.hasSuffix("ms") { continue }
            guard let n = Double(t.dropLast(suffix.count)), n >= 0 else { return false }
            return n * ms >= 9.2e18 / 1e6 || n * ms * 1e6 >= 9.2e18
        }
        return false
    }

    /// A rate per hour from `N/s`, `N/m`, `N/h`, `N/d`.
    static func ratePerHour(_ text: String) -> Double? {
        let parts = text.trimmingCharacters().split(separator: "/")
        guard parts.count == 2, let n = Double(parts[0].trimmingCharacters()), n >= 0, n.isFinite else { return nil }
        switch parts[1].trimmingCharacters() {
        case "s": return n * 3_600
        case "m": return n * 60
        case "h": return n
        case "d": return n / 24
        case "w": return n / 168
        default: return nil
        }
    }
}

extension StringProtocol {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
