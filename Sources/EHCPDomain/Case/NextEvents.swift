/// An event that may be recorded next on a case, as `CaseDecider.nextEvents` finds it.
public struct NextEvent: Sendable, Hashable {
    public var kind: EventKind
    /// For a field that names something already on the case (an `adviceId`, a `reviewId`) or picks one
    /// of a few kinds (an `appealType`, an `order`): the values `decide` accepts today, in order.
    public var choices: [String: [String]]
}

extension CaseDecider {
    /// The events a person with `authority` may record on this case today, found by asking `decide`:
    /// each kind is tried with every reference the case holds, so the list can never offer what the
    /// rules would refuse for the case's state. Openings, corrections, retractions and the scheduler's
    /// own records are not offered (corrections and retractions are made from the timeline).
    ///
    /// The trial events carry placeholder text; a field's own checks (an exception's evidence, say) are
    /// made again when the real event is recorded.
    public func nextEvents(_ state: CaseState, authority: Authority, today: CivilDate) -> [NextEvent] {
        EventKind.allCases.compactMap { kind in
            var accepted = false
            var choices: [String: [String]] = [:]
            for trial in Self.trials(kind, facts: state.facts, today: today) {
                let command = LogEvent(trial.event, on: today, by: "trial", today: today, authority: authority)
                guard (try? decide(state, command)) != nil else { continue }
                accepted = true
                if let (field, value) = trial.choice, !(choices[field]?.contains(value) ?? false) { choices[field, default: []].append(value) }
            }
            return accepted ? NextEvent(kind: kind, choices: choices) : nil
        }
    }

    private struct Trial {
        var event: CaseEvent
        var choice: (String, String)?
        init(_ event: CaseEvent, _ choice: (String, String)? = nil) {
            self.event = event
            self.choice = choice
        }
    }

    /// Events of `kind` to try: one per reference the case holds, or one with a fresh id.
    private static func trials(_ kind: EventKind, facts: CaseFacts, today: CivilDate) -> [Trial] {
        let fresh = "trial-\(facts.version + 1)"
        let placeholder = "trial"
        let reviews = facts.reviews.keys.sorted()
        switch kind {
        case .requestReceived, .becameResponsible, .transferredIn, .eventCorrected, .eventRetracted, .deadlineBreached, .deadlineReminderSent:
            return []
        case .decidedToAssess: return [Trial(.decidedToAssess)]
        case .decidedNotToAssess: return [Trial(.decidedNotToAssess)]
        case .outcomesMeetingHeld: return [Trial(.outcomesMeetingHeld)]
        case .decidedNotToIssuePlan: return [Trial(.decidedNotToIssuePlan)]
        case .draftPlanIssued: return [Trial(.draftPlanIssued)]
        case .reassessmentRequested: return [Trial(.reassessmentRequested)]
        case .decidedToReassess: return [Trial(.decidedToReassess)]
        case .decidedNotToReassess: return [Trial(.decidedNotToReassess)]
        case .transferNoticeSent: return [Trial(.transferNoticeSent)]
        case .mediationRequested: return [Trial(.mediationRequested)]
        case .mediationHeld: return [Trial(.mediationHeld)]
        case .mediationCertificateIssued: return [Trial(.mediationCertificateIssued)]
        case .adviceRequested: return [Trial(.adviceRequested(AdviceRequested(adviceId: fresh, adviceType: .educational)))]
        case .adviceReceived:
            return facts.advice.keys.sorted().map { Trial(.adviceReceived(AdviceReference(adviceId: $0)), ("adviceId", $0)) }
        case .settingConsulted: return [Trial(.settingConsulted(SettingConsulted(consultationId: fresh, setting: placeholder)))]
        case .consultationResponseReceived:
            return facts.consultations.keys.sorted().map {
                Trial(.consultationResponseReceived(ConsultationResponseReceived(consultationId: $0, response: .agreed)), ("consultationId", $0))
            }
        case .finalPlanIssued: return [Trial(.finalPlanIssued(PlanIssued()))]
        case .amendedPlanIssued: return [Trial(.amendedPlanIssued(PlanIssued()))]
        case .requestWithdrawn: return [Trial(.requestWithdrawn(Reason(reason: placeholder)))]
        case .exceptionRecorded:
            return RuleID.allCases.filter { !$0.exceptionGrounds.isEmpty }.map { rule in
                Trial(
                    .exceptionRecorded(ExceptionRecorded(exceptionId: fresh, ground: .personalCircumstances, rules: [rule], reason: placeholder)),
                    ("rules", rule.rawValue))
            }
        case .exceptionWithdrawn:
            return facts.exceptions.keys.sorted().map { Trial(.exceptionWithdrawn(ExceptionReference(exceptionId: $0)), ("exceptionId", $0)) }
        case .familyToldOfException:
            return facts.exceptions.keys.sorted().map { Trial(.familyToldOfException(ExceptionReference(exceptionId: $0)), ("exceptionId", $0)) }
        case .reviewInvitationsSent:
            return (reviews + [fresh]).map { Trial(.reviewInvitationsSent(ReviewReference(reviewId: $0)), $0 == fresh ? nil : ("reviewId", $0)) }
        case .reviewMeetingHeld:
            return (reviews + [fresh]).map { Trial(.reviewMeetingHeld(ReviewReference(reviewId: $0)), $0 == fresh ? nil : ("reviewId", $0)) }
        case .reviewReportReceived:
            return reviews.map { Trial(.reviewReportReceived(ReviewReference(reviewId: $0)), ("reviewId", $0)) }
        case .reviewDecisionMade:
            return reviews.map { Trial(.reviewDecisionMade(ReviewDecisionMade(reviewId: $0, decision: .maintain)), ("reviewId", $0)) }
        case .amendmentNoticeIssued: return [Trial(.amendmentNoticeIssued(OptionalReviewReference()))]
        case .decidedNotToAmend: return [Trial(.decidedNotToAmend(OptionalReviewReference()))]
        case .phaseTransferDue: return [Trial(.phaseTransferDue(PhaseTransferDue(transferYear: today.year + 1, kind: .school)))]
        case .planCeased: return [Trial(.planCeased(PlanCeased(reason: 1)))]
        case .moveNotified: return [Trial(.moveNotified(MoveNotified(moveOn: today)))]
        case .transferredOut: return [Trial(.transferredOut(TransferredOut(toAuthority: placeholder)))]
        case .appealLodged:
            return AppealType.allCases.map { Trial(.appealLodged(AppealReference(appealType: $0)), ("appealType", $0.rawValue)) }
        case .appealConceded:
            return AppealType.allCases.map { Trial(.appealConceded(AppealReference(appealType: $0)), ("appealType", $0.rawValue)) }
        case .tribunalOrderMade:
            return TribunalOrder.allCases.map { Trial(.tribunalOrderMade(TribunalOrderMade(order: $0)), ("order", $0.rawValue)) }
        case .caseworkerAssigned: return [Trial(.caseworkerAssigned(CaseworkerAssigned(caseworker: placeholder)))]
        case .decisionNoticeSent:
            return AppealableDecision.allCases.map { Trial(.decisionNoticeSent(DecisionNoticeSent(decision: $0)), ("decision", $0.rawValue)) }
        }
    }
}
