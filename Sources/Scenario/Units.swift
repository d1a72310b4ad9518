import Ledger

/// Units of the scenario format: durations `500ms 90s 15m 12h 30d 4w`, rates `600/h` (also
/// `/s /m /d`), credits as decimal numbers (exact to the micro-credit).
enum Units {
    /// A duration in ms (see `Millis.parse`: the unit is required).
    static func durationMs(_ text: String) -> Int64? { Millis.parse(text) }

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
