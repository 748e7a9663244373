import EHCPDomain
import Foundation
import Postgres

/// Writes the inline projections of one case (`case_summary`, `deadlines`) in the append's transaction.
public struct CaseProjector: Sendable {
    public init() {}

    public func write(
        council: UUID, caseId: UUID, reference: String?, childId: UUID?, state: CaseState, report: DeadlineReport,
        on connection: PostgresConnection
    ) throws(PostgresError) {
        let facts = state.facts
        let duties = report.deadlines.filter { $0.rule.kind == .duty }
        let nextDue = duties.filter { $0.status == .open }.map(\.dueOn).min()
        let breached = duties.filter { $0.status == .breached }.count
        let final20WExcepted = report.deadlines.contains { $0.rule == .final20W && !$0.exceptionIds.isEmpty }
        var decidedOn: CivilDate?
        var assessed: Bool?
        switch facts.assessment {
        case .assess(let on): decidedOn = on; assessed = true
        case .refused(let on): decidedOn = on; assessed = false
        case .pending: break
        }
        try connection.query(
            """
            INSERT INTO case_summary (case_id, council_id, reference, child_id, stage, opened_on, opened_by, request_source,
                decided_on, assessed, draft_on, plan_made_on, no_plan_on, withdrawn_on, ceased_on, ceased_reason,
                caseworker, team, mediation, appealed, final_20w_excepted, version, next_due_on, breached_count, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
                $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, now())
            ON CONFLICT (case_id) DO UPDATE SET
                child_id = coalesce(EXCLUDED.child_id, case_summary.child_id), stage = EXCLUDED.stage,
                opened_on = EXCLUDED.opened_on, opened_by = EXCLUDED.opened_by, request_source = EXCLUDED.request_source,
                decided_on = EXCLUDED.decided_on, assessed = EXCLUDED.assessed, draft_on = EXCLUDED.draft_on,
                plan_made_on = EXCLUDED.plan_made_on, no_plan_on = EXCLUDED.no_plan_on, withdrawn_on = EXCLUDED.withdrawn_on,
                ceased_on = EXCLUDED.ceased_on, ceased_reason = EXCLUDED.ceased_reason, caseworker = EXCLUDED.caseworker,
                team = EXCLUDED.team, mediation = EXCLUDED.mediation, appealed = EXCLUDED.appealed,
                final_20w_excepted = EXCLUDED.final_20w_excepted, version = EXCLUDED.version,
                next_due_on = EXCLUDED.next_due_on, breached_count = EXCLUDED.breached_count, updated_at = now()
            """,
            [
                caseId, council, reference ?? Self.defaultReference(for: caseId), childId, facts.stage.rawValue, facts.openedOn?.description ?? "1970-01-01",
                facts.openedBy?.rawValue ?? "unknown", facts.requestSource?.rawValue, decidedOn?.description, assessed,
                facts.draftOn?.description, facts.planMadeOn?.description, facts.noPlanOn?.description,
                facts.withdrawnOn?.description, facts.ceasedOn?.description, ceasedReason(state), facts.caseworker, facts.team,
                facts.mediation, facts.appealed, final20WExcepted, state.version, nextDue?.description, breached,
            ])
        try connection.query("DELETE FROM deadlines WHERE case_id = $1", [caseId])
        guard !report.deadlines.isEmpty else { return }
        let rows = report.deadlines
        try connection.query(
            """
            INSERT INTO deadlines (case_id, council_id, rule, key, start_version, started_on, due_on, status, met_on,
                excepted, caseworker, team)
            SELECT $1, $2, d.rule, d.key, d.start_version, d.started_on, d.due_on, d.status, d.met_on, d.excepted, $9, $10
            FROM unnest($3::text[], $4::text[], $5::int[], $6::date[], $7::date[], $8::text[], $11::date[], $12::bool[])
                AS d(rule, key, start_version, started_on, due_on, status, met_on, excepted)
            ON CONFLICT DO NOTHING
            """,
            [
                caseId, council,
                PostgresArray(rows.map(\.rule.rawValue)),
                PostgresArray(rows.map { $0.key ?? "" }),
                PostgresArray(rows.map { String($0.startVersion) }),
                PostgresArray(rows.map(\.startedOn.description)),
                PostgresArray(rows.map(\.dueOn.description)),
                PostgresArray(rows.map(\.status.rawValue)),
                facts.caseworker, facts.team,
                PostgresArray(rows.map { $0.metOn?.description }),
                PostgresArray(rows.map { $0.exceptionIds.isEmpty ? "f" : "t" }),
            ])
    }

    /// A readable case reference when the caller gives none: `EHC-` and the first ten hex digits of the id.
    public static func defaultReference(for caseId: UUID) -> String {
        "EHC-" + caseId.uuidString.replacingOccurrences(of: "-", with: "").prefix(10)
    }

    private func ceasedReason(_ state: CaseState) -> Int? {
        for recorded in state.effective.reversed() {
            if case .planCeased(let ceased) = recorded.event { return ceased.reason }
        }
        return nil
    }
}
