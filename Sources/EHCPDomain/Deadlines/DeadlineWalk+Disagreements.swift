/// Appeal windows, mediation, tribunal orders (reg 44) and conceded appeals (reg 45).
extension DeadlineWalk {
    /// An appealable decision (CFA 2014 s.51): the family's appeal window opens, counted from the decision
    /// until its notice is recorded, and the notice itself falls due within 5 working days.
    mutating func appealableDecision(_ decision: AppealableDecision, on day: CivilDate, version: Int) {
        openAppealWindow(on: day, version: version, key: decision.appealWindowKey)
        if settings.decisionNoticesFrom.map({ day >= $0 }) ?? true {
            book.open(.decisionNotice5WD, key: decision.rawValue, on: day, version: version, due: calendar.adding(workingDays: 5, to: day))
        }
    }

    /// The notice of a decision was sent: the family's two months run from this day (HESC r.20(1)(c)),
    /// or from a mediation certificate's month if that is later.
    mutating func decisionNoticeSent(_ decision: AppealableDecision, on day: CivilDate) {
        book.meet(.decisionNotice5WD, key: decision.rawValue, on: day)
        guard let index = book.latestPending(.appealWindow, key: decision.appealWindowKey) else { return }
        let later = max(book.clocks[index].appealBase ?? book.clocks[index].dueOn, day.adding(months: 2))
        let rolled = rollAppealDeadline(later)
        book.update(index) {
            $0.appealBase = later
            $0.dueOn = rolled
        }
    }

    /// HESC r.20(1)(c): two months from the decision notice; replaces an earlier window still running (one
    /// already past has expired, and stays so).
    mutating func openAppealWindow(on day: CivilDate, version: Int, key: String) {
        book.movePast([.appealWindow], on: day)
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
    /// day after 1 January / 31 August. HESC r.12(2): any other deadline that falls on a day that is not
    /// a working day (a weekend or bank holiday) rolls to the next working day. The rules are applied
    /// until the date stops moving: a Saturday 31 July rolls into August, and so to 1 September.
    func rollAppealDeadline(_ date: CivilDate) -> CivilDate {
        var day = date
        while true {
            let next: CivilDate
            if day.month == 8 {
                next = CivilDate(year: day.year, month: 9, day: 1)!
            } else if (day.month == 12 && day.day >= 25) || (day.month == 1 && day.day == 1) {
                next = CivilDate(year: day.month == 12 ? day.year + 1 : day.year, month: 1, day: 2)!
            } else {
                next = day
            }
            let rolled = calendar.firstWorkingDay(onOrAfter: next)
            if rolled == day { return day }
            day = rolled
        }
    }

    /// Reg 44(2): what each tribunal order requires, and within how many weeks of the order.
    static let orderClocks: [TribunalOrder: [(RuleID, weeks: Int)]] = [
        .assess: [(.orderAssessNotify2W, 2), (.orderAssessNoPlan10W, 10), (.orderAssessFinal14W, 14)],  // (b)
        .makePlan: [(.orderPlanDraft5W, 5), (.orderPlanFinal11W, 11)],  // (c)
        .amendNeedsProvision: [(.orderAmend5W, 5)],  // (e)
        .amendPlacement: [(.orderPlacement2W, 2)],  // (f)
        .cease: [(.orderCease, 0)],  // (a)
    ]

    /// Reg 45 (as substituted 2015): a conceded appeal runs the reg 44 periods from the day the council
    /// told the Tribunal. Conceding an appeal against cessation keeps the plan: no new duty.
    static let concessionClocks: [AppealType: [(RuleID, weeks: Int)]] = [
        .refusalToAssess: [(.unopposedAssessNotify2W, 2), (.unopposedAssessNoPlan10W, 10), (.unopposedAssessFinal14W, 14)],
        .refusalToIssue: [(.unopposedPlanDraft5W, 5), (.unopposedPlanFinal11W, 11)],
        .planContents: [(.unopposedAmend5W, 5)],
        .placement: [(.unopposedPlacement2W, 2)],
    ]

    mutating func tribunalOrderMade(_ order: TribunalOrder, on day: CivilDate, version: Int) {
        // Reg 44(2)(a): an appeal against cessation dismissed means the plan ceases on the order date.
        let effective = order == .dismissed && lastAppealType == .cease ? .cease : order
        for (rule, weeks) in Self.orderClocks[effective] ?? [] {
            book.open(rule, on: day, version: version, due: day.adding(weeks: weeks))
        }
    }

    mutating func appealConceded(_ appeal: AppealType, on day: CivilDate, version: Int) {
        for (rule, weeks) in Self.concessionClocks[appeal] ?? [] {
            book.open(rule, on: day, version: version, due: day.adding(weeks: weeks))
        }
        if appeal == .refusalToAssess {
            // R (W) v Hertfordshire CC [2023] EWHC 3138 (Admin): without a consent order the 20 weeks
            // still run from the original request.
            book.revive(.final20W)
        }
    }
}
