import EHCPDomain
import Foundation
import Postgres

/// A case to load in bulk: its history (already validated by `decide`) and the child it concerns.
public struct BulkCase: Sendable {
    public var caseId: UUID
    public var council: UUID
    public var reference: String
    public var child: ChildRecord?
    public var history: [RecordedEvent]

    public init(caseId: UUID, council: UUID, reference: String, child: ChildRecord?, history: [RecordedEvent]) {
        self.caseId = caseId
        self.council = council
        self.reference = reference
        self.child = child
        self.history = history
    }
}

/// Loads many cases at once with COPY: events, stream heads, children and both projections, in the
/// caller's transaction. For seeding and benchmarks, as the table owner (PostgreSQL refuses COPY under
/// row-level security, so the application role cannot use it); live writes go through `CaseRepository`.
public struct BulkLoader: Sendable {
    public let engine: DeadlineEngine

    public init(engine: DeadlineEngine) { self.engine = engine }

    /// Loads `cases` with their projections. Returns the number of events written.
    @discardableResult
    public func load(_ cases: [BulkCase], on connection: PostgresConnection) throws(PostgresError) -> Int {
        var children: [String] = []
        var streams: [String] = []
        var events: [String] = []
        var summaries: [String] = []
        var deadlines: [String] = []
        for bulk in cases where !bulk.history.isEmpty {
            let state = CaseState(history: bulk.history)
            let report = state.timelessDeadlines(engine)
            if let child = bulk.child {
                children.append(
                    Self.line([
                        child.id.postgresText, bulk.council.postgresText, child.forename, child.surname, child.bornOn.description,
                        child.sex, child.postcode, child.upn,
                    ]))
            }
            streams.append(Self.line([bulk.caseId.postgresText, bulk.council.postgresText, String(state.version)]))
            for recorded in bulk.history {
                let stored = recorded.newEvent
                events.append(
                    Self.line([
                        bulk.council.postgresText, bulk.caseId.postgresText, String(recorded.version), stored.type,
                        String(stored.schemaVersion), stored.data, stored.occurredOn, stored.occurredOn + " 10:00:00+00", stored.actor,
                    ]))
            }
            let rows = DeadlineRow.rows(state: state, report: report, reminderDays: engine.settings.reminderDays)
            summaries.append(
                Self.line(
                    CaseProjector.summaryRow(
                        council: bulk.council, caseId: bulk.caseId, reference: bulk.reference, childId: bulk.child?.id, state: state, report: report,
                        rows: rows)))
            deadlines += CaseProjector.deadlineText(rows, council: bulk.council, caseId: bulk.caseId).map(Self.line)
        }
        // Every case arrives whole (stream head, events, projections together), so the per-row foreign-key
        // triggers only re-check what this function just wrote. A superuser may skip them for the rest of
        // the transaction; other roles keep them, and the load is merely slower.
        let triggersOff =
            (try? connection.query("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").first?.decode(Bool.self, at: 0)) == true
        if triggersOff { try connection.execute("SET LOCAL session_replication_role = replica") }
        try connection.copyIn("COPY children (child_id, council_id, forename, surname, born_on, sex, postcode, upn) FROM STDIN", lines: children)
        try connection.copyIn("COPY case_streams (case_id, council_id, version) FROM STDIN", lines: streams)
        try connection.copyIn(
            "COPY events (council_id, case_id, version, type, schema_version, data, occurred_on, recorded_at, actor) FROM STDIN",
            lines: events)
        try connection.copyIn("COPY case_summary (\(CaseProjector.summaryColumns.joined(separator: ", "))) FROM STDIN", lines: summaries)
        try connection.copyIn("COPY deadlines (\(CaseProjector.deadlineColumns.joined(separator: ", "))) FROM STDIN", lines: deadlines)
        // With the triggers off, the report counts are added here, as the triggers on `deadlines` and `case_summary` would.
        if triggersOff { try ReportCounts().count(caseIds: cases.map(\.caseId), on: connection) }
        return events.count
    }

    /// One line of COPY text format: tab-separated, `\N` for NULL, backslash escapes.
    static func line(_ values: [String?]) -> String {
        values.map { value in
            guard let value else { return "\\N" }
            guard value.contains(where: { $0 == "\\" || $0 == "\t" || $0 == "\n" || $0 == "\r" }) else { return value }
            return value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\t", with: "\\t")
                .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
        }.joined(separator: "\t")
    }
}
