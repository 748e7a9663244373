import EHCPDomain
import Foundation

/// Today in England (`London`): the only place the service reads the wall clock for a date; everything
/// else is handed `today`.
public enum LondonClock {
    public static func today(now: Date = Date()) -> CivilDate { London.date(of: now) }

    /// Minutes since midnight in London now (the daily digest's clock).
    public static func minutesPastMidnight(now: Date = Date()) -> Int {
        let time = London.time(of: now)
        return time.hour * 60 + time.minute
    }
}
