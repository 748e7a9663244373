import Foundation
import Postgres

/// Why the event store refused or failed an operation.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// Another writer appended first: the case is at `actual`, not `expected` (retry on fresh state,
    /// or answer 412/409 when the client named the version it saw).
    case concurrencyConflict(caseId: UUID, expected: Int, actual: Int?)
    /// The idempotency key was used before with a different request.
    case idempotencyKeyReused(key: String)
    case database(PostgresError)

    public var description: String {
        switch self {
        case .concurrencyConflict(let caseId, let expected, let actual):
            "case \(caseId) is at version \(actual.map(String.init) ?? "none"), not the expected \(expected): another change was recorded first"
        case .idempotencyKeyReused(let key):
            "idempotency key '\(key)' was already used for a different request"
        case .database(let error):
            "database error: \(error)"
        }
    }
}

extension StoreError {
    /// A unique violation on an idempotency key's index: another request with the key committed first,
    /// and this one, rolled back, may run again to replay it.
    public static func isKeyRace(_ error: any Error) -> Bool {
        let postgres: PostgresError? =
            switch error {
            case let error as PostgresError: error
            case StoreError.database(let error): error
            default: nil
            }
        guard let postgres, postgres.isUniqueViolation, let constraint = postgres.constraint else { return false }
        return constraint == "idempotency_keys_pkey" || constraint == "idempotent_responses_pkey"
    }
}
