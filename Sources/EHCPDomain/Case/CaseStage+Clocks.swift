extension CaseStage {
    /// The rules of the initial assessment (request to final plan), whose clocks stop mattering to a
    /// caseworker once the case has a plan or the council has decided against one.
    static let initialAssessment: Set<RuleID> = [.decide6W, .advice6W, .outcomesLocal, .noPlan16W, .draftLocal, .consult15D, .final20W]

    /// Whether a case at this stage has moved past `rule`, so that an unmet clock of it can no longer be
    /// acted on: every clock of a withdrawn, ceased or transferred case, and the initial assessment's
    /// clocks once a plan is made or refused. Such a clock still counts against the KPIs and stays on
    /// the case page; it leaves the lists of things to do today.
    public func hasMovedPast(_ rule: RuleID) -> Bool {
        switch self {
        case .withdrawn, .ceased, .transferredOut: true
        case .refused, .noPlan, .planMaintained: Self.initialAssessment.contains(rule)
        case .awaitingDecision, .assessment, .draftPlan, .reassessment: false
        }
    }
}
