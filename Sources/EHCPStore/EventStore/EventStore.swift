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
    /// Call it inside a transaction acting for `council` (`transaction(council:on:_:)`), the one that
    /// also writes the projections: row-level security admits the rows only for the council it sets.
    ///
    /// - Throws: `StoreError.concurrencyConflict` when the stream is not at `expectedVersion` (or, after a
    ///   version above 0, does not exist in this council);
    ///   `StoreError.idempotencyKeyReused` when `idempotencyKey` was used with a different `requestHash`.
    ///   A key used with the same hash returns the first append's result and writes nothing.
    public func append(
        council councilId: UUID, caseId: UUID, expectedVersion: Int, events: [NewEvent],
        idempotencyKey: String? = nil, requestHash: String = "", on connection: PostgresConnection
    ) throws(StoreError) -> AppendResult {
        do {
            if let key = idempotencyKey, let earlier = try replayed(council: councilId, key: key, requestHash: requestHash, on: connection) {
                return earlier
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw .database(error as? PostgresError ?? PostgresError(.query, message: "\(error)"))
        }
        return try write(
            council: councilId, caseId: caseId, expectedVersion: expectedVersion, events: events,
            idempotency: idempotencyKey.map { Idempotency(key: $0, requestHash: requestHash) }, on: connection)
    }

    /// `append` for a caller that has already looked its idempotency key up (`replayed`), as
    /// `CaseRepository` does before deciding: one read and one write of each key. `alongside` are
    /// statements sent in the same round trip after the append (the projections), needing none of its results.
    func write(
        council councilId: UUID, caseId: UUID, expectedVersion: Int, events: [NewEvent],
        idempotency: Idempotency?, alongside: [PostgresConnection.Statement] = [], on connection: PostgresConnection
    ) throws(StoreError) -> AppendResult {
        precondition(!events.isEmpty, "append needs at least one event")
        do {
            var rows = EventRows()
            rows.add(caseId: caseId, from: expectedVersion, events: events)
            var statements = [rows.statement(council: councilId)]
            let (first, last) = (expectedVersion + 1, expectedVersion + events.count)
            if let once = idempotency {
                statements.append(Self.keysStatement(council: councilId, keys: [(once.key, once.requestHash, caseId, first, last)]))
            }
            let positions = try EventRows.positions(try connection.pipeline(statements + alongside)[0])
            guard let firstPosition = positions[.init(caseId: caseId, version: first)],
                let lastPosition = positions[.init(caseId: caseId, version: last)]
            else { throw PostgresError(.query, message: "the append did not return the positions of case \(caseId)") }
            return AppendResult(
                caseId: caseId, firstVersion: first, lastVersion: last, firstPosition: firstPosition, lastPosition: lastPosition, replayed: false)
        } catch let error as StoreError {
            throw error
        } catch let error as PostgresError {
            switch (error.sqlState, error.constraint ?? error.column) {
            // Another writer appended first: its event holds a version this one wanted, or the stream's
            // head was not at `expectedVersion` (or not this council's) and did not move (EventRows).
            case ("23505", "events_case_version"),
                ("23502", "version") where error.table == "events":
                throw .concurrencyConflict(caseId: caseId, expected: expectedVersion, actual: nil)
            // Anything else, a concurrent request with the same idempotency key included (its caller runs
            // again and replays the winner), is the database's.
            default: throw .database(error)
            }
        } catch {
            throw .database(PostgresError(.query, message: "\(error)"))
        }
    }

    /// Records idempotency keys beside the events an append of the same pipeline has just inserted: each
    /// key names its request's fingerprint, its case and the versions it wrote (their positions are read
    /// from the events). The one statement that writes `idempotency_keys`.
    static func keysStatement(
        council: UUID, keys: [(key: String, requestHash: String, caseId: UUID, first: Int, last: Int)]
    ) -> PostgresConnection.Statement {
        .init(
            """
            INSERT INTO idempotency_keys (council_id, key, request_hash, case_id, first_version, last_version, first_position, last_position)
            SELECT $1, k.key, k.hash, k.case_id, k.first, k.last, f.global_position, l.global_position
            FROM unnest($2::text[], $3::text[], $4::uuid[], $5::int[], $6::int[]) AS k(key, hash, case_id, first, last)
            JOIN events f ON f.case_id = k.case_id AND f.version = k.first
            JOIN events l ON l.case_id = k.case_id AND l.version = k.last
            """,
            [
                council, PostgresArray(keys.map(\.key)), PostgresArray(keys.map(\.requestHash)), PostgresArray(keys.map(\.caseId.postgresText)),
                PostgresArray(keys.map { String($0.first) }), PostgresArray(keys.map { String($0.last) }),
            ])
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
        let read = Self.keysRead(council: council, keys: [key])
        return try Self.earlier(try connection.query(read.sql, read.parameters))[key]?.replay(requestHash: requestHash)
    }

    /// What a used idempotency key recorded: its request's fingerprint and, for a case event, what it wrote.
    struct UsedKey {
        var key: String
        var requestHash: String
        var append: AppendResult?

        /// The earlier result for a request with this fingerprint.
        /// - Throws: `StoreError.idempotencyKeyReused` for another request, or a key a write that recorded
        ///   no case event kept (`StoredResponses`): one key means one request across the API.
        func replay(requestHash: String) throws(StoreError) -> AppendResult {
            guard let append, self.requestHash == requestHash else { throw .idempotencyKeyReused(key: key) }
            return append
        }
    }

    /// The one statement that reads idempotency keys: those of `keys` already used, by a case event or by
    /// a write that recorded none (`earlier(_:)` decodes its rows).
    static func keysRead(council: UUID, keys: [String]) -> PostgresConnection.Statement {
        .init(
            """
            SELECT key, request_hash, case_id, first_version, last_version, first_position, last_position
            FROM idempotency_keys WHERE council_id = $1 AND key = ANY($2::text[])
            UNION ALL SELECT key, '', NULL, NULL, NULL, NULL, NULL FROM idempotent_responses WHERE council_id = $1 AND key = ANY($2::text[])
            """, [council, PostgresArray(keys)])
    }

    static func earlier(_ rows: PostgresRows) throws -> [String: UsedKey] {
        var used: [String: UsedKey] = [:]
        for row in rows.rows {
            let key: String = try row.decode(at: 0)
            let caseId: UUID? = try row.decodeIfPresent(at: 2)
            used[key] = UsedKey(
                key: key, requestHash: try row.decode(at: 1),
                append: try caseId.map {
                    AppendResult(
                        caseId: $0, firstVersion: try row.decode(at: 3), lastVersion: try row.decode(at: 4), firstPosition: try row.decode(at: 5),
                        lastPosition: try row.decode(at: 6), replayed: true)
                })
        }
        return used
    }
}

extension PostgresPool {
    /// Runs `body` on a pool thread in a transaction acting for one council.
    public func transaction<T: Sendable>(council: UUID, _ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await withConnection { connection in try EventStore().transaction(council: council, on: connection, body) }
    }
}
