import Foundation
import Postgres

/// An event to append: its stored type name, schema version, JSON data and when it happened.
public struct NewEvent: Sendable, Hashable {
    public var type: String
    public var schemaVersion: Int
    /// The `data` object as JSON text.
    public var data: String
    /// `YYYY-MM-DD`.
    public var occurredOn: String
    public var actor: String

    public init(type: String, schemaVersion: Int = 1, data: String, occurredOn: String, actor: String) {
        self.type = type
        self.schemaVersion = schemaVersion
        self.data = data
        self.occurredOn = occurredOn
        self.actor = actor
    }
}

/// An event as stored.
public struct StoredEvent: Sendable, Hashable {
    public var globalPosition: Int64
    public var councilId: UUID
    public var caseId: UUID
    public var version: Int
    public var type: String
    public var schemaVersion: Int
    public var data: String
    public var occurredOn: String
    public var recordedAt: Date
    public var actor: String
    public var transactionId: UInt64

    static let columns =
        "global_position, council_id, case_id, version, type, schema_version, data::text, occurred_on::text, recorded_at, actor, transaction_id::text"

    init(row: PostgresRow) throws(PostgresError) {
        globalPosition = try row.decode(at: 0)
        councilId = try row.decode(at: 1)
        caseId = try row.decode(at: 2)
        version = try row.decode(at: 3)
        type = try row.decode(at: 4)
        schemaVersion = try row.decode(at: 5)
        data = try row.decode(at: 6)
        occurredOn = try row.decode(at: 7)
        recordedAt = try row.decode(at: 8)
        actor = try row.decode(at: 9)
        guard let xid = UInt64(try row.decode(String.self, at: 10)) else {
            throw PostgresError(.decoding, message: "transaction_id is not a number")
        }
        transactionId = xid
    }
}

/// What an append wrote (or, for a replayed idempotency key, what the first append wrote).
public struct AppendResult: Sendable, Hashable {
    public var caseId: UUID
    public var firstVersion: Int
    public var lastVersion: Int
    public var firstPosition: Int64
    public var lastPosition: Int64
    /// True when the idempotency key had been used with the same request: nothing new was written.
    public var replayed: Bool
}

/// A position in the global log that a reader has consumed up to: ordered by transaction, then position.
public struct GlobalCursor: Sendable, Hashable, Comparable {
    public var transactionId: UInt64
    public var position: Int64
    public init(transactionId: UInt64 = 0, position: Int64 = 0) {
        self.transactionId = transactionId
        self.position = position
    }
    public static let start = GlobalCursor()
    public static func < (lhs: GlobalCursor, rhs: GlobalCursor) -> Bool {
        (lhs.transactionId, lhs.position) < (rhs.transactionId, rhs.position)
    }
}
