import EHCPStore
import Foundation
import Logging
import Postgres

/// How a channel's deliveries are retried.
public struct OutboxPolicy: Sendable {
    /// Attempts before a delivery goes to the dead letter.
    public var maxAttempts = 8
    /// The first retry waits this long; each later one twice as long (with ±50% jitter), up to an hour.
    public var baseDelay: Duration = .seconds(30)
    /// How long a claimed row stays invisible to other dispatchers while it is sent.
    public var lease: Duration = .seconds(60)
    /// Rows claimed per round.
    public var batchSize = 20

    public init() {}
}

/// What one round of delivery did.
public struct DeliveryReport: Sendable, Hashable {
    public var delivered = 0
    public var failed = 0
    public var dead = 0
    /// Councils whose round failed as a whole (logged; the others were still served).
    public var councilsFailed = 0
    /// What still waited after the round, in every council it served.
    public var backlog: Backlog?
    public var claimed: Int { delivered + failed + dead }

    /// How many deliveries wait, and how long the oldest has waited.
    public struct Backlog: Sendable, Hashable {
        public var count = 0
        public var oldestSeconds = 0.0
    }
}

/// One channel of the outbox ('webhook' or 'email'): what every dispatcher shares. Rows are claimed with
/// `FOR UPDATE SKIP LOCKED` and leased (`leased_until`) in one short transaction; the sending happens
/// outside it; the result is written in another. No two dispatchers hold the same row. A dispatcher that
/// dies between claim and settle leaves the lease to run out, and the row is sent again: delivery is at
/// least once, and the receiver recognises a repeat by the delivery id.
struct Outbox: Sendable {
    let pool: PostgresPool
    let channel: String
    let policy: OutboxPolicy
    let logger: Logger

    /// A claimed delivery. `target` is the webhook's URL or the recipient's email address (nil when they
    /// have none any more, or were disabled); `secret` is the webhook's signing key.
    struct Item: Sendable {
        var id: UUID
        var payload: String
        var attempts: Int
        var recipient: String?
        var target: String?
        var secret: String?
    }

    /// What one attempt came to.
    enum Result: Sendable {
        /// Handed over; for email, the transport and the provider's own id (Notify's).
        case sent(transport: String? = nil, providerId: String? = nil)
        /// Worth another attempt after backoff: a short reason fit to show an administrator.
        case failed(String)
        /// Refused for good: dead at once. `bounced` when the recipient's address was the reason.
        case refused(String, bounced: Bool = false)
    }

    typealias Report = DeliveryReport

    /// Claims what is due in every council and tries each once with `send`, concurrently within a batch.
    /// A council whose rows fail to claim or settle is logged and skipped; the others go on.
    func drain(_ send: @escaping @Sendable (Item) async -> Result) async throws -> Report {
        let councils = try await Self.councils(pool)
        var report = Report()
        for council in councils {
            do {
                while true {
                    let claimed = try await claim(council: council)
                    guard !claimed.isEmpty else { break }
                    let outcomes = await withTaskGroup(of: (Item, Result).self) { group in
                        for item in claimed { group.addTask { (item, await send(item)) } }
                        return await group.reduce(into: []) { $0.append($1) }
                    }
                    try await settle(outcomes, council: council, into: &report)
                    if claimed.count < policy.batchSize { break }
                }
                let waiting = try await backlog(council: council)
                let total = report.backlog ?? DeliveryReport.Backlog()
                report.backlog = .init(count: total.count + waiting.count, oldestSeconds: max(total.oldestSeconds, waiting.oldestSeconds))
            } catch {
                report.councilsFailed += 1
                logger.error(
                    "\(channel) delivery failed for one council; the others go on", metadata: ["council": "\(council)", "error": "\(error)"])
            }
        }
        return report
    }

    /// What waits in one council's part of this channel, and how long the oldest has waited (the
    /// partial index `outbox_pending` holds exactly these rows).
    func backlog(council: UUID) async throws -> DeliveryReport.Backlog {
        try await pool.transaction(council: council) { [channel] connection in
            let row = try connection.query(
                """
                SELECT count(*)::int, coalesce(extract(epoch FROM now() - min(created_at))::float8, 0) FROM outbox
                WHERE channel = $1 AND delivered_at IS NULL AND dead_at IS NULL
                """, [channel]
            ).first!
            return DeliveryReport.Backlog(count: try row.decode(Int.self, at: 0), oldestSeconds: try row.decode(Double.self, at: 1))
        }
    }

