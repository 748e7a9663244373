import Foundation
import Postgres

/// A person's email alerts: the address an administrator set (never the service: a compromised service
/// cannot send a caseworker's alerts elsewhere), the three choices they make themselves, and the last
/// permanent failure to deliver to the address, shown to them and their manager until it is changed.
public struct EmailChoices: Sendable, Hashable, Encodable {
    public var address: String?
    /// An email as soon as one of their deadlines passes (on unless they turn it off).
    public var onBreach: Bool
    /// An email for each reminder before a deadline (off unless they turn it on).
    public var onReminder: Bool
    /// One email a day, at the council's time, when something is due this week, overdue or missed.
    public var dailyDigest: Bool
    public var failedAt: Date?
    public var failure: String?

    public init(
        address: String?, onBreach: Bool = true, onReminder: Bool = false, dailyDigest: Bool = true, failedAt: Date? = nil, failure: String? = nil
    ) {
        self.address = address
        self.onBreach = onBreach
        self.onReminder = onReminder
        self.dailyDigest = dailyDigest
        self.failedAt = failedAt
        self.failure = failure
    }

    /// Whether an alert of this kind ('breach' or 'reminder') is emailed: not to an address that
    /// bounced, until an administrator sets it again (the alert is still on their Alerts page).
    public func emails(kind: String) -> Bool { address != nil && failedAt == nil && (kind == "breach" ? onBreach : onReminder) }

    /// The shape an address must have: one mailbox, no display name or list (RFC 5321's limit of 254).
    public static func isAddress(_ text: String) -> Bool {
        text.utf8.count <= 254 && text.wholeMatch(of: /[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+/) != nil
    }

    public static let columns = "email, email_on_breach, email_on_reminder, email_digest, email_failed_at, email_failure"

    public init(_ row: PostgresRow, from index: Int) throws(PostgresError) {
        self.init(
            address: try row.decodeIfPresent(at: index), onBreach: try row.decode(at: index + 1), onReminder: try row.decode(at: index + 2),
            dailyDigest: try row.decode(at: index + 3), failedAt: try row.decodeIfPresent(at: index + 4),
            failure: try row.decodeIfPresent(at: index + 5))
    }

    /// A user's choices, by name, in the transaction's council.
    public static func of(_ name: String, on connection: PostgresConnection) throws(PostgresError) -> EmailChoices? {
        try connection.query("SELECT \(columns) FROM users WHERE name = $1", [name]).first.map { row throws(PostgresError) in
            try EmailChoices(row, from: 0)
        }
    }

    /// Saves the three choices a person makes; false when there is no such user.
    public static func choose(
        _ name: String, onBreach: Bool, onReminder: Bool, dailyDigest: Bool, on connection: PostgresConnection
    ) throws(PostgresError) -> Bool {
        try connection.query(
            "UPDATE users SET email_on_breach = $2, email_on_reminder = $3, email_digest = $4 WHERE name = $1",
            [name, onBreach, onReminder, dailyDigest]
        ).affected == 1
    }

    /// Notes that an address bounced: shown until an administrator sets the address again.
    public static func recordFailure(_ name: String, reason: String, on connection: PostgresConnection) throws(PostgresError) {
        try connection.query("UPDATE users SET email_failed_at = now(), email_failure = $2 WHERE name = $1", [name, String(reason.prefix(300))])
    }

    /// A team's people whose address bounced, for their manager.
    public struct Failure: Sendable, Hashable, Encodable {
        public var name: String
        public var failedAt: Date
        public var failure: String
    }

    public static func failures(team: String, on connection: PostgresConnection) throws(PostgresError) -> [Failure] {
        try connection.query(
            "SELECT name, email_failed_at, email_failure FROM users WHERE team = $1 AND email_failed_at IS NOT NULL AND disabled_at IS NULL ORDER BY name",
            [team]
        ).rows.map { row throws(PostgresError) in
            Failure(name: try row.decode(at: 0), failedAt: try row.decode(at: 1), failure: try row.decodeIfPresent(at: 2) ?? "not delivered")
        }
    }
}
