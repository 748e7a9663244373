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
        let hex = caseId.postgresText!.uppercased()  // 8-4-4-4-12 digits
        return "EHC-" + hex.prefix(8) + hex.dropFirst(9).prefix(2)
    }

    static func summaryRow(council: UUID, caseId: UUID, reference: String?, childId: UUID?, state: CaseState, report: DeadlineReport) -> [String?] {
        let facts = state.facts
        let duties = report.deadlines.filter { $0.rule.kind == .duty }
        var ceasedReason: Int?
        for recorded in state.effective.reversed() {
            if case .planCeased(let ceased) = recorded.event {
                ceasedReason = ceased.reason
                break
            }
        }
        return [
            caseId.postgresText, council.postgresText, reference ?? defaultReference(for: caseId), childId?.postgresText,
            facts.stage.rawValue, (facts.openedOn ?? CivilDate(dayNumber: 0)).description, facts.openedBy?.rawValue ?? "unknown",
            facts.requestSource?.rawValue, facts.assessment.decidedOn?.description, facts.assessment.assessed?.postgresText,
            facts.draftOn?.description,
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

    /// A case's deadline rows as column text, with their timeless status.
    static func deadlineRows(council: UUID, caseId: UUID, state: CaseState, report: DeadlineReport, reminderDays: [RuleID: [Int]]) -> [[String?]] {
        let (caseText, councilText) = (caseId.postgresText, council.postgresText)
        return DeadlineRow.rows(state: state, report: report, reminderDays: reminderDays).map {
            $0.columns(caseText: caseText, councilText: councilText)
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
        var changes = ProjectionChanges()
        let firstAlert = changes.add(
            council: council, caseId: caseId, reference: reference, childId: childId, previous: previous, state: state, engine: engine)
        try write(changes, on: connection)
        return firstAlert
    }

    /// Stops deadline rows of `caseIds` still due by `day` from being claimed again: the scheduler has done
    /// all it can for them (an excused deadline that passed, a refused record). The next change to the
    /// case recomputes them.
    public func stopAlerts(caseIds: [UUID], dueBy day: CivilDate, on connection: PostgresConnection) throws(PostgresError) {
        try connection.query(
            "UPDATE deadlines SET next_alert_on = NULL WHERE case_id = ANY($1::uuid[]) AND next_alert_on <= $2::date",
            [PostgresArray(caseIds.map(\.postgresText)), day.description])
    }

    /// Writes the gathered changes of one or more cases: at most three statements, whatever the number of cases.
    public func write(_ changes: ProjectionChanges, on connection: PostgresConnection) throws(PostgresError) {
        for statement in statements(changes) { try connection.query(statement.sql, statement.parameters) }
    }

    /// The statements that write `changes`, for a caller that sends them with others in one pipeline.
    /// Each stands alone (none needs another's result): rows are updated in place where they exist and
    /// inserted where they do not, in one statement per table.
    public func statements(_ changes: ProjectionChanges) -> [PostgresConnection.Statement] {
        var statements: [PostgresConnection.Statement] = []
        if !changes.summaries.isEmpty {
            statements.append(.init(Self.writeSummaries, Self.columnArrays(changes.summaries, count: Self.summaryColumns.count)))
        }
        if !changes.removed.isEmpty {
            statements.append(
                .init(
                    """
                    DELETE FROM deadlines d USING unnest($1::uuid[], $2::text[], $3::text[], $4::int[]) AS r(case_id, rule, key, start_version)
                    WHERE d.case_id = r.case_id AND d.rule = r.rule AND d.key = r.key AND d.start_version = r.start_version
                    """,
                    Self.columnArrays(changes.removed, count: 4)))
        }
        if !changes.deadlines.isEmpty {
            statements.append(.init(Self.writeDeadlines, Self.columnArrays(changes.deadlines, count: Self.deadlineColumns.count)))
        }
        return statements
    }

    /// The summary columns a change may set: not the key, the council, or the reference (no event holds
    /// it); a child link is kept when the change has none.
    private static let summarySetters = summaryColumns.dropFirst(2).filter { $0 != "reference" }.map { column in
        column == "child_id" ? "child_id = coalesce(u.child_id, s.child_id)" : "\(column) = u.\(column)"
    }

    /// Updates the summaries that exist (most changes: an UPDATE joined on the key does not probe the unique
    /// indexes as INSERT … ON CONFLICT does) and inserts the others (new cases, rows removed by a rebuild).
    static let writeSummaries = """
        WITH u AS (SELECT * FROM unnest(\(arrayParameters(summaryTypes))) AS u(\(summaryColumns.joined(separator: ", ")))),
        updated AS (
            UPDATE case_summary s SET \(summarySetters.joined(separator: ", ")), updated_at = now()
            FROM u WHERE s.case_id = u.case_id
            RETURNING s.case_id
        )
        INSERT INTO case_summary AS s (\(summaryColumns.joined(separator: ", ")))
        SELECT * FROM u WHERE u.case_id NOT IN (SELECT case_id FROM updated)
        ON CONFLICT (case_id) DO UPDATE SET
            \(summarySetters.joined(separator: ", ").replacingOccurrences(of: "u.", with: "EXCLUDED.")), updated_at = now()
        """

    /// A deadline row is identified by (case_id, rule, key, start_version); its council never changes.
    private static let deadlineSetters = deadlineColumns.filter { !["case_id", "council_id", "rule", "key", "start_version"].contains($0) }

    /// Updates the deadline rows that exist and inserts the others, as `writeSummaries` does.
    static let writeDeadlines = """
        WITH u AS (SELECT * FROM unnest(\(arrayParameters(deadlineTypes))) AS u(\(deadlineColumns.joined(separator: ", ")))),
        updated AS (
            UPDATE deadlines d SET \(deadlineSetters.map { "\($0) = u.\($0)" }.joined(separator: ", "))
            FROM u WHERE d.case_id = u.case_id AND d.rule = u.rule AND d.key = u.key AND d.start_version = u.start_version
            RETURNING d.case_id, d.rule, d.key, d.start_version
        )
        INSERT INTO deadlines (\(deadlineColumns.joined(separator: ", ")))
        SELECT * FROM u WHERE NOT EXISTS (
            SELECT 1 FROM updated x WHERE x.case_id = u.case_id AND x.rule = u.rule AND x.key = u.key AND x.start_version = u.start_version)
        ON CONFLICT (case_id, rule, key, start_version) DO UPDATE SET
            \(deadlineSetters.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", "))
        """

    /// SQL types of `summaryColumns` and `deadlineColumns`, for the `unnest` of one array per column.
    static let summaryTypes = [
        "uuid", "uuid", "text", "uuid", "text", "date", "text", "text", "date", "bool", "date", "date", "date", "date", "date", "smallint",
        "text", "text", "bool", "bool", "bool", "int", "date", "date", "bool", "bool", "bool", "bool", "bool", "bool", "date", "date", "date",
    ]
    static let deadlineTypes = [
        "uuid", "uuid", "text", "text", "text", "int", "date", "date", "text", "date", "bool", "date", "text", "text", "text", "text",
    ]

    static func arrayParameters(_ types: [String]) -> String {
        types.enumerated().map { "$\($0.offset + 1)::\($0.element)[]" }.joined(separator: ", ")
    }

    /// Rows to one array parameter per column.
    static func columnArrays(_ rows: [[String?]], count: Int) -> [PostgresArray] {
        (0..<count).map { column in PostgresArray(rows.map { $0[column] }) }
    }
}

/// The projection rows that recording events on some cases changes, gathered so that a batch of cases
/// is written with one statement per table (`CaseProjector.write(_:on:)`).
public struct ProjectionChanges: Sendable {
    var summaries: [[String?]] = []
    /// (case_id, rule, key, start_version) of rows that no longer exist.
    var removed: [[String?]] = []
    /// New or changed deadline rows.
    var deadlines: [[String?]] = []

    public init() {}

    /// Adds one case's change from `previous` to `state`.
    /// - Returns: the earliest `next_alert_on` among its rows that change (the scheduler may have work now).
    @discardableResult
    public mutating func add(
        council: UUID, caseId: UUID, reference: String?, childId: UUID?, previous: CaseState, state: CaseState, engine: DeadlineEngine
    ) -> CivilDate? {
        let report = state.timelessDeadlines(engine)
        let summary = CaseProjector.summaryRow(council: council, caseId: caseId, reference: reference, childId: childId, state: state, report: report)
        summaries.append(summary)
        let reminders = engine.settings.reminderDays
        let rows = DeadlineRow.rows(state: state, report: report, reminderDays: reminders)
        let before =
            previous.version == 0 ? [] : DeadlineRow.rows(state: previous, report: previous.timelessDeadlines(engine), reminderDays: reminders)
        var old: [DeadlineRow.Identity: DeadlineRow] = [:]
        old.reserveCapacity(before.count)
        for row in before where old[row.identity] == nil { old[row.identity] = row }
        let new = Set(rows.map(\.identity))
        let (caseText, councilText) = (caseId.postgresText, council.postgresText)
        removed += old.keys.filter { !new.contains($0) }.map { [caseText, $0.rule.rawValue, $0.key, String($0.startVersion)] }
        let changed = rows.filter { old[$0.identity] != $0 }
        deadlines += changed.map { $0.columns(caseText: caseText, councilText: councilText) }
        return changed.compactMap(\.nextAlertOn).min()
    }
}
