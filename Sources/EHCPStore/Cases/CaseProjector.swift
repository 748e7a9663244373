import EHCPDomain
import Foundation
import Postgres

/// The inline projections of one case (`case_summary`, `deadlines`), written in the append's transaction
/// or, for bulk loads, by COPY. One definition of the rows serves both.
public struct CaseProjector: Sendable {
    public init() {}

    /// What a summary row is computed from.
    struct SummarySource {
        var caseId: UUID
        var council: UUID
        var reference: String?
        var childId: UUID?
        var state: CaseState
        var facts: CaseFacts
        var reporting: ReportingFacts
        var report: DeadlineReport
        var ceasedReason: Int?
        /// The case's deadline rows, as stored.
        var rows: [DeadlineRow]
    }

    /// A projection column: its name, its SQL type (for the `unnest` of one array per column) and how its
    /// text is computed. Each column is defined once, so names, types and values cannot drift apart.
    struct Column<Source>: Sendable {
        var name: String
        var type: String
        var value: @Sendable (Source) -> String?
        init(_ name: String, _ type: String, _ value: @escaping @Sendable (Source) -> String?) {
            (self.name, self.type, self.value) = (name, type, value)
        }
    }

    /// `case_summary`, column by column.
    static let summary: [Column<SummarySource>] = [
        .init("case_id", "uuid") { $0.caseId.postgresText },
        .init("council_id", "uuid") { $0.council.postgresText },
        .init("reference", "text") { $0.reference ?? defaultReference(for: $0.caseId) },
        .init("child_id", "uuid") { $0.childId?.postgresText },
        .init("stage", "text") { $0.facts.stage.rawValue },
        .init("opened_on", "date") { ($0.facts.openedOn ?? CivilDate(dayNumber: 0)).description },
        .init("opened_by", "text") { $0.facts.openedBy?.rawValue ?? "unknown" },
        .init("request_source", "text") { $0.facts.requestSource?.rawValue },
        .init("decided_on", "date") { $0.facts.assessment.decidedOn?.description },
        .init("assessed", "bool") { $0.facts.assessment.assessed?.postgresText },
        .init("draft_on", "date") { $0.facts.draftOn?.description },
        .init("plan_made_on", "date") { $0.facts.planMadeOn?.description },
        .init("no_plan_on", "date") { $0.facts.noPlanOn?.description },
        .init("withdrawn_on", "date") { $0.facts.withdrawnOn?.description },
        .init("ceased_on", "date") { $0.facts.ceasedOn?.description },
        .init("transferred_out_on", "date") { $0.facts.transferredOutOn?.description },
        .init("ceased_reason", "smallint") { $0.ceasedReason.map(String.init) },
        .init("caseworker", "text") { $0.facts.caseworker },
        .init("team", "text") { $0.facts.team },
        .init("mediation", "bool") { $0.facts.mediation.postgresText },
        .init("appealed", "bool") { $0.facts.appealed.postgresText },
        .init("final_20w_excepted", "bool") { source in
            source.report.deadlines.contains { $0.rule == .final20W && !$0.exceptionIds.isEmpty }.postgresText
        },
        .init("version", "int") { String($0.state.version) },
        .init("next_due_on", "date") { source in
            source.report.deadlines.filter { $0.rule.kind == .duty && $0.status == .open }.map(\.dueOn).min()?.description
        },
        .init("first_plan_on", "date") { $0.reporting.firstPlanOn?.description },
        .init("request_mediation", "bool") { $0.reporting.requestMediation.postgresText },
        .init("request_tribunal", "bool") { $0.reporting.requestTribunal.postgresText },
        .init("assessment_mediation", "bool") { $0.reporting.assessmentMediation.postgresText },
        .init("assessment_tribunal", "bool") { $0.reporting.assessmentTribunal.postgresText },
        .init("other_mediation", "bool") { $0.reporting.otherMediation.postgresText },
        .init("other_tribunal", "bool") { $0.reporting.otherTribunal.postgresText },
        .init("last_review_on", "date") { $0.reporting.lastReviewOn?.description },
        .init("first_mediation_on", "date") { $0.reporting.firstMediationOn?.description },
        .init("first_appeal_on", "date") { $0.reporting.firstAppealOn?.description },
        .init("dfe_years", "jsonb") { DfEYear.json(DfEYear.years(of: $0.rows)) },
    ]

