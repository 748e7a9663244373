import Foundation
import Postgres

/// Responses kept by `Idempotency-Key` for the POSTs that record no case event (case events keep theirs
/// in `idempotency_keys`, beside the positions they wrote). Both run inside the caller's council
/// transaction, the one that makes the change, so the change and its stored response commit together.
public struct StoredResponses: Sendable {
    public init() {}

    public struct Stored: Sendable, Equatable {
        public var requestHash: String
        public var status: Int
        public var body: String
    }

    /// The response first given for `key`, if any. A key already used for a case event counts as used
    /// (by another request: its hash can never match), so one key means one request across the API.
    public func stored(council: UUID, key: String, on connection: PostgresConnection) throws(PostgresError) -> Stored? {
        let row = try connection.query(
            """
            SELECT request_hash, status, body FROM idempotent_responses WHERE council_id = $1 AND key = $2
            UNION ALL SELECT 'case event', 0, '' FROM idempotency_keys WHERE council_id = $1 AND key = $2
            """,
            [council, key]
        ).first
        guard let row else { return nil }
        return Stored(requestHash: try row.decode(at: 0), status: try row.decode(at: 1), body: try row.decode(at: 2))
    }

    /// Keeps the response for `key`. A concurrent request with the same key makes one of the two fail
    /// with a unique violation (23505) on `idempotent_responses_pkey`, rolling its change back.
    public func keep(council: UUID, key: String, requestHash: String, status: Int, body: String, on connection: PostgresConnection)
        throws(PostgresError)
    {
        try connection.query(
            "INSERT INTO idempotent_responses (council_id, key, request_hash, status, body) VALUES ($1, $2, $3, $4, $5)",
            [council, key, requestHash, status, body])
    }
}

/// An `Idempotency-Key` and the fingerprint of the request it guards.
public struct Idempotency: Sendable {
    public var key: String
    public var requestHash: String
    public init(key: String, requestHash: String) {
        self.key = key
        self.requestHash = requestHash
    }
}

/// What a write that records no case event answered: kept under its key, so a replay answers the same.
public struct KeptResponse: Sendable, Equatable {
    public var status: Int
    /// The JSON body; empty for 202 and 204.
    public var body: String
    /// True when this is the response first given to a request with the same key.
    public var replayed = false
    public init(status: Int, body: String = "") {
        self.status = status
        self.body = body
    }
}

extension StoredResponses {
    /// Runs `change` in a transaction acting for `council` and keeps its response under the key in that
    /// same transaction, so a replay (same key and fingerprint) returns it and changes nothing again.
    /// Another request with the key is refused (`StoreError.idempotencyKeyReused`); one that commits
    /// first with it makes this one run again and replay it.
    static func once(
        _ idempotency: Idempotency?, council: UUID, pool: PostgresPool, _ change: @escaping @Sendable (PostgresConnection) throws -> KeptResponse
    ) async throws -> KeptResponse {
        guard let idempotency else { return try await pool.transaction(council: council, change) }
        return try await CaseWork.againIfKeyRaced {
            try await pool.transaction(council: council) { connection in
                let responses = StoredResponses()
                if let stored = try responses.stored(council: council, key: idempotency.key, on: connection) {
                    guard stored.requestHash == idempotency.requestHash else { throw StoreError.idempotencyKeyReused(key: idempotency.key) }
                    // A stored row is trusted no further than its type: HTTP statuses only.
                    guard (100...599).contains(stored.status) else {
                        throw PostgresError(.decoding, message: "stored response status \(stored.status) is not an HTTP status")
                    }
                    var replay = KeptResponse(status: stored.status, body: stored.body)
                    replay.replayed = true
                    return replay
                }
                let response = try change(connection)
                try responses.keep(
                    council: council, key: idempotency.key, requestHash: idempotency.requestHash, status: response.status, body: response.body,
                    on: connection)
                return response
            }
        }
    }
}
