import Foundation

/// England-and-Wales working days: not Saturday, Sunday or a bank holiday (statutory-timescales.md §1).
///
/// Only rules that say "working days" use it (reg 15(2), mediation certificates, the tribunal's
/// appeal-deadline roll-over); every other clock counts calendar days.
public struct WorkingDayCalendar: Sendable {
    public let bankHolidays: Set<CivilDate>

    public init(bankHolidays: Set<CivilDate>) { self.bankHolidays = bankHolidays }

    public func isWorkingDay(_ date: CivilDate) -> Bool { !date.isWeekend && !bankHolidays.contains(date) }

    /// The `count`-th working day after `date` (`date` itself not counted): "within 3 working days of D".
    public func adding(workingDays count: Int, to date: CivilDate) -> CivilDate {
        var current = date
        var remaining = count
        while remaining > 0 {
            current = current.adding(days: 1)
            if isWorkingDay(current) { remaining -= 1 }
        }
        return current
    }

    /// The last day of a period of `count` working days *beginning with* `date`
    /// ("within 15 working days beginning with the day on which it did become aware", reg 15(2)).
    public func lastOf(workingDays count: Int, beginningWith date: CivilDate) -> CivilDate {
        isWorkingDay(date) ? adding(workingDays: count - 1, to: date) : adding(workingDays: count, to: date)
    }

    /// The first working day on or after `date`.
    public func firstWorkingDay(onOrAfter date: CivilDate) -> CivilDate {
        var current = date
        while !isWorkingDay(current) { current = current.adding(days: 1) }
        return current
    }
}

extension WorkingDayCalendar {
    /// Parses GOV.UK's `bank-holidays.json` and keeps the `england-and-wales` division.
    public init(govUKJSON data: Data) throws {
        struct File: Decodable {
            struct Division: Decodable {
                struct Event: Decodable { let date: CivilDate }
                let events: [Event]
            }
            let division: Division
            enum CodingKeys: String, CodingKey { case division = "england-and-wales" }
        }
        let file = try JSONDecoder().decode(File.self, from: data)
        self.init(bankHolidays: Set(file.division.events.map(\.date)))
    }

    /// England-and-Wales bank holidays 2012–2028 from GOV.UK, shipped with the domain module.
    public static func englandAndWales() throws -> WorkingDayCalendar {
        guard let url = Bundle.module.url(forResource: "uk-bank-holidays", withExtension: "json") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return try WorkingDayCalendar(govUKJSON: Data(contentsOf: url))
    }
}
