import Ledger

/// Units of the scenario format: durations `500ms 90s 15m 12h 30d 4w`, rates `600/h` (also
/// `/s /m /d`), credits as decimal numbers (exact to the micro-credit).
enum Units {
    static let durationUnits: [(String, Int64)] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000), ("w", 604_800_000)]

    /// A duration in ms. A bare number is refused: the unit is part of the value.
    static func durationMs(_ text: String) -> Int64? {
        let t = text.trimmingCharacters()
        for (suffix, scale) in durationUnits.sorted(by: { $0.0.count > $1.0.count }) where t.hasSuffix(suffix) {
            let number = String(t.dropLast(suffix.count))
            guard let micro = Money.parseCredits(number), micro >= 0 else { return nil }
            // micro-units × scale / 10⁶, exact for up to six decimals.
            let (product, overflow) = micro.multipliedReportingOverflow(by: scale)
            guard !overflow else { return nil }
            return product / 1_000_000
        }
        return nil
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
