/// Walks a case's effective history in date order, opening, meeting and cancelling clocks as each
/// event requires (statutory-timescales.md §2, "What meets (or cancels) each clock").
struct DeadlineWalk {
    struct ExceptionFacts {
        var recorded: ExceptionRecorded
        var withdrawn = false

        /// Reg 8(2) exceptions name the advice request they concern; others excuse the rule as a whole.
        func excuses(rule: RuleID, key: String?) -> Bool {
            guard recorded.rules.contains(rule) else { return false }
            if rule == .advice6W, let adviceId = recorded.adviceId { return key == adviceId }
            return true
        }
    }

    /// Clocks a refusal to assess ends (the duty never arose).
    static let refusedToAssess: [RuleID] = [.final20W, .noPlan16W, .draftLocal, .outcomesLocal]
    /// Clocks a decision not to issue a plan ends.
    static let refusedToIssue: [RuleID] = [.final20W, .advice6W, .outcomesLocal, .draftLocal, .orderAssessFinal14W, .unopposedAssessFinal14W]
    /// Clocks a case has moved past once the council decided not to issue a plan.
    static let noPlanMovesPast: [RuleID] = [.decide6W, .consult15D]

    let calendar: WorkingDayCalendar
    let settings: LocalSettings
    let childBornOn: CivilDate?
    var book = ClockBook()
    var flags: [Flag] = []
    var exceptions: [String: ExceptionFacts] = [:]

    var lastDraftOn: CivilDate?
    var planMadeOn: CivilDate?
    var invitationsOn: [String: CivilDate] = [:]
    var meetingsOn: [String: CivilDate] = [:]
    var lastAmendReview: String?
    var lastAppealType: AppealType?

    init(calendar: WorkingDayCalendar, settings: LocalSettings, childBornOn: CivilDate?) {
        self.calendar = calendar
        self.settings = settings
        self.childBornOn = childBornOn
    }

