import Foundation
import Postgres

/// Webhook subscriptions and the dead letter of the outbox.
public struct OutboxQueries: Sendable {
    public init() {}

    public struct Subscription: Sendable, Hashable, Encodable {
        public var subscriptionId: UUID
        public var url: String
        public var kinds: [String]
        public var createdBy: String
        public var createdAt: Date
    }

    public func subscribe(url: String, secret: String, kinds: [String], createdBy: String, on connection: PostgresConnection) throws(PostgresError)
        -> UUID
    {
        let id = UUID()
        try connection.query(
            "INSERT INTO webhook_subscriptions (subscription_id, council_id, url, secret, kinds, created_by) VALUES ($1, ehcp_council(), $2, $3, $4::text[], $5)",
            [id, url, secret, PostgresArray(kinds), createdBy])
        return id
    }

    public func subscriptions(on connection: PostgresConnection) throws(PostgresError) -> [Subscription] {
        try connection.query(
            """
            SELECT subscription_id, url, array_to_string(kinds, ','), created_by, created_at FROM webhook_subscriptions
            WHERE disabled_at IS NULL ORDER BY created_at
            """
        ).rows.map { row throws(PostgresError) in
            Subscription(
                subscriptionId: try row.decode(at: 0), url: try row.decode(at: 1),
                kinds: try row.decode(String.self, at: 2).split(separator: ",").map(String.init), createdBy: try row.decode(at: 3),
                createdAt: try row.decode(at: 4))
        }
    }

    /// Stops a subscription, and with it every delivery not yet made: the dispatcher claims only rows of
    /// live subscriptions, and a dead delivery of a stopped subscription cannot be redriven.
    public func unsubscribe(_ id: UUID, on connection: PostgresConnection) throws(PostgresError) -> Bool {
        try connection.query("UPDATE webhook_subscriptions SET disabled_at = now() WHERE subscription_id = $1 AND disabled_at IS NULL", [id]).affected
            == 1
    }

    /// A delivery that ran out of attempts. Never carries the subscription's URL or secret: a URL can
    /// hold a receiver's own token, and the dead letter is read by managers and auditors too.
    public struct DeadLetter: Sendable, Hashable, Encodable {
        public var deliveryId: UUID
        public var subscriptionId: UUID
        public var attempts: Int
        public var lastError: String?
        public var deadAt: Date
        public var payload: String
    }

    public func deadLetters(limit: Int, on connection: PostgresConnection) throws(PostgresError) -> [DeadLetter] {
        try connection.query(
            """
            SELECT o.delivery_id, o.subscription_id, o.attempts, o.last_error, o.dead_at, o.payload
            FROM outbox o JOIN webhook_subscriptions w USING (subscription_id)
            WHERE o.dead_at IS NOT NULL AND w.disabled_at IS NULL ORDER BY o.dead_at DESC LIMIT $1
            """, [limit]
        ).rows.map { row throws(PostgresError) in
            DeadLetter(
                deliveryId: try row.decode(at: 0), subscriptionId: try row.decode(at: 1), attempts: try row.decode(at: 2),
                lastError: try row.decodeIfPresent(at: 3), deadAt: try row.decode(at: 4), payload: try row.decode(at: 5))
        }
    }

    /// Puts a dead delivery back in the queue with a fresh set of attempts; false when it is not dead.
    public func redrive(deliveryId: UUID, on connection: PostgresConnection) throws(PostgresError) -> Bool {
        try connection.query(
            """
            UPDATE outbox o SET dead_at = NULL, attempts = 0, available_at = now(), leased_until = NULL, last_error = NULL
            FROM webhook_subscriptions w
            WHERE o.delivery_id = $1 AND o.dead_at IS NOT NULL AND w.subscription_id = o.subscription_id AND w.disabled_at IS NULL
            """, [deliveryId]
        ).affected == 1
    }
}
