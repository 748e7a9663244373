/// The facts the timeliness measures and the SEN2 return need beyond `CaseFacts`, read from the
/// effective history (statutory-timescales.md §5, §6).
public struct ReportingFacts: Sendable, Hashable {
    /// The first final plan for the request (K-20W counts that one, not a reassessment's).
    public var firstPlanOn: CivilDate?
    /// Mediation or an appeal about the decision not to assess (SEN2 requestmediation / requesttribunal).
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
        let decidedOn = facts.assessment.decidedOn
        let refused = facts.assessment.assessed == false
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
            if refused, let decidedOn, day >= decidedOn {
                if isMediation { requestMediation = true } else { requestTribunal = true }
            } else if let decidedOn, !refused, day >= decidedOn, assessmentEnd.map({ day <= $0 }) ?? true {
                if isMediation { assessmentMediation = true } else { assessmentTribunal = true }
            } else {
                if isMediation { otherMediation = true } else { otherTribunal = true }
            }
        }
    }
}
