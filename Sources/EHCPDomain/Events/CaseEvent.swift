/// Every event a case can hold (docs: ../shared/docs/events.md). One exhaustive enum, so the compiler
/// finds every switch that must learn a new event.
public enum CaseEvent: Sendable, Hashable {
    // Initial assessment
    case requestReceived(RequestReceived)
    case becameResponsible(BecameResponsible)
    case decidedToAssess
    case decidedNotToAssess
    case adviceRequested(AdviceRequested)
    case adviceReceived(AdviceReference)
    case outcomesMeetingHeld
    case decidedNotToIssuePlan
    case draftPlanIssued
    case settingConsulted(SettingConsulted)
    case consultationResponseReceived(ConsultationResponseReceived)
    case finalPlanIssued(PlanIssued)
    case requestWithdrawn(Reason)
    // Exceptions
    case exceptionRecorded(ExceptionRecorded)
    case exceptionWithdrawn(ExceptionReference)
    case familyToldOfException(ExceptionReference)
    // Plan maintenance
    case reviewInvitationsSent(ReviewReference)
    case reviewMeetingHeld(ReviewReference)
    case reviewReportReceived(ReviewReference)
    case reviewDecisionMade(ReviewDecisionMade)
    case amendmentNoticeIssued(OptionalReviewReference)
    case decidedNotToAmend(OptionalReviewReference)
    case amendedPlanIssued(PlanIssued)
    case phaseTransferDue(PhaseTransferDue)
    case reassessmentRequested
    case decidedToReassess
    case decidedNotToReassess
    case planCeased(PlanCeased)
    case transferredIn(TransferredIn)
    case transferNoticeSent
    case moveNotified(MoveNotified)
    case transferredOut(TransferredOut)
    // Disagreements
    case mediationRequested
    case mediationHeld
    case mediationCertificateIssued
    case appealLodged(AppealReference)
    case tribunalOrderMade(TribunalOrderMade)
    case appealConceded(AppealReference)
    case decisionNoticeSent(DecisionNoticeSent)
    // Casework and corrections
    case caseworkerAssigned(CaseworkerAssigned)
    case eventCorrected(EventCorrected)
    case eventRetracted(EventRetracted)
    case deadlineBreached(DeadlineBreached)
    case deadlineReminderSent(DeadlineReminderSent)

    /// The stored type name: an explicit constant, never derived from a Swift type name.
    public var typeName: String { kind.rawValue }

    /// Whether this event can open a case.
    public var opensCase: Bool {
        switch self {
        case .requestReceived, .becameResponsible, .transferredIn: true
        default: false
        }
    }
}

/// The stored event type names (events.md). Renaming one is a data migration, not a refactor.
public enum EventKind: String, Sendable, Hashable, CaseIterable, Codable {
    case requestReceived = "RequestReceived"
    case becameResponsible = "BecameResponsible"
    case decidedToAssess = "DecidedToAssess"
    case decidedNotToAssess = "DecidedNotToAssess"
    case adviceRequested = "AdviceRequested"
    case adviceReceived = "AdviceReceived"
    case outcomesMeetingHeld = "OutcomesMeetingHeld"
    case decidedNotToIssuePlan = "DecidedNotToIssuePlan"
    case draftPlanIssued = "DraftPlanIssued"
    case settingConsulted = "SettingConsulted"
    case consultationResponseReceived = "ConsultationResponseReceived"
    case finalPlanIssued = "FinalPlanIssued"
    case requestWithdrawn = "RequestWithdrawn"
    case exceptionRecorded = "ExceptionRecorded"
    case exceptionWithdrawn = "ExceptionWithdrawn"
    case familyToldOfException = "FamilyToldOfException"
    case reviewInvitationsSent = "ReviewInvitationsSent"
    case reviewMeetingHeld = "ReviewMeetingHeld"
    case reviewReportReceived = "ReviewReportReceived"
    case reviewDecisionMade = "ReviewDecisionMade"
    case amendmentNoticeIssued = "AmendmentNoticeIssued"
    case decidedNotToAmend = "DecidedNotToAmend"
    case amendedPlanIssued = "AmendedPlanIssued"
    case phaseTransferDue = "PhaseTransferDue"
    case reassessmentRequested = "ReassessmentRequested"
    case decidedToReassess = "DecidedToReassess"
    case decidedNotToReassess = "DecidedNotToReassess"
    case planCeased = "PlanCeased"
    case transferredIn = "TransferredIn"
    case transferNoticeSent = "TransferNoticeSent"
    case moveNotified = "MoveNotified"
    case transferredOut = "TransferredOut"
    case mediationRequested = "MediationRequested"
    case mediationHeld = "MediationHeld"
    case mediationCertificateIssued = "MediationCertificateIssued"
    case appealLodged = "AppealLodged"
    case tribunalOrderMade = "TribunalOrderMade"
    case appealConceded = "AppealConceded"
    case decisionNoticeSent = "DecisionNoticeSent"
    case caseworkerAssigned = "CaseworkerAssigned"
    case eventCorrected = "EventCorrected"
    case eventRetracted = "EventRetracted"
    case deadlineBreached = "DeadlineBreached"
    case deadlineReminderSent = "DeadlineReminderSent"
}

