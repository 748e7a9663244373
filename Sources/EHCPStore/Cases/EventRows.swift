import Foundation
import Postgres

/// The events of one or more cases, appended with one statement that also opens each new stream or moves
/// each existing stream's head: the only way events are written (`EventStore.append` for one case, the
/// batch writer for many, the same statement).
///
/// It writes a case's events only when its head moves from exactly the version the caller read (or,
/// for a new case, when its stream is created), under row-level security, so a stream can neither gain
/// a gap nor take events for another council's case. A case whose head did not move gets a NULL
/// version, so the whole statement fails (23502, `not_null_violation`) and nothing of it is written.
/// Two writers racing on one case meet at the events' unique `(case_id, version)` (23505 on
/// `events_case_version`), or, when the second reads the head after the first commits, at the head.
struct EventRows {
    struct Slot: Hashable {
        var caseId: UUID
        var version: Int
    }

    private var columns: [[String?]] = Array(repeating: [], count: 7)
    private var heads: [(caseId: UUID, from: Int, version: Int)] = []

    /// Adds a case's new events after its version `from`, as the batch read it.
    mutating func add(caseId: UUID, from version: Int, events: [NewEvent]) {
        let caseText = caseId.postgresText
        for (offset, event) in events.enumerated() {
            let row: [String?] = [
                caseText, String(version + offset + 1), event.type, String(event.schemaVersion), event.data, event.occurredOn,
                event.actor,
            ]
            for column in row.indices { columns[column].append(row[column]) }
        }
        heads.append((caseId, version, version + events.count))
    }

    /// The statement that moves the heads and inserts the events, returning each event's global position
    /// (`positions(_:)` reads them). Heads are moved in case order, so two batches sharing cases lock
    /// them in the same order.
    func statement(council: UUID) -> PostgresConnection.Statement {
        let heads = heads.map { (text: $0.caseId.postgresText!, from: $0.from, version: $0.version) }.sorted { $0.text < $1.text }
        return .init(
            """
            WITH opened AS (
                INSERT INTO case_streams (case_id, council_id, version)
                SELECT h.case_id, $1, h.version FROM unnest($2::uuid[], $3::int[], $11::int[]) AS h(case_id, version, from_version)
                WHERE h.from_version = 0
                ON CONFLICT (case_id) DO NOTHING
                RETURNING case_id
            ), moved AS (
                UPDATE case_streams s SET version = h.version
                FROM unnest($2::uuid[], $3::int[], $11::int[]) AS h(case_id, version, from_version)
                WHERE s.case_id = h.case_id AND h.from_version > 0 AND s.version = h.from_version
                RETURNING s.case_id
            )
            INSERT INTO events (council_id, case_id, version, type, schema_version, data, occurred_on, actor)
            SELECT $1, e.case_id, CASE WHEN m.case_id IS NOT NULL THEN e.version END, e.type, e.schema_version, e.data::jsonb, e.occurred_on, e.actor
            FROM unnest($4::uuid[], $5::int[], $6::text[], $7::smallint[], $8::text[], $9::date[], $10::text[])
                WITH ORDINALITY AS e(case_id, version, type, schema_version, data, occurred_on, actor, n)
            LEFT JOIN (SELECT case_id FROM opened UNION ALL SELECT case_id FROM moved) AS m ON m.case_id = e.case_id
            ORDER BY e.n
            RETURNING case_id, version, global_position
            """,
            [council, PostgresArray(heads.map(\.text)), PostgresArray(heads.map { String($0.version) })]
                + columns.map { PostgresArray($0) as any PostgresEncodable } + [PostgresArray(heads.map { String($0.from) })])
    }

    /// Each appended event's global position, from the rows `statement(council:)` returned.
    static func positions(_ rows: PostgresRows) throws(PostgresError) -> [Slot: Int64] {
        var positions: [Slot: Int64] = [:]
        for row in rows.rows {
            positions[Slot(caseId: try row.decode(at: 0), version: try row.decode(at: 1))] = try row.decode(at: 2)
        }
        return positions
    }
}
