import CoreMetrics

/// What the scheduler tells an operator, recorded through swift-metrics (scraped at `/metrics`):
///
/// - `ehcp_emails_total{transport, outcome}` and `ehcp_webhook_deliveries_total{transport, outcome}`:
///   sent, failed (to be retried) and dead-lettered since the process started;
/// - `ehcp_outbox_pending{channel}` and `ehcp_outbox_oldest_pending_seconds{channel}`: what waits to be
///   delivered, and for how long the oldest has waited, as the last round found it;
/// - `ehcp_sweep_duration_seconds`, `ehcp_sweep_last_success_timestamp_seconds`, and the breaches and
///   reminders each sweep recorded (`ehcp_breaches_recorded_total`, `ehcp_reminders_recorded_total`).
public final class DeliveryMetrics: Sendable {
    private let factory: any MetricsFactory
    private let sweepDuration: CoreMetrics.Timer
    private let lastSweep: Gauge
    private let breaches: Counter
    private let reminders: Counter

    /// Starts every series of these transports at zero, so that a rate is defined before the first send.
    public init(emailTransport: String?, factory: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.factory = factory
        sweepDuration = CoreMetrics.Timer(label: "ehcp_sweep_duration_seconds", factory: factory)
        lastSweep = Gauge(label: "ehcp_sweep_last_success_timestamp_seconds", factory: factory)
        breaches = Counter(label: "ehcp_breaches_recorded_total", factory: factory)
        reminders = Counter(label: "ehcp_reminders_recorded_total", factory: factory)
        for outcome in ["sent", "failed", "dead"] {
            _ = counter("webhook", transport: "https", outcome: outcome)
            if let emailTransport { _ = counter("email", transport: emailTransport, outcome: outcome) }
        }
    }

    private func counter(_ channel: String, transport: String, outcome: String) -> Counter {
        Counter(
            label: channel == "email" ? "ehcp_emails_total" : "ehcp_webhook_deliveries_total",
            dimensions: [("transport", transport), ("outcome", outcome)], factory: factory)
    }

    func count(channel: String, transport: String, _ report: DeliveryReport) {
        counter(channel, transport: transport, outcome: "sent").increment(by: report.delivered)
        counter(channel, transport: transport, outcome: "failed").increment(by: report.failed)
        counter(channel, transport: transport, outcome: "dead").increment(by: report.dead)
        if let backlog = report.backlog {
            Gauge(label: "ehcp_outbox_pending", dimensions: [("channel", channel)], factory: factory).record(backlog.count)
            Gauge(label: "ehcp_outbox_oldest_pending_seconds", dimensions: [("channel", channel)], factory: factory).record(
                backlog.oldestSeconds)
        }
    }

    /// A sweep that completed: how long it took, what it recorded, and when it ended (`unixSeconds`).
    func swept(_ report: DeadlineSweeper.Report, in duration: Duration, at unixSeconds: Double) {
        sweepDuration.recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
        breaches.increment(by: report.breaches)
        reminders.increment(by: report.reminders)
        if report.councilsFailed == 0 { lastSweep.record(unixSeconds) }
    }
}
