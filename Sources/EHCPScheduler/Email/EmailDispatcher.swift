import AsyncHTTPClient
import EHCPStore
import Foundation
import Logging
import Postgres
import SMTP

/// Sends the outbox's emails (`Outbox`, channel 'email') by SMTP or GOV.UK Notify, with the webhooks'
/// guarantees: leased claims, retries with backoff and jitter, then the dead letter. Each email's
/// Message-ID (SMTP) or reference (Notify) is its delivery id, so a repeat after a crash between sending
/// and recording is recognisable. An address refused for good is noted against its person.
public struct EmailDispatcher: Sendable {
    public let pool: PostgresPool
    public let settings: EmailSettings
    let sender: Sender
    let metrics: DeliveryMetrics?
    let logger: Logger

    enum Sender: Sendable {
        case smtp(SMTPClient)
        case notify(NotifyClient, templates: [String: String], replyTo: String?)
    }

    /// - Throws: `SMTPClient.Failure` when the TLS settings cannot be used.
    public init(
        pool: PostgresPool, settings: EmailSettings, http: HTTPClient = AlertDispatcher.client, metrics: DeliveryMetrics? = nil,
        logger: Logger = Logger(label: "ehcp.email")
    ) throws {
        self.pool = pool
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
        switch settings.transport {
        case .smtp(let configuration): sender = .smtp(try SMTPClient(configuration))
        case .notify(let baseURL, let key, let templates, let replyTo):
            sender = .notify(NotifyClient(baseURL: baseURL, key: key, http: http), templates: templates, replyTo: replyTo)
        }
    }

    var outbox: Outbox { Outbox(pool: pool, channel: "email", policy: settings.retry, logger: logger) }

    /// Claims what is due in every council and tries each once.
    public func dispatchOnce() async throws -> AlertDispatcher.Report {
        let report = try await outbox.drain { item in await send(item) }
        metrics?.count(channel: "email", transport: settings.transport.name, report)
        return report
    }

    func send(_ item: Outbox.Item) async -> Outbox.Result {
        guard let address = item.target else {
            return .refused("not sent: \(item.recipient ?? "the recipient") has no email address now, or has left")
        }
        guard let content = try? JSONDecoder().decode(EmailContent.self, from: Data(item.payload.utf8)) else {
            return .refused("not sent: the stored email could not be read")
        }
        let id = item.id.uuidString.lowercased()
        switch sender {
        case .smtp(let client):
            let message = SMTPMessage(
                from: settings.from, to: address, subject: content.subject, body: content.body, id: id, date: Date(),
                headers: [("Auto-Submitted", "auto-generated"), ("X-EHCP-Delivery", id)])
            do {
                try await client.send(.init(from: SMTPMessage.address(in: settings.from), to: [address], message: message.text))
                return .sent(transport: "smtp")
            } catch {
                logger.info("email not sent", metadata: ["delivery": "\(id)", "reason": "\(error.reason)"])
                return error.permanent ? .refused(error.reason, bounced: error.recipientRefused) : .failed(error.reason)
            }
        case .notify(let client, let templates, let replyTo):
            guard let template = templates[content.kind] else {
                return .failed("not sent: the settings name no GOV.UK Notify template for '\(content.kind)' emails")
            }
            switch await client.sendEmail(to: address, template: template, personalisation: content.personalisation, reference: id, replyTo: replyTo)
            {
            case .accepted(let notification): return .sent(transport: "notify", providerId: notification)
            case .refused(let reason, let addressRefused): return .refused(reason, bounced: addressRefused)
            case .failed(let reason): return .failed(reason)
            }
        }
    }

    /// Reads GOV.UK Notify's delivery status back for emails it accepted in the last 7 days (Notify
    /// keeps them that long), at most once a minute each, until it is final, and stores it. Notify's
    /// own failures after accepting an email are not left as sent:
    /// - `permanent-failure` (the address does not exist) and `temporary-failure` (an inbox full after
    ///   Notify's own retries) go to the dead letter, to be sent again by hand once the address is right,
    ///   and a permanent failure marks the address as bouncing;
    /// - `technical-failure` (Notify never sent it) goes back in the queue, as any failed attempt does.
    /// Returns how many reached a final status.
    public func readStatuses() async throws -> Int {
        guard case .notify(let client, _, _) = sender else { return 0 }
        var settled = 0
        for council in try await Outbox.councils(pool) {
            let pending = try await pool.transaction(council: council) { connection in
                try connection.query(
                    """
                    UPDATE outbox SET available_at = now() + interval '1 minute'
                    WHERE delivery_id IN (
                        SELECT delivery_id FROM outbox
                        WHERE provider_id IS NOT NULL AND status_checked_at IS NULL AND delivered_at > now() - interval '7 days'
                          AND available_at <= now()
                        ORDER BY delivered_at LIMIT 100 FOR UPDATE SKIP LOCKED)
                    RETURNING delivery_id, provider_id, recipient, attempts
                    """
                ).rows.map {
                    (
                        try $0.decode(UUID.self, at: 0), try $0.decode(String.self, at: 1), try $0.decodeIfPresent(String.self, at: 2),
                        try $0.decode(Int.self, at: 3)
                    )
                }
            }
            var statuses: [(UUID, String, String?, Int)] = []
            for (delivery, notification, recipient, attempts) in pending {
                if let status = await client.status(of: notification) { statuses.append((delivery, status, recipient, attempts)) }
            }
            let read = statuses
            let policy = settings.retry
            let counted = try await pool.transaction(council: council) { connection in
                var (final, dead) = (0, 0)
                for (delivery, status, recipient, attempts) in read {
                    switch status {
                    case "delivered":
                        final += 1
                        try connection.query(
                            "UPDATE outbox SET delivery_status = $2, status_checked_at = now() WHERE delivery_id = $1", [delivery, status])
                    case "permanent-failure", "temporary-failure":
                        (final, dead) = (final + 1, dead + 1)
                        try connection.query(
                            """
                            UPDATE outbox SET delivery_status = $2, status_checked_at = now(), delivered_at = NULL, dead_at = now(), last_error = $3
                            WHERE delivery_id = $1
                            """, [delivery, status, "GOV.UK Notify could not deliver it (\(status))"])
                        if status == "permanent-failure", let recipient {
                            try EmailChoices.recordFailure(
                                recipient, reason: "GOV.UK Notify could not deliver to the address (permanent-failure)", on: connection)
                        }
                    case "technical-failure":
                        final += 1
                        let exhausted = attempts >= policy.maxAttempts
                        if exhausted { dead += 1 }
                        try connection.query(
                            """
                            UPDATE outbox SET delivery_status = $2, delivered_at = NULL, provider_id = NULL, transport = NULL,
                                last_error = 'GOV.UK Notify had a technical failure and did not send it', available_at = now(),
                                dead_at = CASE WHEN $3 THEN now() END
                            WHERE delivery_id = $1
                            """, [delivery, status, exhausted])
                    default:
                        try connection.query("UPDATE outbox SET delivery_status = $2 WHERE delivery_id = $1", [delivery, status])
                    }
                }
                return (final, dead)
            }
            settled += counted.0
            metrics?.count(channel: "email", transport: "notify", DeliveryReport(dead: counted.1))
        }
        return settled
    }
}
