import Foundation
import Postgres

/// What the alert and webhook routes ask of the store, each call one transaction acting for a council;
/// callers never hold a connection. Writes take the request's `Idempotency` and a `reply` that renders
/// the response kept under it (or throws, changing nothing).
public struct AlertWork: Sendable {
    let pool: PostgresPool
    public init(pool: PostgresPool) { self.pool = pool }

    /// A user's in-app alerts, unread first by recency.
    public func feed(recipient: String, unreadOnly: Bool, limit: Int, council: UUID) async throws -> [AlertFeed.Alert] {
        try await pool.transaction(council: council) { try AlertFeed().alerts(for: recipient, unreadOnly: unreadOnly, limit: limit, on: $0) }
    }

    /// Marks one of the recipient's alerts read; `reply` is told whether there was one.
    public func markRead(
        alertId: Int64, recipient: String, council: UUID, once: Idempotency?, reply: @escaping @Sendable (Bool) throws -> KeptResponse
    ) async throws -> KeptResponse {
        try await StoredResponses.once(once, council: council, pool: pool) {
            try reply(try AlertFeed().markRead(alertId: alertId, recipient: recipient, on: $0))
        }
    }

    public func subscriptions(council: UUID) async throws -> [OutboxQueries.Subscription] {
        try await pool.transaction(council: council) { try OutboxQueries().subscriptions(on: $0) }
    }

    /// Subscribes a receiver; `reply` is given the new subscription's id.
    public func subscribe(
        url: String, secret: String, kinds: [String], createdBy: String, council: UUID, once: Idempotency?,
        reply: @escaping @Sendable (UUID) throws -> KeptResponse
    ) async throws -> KeptResponse {
        try await StoredResponses.once(once, council: council, pool: pool) {
            try reply(try OutboxQueries().subscribe(url: url, secret: secret, kinds: kinds, createdBy: createdBy, on: $0))
        }
    }

    /// Deletes a subscription, stopping its pending deliveries; false when there is none.
    public func unsubscribe(_ id: UUID, council: UUID) async throws -> Bool {
        try await pool.transaction(council: council) { try OutboxQueries().unsubscribe(id, on: $0) }
    }

    public func deadLetters(channel: String, limit: Int, council: UUID) async throws -> [OutboxQueries.DeadLetter] {
        try await pool.transaction(council: council) { try OutboxQueries().deadLetters(channel: channel, limit: limit, on: $0) }
    }

    /// Sends a dead delivery of the channel again; `reply` is told whether it was in the dead letter.
    public func redrive(
        deliveryId: UUID, channel: String, council: UUID, once: Idempotency?, reply: @escaping @Sendable (Bool) throws -> KeptResponse
    ) async throws -> KeptResponse {
        try await StoredResponses.once(once, council: council, pool: pool) {
            try reply(try OutboxQueries().redrive(deliveryId: deliveryId, channel: channel, on: $0))
        }
    }

    /// A person's email address and choices.
    public func emailChoices(of name: String, council: UUID) async throws -> EmailChoices? {
        try await pool.transaction(council: council) { try EmailChoices.of(name, on: $0) }
    }

    /// Saves a person's choices; `reply` is told whether they exist.
    public func chooseEmails(
        of name: String, onBreach: Bool, onReminder: Bool, dailyDigest: Bool, council: UUID, once: Idempotency?,
        reply: @escaping @Sendable (Bool) throws -> KeptResponse
    ) async throws -> KeptResponse {
        try await StoredResponses.once(once, council: council, pool: pool) {
            try reply(try EmailChoices.choose(name, onBreach: onBreach, onReminder: onReminder, dailyDigest: dailyDigest, on: $0))
        }
    }

    /// A team's people whose address bounced, for their manager.
    public func emailFailures(team: String, council: UUID) async throws -> [EmailChoices.Failure] {
        try await pool.transaction(council: council) { try EmailChoices.failures(team: team, on: $0) }
    }
}