    /// What a deadline row's text is computed from.
    struct DeadlineSource {
        var caseText: String?
        var councilText: String?
        var row: DeadlineRow
    }

    /// `deadlines`, column by column.
    static let deadline: [Column<DeadlineSource>] = [
        .init("case_id", "uuid") { $0.caseText },
        .init("council_id", "uuid") { $0.councilText },
        .init("rule", "text") { $0.row.identity.rule.rawValue },
        .init("kind", "text") { $0.row.identity.rule.kind.rawValue },
        .init("key", "text") { $0.row.identity.key },
        .init("start_version", "int") { String($0.row.identity.startVersion) },
        .init("started_on", "date") { $0.row.startedOn.description },
        .init("due_on", "date") { $0.row.dueOn.description },
        .init("status", "text") { $0.row.status.rawValue },
        .init("met_on", "date") { $0.row.metOn?.description },
        .init("moved_past_on", "date") { $0.row.movedPastOn?.description },
        .init("excepted", "bool") { $0.row.excepted.postgresText },
        .init("next_alert_on", "date") { $0.row.nextAlertOn?.description },
        .init("advice_type", "text") { $0.row.adviceType },
        .init("provider", "text") { $0.row.provider },
        .init("review_outcome", "text") { $0.row.reviewOutcome },
        .init("caseworker", "text") { $0.row.caseworker },
        .init("team", "text") { $0.row.team },
        .init("k20w", "text") { $0.row.k20w },
    ]

    /// A deadline row's columns as text, in `deadlineColumns` order.
    static func deadlineText(_ row: DeadlineRow, caseText: String?, councilText: String?) -> [String?] {
        let source = DeadlineSource(caseText: caseText, councilText: councilText, row: row)
        return deadline.map { $0.value(source) }
    }

    static let summaryColumns = summary.map(\.name)
    static let deadlineColumns = deadline.map(\.name)

    /// A readable case reference when the caller gives none: `EHC-` and the first ten hex digits of the id.
    public static func defaultReference(for caseId: UUID) -> String {
        let hex = caseId.postgresText!.uppercased()  // 8-4-4-4-12 digits
        return "EHC-" + hex.prefix(8) + hex.dropFirst(9).prefix(2)
    }

    static func summaryRow(
        council: UUID, caseId: UUID, reference: String?, childId: UUID?, state: CaseState, report: DeadlineReport, rows: [DeadlineRow]
    ) -> [String?] {
        var ceasedReason: Int?
        for recorded in state.effective.reversed() {
            if case .planCeased(let ceased) = recorded.event {
                ceasedReason = ceased.reason
                break
            }
        }
        let source = SummarySource(
            caseId: caseId, council: council, reference: reference, childId: childId, state: state, facts: state.facts,
            reporting: ReportingFacts(state), report: report, ceasedReason: ceasedReason, rows: rows)
        return summary.map { $0.value(source) }
    }

    /// A case's deadline rows as column text.
    static func deadlineText(_ rows: [DeadlineRow], council: UUID, caseId: UUID) -> [[String?]] {
        let (caseText, councilText) = (caseId.postgresText, council.postgresText)
        return rows.map { deadlineText($0, caseText: caseText, councilText: councilText) }
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
    static let summaryTypes = summary.map(\.type)
    static let deadlineTypes = deadline.map(\.type)

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
        let reminders = engine.settings.reminderDays
        let rows = DeadlineRow.rows(state: state, report: report, reminderDays: reminders)
        summaries.append(
            CaseProjector.summaryRow(
                council: council, caseId: caseId, reference: reference, childId: childId, state: state, report: report, rows: rows))
        let before =
            previous.version == 0 ? [] : DeadlineRow.rows(state: previous, report: previous.timelessDeadlines(engine), reminderDays: reminders)
        var old: [DeadlineRow.Identity: DeadlineRow] = [:]
        old.reserveCapacity(before.count)
        for row in before where old[row.identity] == nil { old[row.identity] = row }
        let new = Set(rows.map(\.identity))
        let (caseText, councilText) = (caseId.postgresText, council.postgresText)
        removed += old.keys.filter { !new.contains($0) }.map { [caseText, $0.rule.rawValue, $0.key, String($0.startVersion)] }
        let changed = rows.filter { old[$0.identity] != $0 }
        deadlines += changed.map { CaseProjector.deadlineText($0, caseText: caseText, councilText: councilText) }
        return changed.compactMap(\.nextAlertOn).min()
    }
}
