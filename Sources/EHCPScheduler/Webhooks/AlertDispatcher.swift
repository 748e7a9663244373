import AsyncHTTPClient
import Crypto
import EHCPDomain
import EHCPStore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Postgres

/// Delivers webhook alerts from the outbox (`Outbox`, channel 'webhook'): signed POSTs, retried with
/// exponential backoff and jitter, dead-lettered after the policy's attempts. Each receiver's address is
/// checked when it is sent to (`WebhookAddressPolicy`), redirects are never followed, and what is stored
/// of a failure is a short reason, never the client's own error (which would turn the dead letter into a
/// port scanner). Delivery is at least once; the receiver de-duplicates with `X-EHCP-Delivery`.
public struct AlertDispatcher: Sendable {
    public struct Settings: Sendable {
        /// Attempts, backoff, lease and batch.
        public var retry = OutboxPolicy()
        /// The receiver's time to answer.
        public var timeout: Duration = .seconds(10)
        /// Which receivers may be reached.
        public var addresses = WebhookAddressPolicy()

        public init() {}
    }

    public typealias Report = DeliveryReport

    public let pool: PostgresPool
    public let settings: Settings
    let http: HTTPClient
    let logger: Logger
    let metrics: DeliveryMetrics?

    public init(
        pool: PostgresPool, settings: Settings = Settings(), http: HTTPClient = AlertDispatcher.client, metrics: DeliveryMetrics? = nil,
        logger: Logger = Logger(label: "ehcp.alerts")
    ) {
        self.pool = pool
        self.settings = settings
        self.http = http
        self.metrics = metrics
        self.logger = logger
    }

    var outbox: Outbox { Outbox(pool: pool, channel: "webhook", policy: settings.retry, logger: logger) }

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

    /// Claims what is due in every council and tries each once. Returns what happened.
    public func dispatchOnce() async throws -> Report {
        let report = try await outbox.drain { item in await post(item) }
        metrics?.count(channel: "webhook", transport: "https", report)
        return report
    }

    /// Posts one delivery.
    func post(_ item: Outbox.Item) async -> Outbox.Result {
        guard let url = item.target, let secret = item.secret else { return .refused("failed: the subscription has gone") }
        if let refusal = await settings.addresses.refusal(for: url) { return .failed(refusal) }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "ehcp-alerts/1")
        request.headers.add(name: "X-EHCP-Delivery", value: item.id.uuidString.lowercased())
        request.headers.add(name: "X-EHCP-Attempt", value: String(item.attempts))
        let now = Int(Date().timeIntervalSince1970)
        request.headers.add(name: "X-EHCP-Signature", value: Self.signature(body: item.payload, secret: secret, at: now))
        request.body = .bytes(ByteBuffer(string: item.payload))
        do {
            let response = try await http.execute(request, timeout: .seconds(Int64(settings.timeout.components.seconds)))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            switch response.status.code {
            case 200..<300: return .sent()
            case 300..<400: return .failed("failed: the receiver answered HTTP \(response.status.code), a redirect, which is not followed")
            default: return .failed("failed: the receiver answered HTTP \(response.status.code)")
            }
        } catch {
            logger.info("webhook delivery failed", metadata: ["delivery": "\(item.id)", "error": "\(error)"])
            return .failed(Self.reason(error))
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
}
