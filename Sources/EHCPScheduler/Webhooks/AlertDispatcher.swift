import AsyncHTTPClient
import Crypto
import EHCPDomain
import EHCPStore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Postgres

/// Delivers webhook alerts from the outbox: signed POSTs, retried with exponential backoff and jitter,
/// dead-lettered after `maxAttempts`. Each receiver's address is checked when it is sent to
/// (`WebhookAddressPolicy`), redirects are never followed, and what is stored of a failure is a short
/// reason, never the client's own error (which would turn the dead letter into a port scanner).
///
/// Claiming: rows are picked with `FOR UPDATE SKIP LOCKED` and leased (`leased_until`) in one short
/// transaction; the POST happens outside it; the result is written in another. No two dispatchers hold
/// the same row. A dispatcher that dies mid-POST leaves the lease to run out and the row is sent again,
/// so delivery is at least once and the receiver de-duplicates with the delivery id (`X-EHCP-Delivery`).
public struct AlertDispatcher: Sendable {
    public struct Settings: Sendable {
        /// Attempts before a delivery goes to the dead letter.
        public var maxAttempts = 8
        /// The first retry waits this long; each later one twice as long (with ±50% jitter), up to an hour.
        public var baseDelay: Duration = .seconds(30)
        /// How long a claimed row stays invisible to other dispatchers while its POST runs.
        public var lease: Duration = .seconds(60)
        /// The receiver's time to answer.
        public var timeout: Duration = .seconds(10)
        /// Rows claimed per round.
        public var batchSize = 20
        /// Which receivers may be reached.
        public var addresses = WebhookAddressPolicy()

        public init() {}
    }

    public let pool: PostgresPool
    public let settings: Settings
    let http: HTTPClient
    let logger: Logger

    public init(
        pool: PostgresPool, settings: Settings = Settings(), http: HTTPClient = AlertDispatcher.client, logger: Logger = Logger(label: "ehcp.alerts")
    ) {
        self.pool = pool
        self.settings = settings
        self.http = http
        self.logger = logger
    }

    public struct Report: Sendable, Hashable {
        public var delivered = 0
        public var failed = 0
        public var dead = 0
        /// Councils whose round failed as a whole (logged; the others were still served).
        public var councilsFailed = 0
        public var claimed: Int { delivered + failed + dead }
    }

