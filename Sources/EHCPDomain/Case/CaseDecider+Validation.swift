/// The per-event checks: what makes an event impossible given the case so far (§4).
extension CaseDecider {
    func validate(
        _ recorded: RecordedEvent, facts: CaseFacts, effective: [RecordedEvent], today: CivilDate, replaying: Bool
    ) throws(CaseError) {
        try checkDate(recorded, facts: facts, today: today)
        let day = recorded.occurredOn
        let event = recorded.event
        if event.opensCase {
            if facts.isOpen {
                throw CaseError(.caseAlreadyOpen, field: "type", value: event.typeName, "the case was already opened on \(facts.openedOn!)")
            }
        } else if facts.openedOn == nil {
            throw CaseError(
                .caseNotOpen, field: "type", value: event.typeName,
                "the case has not been opened: record RequestReceived, BecameResponsible or TransferredIn first")
        }
        switch event {
        case .requestReceived, .becameResponsible, .outcomesMeetingHeld, .familyToldOfException,
            .reassessmentRequested, .decidedToReassess, .decidedNotToReassess, .transferNoticeSent,
            .mediationRequested, .mediationHeld, .mediationCertificateIssued, .appealLodged,
            .tribunalOrderMade, .appealConceded, .eventCorrected, .eventRetracted:
            break
        case .decidedToAssess, .decidedNotToAssess:
            switch facts.assessment {
            case .assess(let on), .refused(let on):
                throw CaseError(
                    .duplicate, rule: .decide6W, field: "type", value: event.typeName, "the decision whether to assess was already recorded on \(on)")
            case .pending: break
            }
        case .adviceRequested(let advice):
            if facts.advice[advice.adviceId] != nil {
                throw CaseError(
                    .duplicate, rule: .advice6W, field: "data.adviceId", value: advice.adviceId,
                    "an advice request with this id already exists on the case")
            }
            if let received = advice.receivedByProviderOn, received < day || received > today {
                throw CaseError(
                    .invalidField, rule: .advice6W, field: "data.receivedByProviderOn", value: received.description,
                    "must be on or after the request (\(day)) and not after today (\(today))")
            }
        case .adviceReceived(let reference):
            guard let advice = facts.advice[reference.adviceId] else {
                throw CaseError(
                    .unknownReference, rule: .advice6W, field: "data.adviceId", value: reference.adviceId, "no advice was requested with this id")
            }
            if let received = advice.receivedOn {
                throw CaseError(
                    .duplicate, rule: .advice6W, field: "data.adviceId", value: reference.adviceId, "this advice was already received on \(received)")
            }
            if day < advice.requestedOn {
                throw CaseError(
                    .impossibleInState, rule: .advice6W, field: "occurredOn", value: day.description,
                    "advice cannot be received before it was requested (\(advice.requestedOn))")
            }
        case .decidedNotToIssuePlan:
            try requireAssessmentNotRefused(facts, event)
            if let plan = facts.planMadeOn {
                throw CaseError(
                    .impossibleInState, rule: .noPlan16W, field: "type", value: event.typeName, "a final plan was already issued on \(plan)")
            }
            if let noPlan = facts.noPlanOn {
                throw CaseError(
                    .duplicate, rule: .noPlan16W, field: "type", value: event.typeName,
                    "a decision not to issue a plan was already recorded on \(noPlan)")
            }
        case .draftPlanIssued:
            try requireAssessmentNotRefused(facts, event)
            try requireNoNoPlanDecision(facts, event)
        case .settingConsulted(let consultation):
            if facts.consultations[consultation.consultationId] != nil {
                throw CaseError(
                    .duplicate, rule: .consult15D, field: "data.consultationId", value: consultation.consultationId,
                    "a consultation with this id already exists on the case")
            }
        case .consultationResponseReceived(let response):
            guard let consultation = facts.consultations[response.consultationId] else {
                throw CaseError(
                    .unknownReference, rule: .consult15D, field: "data.consultationId", value: response.consultationId,
                    "no setting was consulted with this id")
            }
            if consultation.responded {
                throw CaseError(
                    .duplicate, rule: .consult15D, field: "data.consultationId", value: response.consultationId,
                    "a response to this consultation was already recorded")
            }
            if day < consultation.sentOn {
                throw CaseError(
                    .impossibleInState, rule: .consult15D, field: "occurredOn", value: day.description,
                    "a response cannot come before the consultation was sent (\(consultation.sentOn))")
            }
        case .finalPlanIssued:
            try requireAssessmentNotRefused(facts, event)
            try requireNoNoPlanDecision(facts, event)
            if let withdrawn = facts.withdrawnOn {
                throw CaseError(
                    .impossibleInState, rule: .final20W, field: "type", value: event.typeName, "the request was withdrawn on \(withdrawn)")
            }
            if let plan = facts.planMadeOn, !facts.reassessing, facts.hasActivePlan {
                throw CaseError(
                    .duplicate, rule: .final20W, field: "type", value: event.typeName,
                    "a final plan was already issued on \(plan); record AmendedPlanIssued for changes")
            }
        case .requestWithdrawn:
            if let plan = facts.planMadeOn {
                throw CaseError(
                    .impossibleInState, field: "type", value: event.typeName, "a final plan was already issued on \(plan); cease the plan instead")
            }
            if let withdrawn = facts.withdrawnOn {
                throw CaseError(.duplicate, field: "type", value: event.typeName, "the request was already withdrawn on \(withdrawn)")
            }
        case .decisionNoticeSent(let notice):
            try validateNotice(notice, on: day, effective: effective)
        case .exceptionRecorded(let exception):
            try ExceptionRules(engine: engine).validate(exception, on: day, facts: facts, effective: effective, today: today)
        case .exceptionWithdrawn(let reference):
            guard let exception = facts.exceptions[reference.exceptionId] else {
                throw CaseError(.unknownReference, field: "data.exceptionId", value: reference.exceptionId, "no exception was recorded with this id")
            }
            if exception.withdrawn {
                throw CaseError(.duplicate, field: "data.exceptionId", value: reference.exceptionId, "this exception was already withdrawn")
            }
        case .reviewInvitationsSent, .reviewMeetingHeld, .reviewReportReceived, .reviewDecisionMade:
            try requirePlan(facts, event)
            try validateReview(event, on: day, facts: facts)
        case .amendmentNoticeIssued(let notice):
            try requirePlan(facts, event)
            if let reviewId = notice.reviewId, facts.reviews[reviewId] == nil {
                throw CaseError(.unknownReference, rule: .amendFinal8W, field: "data.reviewId", value: reviewId, "no review with this id on the case")
            }
        case .decidedNotToAmend:
            try requirePlan(facts, event)
            if !facts.pendingAmendmentNotice {
                throw CaseError(
                    .impossibleInState, rule: .amendFinal8W, field: "type", value: event.typeName,
                    "there is no amendment notice awaiting a decision (reg 22(4))")
            }
        case .amendedPlanIssued:
            try requirePlan(facts, event)
        case .phaseTransferDue(let transfer):
            if !CivilDate.acceptedYears.contains(transfer.transferYear) {
                throw CaseError(
                    .invalidField, field: "data.transferYear", value: String(transfer.transferYear),
                    "must be a calendar year from \(CivilDate.acceptedYears.lowerBound) to \(CivilDate.acceptedYears.upperBound)")
            }
            if transfer.kind == .post16Other && transfer.transferOn == nil {
                throw CaseError(
                    .invalidField, rule: .phasePost16FiveMonths, field: "data.transferOn",
                    "is required for a post16Other transfer (reg 18(2) counts back from the transfer date)")
            }
        case .planCeased(let ceased):
            if !(1...9).contains(ceased.reason) {
                throw CaseError(.invalidField, field: "data.reason", value: String(ceased.reason), "must be an SEN2 cease reason from 1 to 9")
            }
            try requirePlan(facts, event)
        case .transferredIn(let transfer):
            for (field, date) in [("lastReviewedOn", transfer.lastReviewedOn), ("planMadeOn", transfer.planMadeOn)] {
                if let date, date > day {
                    throw CaseError(
                        .invalidField, rule: .transferReview, field: "data.\(field)", value: date.description, "cannot be after the transfer (\(day))"
                    )
                }
            }
        case .moveNotified, .transferredOut:
            // A family can move away mid-assessment as well as with a plan: no plan required.
            break
        case .caseworkerAssigned(let assigned):
            if assigned.caseworker.trimmingWhitespace().isEmpty {
                throw CaseError(.invalidField, field: "data.caseworker", value: assigned.caseworker, "must name a caseworker")
            }
        case .deadlineBreached(let breach):
            try validateSchedulerRecord(
                breach.rule, key: breach.key, dueOn: breach.dueOn, expecting: [.breached], effective: effective, today: today, replaying: replaying)
            if facts.breaches.contains(breach) {
                throw CaseError(
                    .duplicate, rule: breach.rule, field: "data", "a breach of \(breach.rule.rawValue) due \(breach.dueOn) was already recorded")
            }
        case .deadlineReminderSent(let reminder):
            try validateSchedulerRecord(
                reminder.rule, key: reminder.key, dueOn: reminder.dueOn, expecting: [.open], effective: effective, today: today, replaying: replaying)
            if facts.reminders.contains(reminder) {
                throw CaseError(
                    .duplicate, rule: reminder.rule, field: "data",
                    "a \(reminder.daysBefore)-day reminder of \(reminder.rule.rawValue) due \(reminder.dueOn) was already sent")
            }
        }
    }
}
