import Foundation
import Synchronization

/// Request counts and latency histograms by method, route and status, in the Prometheus text format.
/// (Kept in-process and dependency-free: one lock, one dictionary; scraped at `/metrics`.)
public final class RequestMetrics: Sendable {
    struct Key: Hashable, Comparable {
        var method: String
        var route: String
        var status: Int
        static func < (a: Key, b: Key) -> Bool { (a.route, a.method, a.status) < (b.route, b.method, b.status) }
    }

    struct Series {
        var buckets: [Int]
        var count = 0
        var sum = 0.0
    }

    /// Histogram bucket bounds in seconds.
    static let bounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
    private let series = Mutex<[Key: Series]>([:])
    /// Other families scraped beside the requests' (the outbox's deliveries, from the scheduler).
    private let others = Mutex<[@Sendable () -> String]>([])

    public init() {}

    /// Adds a family of metrics, rendered after the requests'.
    public func include(_ render: @escaping @Sendable () -> String) { others.withLock { $0.append(render) } }

    func observe(method: String, route: String, status: Int, seconds: Double) {
        series.withLock { all in
            let key = Key(method: method, route: route, status: status)
            var entry = all[key] ?? Series(buckets: Array(repeating: 0, count: Self.bounds.count))
            for (index, bound) in Self.bounds.enumerated() where seconds <= bound { entry.buckets[index] += 1 }
            entry.count += 1
            entry.sum += seconds
            all[key] = entry
        }
    }

    /// The exposition text (version 0.0.4).
    public func render() -> String {
        let snapshot = series.withLock { $0 }
        var lines = [
            "# HELP ehcp_http_requests_total HTTP requests by method, route and status.",
            "# TYPE ehcp_http_requests_total counter",
        ]
        let keys = snapshot.keys.sorted()
        for key in keys {
            lines.append("ehcp_http_requests_total{\(labels(key))} \(snapshot[key]!.count)")
        }
        lines += [
            "# HELP ehcp_http_request_duration_seconds HTTP request latency by method, route and status.",
            "# TYPE ehcp_http_request_duration_seconds histogram",
        ]
        for key in keys {
            let entry = snapshot[key]!
            for (index, bound) in Self.bounds.enumerated() {
                lines.append("ehcp_http_request_duration_seconds_bucket{\(labels(key)),le=\"\(bound)\"} \(entry.buckets[index])")
            }
            lines.append("ehcp_http_request_duration_seconds_bucket{\(labels(key)),le=\"+Inf\"} \(entry.count)")
            lines.append("ehcp_http_request_duration_seconds_sum{\(labels(key))} \(entry.sum)")
            lines.append("ehcp_http_request_duration_seconds_count{\(labels(key))} \(entry.count)")
        }
        return lines.joined(separator: "\n") + "\n" + others.withLock { $0 }.map { $0() }.joined()
    }

    private func labels(_ key: Key) -> String {
        let route = key.route.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "method=\"\(key.method)\",route=\"\(route)\",status=\"\(key.status)\""
    }
}
