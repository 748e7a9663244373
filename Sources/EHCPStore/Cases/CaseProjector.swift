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
        "team", "mediation", "appealed", "final_20w_excepted", "version", "next_due_on", "first_plan_on", "request_mediation",
        "request_tribunal", "assessment_mediation", "assessment_tribunal", "other_mediation", "other_tribunal", "last_review_on",
        "first_mediation_on", "first_appeal_on",
    ]

    /// `deadlines` columns, in the order `deadlineRows` gives them.
    static let deadlineColumns = [
        "case_id", "council_id", "rule", "kind", "key", "start_version", "started_on", "due_on", "status", "met_on", "excepted",
        "next_alert_on", "advice_type", "provider", "caseworker", "team",
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
        ] + Self.reportingColumns(ReportingFacts(state))
    }

    static func reportingColumns(_ facts: ReportingFacts) -> [String?] {
        [
            facts.firstPlanOn?.description, facts.requestMediation.postgresText, facts.requestTribunal.postgresText,
            facts.assessmentMediation.postgresText, facts.assessmentTribunal.postgresText, facts.otherMediation.postgresText,
            facts.otherTribunal.postgresText, facts.lastReviewOn?.description, facts.firstMediationOn?.description,
            facts.firstAppealOn?.description,
        ]
    }

    static func deadlineRows(council: UUID, caseId: UUID, state: CaseState, report: DeadlineReport, reminderDays: [RuleID: [Int]]) -> [[String?]] {
        report.deadlines.map { deadline in
            [
                caseId.postgresText, council.postgresText, deadline.rule.rawValue, deadline.rule.kind.rawValue, deadline.key ?? "",
                String(deadline.startVersion), deadline.startedOn.description, deadline.dueOn.description, deadline.status.rawValue,
                deadline.metOn?.description, (!deadline.exceptionIds.isEmpty).postgresText,
                state.nextAlertDay(for: deadline, reminderDays: reminderDays[deadline.rule] ?? [])?.description,
                deadline.rule == .advice6W ? deadline.key.flatMap { state.facts.advice[$0]?.type.rawValue } : nil,
                deadline.rule == .advice6W ? deadline.key.flatMap { state.facts.advice[$0]?.provider } : nil,
                state.facts.caseworker, state.facts.team,
            ]
        }
    }

    /// Upserts the summary and brings the case's deadline rows from `previous` to `state`, writing only the
    /// rows that changed (most events touch one or two clocks). Deadlines are stored with their timeless
    /// status (`CaseState.timelessDeadlines`): readers age them with their own today.
    ///
    /// - Returns: the earliest `next_alert_on` among the rows written (the scheduler may have work now).
    @discardableResult
    public func write(
        council: UUID, caseId: UUID, reference: String?, childId: UUID?, previous: CaseState, state: CaseState, engine: DeadlineEngine,
        on connection: PostgresConnection
    ) throws(PostgresError) -> CivilDate? {
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
        let reminders = engine.settings.reminderDays
        let rows = Self.deadlineRows(council: council, caseId: caseId, state: state, report: report, reminderDays: reminders)
        let before = previous.version == 0 ? [] : Self.deadlineRows(
            council: council, caseId: caseId, state: previous, report: previous.timelessDeadlines(engine), reminderDays: reminders)
        // Rows are keyed by (rule, key, start_version); caseworker and team (the last two columns) move together below.
        let identity = { (row: [String?]) in [row[2], row[4], row[5]] }
        let body = { (row: [String?]) in Array(row.dropLast(2)) }
        let old = Dictionary(before.map { (identity($0), body($0)) }, uniquingKeysWith: { a, _ in a })
        let new = Set(rows.map(identity))
        let removed = old.keys.filter { !new.contains($0) }
        if !removed.isEmpty {
            try connection.query(
                """
                DELETE FROM deadlines d USING unnest($2::text[], $3::text[], $4::int[]) AS r(rule, key, start_version)
                WHERE d.case_id = $1 AND d.rule = r.rule AND d.key = r.key AND d.start_version = r.start_version
                """,
                [caseId, PostgresArray(removed.map { $0[0] }), PostgresArray(removed.map { $0[1] }), PostgresArray(removed.map { $0[2] })])
        }
        if previous.version > 0, previous.facts.caseworker != state.facts.caseworker || previous.facts.team != state.facts.team {
            try connection.query(
                "UPDATE deadlines SET caseworker = $2, team = $3 WHERE case_id = $1", [caseId, state.facts.caseworker, state.facts.team])
        }
        let changed = rows.filter { old[identity($0)] != body($0) }
        guard !changed.isEmpty else { return nil }
        let types = ["uuid", "uuid", "text", "text", "text", "int", "date", "date", "text", "date", "bool", "date", "text", "text", "text", "text"]
        let keyColumns: Set<String> = ["case_id", "rule", "key", "start_version"]
        try connection.query(
            """
            INSERT INTO deadlines (\(Self.deadlineColumns.joined(separator: ", ")))
            SELECT * FROM unnest(\(types.enumerated().map { "$\($0.offset + 1)::\($0.element)[]" }.joined(separator: ", ")))
            ON CONFLICT (case_id, rule, key, start_version) DO UPDATE SET
                \(Self.deadlineColumns.filter { !keyColumns.contains($0) }.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", "))
            """,
            Self.deadlineColumns.indices.map { column in PostgresArray(changed.map { $0[column] }) })
        let alertColumn = Self.deadlineColumns.firstIndex(of: "next_alert_on")!
        return changed.compactMap { $0[alertColumn].flatMap(CivilDate.init(iso:)) }.min()
    }
}
