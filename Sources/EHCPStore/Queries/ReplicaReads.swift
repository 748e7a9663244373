import CoreMetrics
import Foundation
import Postgres
import Synchronization

/// Reads that may come from a hot standby (PostgreSQL streaming replication) instead of the primary:
/// the reports, the dashboard and the managers' pages, which read much and need not see the last second.
///
/// Each read asks the standby, in the read's own transaction, how current its snapshot is: "now" when it
/// has replayed everything it has received, otherwise the commit time of the last transaction it
/// replayed. A standby further behind than `maxLag`, or one that cannot be reached, is passed over and
/// the primary answers. The time read is noted in `DataAsOf`, which the response carries.
///
/// Metrics: `ehcp_replica_lag_seconds`, as the last read found it, and `ehcp_replica_reads_total` by
/// `served_by` (`standby`, or `primary` when the standby was too far behind or unreachable).
public struct ReplicaReads: Sendable {
    public let replica: PostgresPool
    /// How far behind the standby may be before reads go back to the primary.
    public let maxLag: Duration
    private let lag: Gauge
    private let served: (standby: Counter, primary: Counter)

    public init(replica: PostgresPool, maxLag: Duration, metrics: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.replica = replica
        self.maxLag = maxLag
        lag = Gauge(label: "ehcp_replica_lag_seconds", factory: metrics)
        let counter = { (by: String) in Counter(label: "ehcp_replica_reads_total", dimensions: [("served_by", by)], factory: metrics) }
        served = (counter("standby"), counter("primary"))
    }

    /// `body` in a transaction for `council` on the standby when it is current enough, else on `primary`.
    public func read<T: Sendable>(
        council: UUID, primary: PostgresPool, _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        let limit = Double(maxLag.components.seconds) + Double(maxLag.components.attoseconds) / 1e18
        do {
            let answer: (T, Date)? = try await replica.transaction(council: council) { connection in
                let asOf: Date = try connection.query(
                    """
                    SELECT CASE WHEN pg_last_wal_receive_lsn() IS NULL OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN now()
                                ELSE coalesce(pg_last_xact_replay_timestamp(), 'epoch') END
                    """
                ).first!.decode(at: 0)
                let behind = max(0, Date().timeIntervalSince(asOf))
                lag.record(behind)
                guard behind <= limit else { return nil }
                return (try body(connection), asOf)
            }
            if let (result, asOf) = answer {
                DataAsOf.current?.note(asOf)
                served.standby.increment()
                return result
            }
        } catch let error as PostgresError where error.kind == .connection || error.kind == .poolTimeout {
            // The standby is down or saturated: the primary answers.
        }
        served.primary.increment()
        return try await primary.transaction(council: council, body)
    }

    /// `body` on `replica` when there is one and it is current enough, else in a transaction on `primary`.
    public static func read<T: Sendable>(
        _ replica: ReplicaReads?, council: UUID, primary: PostgresPool, _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        guard let replica else { return try await primary.transaction(council: council, body) }
        return try await replica.read(council: council, primary: primary, body)
    }

    /// `read` on the standby when there is one current enough, then `log` on the primary in its own
    /// transaction, before the result is returned: a read of children's details reaches the caller only
    /// once its access-log entry is committed (UK GDPR art. 30), and the standby cannot write it. Without
    /// a standby both run in one transaction on the primary.
    public static func logged<T: Sendable>(
        _ replica: ReplicaReads?, council: UUID, primary: PostgresPool, read: @escaping @Sendable (PostgresConnection) throws -> T,
        log: @escaping @Sendable (T, PostgresConnection) throws -> Void
    ) async throws -> T {
        guard let replica else {
            return try await primary.transaction(council: council) { connection in
                let result = try read(connection)
                try log(result, connection)
                return result
            }
        }
        let result = try await replica.read(council: council, primary: primary, read)
        try await primary.transaction(council: council) { try log(result, $0) }
        return result
    }
}

/// How current the data a response was read from is, when it came from a standby: set by
/// `ReplicaReads`, read by the response (`X-Data-As-Of`) and by the web pages' layout.
public final class DataAsOf: Sendable {
    @TaskLocal public static var current: DataAsOf?
    private let moment = Mutex<Date?>(nil)

    public init() {}

    /// The oldest data any read of this request saw.
    public var value: Date? { moment.withLock { $0 } }

    func note(_ asOf: Date) { moment.withLock { $0 = min($0 ?? asOf, asOf) } }
}
