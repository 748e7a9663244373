import Foundation
import Postgres

/// The in-app alert feed: each user's alerts, unread first by recency. An alert about a clock the case has
/// since moved past (a missed clock: docs/rules.md, "Statuses") leaves the feed, as nobody can act on it.
public struct AlertFeed: Sendable {
    public init() {}

    public struct Alert: Sendable, Hashable, Encodable {
        public var alertId: Int64
        public var kind: String
        public var caseId: UUID
        public var reference: String
        public var rule: String
        public var key: String?
        public var dueOn: String
        public var daysBefore: Int?
        public var createdAt: Date
        public var read: Bool
    }

    public func alerts(for recipient: String, unreadOnly: Bool, limit: Int, on connection: PostgresConnection) throws(PostgresError) -> [Alert] {
        try connection.query(
            """
            SELECT alert_id, kind, case_id, reference, rule, rule_key, due_on::text, days_before, created_at, read_at IS NOT NULL
            FROM alerts a WHERE recipient = $1 AND (NOT $2 OR read_at IS NULL)
              AND NOT EXISTS (
                  SELECT 1 FROM deadlines d
                  WHERE d.case_id = a.case_id AND d.rule = a.rule AND d.key = coalesce(a.rule_key, '') AND d.due_on = a.due_on
                    AND d.moved_past_on IS NOT NULL)
            ORDER BY alert_id DESC LIMIT $3
            """, [recipient, unreadOnly, limit]
        ).rows.map { row throws(PostgresError) in
            Alert(
                alertId: try row.decode(at: 0), kind: try row.decode(at: 1), caseId: try row.decode(at: 2), reference: try row.decode(at: 3),
                rule: try row.decode(at: 4), key: try row.decodeIfPresent(at: 5), dueOn: try row.decode(at: 6),
                daysBefore: try row.decodeIfPresent(at: 7),
                createdAt: try row.decode(at: 8), read: try row.decode(at: 9))
        }
    }

    /// Marks one of the recipient's alerts read; false when it is not theirs.
    public func markRead(alertId: Int64, recipient: String, on connection: PostgresConnection) throws(PostgresError) -> Bool {
        try connection.query(
            "UPDATE alerts SET read_at = coalesce(read_at, now()) WHERE alert_id = $1 AND recipient = $2", [alertId, recipient]
        ).affected == 1
    }
}
