import CoreMetrics
import Prometheus

/// The running service's metrics, scraped at `GET /metrics` in Prometheus's text format: one registry
/// per service (no process-wide bootstrap, so tests can run several services at once). Every part of
/// the service records through swift-metrics' API with `factory`; what an operator watches, and the
/// alert rules over it, are in docs/operations.md ("Monitoring") and deploy/prometheus/ehcp-alerts.yml.
public final class ServiceMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// What the other modules record with (`Counter(label:dimensions:factory:)` and the like).
    public let factory: any MetricsFactory

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .microseconds(2_500_000), .seconds(10), .seconds(60),
        ]
        self.factory = factory
        // Zero before the first refusal, so that a rate is defined from the start.
        for channel in ["api", "web"] { _ = Counter(label: Self.signInFailures, dimensions: [("channel", channel)], factory: factory) }
    }

    /// The exposition text (version 0.0.4).
    public func render() -> String { registry.emitToString() }

    /// HTTP requests by method, route and status: `ehcp_http_requests_total` and the latency histogram
    /// `ehcp_http_request_duration_seconds`.
    func observe(method: String, route: String, status: Int, duration: Duration) {
        let dimensions = [("method", method), ("route", route), ("status", String(status))]
        Counter(label: "ehcp_http_requests_total", dimensions: dimensions, factory: factory).increment()
        Timer(label: "ehcp_http_request_duration_seconds", dimensions: dimensions, factory: factory).recordNanoseconds(
            duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    static let signInFailures = "ehcp_sign_in_failures_total"

    /// A refused sign-in: a bad bearer token (`api`), or a wrong password or code on the web pages (`web`).
    public func signInRefused(channel: String) {
        Counter(label: Self.signInFailures, dimensions: [("channel", channel)], factory: factory).increment()
    }
}
