/// Shared checks used by `validate`.
extension CaseDecider {
    func requireAssessmentNotRefused(_ facts: CaseFacts, _ event: CaseEvent) throws(CaseError) {
        if case .refused(let on) = facts.assessment {
            throw CaseError(
                .impossibleInState, rule: .final20W, field: "type", value: event.typeName,
                "the council decided not to assess on \(on); only a tribunal order or a conceded appeal reopens the assessment")
        }
    }

    func requireNoNoPlanDecision(_ facts: CaseFacts, _ event: CaseEvent) throws(CaseError) {
        if let noPlan = facts.noPlanOn {
            throw CaseError(
                .impossibleInState, rule: .noPlan16W, field: "type", value: event.typeName,
                "the council decided not to issue a plan on \(noPlan); only a tribunal order or a conceded appeal reopens it")
        }
    }

    func requirePlan(_ facts: CaseFacts, _ event: CaseEvent) throws(CaseError) {
        guard facts.planMadeOn != nil else {
            throw CaseError(.impossibleInState, field: "type", value: event.typeName, "the case has no EHC plan yet")
        }
        if let ceased = facts.ceasedOn {
            throw CaseError(.impossibleInState, field: "type", value: event.typeName, "the plan ceased on \(ceased)")
        }
        if let out = facts.transferredOutOn {
            throw CaseError(.impossibleInState, field: "type", value: event.typeName, "the plan was transferred to another council on \(out)")
        }
    }

    func validateReview(_ event: CaseEvent, on day: CivilDate, facts: CaseFacts) throws(CaseError) {
        switch event {
        case .reviewInvitationsSent(let reference):
            if facts.reviews[reference.reviewId]?.invitedOn != nil {
                throw CaseError(
                    .duplicate, rule: .reviewNotice2W, field: "data.reviewId", value: reference.reviewId,
                    "invitations for this review were already sent")
            }
        case .reviewMeetingHeld(let reference):
            let review = facts.reviews[reference.reviewId]
            if let meeting = review?.meetingOn {
                throw CaseError(
                    .duplicate, rule: .reviewDecide4W, field: "data.reviewId", value: reference.reviewId,
                    "the meeting for this review was already held on \(meeting)")
            }
            if let invited = review?.invitedOn, day < invited {
                throw CaseError(
                    .impossibleInState, rule: .reviewNotice2W, field: "occurredOn", value: day.description,
                    "the meeting cannot be before its invitations were sent (\(invited))")
            }
        case .reviewReportReceived(let reference):
            guard let meeting = facts.reviews[reference.reviewId]?.meetingOn else {
                throw CaseError(
                    .unknownReference, rule: .reviewReport2W, field: "data.reviewId", value: reference.reviewId,
                    "no review meeting was held with this id")
            }
            if day < meeting {
                throw CaseError(
                    .impossibleInState, rule: .reviewReport2W, field: "occurredOn", value: day.description,
                    "the report cannot come before the meeting (\(meeting))")
            }
        case .reviewDecisionMade(let decision):
            let review = facts.reviews[decision.reviewId]
            if let decided = review?.decisionOn {
                throw CaseError(
                    .duplicate, rule: .reviewDecide4W, field: "data.reviewId", value: decision.reviewId,
                    "a decision for this review was already made on \(decided)")
            }
            if let meeting = review?.meetingOn, day < meeting {
                throw CaseError(
                    .impossibleInState, rule: .reviewDecide4W, field: "occurredOn", value: day.description,
                    "the decision cannot come before the meeting (\(meeting))")
            }
        default:
            break
        }
    }

    /// A decision notice names a decision the case holds, is sent on or after it, and is recorded once for
    /// it. The decision is found among the events, not the notice clocks, so a notice of a decision made
    /// before the council began checking notices (`LocalSettings.decisionNoticesFrom`) can still be recorded.
    func validateNotice(_ notice: DecisionNoticeSent, on day: CivilDate, effective: [RecordedEvent]) throws(CaseError) {
        let decisions = effective.filter { $0.event.appealableDecision == notice.decision }.map(\.occurredOn).sorted()
        guard let first = decisions.first else {
            throw CaseError(
                .unknownReference, rule: .decisionNotice5WD, field: "data.decision", value: notice.decision.rawValue,
                "the case has no \(notice.decision.title) to send a notice of")
        }
        guard let decided = decisions.last(where: { $0 <= day }) else {
            throw CaseError(
                .invalidField, rule: .decisionNotice5WD, field: "occurredOn", value: day.description,
                "is before the \(notice.decision.title) it gives notice of (\(first))")
        }
        for recorded in effective {
            if case .decisionNoticeSent(let sent) = recorded.event, sent.decision == notice.decision, recorded.occurredOn >= decided {
                throw CaseError(
                    .duplicate, rule: .decisionNotice5WD, field: "data.decision", value: notice.decision.rawValue,
                    "the notice of the \(notice.decision.title) of \(decided) was already recorded as sent on \(recorded.occurredOn)")
            }
        }
    }

    /// The scheduler may record a breach only of a deadline that is breached today, and a reminder only
    /// of one still open. When replaying after a correction these records stand as history.
    func validateSchedulerRecord(
        _ rule: RuleID, key: String?, dueOn: CivilDate, expecting: Set<DeadlineStatus>, effective: [RecordedEvent],
        today: CivilDate, replaying: Bool
    ) throws(CaseError) {
        guard !replaying else { return }
        let report = engine.report(for: effective, asOf: today)
        let match = report.deadlines.first { $0.rule == rule && $0.key == key && $0.dueOn == dueOn }
        guard let match else {
            throw CaseError(
                .unknownReference, rule: rule, field: "data.dueOn", value: dueOn.description,
                "the case has no \(rule.rawValue) deadline due on that day")
        }
        guard expecting.contains(match.status) else {
            throw CaseError(
                .impossibleInState, rule: rule, field: "data.dueOn", value: dueOn.description,
                "the deadline is \(match.status.rawValue), not \(expecting.map(\.rawValue).sorted().joined(separator: " or "))")
        }
    }
}

extension String {
    func trimmingWhitespace() -> Substring {
        let start = firstIndex { !$0.isWhitespace } ?? endIndex
        let end = lastIndex { !$0.isWhitespace }.map(index(after:)) ?? start
        return self[start..<max(start, end)]
    }
}
