import EHCPDomain
import EHCPStore
import Foundation
import Postgres

/// Writes the alerts for breaches and reminders: a feed row for the case's caseworker and for each
/// manager of their team, a webhook delivery per alert per matching subscription, and an email per alert
/// whose recipient chose that kind (`EmailChoices`), when email is set up (`emailLinks`). Collects a
/// batch's alerts and writes them inside the transaction that records the events (`flush`), so alerts
/// and their deliveries exist exactly when their events do: one breach, one email per recipient.
struct AlertWriter {
    let council: UUID
    /// Where emails link to; nil when the service sends no email.
    let emailLinks: EmailContent.Links?
    private var managersByTeam: [String: [String]] = [:]
    private var pending: [Pending] = []

    private struct Pending {
        var caseId: UUID
        var version: Int
        var kind: String
        var reference: String
        var rule: RuleID
        var key: String?
        var dueOn: CivilDate
        var daysBefore: Int?
        var daysOverdue: Int?
        var recipient: String
        var role: String
        var team: String?
    }

    init(council: UUID, emailLinks: EmailContent.Links? = nil) {
        self.council = council
        self.emailLinks = emailLinks
    }

    /// Queues the alerts for one recorded breach or reminder; returns how many.
    mutating func add(
        _ event: CaseEvent, version: Int, caseId: UUID, reference: String, facts: CaseFacts, today: CivilDate, on connection: PostgresConnection
    ) throws -> Int {
        let (kind, rule, key, dueOn, daysBefore): (String, RuleID, String?, CivilDate, Int?)
        switch event {
        case .deadlineBreached(let breach): (kind, rule, key, dueOn, daysBefore) = ("breach", breach.rule, breach.key, breach.dueOn, nil)
        case .deadlineReminderSent(let reminder):
            (kind, rule, key, dueOn, daysBefore) = ("reminder", reminder.rule, reminder.key, reminder.dueOn, reminder.daysBefore)
        default: return 0
        }
        var recipients: [(name: String, role: String)] = facts.caseworker.map { [($0, "caseworker")] } ?? []
        if let team = facts.team {
            if managersByTeam[team] == nil {
                managersByTeam[team] = try connection.query(
                    "SELECT name FROM users WHERE role = 'manager' AND team = $1 AND disabled_at IS NULL ORDER BY name", [team]
                ).rows.map { try $0.decode(String.self, at: 0) }
            }
            recipients += managersByTeam[team]!.map { ($0, "manager") }
        }
        for recipient in recipients {
            pending.append(
                Pending(
                    caseId: caseId, version: version, kind: kind, reference: reference, rule: rule, key: key, dueOn: dueOn, daysBefore: daysBefore,
                    daysOverdue: kind == "breach" ? dueOn.days(until: today) : nil, recipient: recipient.name, role: recipient.role,
                    team: facts.team))
        }
        return recipients.count
    }

