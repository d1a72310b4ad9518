/// An arrival-rate shape over a day (24 hourly factors) or a week (168), normalised so that the
/// factors average to one: a workload's rate is then its average rate. Simulation time zero is
/// Monday 00:00 of week 0 (UTC); hour h of the horizon uses factor `h mod count`.
public struct Profile: Sendable, Hashable {
    public let factors: [Double]

    /// Normalises `factors` (24 or 168 non-negative values, not all zero).
    public init?(factors: [Double]) {
        guard factors.count == 24 || factors.count == 168,
              factors.allSatisfy({ $0 >= 0 && $0.isFinite })
        else { return nil }
        let mean = factors.reduce(0, +) / Double(factors.count)
        guard mean > 0 else { return nil }
        self.factors = factors.map { $0 / mean }
    }

    /// The factor in force at `timeMs`.
    @inline(__always)
    public func factor(atMs timeMs: Int64) -> Double {
        let hour = Int((timeMs / 3_600_000) % Int64(factors.count))
        return factors[hour < 0 ? hour + factors.count : hour]
    }

    public var maximum: Double { factors.max() ?? 1 }

    /// The same rate at every hour.
    public static let flat = Profile(factors: Array(repeating: 1, count: 24))!

    /// Office hours on weekdays: 09–17 busy (3), 07–09 and 17–20 moderate (1), nights quiet (0.2);
    /// weekends at 0.3. A shape typical of coding assistants used by one team in one time zone.
    public static let businessHours: Profile = {
        var f = [Double]()
        for day in 0..<7 {
            for hour in 0..<24 {
                if day >= 5 { f.append(0.3) } else if (9..<17).contains(hour) { f.append(3) }
                else if (7..<9).contains(hour) || (17..<20).contains(hour) { f.append(1) } else { f.append(0.2) }
            }
        }
        return Profile(factors: f)!
    }()

    /// Teams in three regions 8 hours apart: load never drops to night levels; a smooth daily wave
    /// between 0.6 and 1.4 of the mean.
    public static let followTheSun: Profile = {
        let f = (0..<24).map { h in 1 + 0.4 * sin(Double(h) / 24 * 2 * Double.pi * 3) }
        return Profile(factors: f)!
    }()

    /// The named profiles a scenario may use.
    public static let named: [String: Profile] = [
        "flat": .flat, "business-hours": .businessHours, "follow-the-sun": .followTheSun,
    ]
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
