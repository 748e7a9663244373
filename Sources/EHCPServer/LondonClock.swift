import EHCPDomain
import Foundation

/// Today in England: statutory days are Europe/London calendar days (statutory-timescales.md §1).
/// The only place the service reads the wall clock for a date; everything else is handed `today`.
public enum LondonClock {
    public static func today(now: Date = Date()) -> CivilDate {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/London") ?? .gmt
        let parts = calendar.dateComponents([.year, .month, .day], from: now)
        return CivilDate(year: parts.year!, month: parts.month!, day: parts.day!)!
    }

    /// Minutes since midnight in London now (the daily digest's clock).
    public static func minutesPastMidnight(now: Date = Date()) -> Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/London") ?? .gmt
        let parts = calendar.dateComponents([.hour, .minute], from: now)
        return parts.hour! * 60 + parts.minute!
    }
}
