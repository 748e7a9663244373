/// What `decide` needs to know about a case to tell possible events from impossible ones, folded from
/// its effective history in version order. `apply` is total: it never fails.
public struct CaseFacts: Sendable {
    public enum AssessmentDecision: Sendable, Hashable {
        case pending
        case assess(CivilDate)
        case refused(CivilDate)

        /// The day of the decision, whichever it was; nil while pending.
        public var decidedOn: CivilDate? {
            switch self {
            case .assess(let on), .refused(let on): on
            case .pending: nil
            }
        }

        /// Whether the council decided to assess; nil while pending.
        public var assessed: Bool? {
            switch self {
            case .assess: true
            case .refused: false
            case .pending: nil
            }
        }
    }

    public struct Advice: Sendable, Hashable {
        public var requestedOn: CivilDate
        public var type: AdviceType
        public var provider: String?
        public var receivedOn: CivilDate?
    }

    public struct Consultation: Sendable, Hashable {
        public var sentOn: CivilDate
        public var responded = false
    }

    public struct Exception: Sendable, Hashable {
        public var recorded: ExceptionRecorded
        public var withdrawn = false
    }

    public struct Review: Sendable, Hashable {
        public var invitedOn: CivilDate?
        public var meetingOn: CivilDate?
        public var reportOn: CivilDate?
        public var decisionOn: CivilDate?
        public var decision: ReviewDecision?
    }

    public var version = 0
    public var openedOn: CivilDate?
    public var openedBy: EventKind?
    public var requestSource: RequestSource?
    public var childId: String?
    public var assessment = AssessmentDecision.pending
    public var noPlanOn: CivilDate?
    public var draftOn: CivilDate?
    public var planMadeOn: CivilDate?
    public var reassessing = false
    public var withdrawnOn: CivilDate?
    public var ceasedOn: CivilDate?
    public var transferredOutOn: CivilDate?
    public var advice: [String: Advice] = [:]
    public var consultations: [String: Consultation] = [:]
    public var exceptions: [String: Exception] = [:]
    public var reviews: [String: Review] = [:]
    public var pendingAmendmentNotice = false
    public var breaches = Set<DeadlineBreached>()
    public var reminders = Set<DeadlineReminderSent>()
    public var caseworker: String?
    public var team: String?
    public var mediation = false
    public var appealed = false

    public init() {}

    public var isOpen: Bool { openedOn != nil && transferredOutOn == nil }
    /// A plan is maintained by this council (made or transferred in, not ceased or transferred out).
    public var hasActivePlan: Bool { planMadeOn != nil && ceasedOn == nil && transferredOutOn == nil }

    /// Where the case stands, for lists and work trays.
    public var stage: CaseStage {
        if transferredOutOn != nil { return .transferredOut }
        if ceasedOn != nil { return .ceased }
        if withdrawnOn != nil { return .withdrawn }
        if planMadeOn != nil { return reassessing ? .reassessment : .planMaintained }
        if noPlanOn != nil { return .noPlan }
        switch assessment {
        case .refused: return .refused
        case .assess: return draftOn != nil ? .draftPlan : .assessment
        case .pending: return .awaitingDecision
        }
    }

    public mutating func apply(_ recorded: RecordedEvent) {
        version = recorded.version
        let day = recorded.occurredOn
        switch recorded.event {
        case .requestReceived(let request):
            openedOn = day
            openedBy = .requestReceived
            requestSource = request.requestSource
            childId = request.childId
        case .becameResponsible(let responsible):
            openedOn = day
            openedBy = .becameResponsible
            childId = responsible.childId
        case .decidedToAssess: assessment = .assess(day)
        case .decidedNotToAssess: assessment = .refused(day)
        case .adviceRequested(let request):
            advice[request.adviceId] = Advice(requestedOn: day, type: request.adviceType, provider: request.provider)
        case .adviceReceived(let reference): advice[reference.adviceId]?.receivedOn = day
        case .decidedNotToIssuePlan: noPlanOn = day
        case .draftPlanIssued: draftOn = day
        case .settingConsulted(let consultation): consultations[consultation.consultationId] = Consultation(sentOn: day)
        case .consultationResponseReceived(let response): consultations[response.consultationId]?.responded = true
        case .finalPlanIssued:
            if planMadeOn == nil { planMadeOn = day }
            reassessing = false
        case .requestWithdrawn: withdrawnOn = day
        case .exceptionRecorded(let exception): exceptions[exception.exceptionId] = Exception(recorded: exception)
        case .exceptionWithdrawn(let reference): exceptions[reference.exceptionId]?.withdrawn = true
        case .reviewInvitationsSent(let review): reviews[review.reviewId, default: Review()].invitedOn = day
        case .reviewMeetingHeld(let review): reviews[review.reviewId, default: Review()].meetingOn = day
        case .reviewReportReceived(let review): reviews[review.reviewId, default: Review()].reportOn = day
        case .reviewDecisionMade(let made):
            reviews[made.reviewId, default: Review()].decisionOn = day
            reviews[made.reviewId, default: Review()].decision = made.decision
        case .amendmentNoticeIssued: pendingAmendmentNotice = true
        case .decidedNotToAmend, .amendedPlanIssued:
            pendingAmendmentNotice = false
            reassessing = false
        case .decidedToReassess: reassessing = true
        case .planCeased: ceasedOn = day
        case .transferredIn(let transfer):
            openedOn = openedOn ?? day
            openedBy = openedBy ?? .transferredIn
            childId = childId ?? transfer.childId
            planMadeOn = planMadeOn ?? transfer.planMadeOn ?? day
            transferredOutOn = nil
            ceasedOn = nil
        case .transferredOut: transferredOutOn = day
        case .mediationRequested, .mediationHeld, .mediationCertificateIssued: mediation = true
        case .appealLodged: appealed = true
        case .tribunalOrderMade(let order):
            appealed = true
            reopen(for: order.order == .assess ? .refusalToAssess : order.order == .makePlan ? .refusalToIssue : nil)
        case .appealConceded(let appeal):
            appealed = true
            reopen(for: appeal.appealType)
        case .caseworkerAssigned(let assigned):
            caseworker = assigned.caseworker
            team = assigned.team
        case .deadlineBreached(let breach): breaches.insert(breach)
        case .deadlineReminderSent(let reminder): reminders.insert(reminder)
        case .outcomesMeetingHeld, .familyToldOfException, .phaseTransferDue, .reassessmentRequested,
            .decidedNotToReassess, .transferNoticeSent, .moveNotified, .eventCorrected, .eventRetracted, .decisionNoticeSent:
            break
        }
    }

    /// An order to assess or to make a plan (or a conceded appeal) reopens the decision it overturns.
    private mutating func reopen(for appeal: AppealType?) {
        switch appeal {
        case .refusalToAssess: if case .refused = assessment { assessment = .pending }
        case .refusalToIssue: noPlanOn = nil
        default: break
        }
    }
}

/// Where a case stands.
public enum CaseStage: String, Sendable, Hashable, Codable, CaseIterable {
    case awaitingDecision, assessment, draftPlan, refused, noPlan, planMaintained, reassessment
    case withdrawn, ceased, transferredOut
}
