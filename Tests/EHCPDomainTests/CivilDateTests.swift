import EHCPDomain
import Testing

@Suite("Civil dates and the counting conventions (§1)")
struct CivilDateTests {
    @Test(
        "within N weeks of D is due on D + 7N",
        arguments: [
            ("2025-03-03", 6, "2025-04-14"), ("2025-03-03", 20, "2025-07-21"), ("2025-12-01", 6, "2026-01-12"),
            ("2024-01-08", 20, "2024-05-27"), ("2024-02-01", 4, "2024-02-29"), ("2023-02-01", 4, "2023-03-01"),
        ])
    func weeks(_ start: String, _ count: Int, _ due: String) {
        #expect(date(start).adding(weeks: count) == date(due))
    }

    @Test(
        "month arithmetic clamps to the month end",
        arguments: [
            ("2025-01-31", 1, "2025-02-28"), ("2024-01-31", 1, "2024-02-29"), ("2024-02-29", 12, "2025-02-28"),
            ("2025-03-31", -1, "2025-02-28"), ("2026-01-05", -5, "2025-08-05"), ("2025-12-27", 2, "2026-02-27"),
            ("2025-10-31", 2, "2025-12-31"), ("2024-02-29", 48, "2028-02-29"),
        ])
    func months(_ start: String, _ count: Int, _ result: String) {
        #expect(date(start).adding(months: count) == date(result))
    }

    @Test(
        "a 12-month period starting with D ends on D + 12 months − 1 day",
        arguments: [
            ("2025-03-10", "2026-03-09"), ("2024-02-29", "2025-02-27"), ("2025-01-31", "2026-01-30"),
            ("2025-12-31", "2026-12-30"), ("2025-01-01", "2025-12-31"),
        ])
    func reviewPeriod(_ start: String, _ end: String) {
        #expect(date(start).adding(months: 12).adding(days: -1) == date(end))
    }

    @Test("strict ISO parsing", arguments: ["2025-02-29", "2025-13-01", "2025-1-01", "25-01-01", "2025/01/01", "", "2025-01-32"])
    func rejectsBadDates(_ text: String) {
        #expect(CivilDate(iso: text) == nil)
    }

    @Test("round trip through text and day numbers across centuries")
    func roundTrip() {
        for dayNumber in stride(from: -719_162, through: 2_932_896, by: 997) {  // 0001-01-01 … 9999-12-31
            let day = CivilDate(dayNumber: dayNumber)
            #expect(CivilDate(iso: day.description) == day)
        }
        #expect(date("1970-01-01").dayNumber == 0)
        #expect(date("2025-03-03").isoWeekday == 1)
    }

    @Test(
        "working days skip weekends and England-and-Wales bank holidays",
        arguments: [
            ("2025-05-02", 3, "2025-05-08"),  // Fri before the early May bank holiday
            ("2025-12-24", 3, "2025-12-31"),  // Christmas and Boxing Day
            ("2025-04-17", 1, "2025-04-22"),  // Good Friday and Easter Monday
            ("2025-03-03", 5, "2025-03-10"),
        ])
    func workingDays(_ start: String, _ count: Int, _ result: String) {
        #expect(Fixture.calendar.adding(workingDays: count, to: date(start)) == date(result))
    }

    @Test("15 working days beginning with a day count that day when it is a working day")
    func beginningWith() {
        #expect(Fixture.calendar.lastOf(workingDays: 15, beginningWith: date("2025-03-03")) == date("2025-03-21"))
        // A Saturday does not count itself.
        #expect(Fixture.calendar.lastOf(workingDays: 15, beginningWith: date("2025-03-01")) == date("2025-03-21"))
    }
}
