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
