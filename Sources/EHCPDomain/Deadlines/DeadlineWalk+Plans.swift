/// Plans, reviews, amendments, phase transfers and transfers between councils.
extension DeadlineWalk {
    static let finalPlanMeets: [RuleID] = [.orderAssessFinal14W, .orderPlanFinal11W, .unopposedAssessFinal14W, .unopposedPlanFinal11W]
    static let finalPlanEnds: [RuleID] = [.noPlan16W, .orderAssessNoPlan10W, .unopposedAssessNoPlan10W]
    /// The initial assessment's steps a final plan leaves behind: once the plan is made, an outcomes
    /// meeting, a draft, an advice request or a consultation still unmet can no longer be done.
    static let finalPlanMovesPast: [RuleID] = [
        .decide6W, .advice6W, .outcomesLocal, .draftLocal, .consult15D, .orderAssessNotify2W, .unopposedAssessNotify2W, .orderPlanDraft5W,
        .unopposedPlanDraft5W,
    ]
    static let phaseTransfers: [RuleID] = [.phase15Feb, .phase31Mar, .phasePost16FiveMonths]
    static let amendedPlanMeets: [RuleID] = [.orderAmend5W, .orderPlacement2W, .unopposedAmend5W, .unopposedPlacement2W]

    mutating func finalPlanIssued(on day: CivilDate, version: Int) {
        if let draft = lastDraftOn {
            if day < draft.adding(days: 15) {
                flags.append(
                    Flag(
                        rule: .draft15D, version: version,
                        message:
                            "final plan issued on \(day), inside the 15-day comment window on the draft served \(draft) (earliest lawful date \(draft.adding(days: 15)))"
                    ))
            }
        } else {
            flags.append(Flag(rule: .draft15D, version: version, message: "final plan issued on \(day) with no draft plan recorded"))
        }
        // Reg 27(2): a plan issued during a re-assessment meets that clock, not the first 20 weeks.
        if !book.meet(.reassessFinal14W, on: day) {
            // The first plan after a refusal the tribunal overturned (or the council conceded) still answers
            // the original request: its 20 weeks run from that request (R (W) v Hertfordshire CC [2023]
            // EWHC 3138 (Admin); statutory-timescales.md §5, K-20W "all").
            if planMadeOn == nil && book.latestPending(.final20W) == nil { book.revive(.final20W) }
            book.meet(.final20W, on: day)
        }
        for rule in Self.finalPlanMeets { book.meet(rule, on: day) }
        book.cancel(Self.finalPlanEnds, on: day)
        book.movePast(Self.finalPlanMovesPast, on: day)
        if planMadeOn == nil {
            // CFA s.44(1): the first review period starts with the day the plan is made.
            planMadeOn = day
            book.open(.review12M, on: day, version: version, due: reviewPeriodEnd(startingWith: day))
        }
        appealableDecision(.finalPlan, on: day, version: version)
    }

    mutating func reviewMeetingHeld(_ reviewId: String, on day: CivilDate, version: Int) {
        meetingsOn[reviewId] = day
        if let invited = invitationsOn[reviewId], day < invited.adding(weeks: 2) {
            flags.append(
                Flag(
                    rule: .reviewNotice2W, version: version,
                    message: "review meeting \(reviewId) held on \(day), less than 2 weeks after invitations sent on \(invited)"))
        }
        book.open(.reviewReport2W, key: reviewId, on: day, version: version, due: day.adding(weeks: 2))
        book.open(.reviewDecide4W, key: reviewId, on: day, version: version, due: day.adding(weeks: 4))
    }

    mutating func reviewDecisionMade(_ decision: ReviewDecisionMade, on day: CivilDate, version: Int) {
        if let meeting = meetingsOn[decision.reviewId] {
            if day > meeting.adding(weeks: 4) {
                flags.append(
                    Flag(
                        rule: .reviewDecide4W, version: version,
                        message: "review decision \(decision.reviewId) made on \(day), more than 4 weeks after the meeting on \(meeting)"))
            }
        } else {
            flags.append(
                Flag(
                    rule: .reviewDecide4W, version: version,
                    message: "review decision \(decision.reviewId) made on \(day) with no review meeting recorded"))
        }
        book.meet(.reviewDecide4W, key: decision.reviewId, on: day)
        // CFA s.44(1): the review is complete; the next 12-month period starts with the decision date.
        let completed = book.meet(.transferReview, on: day) || book.meet(.review12M, on: day)
        if completed || planMadeOn != nil {
            book.open(.review12M, on: day, version: version, due: reviewPeriodEnd(startingWith: day))
        }
        if decision.decision == .amend { lastAmendReview = decision.reviewId }
        if decision.decision == .cease { appealableDecision(.cease, on: day, version: version) }
    }

