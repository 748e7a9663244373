import EHCPDomain
import EHCPStore
import Foundation

/// A case as the API shows it: summary, stage, child, flags and every deadline as of today.
struct CaseView: Encodable {
    struct DeadlineView: Encodable {
        var rule: String
        var kind: String
        var key: String?
        var startedOn: CivilDate
        var dueOn: CivilDate
        var status: DeadlineStatus
        var metOn: CivilDate?
        /// Days until the due date while open; absent otherwise.
        var daysRemaining: Int?
        /// Days past the due date when overdue (`breached`), excepted or missed and unmet: for a missed
        /// clock, as of the day the case moved past it. Absent otherwise.
        var daysOverdue: Int?
        /// The day the case moved past it while it was overdue (docs/rules.md, "Statuses").
        var missedOn: CivilDate?
        /// Whether anyone can still act on it: an unmet council duty the case has not moved past.
        var actionable: Bool
        var exceptionIds: [String]
    }

    struct FlagView: Encodable {
        var rule: String
        var version: Int
        var message: String
    }

    struct ChildView: Encodable {
        var childId: UUID
        var name: String?
        var bornOn: String?
        var erased: Bool
    }

    var caseId: UUID
    var reference: String
    var version: Int
    var stage: String
    var openedOn: CivilDate?
    var caseworker: String?
    var team: String?
    var decidedOn: CivilDate?
    var assessed: Bool?
    var draftOn: CivilDate?
    var planMadeOn: CivilDate?
    var mediation: Bool
    var appealed: Bool
    var child: ChildView?
    var asOf: CivilDate
    var deadlines: [DeadlineView]
    var flags: [FlagView]

    init(caseId: UUID, reference: String, state: CaseState, child: ChildRecords.Details?, report: DeadlineReport, today: CivilDate) {
        let facts = state.facts
        self.caseId = caseId
        self.reference = reference
        version = state.version
        stage = facts.stage.rawValue
        openedOn = facts.openedOn
        caseworker = facts.caseworker
        team = facts.team
        decidedOn = facts.assessment.decidedOn
        assessed = facts.assessment.assessed
        draftOn = facts.draftOn
        planMadeOn = facts.planMadeOn
        mediation = facts.mediation
        appealed = facts.appealed
        self.child = child.map { details in
            ChildView(
                childId: details.childId, name: [details.forename, details.surname].compactMap { $0 }.joined(separator: " ").nilIfEmpty,
                bornOn: details.bornOn, erased: details.erasedAt != nil)
        }
        asOf = today
        deadlines = report.deadlines.sorted { ($0.dueOn, $0.rule.rawValue) < ($1.dueOn, $1.rule.rawValue) }.map { deadline in
            let overdue = deadline.metOn == nil && [.breached, .excepted, .missed].contains(deadline.status)
            return DeadlineView(
                rule: deadline.rule.rawValue, kind: deadline.rule.kind.rawValue, key: deadline.key, startedOn: deadline.startedOn,
                dueOn: deadline.dueOn,
                status: deadline.status, metOn: deadline.metOn, daysRemaining: deadline.status == .open ? today.days(until: deadline.dueOn) : nil,
                daysOverdue: overdue ? deadline.dueOn.days(until: deadline.movedPastOn ?? today) : nil, missedOn: deadline.movedPastOn,
                actionable: deadline.isActionable, exceptionIds: deadline.exceptionIds)
        }
        flags = report.flags.map { FlagView(rule: $0.rule.rawValue, version: $0.version, message: $0.message) }
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
