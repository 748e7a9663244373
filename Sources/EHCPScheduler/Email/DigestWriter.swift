import EHCPDomain
import EHCPStore
import Foundation
import Logging
import Postgres

/// Queues each person's daily digest: for a caseworker their own deadlines, for a manager their team's.
/// A digest says what falls due in the next seven days, what is overdue, and what was missed since the
/// last digest, and is queued only when one of those is not empty. One per person per day, however
/// many schedulers run or however often this is called (a unique index on the outbox decides).
public struct DigestWriter: Sendable {
    public let pool: PostgresPool
    public let links: EmailContent.Links
    /// Lines listed per section; the rest are counted.
    public var shown = 25
    let logger: Logger

    public init(pool: PostgresPool, links: EmailContent.Links, logger: Logger = Logger(label: "ehcp.email")) {
        self.pool = pool
        self.links = links
        self.logger = logger
    }

    /// Queues the digests for `day` not yet queued; returns how many.
    /// A council whose digests fail (its rows, say) is logged and skipped; the others still get theirs.
    public func write(day: CivilDate) async throws -> Int {
        var queued = 0
        for council in try await Outbox.councils(pool) {
            do { queued += try await write(day: day, council: council) } catch {
                logger.error("daily digests failed for one council; the others go on", metadata: ["council": "\(council)", "error": "\(error)"])
            }
        }
        return queued
    }

    private func write(day: CivilDate, council: UUID) async throws -> Int {
        var queued = 0
        let people = try await pool.transaction(council: council) { connection in
            try connection.query(
                """
                SELECT u.name, u.role, u.team FROM users u
                WHERE u.email IS NOT NULL AND u.email_digest AND u.disabled_at IS NULL AND u.email_failed_at IS NULL
                  AND u.role IN ('caseworker', 'manager')
                  AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.recipient = u.name AND o.digest_day = $1::date)
                ORDER BY u.name
                """, [day.description]
            ).rows.map { (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1), try $0.decodeIfPresent(String.self, at: 2)) }
        }
        for (name, role, team) in people {
            let scope: Scope = role == "manager" ? .team(team ?? "") : .caseworker(name)
            if role == "manager" && team == nil { continue }
            queued += try await pool.transaction(council: council) { connection in
                try queue(name: name, scope: scope, day: day, council: council, on: connection) ? 1 : 0
            }
        }
        return queued
    }

    enum Scope {
        case caseworker(String)
        case team(String)
    }

    /// Writes one person's digest, unless there is nothing in it or another scheduler got there first.
    func queue(name: String, scope: Scope, day: CivilDate, council: UUID, on connection: PostgresConnection) throws -> Bool {
        let (column, value): (String, String) =
            switch scope {
            case .caseworker(let name): ("caseworker", name)
            case .team(let team): ("team", team)
            }
        // Missed on or after the last digest's day (or yesterday, for a first one) and before today: a
        // clock moved past on a digest's day, after it went, is in the next one; today's, tomorrow.
        let since =
            try connection.query("SELECT max(digest_day)::text FROM outbox WHERE recipient = $1 AND digest_day < $2::date", [name, day.description])
            .first?.decodeIfPresent(String.self, at: 0).flatMap(CivilDate.init(iso:)) ?? day.adding(days: -1)
        func section(_ condition: String, _ parameters: [any PostgresEncodable]) throws -> ([EmailContent.DigestLine], Int) {
            let rows = try connection.query(
                """
                SELECT d.case_id, s.reference, d.rule, d.due_on::text, s.caseworker, count(*) OVER ()
                FROM deadlines d JOIN case_summary s USING (case_id)
                WHERE d.kind = 'duty' AND d.\(column) = $1 AND \(condition)
                ORDER BY d.due_on, s.reference, d.rule LIMIT \(shown)
                """, [value] + parameters
            ).rows
            let total = try rows.first?.decode(Int.self, at: 5) ?? 0
            return (
                try rows.compactMap { row in
                    guard let rule = RuleID(rawValue: try row.decode(String.self, at: 2)),
                        let due = CivilDate(iso: try row.decode(String.self, at: 3))
                    else {
                        return nil
                    }
                    return EmailContent.DigestLine(
                        reference: try row.decode(at: 1), caseId: try row.decode(at: 0), rule: rule, dueOn: due,
                        caseworker: try row.decodeIfPresent(at: 4))
                }, total
            )
        }
        let dueSoon = try section("d.status = 'open' AND d.due_on BETWEEN $2::date AND $2::date + 6", [day.description])
        let overdue = try section("d.status = 'open' AND d.due_on < $2::date AND NOT d.excepted", [day.description])
        let missed = try section(
            "d.status = 'missed' AND d.moved_past_on >= $2::date AND d.moved_past_on < $3::date", [since.description, day.description])
        guard dueSoon.1 + overdue.1 + missed.1 > 0 else { return false }
        let team: String? =
            switch scope {
            case .caseworker: nil
            case .team(let team): team
            }
        let content = EmailContent.digest(
            day: day, dueSoon: dueSoon.0, overdue: overdue.0, missed: missed.0, counts: (dueSoon.1, overdue.1, missed.1), forTeam: team,
            links: links)
        return try connection.query(
            """
            INSERT INTO outbox (delivery_id, council_id, channel, recipient, digest_day, payload) VALUES ($1, $2, 'email', $3, $4::date, $5)
            ON CONFLICT DO NOTHING
            """, [UUID(), council, name, day.description, content.json]
        ).affected == 1
    }
}
