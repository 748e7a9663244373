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

    /// A delivery that ran out of attempts or was refused for good. Never carries a subscription's URL
    /// or secret: a URL can hold a receiver's own token, and the dead letter is read by managers and
    /// auditors too. An email's says who it was for and what it said (a case reference, never a child's details).
    public struct DeadLetter: Sendable, Hashable, Encodable {
        public var deliveryId: UUID
        public var channel: String
        public var subscriptionId: UUID?
        public var recipient: String?
        public var attempts: Int
        public var lastError: String?
        public var deadAt: Date
        public var payload: String
    }

    /// The dead letter of one channel ('webhook' or 'email'), newest first.
    public func deadLetters(channel: String, limit: Int, on connection: PostgresConnection) throws(PostgresError) -> [DeadLetter] {
        try connection.query(
            """
            SELECT o.delivery_id, o.channel, o.subscription_id, o.recipient, o.attempts, o.last_error, o.dead_at, o.payload
            FROM outbox o LEFT JOIN webhook_subscriptions w USING (subscription_id)
            WHERE o.dead_at IS NOT NULL AND o.channel = $2 AND (w.subscription_id IS NULL OR w.disabled_at IS NULL)
            ORDER BY o.dead_at DESC LIMIT $1
            """, [limit, channel]
        ).rows.map { row throws(PostgresError) in
            DeadLetter(
                deliveryId: try row.decode(at: 0), channel: try row.decode(at: 1), subscriptionId: try row.decodeIfPresent(at: 2),
                recipient: try row.decodeIfPresent(at: 3), attempts: try row.decode(at: 4), lastError: try row.decodeIfPresent(at: 5),
                deadAt: try row.decode(at: 6), payload: try row.decode(at: 7))
        }
    }

    /// Puts a dead delivery of the channel back in the queue with a fresh set of attempts; false when it is not dead.
    public func redrive(deliveryId: UUID, channel: String, on connection: PostgresConnection) throws(PostgresError) -> Bool {
        try connection.query(
            """
            UPDATE outbox o SET dead_at = NULL, attempts = 0, available_at = now(), leased_until = NULL, last_error = NULL,
                delivered_at = NULL, transport = NULL, provider_id = NULL, delivery_status = NULL, status_checked_at = NULL
            WHERE o.delivery_id = $1 AND o.dead_at IS NOT NULL AND o.channel = $2
              AND (o.subscription_id IS NULL
                   OR o.subscription_id IN (SELECT subscription_id FROM webhook_subscriptions WHERE disabled_at IS NULL))
            """, [deliveryId, channel]
        ).affected == 1
    }
}
