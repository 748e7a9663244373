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
    var team: String?

    /// The rows of a case's deadlines.
    static func rows(state: CaseState, report: DeadlineReport, reminderDays: [RuleID: [Int]]) -> [DeadlineRow] {
        report.deadlines.map { deadline in
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
                caseworker: openDuty ? state.facts.caseworker : nil, team: openDuty ? state.facts.team : nil)
        }
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
