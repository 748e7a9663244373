/// Dates as people read them, in the web pages and in emails.
extension CivilDate {
    /// As GOV.UK writes dates: "4 March 2026".
    public var long: String {
        let months = [
            "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
        ]
        return "\(day) \(months[month - 1]) \(year)"
    }

    /// "Monday 4 March 2026".
    public var longWithWeekday: String {
        let days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
        return "\(days[weekdayIndex]) \(long)"
    }

    /// 0 for Monday … 6 for Sunday.
    public var weekdayIndex: Int { ((CivilDate(year: 1970, month: 1, day: 5)!.days(until: self) % 7) + 7) % 7 }
}
