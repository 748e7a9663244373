import Foundation
import Postgres

/// The append-only event log in PostgreSQL.
///
/// Its methods run on a connection the caller holds, inside the caller's transaction, so that the
/// events, the projections written beside them and the outbox rows commit or roll back together.
public struct EventStore: Sendable {
    /// Decoded payloads by stored text, for the histories this store reads (copies of a store share them).
    let payloads: StoredPayloads

    public init() {
        payloads = StoredPayloads(generationSize: 4096)
    }

    /// Makes the rest of the transaction act for one council (row-level security reads this setting).
    public func setCouncil(_ councilId: UUID, on connection: PostgresConnection) throws(PostgresError) {
        try connection.query("SELECT set_config('ehcp.council_id', $1, true)", [councilId])
    }

    /// Runs `body` in a transaction acting for one council: committed when it returns, rolled back when it
    /// throws. BEGIN and the council setting travel in one round trip (the id is a `UUID`, so its text
    /// form is safe inside the statement).
    ///
    /// - Parameter genericPlans: plan each prepared statement once for any parameters
    ///   (`Self.genericPlans`), for transactions that write cases.
    public func transaction<T>(
        council councilId: UUID, genericPlans: Bool = false, on connection: PostgresConnection, _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        let plans = genericPlans ? " \(Self.genericPlans);" : ""
        return try connection.transaction(begin: "BEGIN;\(plans) SELECT set_config('ehcp.council_id', '\(councilId.postgresText!)', true)", body)
    }

    /// PostgreSQL otherwise re-plans a statement for its values at every run when it judges that cheaper;
    /// for the write path's array parameters that judgement is wrong, and planning was a fifth of the
    /// server's time.
    public static let genericPlans = "SET LOCAL plan_cache_mode = force_generic_plan"

    /// Appends `events` to a case's stream at `expectedVersion` (0 for a new case).
    ///
    /// Call it inside the transaction that also writes the projections (`transaction(council:on:_:)`).
    /// Without an idempotency key it is a single statement, so it may also run on its own.
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
            if let key = idempotencyKey, let earlier = try replayed(council: councilId, key: key, requestHash: requestHash, on: connection) {
                return earlier
            }
            let newVersion = expectedVersion + events.count
            let positions = try insert(
                council: councilId, caseId: caseId, expectedVersion: expectedVersion, events: events, on: connection)
            guard !positions.isEmpty else {
                try conflict(caseId: caseId, expected: expectedVersion, on: connection)
            }
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
            // Two writers that raced past the checks meet at a unique index: the loser has a conflict, unless
            // the index is the idempotency key's (the caller runs again and replays the winner).
            if error.isUniqueViolation && error.constraint != "idempotency_keys_pkey" {
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
    public func replayed(council: UUID, key: String, requestHash: String, on connection: PostgresConnection) throws -> AppendResult? {
        guard
            let row = try connection.query(
                """
                SELECT request_hash, case_id, first_version, last_version, first_position, last_position
                FROM idempotency_keys WHERE council_id = $1 AND key = $2
                UNION ALL SELECT 'not a case event', NULL, NULL, NULL, NULL, NULL FROM idempotent_responses WHERE council_id = $1 AND key = $2
                """, [council, key]
            ).first
        else { return nil }
        // A key kept for a write that recorded no case event counts as used by another request (StoredResponses).
        guard try row.decode(String.self, at: 0) == requestHash else { throw StoreError.idempotencyKeyReused(key: key) }
        return AppendResult(
            caseId: try row.decode(at: 1), firstVersion: try row.decode(at: 2), lastVersion: try row.decode(at: 3),
            firstPosition: try row.decode(at: 4), lastPosition: try row.decode(at: 5), replayed: true)
    }

    /// Why the stream head did not move: a conflict naming both versions, or an unknown case.
    private func conflict(caseId: UUID, expected: Int, on connection: PostgresConnection) throws -> Never {
        let actual = try connection.query("SELECT version FROM case_streams WHERE case_id = $1", [caseId]).first
        if actual == nil && expected > 0 { throw StoreError.caseNotFound(caseId: caseId) }
        throw StoreError.concurrencyConflict(caseId: caseId, expected: expected, actual: try actual?.decode(Int.self, at: 0))
    }

    /// Moves the stream head from `expectedVersion` and inserts the events: one statement, one round trip
    /// (`ehcp_append` in schema.sql). No positions come back when the head is not at `expectedVersion`.
    private func insert(
        council: UUID, caseId: UUID, expectedVersion: Int, events: [NewEvent], on connection: PostgresConnection
    ) throws -> [Int64] {
        let rows = try connection.query(
            "SELECT * FROM ehcp_append($1, $2, $3, $4::text[], $5::smallint[], $6::text[], $7::date[], $8::text[])",
            [
                council, caseId, expectedVersion,
                PostgresArray(events.map(\.type)),
                PostgresArray(events.map { String($0.schemaVersion) }),
                PostgresArray(events.map(\.data)),
                PostgresArray(events.map(\.occurredOn)),
                PostgresArray(events.map(\.actor)),
            ])
        return try rows.rows.map { row throws(PostgresError) in try row.decode(Int64.self, at: 0) }.sorted()
    }
}

extension PostgresPool {
    /// Runs `body` on a pool thread in a transaction acting for one council.
    public func transaction<T: Sendable>(council: UUID, _ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await withConnection { connection in try EventStore().transaction(council: council, on: connection, body) }
    }
}