    mutating func amendmentNoticeIssued(reviewId: String?, on day: CivilDate, version: Int) {
        // Reg 22(2): at least 15 days to comment. Reg 22(3): final within 8 weeks of the notice, and
        // (Devon) never later than 12 weeks after the review meeting.
        book.open(.amend15D, key: reviewId, on: day, version: version, due: day.adding(days: 15))
        var due = day.adding(weeks: 8)
        if let review = reviewId ?? lastAmendReview, let meeting = meetingsOn[review] {
            due = min(due, meeting.adding(weeks: 12))
        }
        book.open(.amendFinal8W, key: reviewId, on: day, version: version, due: due)
    }

    mutating func amendedPlanIssued(on day: CivilDate, version: Int) {
        if let index = book.latestIndex(.amend15D), day >= book.clocks[index].startedOn, day < book.clocks[index].dueOn {
            flags.append(
                Flag(
                    rule: .amend15D, version: version,
                    message: "amended plan issued on \(day), inside the 15-day comment window on the notice of \(book.clocks[index].startedOn)"))
        }
        book.meet(.amendFinal8W, on: day)
        book.meet(.reassessFinal14W, on: day)
        for rule in Self.phaseTransfers { book.meetAll(rule, on: day) }
        for rule in Self.amendedPlanMeets { book.meet(rule, on: day) }
        appealableDecision(.amendedPlan, on: day, version: version)
    }

    mutating func phaseTransferDue(_ transfer: PhaseTransferDue, on day: CivilDate, version: Int) {
        let key = String(transfer.transferYear)
        switch transfer.kind {
        case .school:
            // Reg 18(1)(b): "before 15 February" of the transfer year, so due 14 February.
            book.open(.phase15Feb, key: key, on: day, version: version, due: CivilDate(year: transfer.transferYear, month: 2, day: 14)!)
        case .post16:
            // Reg 18(1)(a): "before 31 March", so due 30 March.
            book.open(.phase31Mar, key: key, on: day, version: version, due: CivilDate(year: transfer.transferYear, month: 3, day: 30)!)
        case .post16Other:
            // Reg 18(2): at least five months before the transfer (validated to be present).
            let transferOn = transfer.transferOn ?? CivilDate(year: transfer.transferYear, month: 9, day: 1)!
            book.open(.phasePost16FiveMonths, key: key, on: day, version: version, due: transferOn.adding(months: -5))
        }
    }

    mutating func transferredIn(_ transfer: TransferredIn, on day: CivilDate, version: Int) {
        // Reg 15(3)(a): the plan is treated as made by this council on its original date.
        if planMadeOn == nil { planMadeOn = transfer.planMadeOn ?? day }
        book.cancel([.review12M], on: day)
        book.open(.transferNotice6W, on: day, version: version, due: day.adding(weeks: 6))
        // Reg 15(5): before the later of the 12 months beginning with the plan or last review date
        // and the 3 months beginning with the transfer.
        var due = day.adding(months: 3).adding(days: -1)
        if let base = transfer.lastReviewedOn ?? transfer.planMadeOn ?? planMadeOn {
            due = max(due, base.adding(months: 12).adding(days: -1))
        }
        book.open(.transferReview, on: day, version: version, due: due)
    }

    /// The last day of a review period starting with `start`: 12 months − 1 day, month-end clamped (§1).
    func reviewPeriodEnd(startingWith start: CivilDate) -> CivilDate {
        var months = 12
        if let underFive = settings.underFiveReviewMonths, let born = childBornOn, start < born.adding(months: 60) {
            months = underFive
        }
        return start.adding(months: months).adding(days: -1)
    }
}
