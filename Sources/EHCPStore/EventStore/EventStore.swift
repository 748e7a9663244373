import Foundation
import Postgres

/// The append-only event log in PostgreSQL.
///
/// Its methods run on a connection the caller holds, inside the caller's transaction, so that the
/// events, the projections written beside them and the outbox rows commit or roll back together.
public struct EventStore: Sendable {
    public init() {}

    /// Makes the rest of the transaction act for one council (row-level security reads this setting).
    public func setCouncil(_ councilId: UUID, on connection: PostgresConnection) throws(PostgresError) {
        try connection.query("SELECT set_config('ehcp.council_id', $1, true)", [councilId])
    }

    /// Appends `events` to a case's stream at `expectedVersion` (0 for a new case).
    ///
    /// - Throws: `StoreError.concurrencyConflict` when the stream is not at `expectedVersion`;
    ///   `StoreError.idempotencyKeyReused` when `idempotencyKey` was used with a different `requestHash`.
    ///   A key used with the same hash returns the first append's result and writes nothing.
    public func append(
        council councilId: UUID, caseId: UUID, expectedVersion: Int, events: [NewEvent],
        idempotencyKey: String? = nil, requestHash: String = "", on connection: PostgresConnection
    ) throws(StoreError) -> AppendResult {
        precondition(!events.isEmpty, "append needs at least one event")
        do {
            try setCouncil(councilId, on: connection)
            if let key = idempotencyKey, let earlier = try replayed(key: key, requestHash: requestHash, on: connection) {
                return earlier
            }
            let newVersion = expectedVersion + events.count
            try advanceStream(council: councilId, caseId: caseId, from: expectedVersion, to: newVersion, on: connection)
            let positions = try insert(council: councilId, caseId: caseId, firstVersion: expectedVersion + 1, events: events, on: connection)
            let result = AppendResult(
                caseId: caseId, firstVersion: expectedVersion + 1, lastVersion: newVersion,
                firstPosition: positions.first!, lastPosition: positions.last!, replayed: false)
            if let key = idempotencyKey {
                try connection.query(
                    """
                    INSERT INTO idempotency_keys
                        (council_id, key, request_hash, case_id, first_version, last_version, first_position, last_position)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                    """,
                    [councilId, key, requestHash, caseId, result.firstVersion, result.lastVersion, result.firstPosition, result.lastPosition])
            }
            return result
        } catch let error as StoreError {
            throw error
        } catch let error as PostgresError {
            // Two writers that raced past the checks meet at a unique index: the loser has a conflict.
            if error.isUniqueViolation {
                throw .concurrencyConflict(caseId: caseId, expected: expectedVersion, actual: nil)
            }
            throw .database(error)
        } catch {
            throw .database(PostgresError(.query, message: "\(error)"))
        }
    }

    /// One case's events in version order (only those of the council set on the transaction).
    public func readStream(caseId: UUID, on connection: PostgresConnection) throws(PostgresError) -> [StoredEvent] {
        try connection.query(
            "SELECT \(StoredEvent.columns) FROM events WHERE case_id = $1 ORDER BY version", [caseId]
        ).rows.map { row throws(PostgresError) in try StoredEvent(row: row) }
    }

    /// Events committed after `cursor`, in (transaction, position) order, and the cursor to read on from.
    ///
    /// Identity values are taken at insert but become visible at commit, so a reader that only tracked
    /// `global_position` would skip a row whose transaction committed late. This reader returns only
    /// rows from transactions older than every transaction still in flight
    /// (`pg_snapshot_xmin(pg_current_snapshot())`); a row can never appear later behind its cursor.
    public func readGlobal(after cursor: GlobalCursor, limit: Int = 1000, on connection: PostgresConnection)
        throws(PostgresError) -> (events: [StoredEvent], cursor: GlobalCursor)
    {
        let rows = try connection.query(
            """
            SELECT \(StoredEvent.columns) FROM events
            WHERE (transaction_id, global_position) > ($1::text::xid8, $2)
              AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
            ORDER BY events.transaction_id, events.global_position  -- qualified: the output column of the same name is text
            LIMIT $3
            """,
            [String(cursor.transactionId), cursor.position, limit])
        let events = try rows.rows.map { row throws(PostgresError) in try StoredEvent(row: row) }
        let next = events.last.map { GlobalCursor(transactionId: $0.transactionId, position: $0.globalPosition) } ?? cursor
        return (events, next)
    }

    /// The result of an earlier append with this idempotency key, or nil when the key is new.
    /// - Throws: `StoreError.idempotencyKeyReused` when the key was used with a different request.
    public func replayed(key: String, requestHash: String, on connection: PostgresConnection) throws -> AppendResult? {
        guard let row = try connection.query(
            """
            SELECT request_hash, case_id, first_version, last_version, first_position, last_position
            FROM idempotency_keys WHERE council_id = ehcp_council() AND key = $1
            """, [key]
        ).first else { return nil }
        guard try row.decode(String.self, at: 0) == requestHash else { throw StoreError.idempotencyKeyReused(key: key) }
        return AppendResult(
            caseId: try row.decode(at: 1), firstVersion: try row.decode(at: 2), lastVersion: try row.decode(at: 3),
            firstPosition: try row.decode(at: 4), lastPosition: try row.decode(at: 5), replayed: true)
    }

    /// Moves the stream head from `expected` to `new`, or fails with a conflict that names both versions.
    private func advanceStream(council: UUID, caseId: UUID, from expected: Int, to new: Int, on connection: PostgresConnection) throws {
        let moved: Int
        if expected == 0 {
            moved = try connection.query(
                "INSERT INTO case_streams (case_id, council_id, version) VALUES ($1, $2, $3) ON CONFLICT (case_id) DO NOTHING",
                [caseId, council, new]
            ).affected
        } else {
            moved = try connection.query(
                "UPDATE case_streams SET version = $3 WHERE case_id = $1 AND version = $2", [caseId, expected, new]
            ).affected
        }
        guard moved == 1 else {
            let actual = try connection.query("SELECT version FROM case_streams WHERE case_id = $1", [caseId]).first
            if actual == nil && expected > 0 { throw StoreError.caseNotFound(caseId: caseId) }
            throw StoreError.concurrencyConflict(caseId: caseId, expected: expected, actual: try actual?.decode(Int.self, at: 0))
        }
    }

    private func insert(council: UUID, caseId: UUID, firstVersion: Int, events: [NewEvent], on connection: PostgresConnection) throws -> [Int64] {
        let rows = try connection.query(
            """
            INSERT INTO events (council_id, case_id, version, type, schema_version, data, occurred_on, actor)
            SELECT $1, $2, e.version, e.type, e.schema_version, e.data::jsonb, e.occurred_on, e.actor
            FROM unnest($3::int[], $4::text[], $5::smallint[], $6::text[], $7::date[], $8::text[])
                AS e(version, type, schema_version, data, occurred_on, actor)
            ORDER BY e.version
            RETURNING global_position
            """,
            [
                council, caseId,
                PostgresArray(events.indices.map { String(firstVersion + $0) }),
                PostgresArray(events.map(\.type)),
                PostgresArray(events.map { String($0.schemaVersion) }),
                PostgresArray(events.map(\.data)),
                PostgresArray(events.map(\.occurredOn)),
                PostgresArray(events.map(\.actor)),
            ])
        return try rows.rows.map { row throws(PostgresError) in try row.decode(Int64.self, at: 0) }.sorted()
    }
}
