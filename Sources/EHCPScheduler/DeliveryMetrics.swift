import Synchronization

/// What the outbox sent, failed to send and dead-lettered since the process started, per channel and
/// transport, in the Prometheus text format (scraped at `/metrics` with the requests' metrics).
public final class DeliveryMetrics: Sendable {
    private struct Key: Hashable, Comparable {
        var channel: String
        var transport: String
        var outcome: String
        static func < (a: Key, b: Key) -> Bool { (a.channel, a.transport, a.outcome) < (b.channel, b.transport, b.outcome) }
    }
    private let counts: Mutex<[Key: Int]>

    /// Starts every series of these transports at zero, so that a rate is defined before the first send.
    public init(emailTransport: String?) {
        var initial: [Key: Int] = [:]
        for outcome in ["sent", "failed", "dead"] {
            initial[Key(channel: "webhook", transport: "https", outcome: outcome)] = 0
            if let emailTransport { initial[Key(channel: "email", transport: emailTransport, outcome: outcome)] = 0 }
        }
        counts = Mutex(initial)
    }

    func count(channel: String, transport: String, _ report: DeliveryReport) {
        counts.withLock { counts in
            counts[Key(channel: channel, transport: transport, outcome: "sent"), default: 0] += report.delivered
            counts[Key(channel: channel, transport: transport, outcome: "failed"), default: 0] += report.failed
            counts[Key(channel: channel, transport: transport, outcome: "dead"), default: 0] += report.dead
        }
    }

    public func render() -> String {
        let snapshot = counts.withLock { $0 }
        var lines: [String] = []
        for (channel, name, help) in [
            ("email", "ehcp_emails_total", "Deadline-alert emails by transport and outcome (sent, failed and to be retried, dead-lettered)."),
            ("webhook", "ehcp_webhook_deliveries_total", "Webhook deliveries by outcome (sent, failed and to be retried, dead-lettered)."),
        ] {
            let keys = snapshot.keys.filter { $0.channel == channel }.sorted()
            guard !keys.isEmpty else { continue }
            lines += ["# HELP \(name) \(help)", "# TYPE \(name) counter"]
            lines += keys.map { "\(name){transport=\"\($0.transport)\",outcome=\"\($0.outcome)\"} \(snapshot[$0]!)" }
        }
        return lines.map { $0 + "\n" }.joined()
    }
}
