import EHCPDomain

/// One `deadlines` row as its stored values, compared without building its text (most of a case's rows
/// do not change with an event).
struct DeadlineRow: Equatable {
    /// The row's key within its case: (rule, key, start_version).
    struct Identity: Hashable {
        var rule: RuleID
        var key: String
        var startVersion: Int
    }

    var identity: Identity
    var startedOn: CivilDate
    var dueOn: CivilDate
    var status: DeadlineStatus
    var metOn: CivilDate?
    var movedPastOn: CivilDate?
    var excepted: Bool
    var nextAlertOn: CivilDate?
    var adviceType: String?
    var provider: String?
    /// On a review clock met by a review decision, that decision (the DfE's annual-review outcomes, SEN2).
    var reviewOutcome: String?
    /// Kept only on open and missed duties (schema.sql: the breach report and work tray read them from their
    /// covering indexes), so a caseworker's reassignment changes only those rows.
    var caseworker: String?
    /// The case's team, on every row: the clock counts are kept per team (schema.sql, `clock_counts`).
    var team: String?
    /// On R-FINAL-20W: `dfe` or `all` when the clock is in K-20W (`k20w(of:_:)`), nil otherwise.
    var k20w: String?

    /// The rows of a case's deadlines.
    static func rows(state: CaseState, report: DeadlineReport, reminderDays: [RuleID: [Int]]) -> [DeadlineRow] {
        // Read from the history only for a case whose 20-week clock was met.
        let reporting = report.deadlines.contains { $0.rule == .final20W && $0.metOn != nil } ? ReportingFacts(state) : nil
        return report.deadlines.map { deadline in
            let duty = deadline.rule.kind == .duty
            // The breach report filters and counts open and missed duties by caseworker and team from its indexes.
            let openDuty = duty && (deadline.status == .open || deadline.status == .missed)
            let advice = deadline.rule == .advice6W ? deadline.key.flatMap { state.facts.advice[$0] } : nil
            return DeadlineRow(
                identity: Identity(rule: deadline.rule, key: deadline.key ?? "", startVersion: deadline.startVersion),
                startedOn: deadline.startedOn, dueOn: deadline.dueOn, status: deadline.status, metOn: deadline.metOn,
                movedPastOn: duty ? deadline.movedPastOn : nil, excepted: !deadline.exceptionIds.isEmpty,
                nextAlertOn: state.nextAlertDay(for: deadline, reminderDays: reminderDays[deadline.rule] ?? []),
                adviceType: advice?.type.rawValue, provider: advice?.provider, reviewOutcome: Self.reviewOutcome(of: deadline, state.facts),
                caseworker: openDuty ? state.facts.caseworker : nil, team: state.facts.team,
                k20w: reporting.flatMap { k20w(of: deadline, state.facts, $0) })
        }
    }

    /// Whether a 20-week clock is in K-20W (statutory-timescales.md §5, reg 13(2)): the first final plan
    /// for a new request, not a council becoming responsible or a reassessment. `dfe` when it is also in
    /// the DfE's scope, which leaves out plans with mediation or an appeal about the refusal to assess or
    /// during the assessment; `all` when only that wider population keeps it.
    static func k20w(of deadline: Deadline, _ facts: CaseFacts, _ reporting: ReportingFacts) -> String? {
        guard deadline.rule == .final20W, facts.openedBy == .requestReceived, let metOn = deadline.metOn, metOn == reporting.firstPlanOn else {
            return nil
        }
        let disputed = reporting.requestMediation || reporting.requestTribunal || reporting.assessmentMediation || reporting.assessmentTribunal
        return disputed ? "all" : "dfe"
    }

    /// The decision that met a review clock: the one for its review (R-REVIEW-DECIDE-4W), or the one made on
    /// the day it was met (R-REVIEW-12M, R-TRANSFER-REVIEW).
    static func reviewOutcome(of deadline: Deadline, _ facts: CaseFacts) -> String? {
        guard let metOn = deadline.metOn else { return nil }
        switch deadline.rule {
        case .reviewDecide4W: return deadline.key.flatMap { facts.reviews[$0]?.decision?.rawValue }
        case .review12M, .transferReview: return facts.reviews.values.first { $0.decisionOn == metOn }?.decision?.rawValue
        default: return nil
        }
    }
}
