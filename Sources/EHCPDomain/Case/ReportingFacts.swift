/// The facts the timeliness measures and the SEN2 return need beyond `CaseFacts`, read from the
/// effective history (statutory-timescales.md §5, §6).
public struct ReportingFacts: Sendable, Hashable {
    /// The first final plan for the request (K-20W counts that one, not a reassessment's).
    public var firstPlanOn: CivilDate?
    /// Mediation or an appeal about the decision not to assess (SEN2 requestmediation / requesttribunal),
    /// including one that overturned it: K-20W's DfE scope leaves those plans out too.
    public var requestMediation = false
    public var requestTribunal = false
    /// Mediation or an appeal during the assessment: after the decision to assess and no later than the
    /// first plan or the decision not to issue one (SEN2 assessmentmediation / assessmenttribunal; K-20W's
    /// DfE scope leaves these cases out).
    public var assessmentMediation = false
    public var assessmentTribunal = false
    /// Any other mediation or appeal (about a plan already made, a review, a cessation).
    public var otherMediation = false
    public var otherTribunal = false
    /// The latest annual review decision.
    public var lastReviewOn: CivilDate?
    /// The first mediation request and the first appeal on the case (the caseload counts).
    public var firstMediationOn: CivilDate?
    public var firstAppealOn: CivilDate?

    public init(_ state: CaseState) {
        let facts = state.facts
        for recorded in state.effective {
            if case .finalPlanIssued = recorded.event, firstPlanOn == nil { firstPlanOn = recorded.occurredOn }
            if case .reviewDecisionMade = recorded.event { lastReviewOn = max(lastReviewOn ?? recorded.occurredOn, recorded.occurredOn) }
        }
        // The request stage runs from a refusal to assess until a decision to assess overturns it (after an
        // order or a concession); the assessment stage from the decision to assess to the first plan or
        // the decision not to issue one.
        var refusedOn: CivilDate?
        var assessedOn: CivilDate?
        for recorded in state.effective {
            switch recorded.event {
            case .decidedNotToAssess: refusedOn = min(refusedOn ?? recorded.occurredOn, recorded.occurredOn)
            case .decidedToAssess: assessedOn = min(assessedOn ?? recorded.occurredOn, recorded.occurredOn)
            default: break
            }
        }
        if let refused = refusedOn, let assessed = assessedOn, assessed < refused { refusedOn = nil }
        let assessmentEnd = [firstPlanOn, facts.noPlanOn].compactMap { $0 }.min()
        for recorded in state.effective {
            let isMediation: Bool
            switch recorded.event {
            case .mediationRequested: isMediation = true
            case .appealLodged: isMediation = false
            default: continue
            }
            let day = recorded.occurredOn
            if isMediation { firstMediationOn = min(firstMediationOn ?? day, day) } else { firstAppealOn = min(firstAppealOn ?? day, day) }
            let appealAgainstRefusal = if case .appealLodged(let appeal) = recorded.event { appeal.appealType == .refusalToAssess } else { false }
            if appealAgainstRefusal || (refusedOn.map { day >= $0 } ?? false) && (assessedOn.map { day < $0 } ?? true) {
                if isMediation { requestMediation = true } else { requestTribunal = true }
            } else if let assessedOn, day >= assessedOn, assessmentEnd.map({ day <= $0 }) ?? true {
                if isMediation { assessmentMediation = true } else { assessmentTribunal = true }
            } else {
                if isMediation { otherMediation = true } else { otherTribunal = true }
            }
        }
    }
}