extension CaseEvent {
    public var kind: EventKind {
        switch self {
        case .requestReceived: .requestReceived
        case .becameResponsible: .becameResponsible
        case .decidedToAssess: .decidedToAssess
        case .decidedNotToAssess: .decidedNotToAssess
        case .adviceRequested: .adviceRequested
        case .adviceReceived: .adviceReceived
        case .outcomesMeetingHeld: .outcomesMeetingHeld
        case .decidedNotToIssuePlan: .decidedNotToIssuePlan
        case .draftPlanIssued: .draftPlanIssued
        case .settingConsulted: .settingConsulted
        case .consultationResponseReceived: .consultationResponseReceived
        case .finalPlanIssued: .finalPlanIssued
        case .requestWithdrawn: .requestWithdrawn
        case .exceptionRecorded: .exceptionRecorded
        case .exceptionWithdrawn: .exceptionWithdrawn
        case .familyToldOfException: .familyToldOfException
        case .reviewInvitationsSent: .reviewInvitationsSent
        case .reviewMeetingHeld: .reviewMeetingHeld
        case .reviewReportReceived: .reviewReportReceived
        case .reviewDecisionMade: .reviewDecisionMade
        case .amendmentNoticeIssued: .amendmentNoticeIssued
        case .decidedNotToAmend: .decidedNotToAmend
        case .amendedPlanIssued: .amendedPlanIssued
        case .phaseTransferDue: .phaseTransferDue
        case .reassessmentRequested: .reassessmentRequested
        case .decidedToReassess: .decidedToReassess
        case .decidedNotToReassess: .decidedNotToReassess
        case .planCeased: .planCeased
        case .transferredIn: .transferredIn
        case .transferNoticeSent: .transferNoticeSent
        case .moveNotified: .moveNotified
        case .transferredOut: .transferredOut
        case .mediationRequested: .mediationRequested
        case .mediationHeld: .mediationHeld
        case .mediationCertificateIssued: .mediationCertificateIssued
        case .appealLodged: .appealLodged
        case .tribunalOrderMade: .tribunalOrderMade
        case .appealConceded: .appealConceded
        case .decisionNoticeSent: .decisionNoticeSent
        case .caseworkerAssigned: .caseworkerAssigned
        case .eventCorrected: .eventCorrected
        case .eventRetracted: .eventRetracted
        case .deadlineBreached: .deadlineBreached
        case .deadlineReminderSent: .deadlineReminderSent
        }
    }
}

/// An event as it stands in a case's stream.
public struct RecordedEvent: Sendable, Hashable {
    /// 1, 2, 3 … within the case.
    public var version: Int
    /// The date it happened in the world (deadlines and KPIs use this, not the recording time).
    public var occurredOn: CivilDate
    public var event: CaseEvent
    public var actor: String

    public init(version: Int, occurredOn: CivilDate, event: CaseEvent, actor: String) {
        self.version = version
        self.occurredOn = occurredOn
        self.event = event
        self.actor = actor
    }
}

extension CaseEvent {
    /// Recorded only by the deadline scheduler (actor `system`), never by people.
    public var isSchedulerRecord: Bool {
        switch self {
        case .deadlineBreached, .deadlineReminderSent: true
        default: false
        }
    }
}

extension CaseEvent {
    /// Every date in the event's data, by field name (`dueOn`, `to`, `moveOn` …), found by reflection so
    /// that a new payload field of type `CivilDate` is covered without a list to keep up to date.
    public var payloadDates: [(String, CivilDate)] {
        guard let payload = Mirror(reflecting: self).children.first?.value else { return [] }
        return Mirror(reflecting: payload).children.compactMap { child in
            guard let name = child.label else { return nil }
            if let date = child.value as? CivilDate { return (name, date) }
            if let optional = child.value as? CivilDate?, let date = optional { return (name, date) }
            return nil
        }
    }
}