    /// The HTTP client of every delivery: it never follows a redirect (a receiver could otherwise point
    /// the POST at an address the policy refuses). Lives as long as the process.
    public static let client = HTTPClient(
        eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))

    /// The `X-EHCP-Signature` header: `t=` the Unix time of sending and `v1=` the hex HMAC-SHA256, under
    /// the subscription's secret, of the time, a full stop and the body. A receiver recomputes it and
    /// refuses a time more than a few minutes old, so a captured delivery cannot be replayed later
    /// (docs/api.md, "Verifying a delivery", works an example).
    public static func signature(body: String, secret: String, at time: Int) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(time).\(body)".utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return "t=\(time),v1=" + mac.hex
    }

    /// Claims what is due in every council and tries each once. Returns what happened. A council whose
    /// deliveries fail to claim or settle (its database rows, say) is logged and skipped; the others go on.
    public func dispatchOnce() async throws -> Report {
        let councils = try await pool.withConnection { connection in
            try connection.query("SELECT council_id FROM councils").rows.map { try $0.decode(UUID.self, at: 0) }
        }
        var report = Report()
        for council in councils {
            do {
                try await dispatch(council: council, into: &report)
            } catch {
                report.councilsFailed += 1
                logger.error("webhook delivery failed for one council; the others go on", metadata: ["council": "\(council)", "error": "\(error)"])
            }
        }
        return report
    }

    private func dispatch(council: UUID, into report: inout Report) async throws {
        do {
            while true {
                let claimed = try await claim(council: council)
                guard !claimed.isEmpty else { break }
                let outcomes = await withTaskGroup(of: (Delivery, String?).self) { group in
                    for delivery in claimed { group.addTask { (delivery, await post(delivery)) } }
                    return await group.reduce(into: []) { $0.append($1) }
                }
                let dead = try await settle(outcomes, council: council)
                let failures = outcomes.filter { $0.1 != nil }.count
                report.delivered += outcomes.count - failures
                report.failed += failures - dead
                report.dead += dead
                if claimed.count < settings.batchSize { break }
            }
        }
    }

    /// Records each POST's result: delivered, scheduled for a retry after backoff, or dead after the last
    /// attempt. Returns how many went to the dead letter.
    func settle(_ outcomes: [(Delivery, String?)], council: UUID) async throws -> Int {
        let settings = settings
        return try await pool.transaction(council: council) { connection in
            var dead = 0
            for (delivery, error) in outcomes {
                guard let error else {
                    try connection.query(
                        "UPDATE outbox SET delivered_at = now(), leased_until = NULL, last_error = NULL WHERE delivery_id = $1", [delivery.id])
                    continue
                }
                let exhausted = delivery.attempts >= settings.maxAttempts
                if exhausted { dead += 1 }
                try connection.query(
                    """
                    UPDATE outbox SET leased_until = NULL, last_error = $2, dead_at = CASE WHEN $3 THEN now() END,
                        available_at = now() + make_interval(secs => $4)
                    WHERE delivery_id = $1
                    """,
                    [delivery.id, String(error.prefix(500)), exhausted, Self.backoff(attempt: delivery.attempts, base: settings.baseDelay)])
            }
            return dead
        }
    }

    struct Delivery: Sendable {
        var id: UUID
        var payload: String
        var attempts: Int
        var url: String
        var secret: String
    }

    /// Leases up to `batchSize` due rows in one short transaction.
    func claim(council: UUID) async throws -> [Delivery] {
        let (batch, lease) = (settings.batchSize, Double(settings.lease.components.seconds))
        return try await pool.transaction(council: council) { connection in
            try connection.query(
                """
                UPDATE outbox o SET leased_until = now() + make_interval(secs => $2), attempts = o.attempts + 1
                FROM webhook_subscriptions w
                WHERE w.subscription_id = o.subscription_id AND w.disabled_at IS NULL AND o.delivery_id IN (
                    SELECT delivery_id FROM outbox
                    WHERE delivered_at IS NULL AND dead_at IS NULL AND available_at <= now()
                      AND (leased_until IS NULL OR leased_until < now())
                    ORDER BY available_at
                    LIMIT $1
                    FOR UPDATE SKIP LOCKED)
                RETURNING o.delivery_id, o.payload, o.attempts, w.url, w.secret
                """,
                [batch, lease]
            ).rows.map { row in
                Delivery(
                    id: try row.decode(at: 0), payload: try row.decode(at: 1), attempts: try row.decode(at: 2), url: try row.decode(at: 3),
                    secret: try row.decode(at: 4))
            }
        }
    }

    /// Posts one delivery; nil on a 2xx answer, otherwise a short reason fit to show an administrator.
    func post(_ delivery: Delivery) async -> String? {
        if let refusal = await settings.addresses.refusal(for: delivery.url) { return refusal }
        var request = HTTPClientRequest(url: delivery.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "ehcp-alerts/1")
        request.headers.add(name: "X-EHCP-Delivery", value: delivery.id.uuidString.lowercased())
        request.headers.add(name: "X-EHCP-Attempt", value: String(delivery.attempts))
        let now = Int(Date().timeIntervalSince1970)
        request.headers.add(name: "X-EHCP-Signature", value: Self.signature(body: delivery.payload, secret: delivery.secret, at: now))
        request.body = .bytes(ByteBuffer(string: delivery.payload))
        do {
            let response = try await http.execute(request, timeout: .seconds(Int64(settings.timeout.components.seconds)))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            switch response.status.code {
            case 200..<300: return nil
            case 300..<400: return "failed: the receiver answered HTTP \(response.status.code), a redirect, which is not followed"
            default: return "failed: the receiver answered HTTP \(response.status.code)"
            }
        } catch {
            logger.info("webhook delivery failed", metadata: ["delivery": "\(delivery.id)", "error": "\(error)"])
            return Self.reason(error)
        }
    }

    /// A client error in a few words. The raw error can say which ports answer on which hosts.
    static func reason(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout:
            "failed: the receiver did not answer in time"
        case let error as HTTPClientError where error == .remoteConnectionClosed:
            "failed: the receiver closed the connection"
        default:
            "failed: could not connect to the receiver or complete the request"
        }
    }

    /// Seconds before retry `attempt` + 1: base × 2^(attempt−1), capped at an hour, times a jitter in [0.5, 1.5).
    static func backoff(attempt: Int, base: Duration) -> Double {
        let seconds = Double(base.components.seconds) + Double(base.components.attoseconds) / 1e18
        return min(3_600, seconds * pow(2, Double(max(0, attempt - 1)))) * Double.random(in: 0.5..<1.5)
    }
}