    /// Writes the queued alerts and their webhook deliveries.
    mutating func flush(on connection: PostgresConnection) throws {
        guard !pending.isEmpty else { return }
        defer { pending = [] }
        let rows = pending
        let column = { (value: (Pending) -> String?) in PostgresArray(rows.map(value)) }
        let ids = try connection.query(
            """
            INSERT INTO alerts (council_id, case_id, event_version, kind, reference, rule, rule_key, due_on, days_before, recipient, recipient_role)
            SELECT $1, a.case_id, a.version, a.kind, a.reference, a.rule, a.rule_key, a.due_on, a.days_before, a.recipient, a.role
            FROM unnest($2::uuid[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::date[], $9::int[], $10::text[], $11::text[])
                AS a(case_id, version, kind, reference, rule, rule_key, due_on, days_before, recipient, role)
            ON CONFLICT (case_id, event_version, recipient) DO NOTHING
            RETURNING alert_id, case_id, event_version, recipient
            """,
            [
                council, column { $0.caseId.postgresText }, column { String($0.version) }, column(\.kind), column(\.reference),
                column(\.rule.rawValue), column(\.key), column { $0.dueOn.description }, column { $0.daysBefore.map(String.init) },
                column(\.recipient), column(\.role),
            ]
        ).rows.map { row in
            (
                try row.decode(Int64.self, at: 0),
                "\(try row.decode(UUID.self, at: 1))/\(try row.decode(Int.self, at: 2))/\(try row.decode(String.self, at: 3))"
            )
        }
        let alertIds = Dictionary(ids.map { ($0.1, $0.0) }, uniquingKeysWith: { a, _ in a })
        try queueEmails(alertIds, on: connection)
        let subscriptions = try connection.query(
            "SELECT subscription_id, array_to_string(kinds, ',') FROM webhook_subscriptions WHERE disabled_at IS NULL"
        ).rows.map { (try $0.decode(UUID.self, at: 0), try $0.decode(String.self, at: 1).split(separator: ",").map(String.init)) }
        guard !subscriptions.isEmpty else { return }
        var deliveries: [(UUID, UUID, Int64, String)] = []
        for alert in pending {
            guard let alertId = alertIds["\(alert.caseId)/\(alert.version)/\(alert.recipient)"] else { continue }
            for (subscription, kinds) in subscriptions where kinds.isEmpty || kinds.contains(alert.kind) {
                let deliveryId = UUID()
                let payload = WebhookPayload(
                    deliveryId: deliveryId.uuidString.lowercased(), alertId: alertId, kind: alert.kind, caseId: alert.caseId.uuidString.lowercased(),
                    reference: alert.reference, rule: alert.rule.rawValue, key: alert.key, dueOn: alert.dueOn, daysOverdue: alert.daysOverdue,
                    daysBefore: alert.daysBefore, recipient: alert.recipient, recipientRole: alert.role,
                    link: "/v1/cases/\(alert.caseId.uuidString.lowercased())")
                deliveries.append((deliveryId, subscription, alertId, payload.json))
            }
        }
        guard !deliveries.isEmpty else { return }
        try connection.query(
            """
            INSERT INTO outbox (delivery_id, council_id, subscription_id, alert_id, payload)
            SELECT d.id, $1, d.subscription, d.alert, d.payload FROM unnest($2::uuid[], $3::uuid[], $4::bigint[], $5::text[]) AS d(id, subscription, alert, payload)
            """,
            [
                council, PostgresArray(deliveries.map(\.0.postgresText)), PostgresArray(deliveries.map(\.1.postgresText)),
                PostgresArray(deliveries.map { String($0.2) }), PostgresArray(deliveries.map(\.3)),
            ])
    }
}

extension AlertWriter {
    /// An email for each new alert whose recipient has an address and chose its kind.
    fileprivate func queueEmails(_ alertIds: [String: Int64], on connection: PostgresConnection) throws {
        guard let links = emailLinks, !alertIds.isEmpty else { return }
        let names = Array(Set(pending.map(\.recipient)))
        let choices = try Dictionary(
            connection.query(
                "SELECT name, \(EmailChoices.columns) FROM users WHERE name = ANY($1::text[]) AND email IS NOT NULL AND disabled_at IS NULL",
                [PostgresArray(names)]
            ).rows.map { (try $0.decode(String.self, at: 0), try EmailChoices($0, from: 1)) }, uniquingKeysWith: { a, _ in a })
        var rows: [(UUID, Int64, String, String)] = []
        for alert in pending {
            guard let alertId = alertIds["\(alert.caseId)/\(alert.version)/\(alert.recipient)"],
                choices[alert.recipient]?.emails(kind: alert.kind) == true
            else { continue }
            let content = EmailContent.alert(
                kind: alert.kind, reference: alert.reference, caseId: alert.caseId, rule: alert.rule, dueOn: alert.dueOn,
                daysBefore: alert.daysBefore, daysOverdue: alert.daysOverdue, role: alert.role, team: alert.team, links: links)
            rows.append((UUID(), alertId, alert.recipient, content.json))
        }
        guard !rows.isEmpty else { return }
        try connection.query(
            """
            INSERT INTO outbox (delivery_id, council_id, channel, alert_id, recipient, payload)
            SELECT e.id, $1, 'email', e.alert, e.recipient, e.payload
            FROM unnest($2::uuid[], $3::bigint[], $4::text[], $5::text[]) AS e(id, alert, recipient, payload)
            ON CONFLICT DO NOTHING
            """,
            [
                council, PostgresArray(rows.map(\.0.postgresText)), PostgresArray(rows.map { String($0.1) }), PostgresArray(rows.map(\.2)),
                PostgresArray(rows.map(\.3)),
            ])
    }
}

/// The JSON body of a webhook delivery (also what the signature covers).
struct WebhookPayload: Encodable {
    var deliveryId: String
    var alertId: Int64
    var kind: String
    var caseId: String
    var reference: String
    var rule: String
    var key: String?
    var dueOn: CivilDate
    var daysOverdue: Int?
    var daysBefore: Int?
    var recipient: String
    var recipientRole: String
    var link: String

    var json: String { Outbox.json(self) }
}
