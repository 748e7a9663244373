import EHCPDomain
import Foundation
import Postgres

/// The inline projections of one case (`case_summary`, `deadlines`), written in the append's transaction
/// or, for bulk loads, by COPY. One definition of the rows serves both.
public struct CaseProjector: Sendable {
    public init() {}

    /// `case_summary` columns, in the order `summaryRow` gives them.
    static let summaryColumns = [
        "case_id", "council_id", "reference", "child_id", "stage", "opened_on", "opened_by", "request_source", "decided_on",
        "assessed", "draft_on", "plan_made_on", "no_plan_on", "withdrawn_on", "ceased_on", "ceased_reason", "caseworker",
        "team", "mediation", "appealed", "final_20w_excepted", "version", "next_due_on",
    ]

    /// `deadlines` columns, in the order `deadlineRows` gives them.
    static let deadlineColumns = [
        "case_id", "council_id", "rule", "kind", "key", "start_version", "started_on", "due_on", "status", "met_on", "excepted",
        "next_alert_on", "caseworker", "team",
    ]

    /// A readable case reference when the caller gives none: `EHC-` and the first ten hex digits of the id.
    public static func defaultReference(for caseId: UUID) -> String {
        "EHC-" + caseId.uuidString.replacingOccurrences(of: "-", with: "").prefix(10)
    }

    static func summaryRow(council: UUID, caseId: UUID, reference: String?, childId: UUID?, state: CaseState, report: DeadlineReport) -> [String?] {
        let facts = state.facts
        let duties = report.deadlines.filter { $0.rule.kind == .duty }
        var decidedOn: CivilDate?
        var assessed: Bool?
        switch facts.assessment {
        case .assess(let on): decidedOn = on; assessed = true
        case .refused(let on): decidedOn = on; assessed = false
        case .pending: break
        }
        var ceasedReason: Int?
        for recorded in state.effective.reversed() {
            if case .planCeased(let ceased) = recorded.event { ceasedReason = ceased.reason; break }
        }
        return [
            caseId.postgresText, council.postgresText, reference ?? defaultReference(for: caseId), childId?.postgresText,
            facts.stage.rawValue, (facts.openedOn ?? CivilDate(dayNumber: 0)).description, facts.openedBy?.rawValue ?? "unknown",
            facts.requestSource?.rawValue, decidedOn?.description, assessed?.postgresText, facts.draftOn?.description,
            facts.planMadeOn?.description, facts.noPlanOn?.description, facts.withdrawnOn?.description, facts.ceasedOn?.description,
            ceasedReason.map(String.init), facts.caseworker, facts.team, facts.mediation.postgresText, facts.appealed.postgresText,
            report.deadlines.contains { $0.rule == .final20W && !$0.exceptionIds.isEmpty }.postgresText, String(state.version),
            duties.filter { $0.status == .open }.map(\.dueOn).min()?.description,
        ]
    }

    static func deadlineRows(council: UUID, caseId: UUID, state: CaseState, report: DeadlineReport, reminderDays: [RuleID: [Int]]) -> [[String?]] {
        report.deadlines.map { deadline in
            [
                caseId.postgresText, council.postgresText, deadline.rule.rawValue, deadline.rule.kind.rawValue, deadline.key ?? "",
                String(deadline.startVersion), deadline.startedOn.description, deadline.dueOn.description, deadline.status.rawValue,
                deadline.metOn?.description, (!deadline.exceptionIds.isEmpty).postgresText,
                state.nextAlertDay(for: deadline, reminderDays: reminderDays[deadline.rule] ?? [])?.description,
                state.facts.caseworker, state.facts.team,
            ]
        }
    }

    /// Upserts the summary and replaces the deadlines of one case. Deadlines are stored with their
    /// timeless status (`CaseState.timelessDeadlines`): readers age them with their own today.
    public func write(
        council: UUID, caseId: UUID, reference: String?, childId: UUID?, state: CaseState, engine: DeadlineEngine,
        on connection: PostgresConnection
    ) throws(PostgresError) {
        let report = state.timelessDeadlines(engine)
        let columns = Self.summaryColumns
        let updates = columns.dropFirst(2).filter { $0 != "reference" }.map { column in
            column == "child_id" ? "child_id = coalesce(EXCLUDED.child_id, case_summary.child_id)" : "\(column) = EXCLUDED.\(column)"
        }
        try connection.query(
            """
            INSERT INTO case_summary (\(columns.joined(separator: ", ")))
            VALUES (\(columns.indices.map { "$\($0 + 1)" }.joined(separator: ", ")))
            ON CONFLICT (case_id) DO UPDATE SET \(updates.joined(separator: ", ")), updated_at = now()
            """,
            Self.summaryRow(council: council, caseId: caseId, reference: reference, childId: childId, state: state, report: report))
        try connection.query("DELETE FROM deadlines WHERE case_id = $1", [caseId])
        let rows = Self.deadlineRows(council: council, caseId: caseId, state: state, report: report, reminderDays: engine.settings.reminderDays)
        guard !rows.isEmpty else { return }
        let types = ["uuid", "uuid", "text", "text", "text", "int", "date", "date", "text", "date", "bool", "date", "text", "text"]
        try connection.query(
            """
            INSERT INTO deadlines (\(Self.deadlineColumns.joined(separator: ", ")))
            SELECT * FROM unnest(\(types.enumerated().map { "$\($0.offset + 1)::\($0.element)[]" }.joined(separator: ", ")))
            """,
            Self.deadlineColumns.indices.map { column in PostgresArray(rows.map { $0[column] }) })
    }
}
