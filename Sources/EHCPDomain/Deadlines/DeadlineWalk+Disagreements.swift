/// Appeal windows, mediation, tribunal orders (reg 44) and conceded appeals (reg 45).
extension DeadlineWalk {
    /// HESC r.20(1)(c): two months from the decision notice; replaces any earlier window still pending.
    mutating func openAppealWindow(on day: CivilDate, version: Int, key: String) {
        book.cancel([.appealWindow], on: day, dutyNeverArose: true)
        let base = day.adding(months: 2)
        book.open(.appealWindow, key: key, on: day, version: version, due: rollAppealDeadline(base))
        if let index = book.latestPending(.appealWindow) { book.update(index) { $0.appealBase = base } }
    }

    /// HESC r.20(1)(c): or one month from the mediation certificate, whichever is later.
    mutating func extendAppealWindow(certificateOn day: CivilDate) {
        guard let index = book.latestPending(.appealWindow) else { return }
        let clock = book.clocks[index]
        let later = max(clock.appealBase ?? clock.dueOn, day.adding(months: 1))
        let rolled = rollAppealDeadline(later)
        book.update(index) {
            $0.appealBase = later
            $0.dueOn = rolled
        }
    }

    /// HESC r.12(3): a deadline falling 25 December–1 January or in August rolls to the next working
    /// day after 1 January / 31 August.
    func rollAppealDeadline(_ date: CivilDate) -> CivilDate {
        if date.month == 8 {
            return calendar.firstWorkingDay(onOrAfter: CivilDate(year: date.year, month: 9, day: 1)!)
        }
        if date.month == 12 && date.day >= 25 {
            return calendar.firstWorkingDay(onOrAfter: CivilDate(year: date.year + 1, month: 1, day: 2)!)
        }
        if date.month == 1 && date.day == 1 {
            return calendar.firstWorkingDay(onOrAfter: CivilDate(year: date.year, month: 1, day: 2)!)
        }
        return date
    }

    mutating func tribunalOrderMade(_ order: TribunalOrder, on day: CivilDate, version: Int) {
        switch order {
        case .assess:
            // Reg 44(2)(b).
            book.open(.orderAssessNotify2W, on: day, version: version, due: day.adding(weeks: 2))
            book.open(.orderAssessNoPlan10W, on: day, version: version, due: day.adding(weeks: 10))
            book.open(.orderAssessFinal14W, on: day, version: version, due: day.adding(weeks: 14))
        case .makePlan:
            // Reg 44(2)(c).
            book.open(.orderPlanDraft5W, on: day, version: version, due: day.adding(weeks: 5))
            book.open(.orderPlanFinal11W, on: day, version: version, due: day.adding(weeks: 11))
        case .amendNeedsProvision:
            book.open(.orderAmend5W, on: day, version: version, due: day.adding(weeks: 5))
        case .amendPlacement:
            book.open(.orderPlacement2W, on: day, version: version, due: day.adding(weeks: 2))
        case .cease:
            book.open(.orderCease, on: day, version: version, due: day)
        case .dismissed:
            // Reg 44(2)(a): an appeal against cessation dismissed means the plan ceases.
            if lastAppealType == .cease { book.open(.orderCease, on: day, version: version, due: day) }
        }
    }

    mutating func appealConceded(_ appeal: AppealType, on day: CivilDate, version: Int) {
        // Reg 45 (as substituted 2015): the reg 44 periods, from the day the council told the Tribunal.
        switch appeal {
        case .refusalToAssess:
            book.open(.unopposedAssessNotify2W, on: day, version: version, due: day.adding(weeks: 2))
            book.open(.unopposedAssessNoPlan10W, on: day, version: version, due: day.adding(weeks: 10))
            book.open(.unopposedAssessFinal14W, on: day, version: version, due: day.adding(weeks: 14))
            // R (W) v Hertfordshire CC [2023] EWHC 3138 (Admin): without a consent order the 20 weeks
            // still run from the original request.
            book.revive(.final20W)
        case .refusalToIssue:
            book.open(.unopposedPlanDraft5W, on: day, version: version, due: day.adding(weeks: 5))
            book.open(.unopposedPlanFinal11W, on: day, version: version, due: day.adding(weeks: 11))
        case .planContents:
            book.open(.unopposedAmend5W, on: day, version: version, due: day.adding(weeks: 5))
        case .placement:
            book.open(.unopposedPlacement2W, on: day, version: version, due: day.adding(weeks: 2))
        case .cease:
            // Conceding an appeal against cessation means the plan is kept: no new duty.
            break
        }
    }
}
