import Foundation

/// A moment as England reads it: statutory days are Europe/London calendar days
/// (statutory-timescales.md §1), and the pages and the daily digest tell the time in London too. Pure:
/// the caller hands in the moment (only `LondonClock`, in the server, reads the wall clock).
public enum London {
    private static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/London") ?? .gmt
        return calendar
    }()

    /// The London calendar day of a moment.
    public static func date(of moment: Date) -> CivilDate {
        let parts = calendar.dateComponents([.year, .month, .day], from: moment)
        return CivilDate(year: parts.year!, month: parts.month!, day: parts.day!)!
    }

    /// The London time of day of a moment.
    public static func time(of moment: Date) -> (hour: Int, minute: Int, second: Int) {
        let parts = calendar.dateComponents([.hour, .minute, .second], from: moment)
        return (parts.hour!, parts.minute!, parts.second!)
    }

    /// "14:05", or "14:05:09" with seconds.
    public static func clock(_ moment: Date, seconds: Bool = false) -> String {
        let time = time(of: moment)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(two(time.hour)):\(two(time.minute))" + (seconds ? ":\(two(time.second))" : "")
    }
}