    mutating func apply(_ recorded: RecordedEvent) {
        let day = recorded.occurredOn
        let version = recorded.version
        switch recorded.event {
        case .requestReceived, .becameResponsible:
            // CFA s.36(1), s.24: day 0 of the initial-assessment clocks.
            book.open(.decide6W, on: day, version: version, due: day.adding(weeks: 6))
            book.open(.noPlan16W, on: day, version: version, due: day.adding(weeks: 16))
            book.open(.draftLocal, on: day, version: version, due: day.adding(weeks: settings.draftPlanWeeks))
            book.open(.final20W, on: day, version: version, due: day.adding(weeks: 20))
        case .decidedToAssess:
            book.meet(.decide6W, on: day)
            book.meet(.orderAssessNotify2W, on: day)
            book.meet(.unopposedAssessNotify2W, on: day)
            book.open(.outcomesLocal, on: day, version: version, due: day.adding(weeks: settings.outcomesMeetingWeeks))
        case .decidedNotToAssess:
            book.meet(.decide6W, on: day)
            book.cancel(Self.refusedToAssess, on: day)
            appealableDecision(.notToAssess, on: day, version: version)
        case .adviceRequested(let advice):
            // Reg 8(1): six weeks from the day the body received the request.
            let received = advice.receivedByProviderOn ?? day
            book.open(.advice6W, key: advice.adviceId, on: day, version: version, due: received.adding(weeks: 6))
        case .adviceReceived(let advice):
            book.meet(.advice6W, key: advice.adviceId, on: day)
        case .outcomesMeetingHeld:
            book.meet(.outcomesLocal, on: day)
        case .decidedNotToIssuePlan:
            book.meet(.noPlan16W, on: day)
            book.meet(.orderAssessNoPlan10W, on: day)
            book.meet(.unopposedAssessNoPlan10W, on: day)
            book.cancel(Self.refusedToIssue, on: day)
            book.movePast(Self.noPlanMovesPast, on: day)
            appealableDecision(.notToIssuePlan, on: day, version: version)
        case .draftPlanIssued:
            book.meet(.draftLocal, on: day)
            book.meet(.orderPlanDraft5W, on: day)
            book.meet(.unopposedPlanDraft5W, on: day)
            book.cancel([.noPlan16W], on: day)
            // Reg 13(1): at least 15 days beginning with the day the draft was served.
            book.open(.draft15D, on: day, version: version, due: day.adding(days: 15))
            lastDraftOn = day
        case .settingConsulted(let consultation):
            book.open(.consult15D, key: consultation.consultationId, on: day, version: version, due: day.adding(days: 15))
        case .consultationResponseReceived(let response):
            book.meet(.consult15D, key: response.consultationId, on: day)
        case .finalPlanIssued:
            finalPlanIssued(on: day, version: version)
        case .requestWithdrawn:
            book.close(on: day)
        case .exceptionRecorded(let exception):
            exceptions[exception.exceptionId] = ExceptionFacts(recorded: exception)
        case .exceptionWithdrawn(let reference):
            exceptions[reference.exceptionId]?.withdrawn = true
        case .familyToldOfException, .caseworkerAssigned, .deadlineBreached, .deadlineReminderSent,
            .eventCorrected, .eventRetracted:
            break
        case .reviewInvitationsSent(let review):
            // Regs 20(3)–(4): invitations at least two weeks before the meeting.
            invitationsOn[review.reviewId] = day
            book.open(.reviewNotice2W, key: review.reviewId, on: day, version: version, due: day.adding(weeks: 2))
        case .reviewMeetingHeld(let review):
            reviewMeetingHeld(review.reviewId, on: day, version: version)
        case .reviewReportReceived(let review):
            book.meet(.reviewReport2W, key: review.reviewId, on: day)
        case .reviewDecisionMade(let decision):
            reviewDecisionMade(decision, on: day, version: version)
        case .amendmentNoticeIssued(let notice):
            amendmentNoticeIssued(reviewId: notice.reviewId, on: day, version: version)
        case .decidedNotToAmend:
            book.meet(.amendFinal8W, on: day)
        case .amendedPlanIssued:
            amendedPlanIssued(on: day, version: version)
        case .phaseTransferDue(let transfer):
            phaseTransferDue(transfer, on: day, version: version)
        case .reassessmentRequested:
            book.open(.reassessDecide15D, on: day, version: version, due: day.adding(days: 15))
        case .decidedToReassess:
            book.meet(.reassessDecide15D, on: day)
            book.open(.reassessFinal14W, on: day, version: version, due: day.adding(weeks: 14))
        case .decidedNotToReassess:
            book.meet(.reassessDecide15D, on: day)
            appealableDecision(.notToReassess, on: day, version: version)
        case .planCeased:
            book.meetAll(.orderCease, on: day)
            book.close(on: day)
        case .transferredIn(let transfer):
            transferredIn(transfer, on: day, version: version)
        case .transferNoticeSent:
            book.meet(.transferNotice6W, on: day)
        case .moveNotified(let move):
            // Reg 15(2): on the day of the move, or within 15 working days beginning with the day the
            // council became aware, when it was not aware at least 15 working days before.
            let fifteenth = calendar.lastOf(workingDays: 15, beginningWith: day)
            book.open(.transferHandover15WD, on: day, version: version, due: fifteenth < move.moveOn ? move.moveOn : fifteenth)
        case .transferredOut:
            book.meet(.transferHandover15WD, on: day)
            book.close(on: day)
        case .mediationRequested:
            book.open(.mediationArrange30D, on: day, version: version, due: day.adding(days: 30))
        case .mediationHeld:
            book.meet(.mediationArrange30D, on: day)
            book.open(.mediationCert3WD, on: day, version: version, due: calendar.adding(workingDays: 3, to: day))
        case .mediationCertificateIssued:
            book.meet(.mediationCert3WD, on: day)
            extendAppealWindow(certificateOn: day)
        case .appealLodged(let appeal):
            lastAppealType = appeal.appealType
            book.meet(.appealWindow, on: day)
        case .tribunalOrderMade(let order):
            tribunalOrderMade(order.order, on: day, version: version)
        case .appealConceded(let appeal):
            appealConceded(appeal.appealType, on: day, version: version)
        case .decisionNoticeSent(let notice):
            decisionNoticeSent(notice.decision, on: day)
        }
    }
}