    /// Every council's id: each round serves the councils one at a time.
    static func councils(_ pool: PostgresPool) async throws -> [UUID] {
        try await pool.withConnection { connection in
            try connection.query("SELECT council_id FROM councils").rows.map { try $0.decode(UUID.self, at: 0) }
        }
    }

    /// The JSON an outbox row keeps: sorted keys, slashes as they are.
    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// Leases up to `batchSize` due rows in one short transaction. Webhook rows of a stopped subscription
    /// are never claimed.
    func claim(council: UUID) async throws -> [Item] {
        let (batch, lease, channel) = (policy.batchSize, Double(policy.lease.components.seconds), channel)
        return try await pool.transaction(council: council) { connection in
            try connection.query(
                """
                UPDATE outbox o SET leased_until = now() + make_interval(secs => $2), attempts = o.attempts + 1
                WHERE o.delivery_id IN (
                    SELECT delivery_id FROM outbox
                    WHERE channel = $3 AND delivered_at IS NULL AND dead_at IS NULL AND available_at <= now()
                      AND (leased_until IS NULL OR leased_until < now())
                      AND (subscription_id IS NULL
                           OR subscription_id IN (SELECT subscription_id FROM webhook_subscriptions WHERE disabled_at IS NULL))
                    ORDER BY available_at
                    LIMIT $1
                    FOR UPDATE SKIP LOCKED)
                RETURNING o.delivery_id, o.payload, o.attempts, o.recipient,
                    coalesce((SELECT w.url FROM webhook_subscriptions w WHERE w.subscription_id = o.subscription_id),
                             (SELECT u.email FROM users u WHERE u.name = o.recipient AND u.disabled_at IS NULL)),
                    (SELECT w.secret FROM webhook_subscriptions w WHERE w.subscription_id = o.subscription_id)
                """,
                [batch, lease, channel]
            ).rows.map { row in
                Item(
                    id: try row.decode(at: 0), payload: try row.decode(at: 1), attempts: try row.decode(at: 2),
                    recipient: try row.decodeIfPresent(at: 3),
                    target: try row.decodeIfPresent(at: 4), secret: try row.decodeIfPresent(at: 5))
            }
        }
    }

    /// Records each attempt: sent, retried after backoff, or dead (refused, or the last attempt failed).
    /// A bounced address is noted against its person, for them and their manager to see. Only the
    /// attempt that holds the row is recorded: a send that outran its lease, while another dispatcher
    /// claimed the row again, changes nothing (`attempts` has moved on).
    func settle(_ outcomes: [(Item, Result)], council: UUID, into report: inout Report) async throws {
        let policy = policy
        let counted = try await pool.transaction(council: council) { connection in
            var counted = Report()
            for (item, result) in outcomes {
                switch result {
                case .sent(let transport, let providerId):
                    try connection.query(
                        """
                        UPDATE outbox SET delivered_at = now(), leased_until = NULL, last_error = NULL, transport = $2, provider_id = $3
                        WHERE delivery_id = $1 AND attempts = $4
                        """, [item.id, transport, providerId, item.attempts])
                    counted.delivered += 1
                case .failed(let reason), .refused(let reason, _):
                    var dead = item.attempts >= policy.maxAttempts
                    if case .refused(_, let bounced) = result {
                        dead = true
                        if bounced, let recipient = item.recipient { try EmailChoices.recordFailure(recipient, reason: reason, on: connection) }
                    }
                    if dead { counted.dead += 1 } else { counted.failed += 1 }
                    try connection.query(
                        """
                        UPDATE outbox SET leased_until = NULL, last_error = $2, dead_at = CASE WHEN $3 THEN now() END,
                            available_at = now() + make_interval(secs => $4)
                        WHERE delivery_id = $1 AND attempts = $5
                        """,
                        [item.id, String(reason.prefix(500)), dead, Self.backoff(attempt: item.attempts, base: policy.baseDelay), item.attempts])
                }
            }
            return counted
        }
        report.delivered += counted.delivered
        report.failed += counted.failed
        report.dead += counted.dead
    }

    /// Seconds before retry `attempt` + 1: base × 2^(attempt−1), capped at an hour, times a jitter in [0.5, 1.5).
    static func backoff(attempt: Int, base: Duration) -> Double {
        let seconds = Double(base.components.seconds) + Double(base.components.attoseconds) / 1e18
        return min(3_600, seconds * pow(2, Double(max(0, attempt - 1)))) * Double.random(in: 0.5..<1.5)
    }
}
